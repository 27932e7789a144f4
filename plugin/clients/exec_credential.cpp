// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1): the ExecCredential
// request the plugin reads, running it (Subprocess, bounded output), its answer parsed and cached
// until its expirationTimestamp. The kubeconfig side (which plugin, its env and args) is
// kubeconfig.cpp's.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include "base64.h"
#include "bounded_json.h"
#include "kubeconfig.h"
#include "subprocess.h"
#include "unique_fd.h"

extern char** environ;

namespace ksc::kube {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
    std::tm tm{};
    const char* p = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return std::nullopt;
    if (*p == '.')
        for (++p; *p >= '0' && *p <= '9'; ++p) {
        }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        ++p;
    } else if (*p == '+' || *p == '-') {
        // Exactly [+-]HH:MM: the offset is read by position, so "+0:00" is refused, never read past.
        auto digit = [](char c) { return c >= '0' && c <= '9'; };
        if (!digit(p[1]) || !digit(p[2]) || p[3] != ':' || !digit(p[4]) || !digit(p[5])) return std::nullopt;
        const int sign = *p == '-' ? -1 : 1;
        const int hh = (p[1] - '0') * 10 + (p[2] - '0');
        const int mm = (p[4] - '0') * 10 + (p[5] - '0');
        if (hh > 23 || mm > 59) return std::nullopt;
        offset = sign * (hh * 3600L + mm * 60L);
        p += 6;
    } else {
        return std::nullopt;
    }
    if (*p != '\0') return std::nullopt;
    std::time_t t = ::timegm(&tm);
    // system_clock counts nanoseconds and ends in 2262: "never expires" times are clamped.
    t = std::min<std::time_t>(t, 7258118400);  // 2200-01-01
    return std::chrono::system_clock::from_time_t(t - offset);
}

Result<ExecCredential> parse_exec_credential(const std::string& json,
                                             const std::string& expected_api_version) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, json));
    if (!doc_parsed || !doc.IsObject()) return make_error("its output is not an ExecCredential JSON object");
    auto str = [](const rapidjson::Value& obj, const char* key) -> std::string {
        auto it = obj.FindMember(key);
        return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
    };
    if (str(doc, "kind") != "ExecCredential")
        return make_error("its output has kind \"" + str(doc, "kind") + "\", not ExecCredential");
    if (str(doc, "apiVersion") != expected_api_version)
        return make_error("it answered with apiVersion \"" + str(doc, "apiVersion") + "\" to a request for " +
                          expected_api_version);
    auto status = doc.FindMember("status");
    if (status == doc.MemberEnd() || !status->value.IsObject())
        return make_error("its ExecCredential has no status");
    ExecCredential cred;
    cred.token = str(status->value, "token");
    cred.client_cert_pem = str(status->value, "clientCertificateData");
    cred.client_key_pem = str(status->value, "clientKeyData");
    if (cred.client_cert_pem.empty() != cred.client_key_pem.empty())
        return make_error(
            "its ExecCredential has clientCertificateData without clientKeyData or the reverse");
    if (cred.token.empty() && cred.client_cert_pem.empty())
        return make_error("its ExecCredential has neither a token nor a client certificate");
    if (std::string exp = str(status->value, "expirationTimestamp"); !exp.empty()) {
        cred.expires = parse_rfc3339(exp);
        if (!cred.expires)
            return make_error("its expirationTimestamp \"" + exp + "\" is not an RFC 3339 time");
    }
    return cred;
}

namespace {

std::string exec_info_json(const ExecConfig& exec, const RestConfig& cluster, bool interactive) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("apiVersion");
    w.String(exec.api_version.c_str());
    w.Key("kind");
    w.String("ExecCredential");
    w.Key("spec");
    w.StartObject();
    w.Key("interactive");
    w.Bool(interactive);
    if (exec.provide_cluster_info) {
        w.Key("cluster");
        w.StartObject();
        w.Key("server");
        w.String(cluster.server.c_str());
        if (!cluster.tls_server_name.empty()) {
            w.Key("tls-server-name");
            w.String(cluster.tls_server_name.c_str());
        }
        if (cluster.insecure_skip_tls_verify) {
            w.Key("insecure-skip-tls-verify");
            w.Bool(true);
        }
        std::string ca = !cluster.ca_pem.empty() ? cluster.ca_pem : read_file(cluster.ca_file).value_or("");
        if (!ca.empty()) {
            w.Key("certificate-authority-data");
            w.String(ksc::base64_encode(ca).c_str());
        }
        if (!cluster.proxy_url.empty()) {
            w.Key("proxy-url");
            w.String(cluster.proxy_url.c_str());
        }
        if (!cluster.cluster_extension_json.empty()) {
            w.Key("config");
            w.RawValue(cluster.cluster_extension_json.c_str(), cluster.cluster_extension_json.size(),
                       rapidjson::kObjectType);
        }
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

struct CacheEntry {
    ExecCredential credential;
};
std::mutex g_cache_mutex;
std::map<std::string, CacheEntry> g_cache;

std::string cache_key(const ExecConfig& exec, const RestConfig& cluster) {
    std::string key = exec.api_version + '\0' + exec.command + '\0' + cluster.server;
    for (const auto& a : exec.args) key += '\0' + a;
    for (const auto& [n, v] : exec.env) key += '\0' + n + '=' + v;
    return key;
}

// Runs the plugin; stdout is returned (bounded), stderr is the user's.
Result<std::string> run_plugin(const ExecConfig& exec, const std::string& info, bool interactive) {
    std::vector<std::string> env_strings;
    std::set<std::string> overridden{"KUBERNETES_EXEC_INFO"};
    for (const auto& [n, v] : exec.env) overridden.insert(n);
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (!overridden.count(std::string(kv.substr(0, kv.find('='))))) env_strings.emplace_back(kv);
    }
    for (const auto& [n, v] : exec.env) env_strings.push_back(n + "=" + v);
    env_strings.push_back("KUBERNETES_EXEC_INFO=" + info);
    SpawnSpec spec;
    spec.env = std::move(env_strings);
    spec.argv.push_back(exec.command);
    spec.argv.insert(spec.argv.end(), exec.args.begin(), exec.args.end());
    spec.search_path = true;
    spec.stdin_devnull = !interactive;
    auto out = make_pipe();
    if (!out) return out.error();
    spec.stdout_fd = out->write.get();
    int exec_errno = 0;
    auto child = Subprocess::spawn(spec, &exec_errno);
    if (!child && exec_errno != 0) {
        std::string msg = "cannot run it: " + child.error().message;
        if (!exec.install_hint.empty()) msg += ": " + exec.install_hint;
        return make_error(msg);
    }
    if (!child) return child.error();
    out->write.reset();
    std::string output;
    bool too_long = false;
    char buf[8192];
    while (true) {
        ssize_t r = ::read(out->read.get(), buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (output.size() + static_cast<std::size_t>(r) > (1u << 20))
            too_long = true;
        else
            output.append(buf, static_cast<std::size_t>(r));
    }
    out->read.reset();
    const ChildExit exit = child->wait();
    if (exit.code && *exit.code != 0)
        return make_error("it exited with status " + std::to_string(*exit.code) +
                          " (its own messages are above)");
    if (exit.signal) return make_error("it was killed by signal " + std::to_string(*exit.signal));
    if (too_long) return make_error("its output is over 1 MiB");
    return output;
}

}  // namespace

Result<ExecCredential> exec_credential(const ExecConfig& exec, const RestConfig& cluster, bool force) {
    std::lock_guard lock(g_cache_mutex);
    const std::string key = cache_key(exec, cluster);
    auto now = std::chrono::system_clock::now();
    if (!force) {
        auto it = g_cache.find(key);
        if (it != g_cache.end() && (!it->second.credential.expires || *it->second.credential.expires > now))
            return it->second.credential;
    }
    bool terminal = ::isatty(STDIN_FILENO) == 1;
    bool interactive =
        exec.interactive_mode == "Always" || (exec.interactive_mode == "IfAvailable" && terminal);
    const std::string what = "exec credential plugin " + exec.command;
    if (exec.interactive_mode == "Always" && !terminal)
        return make_error(what +
                          " needs a terminal (interactiveMode: Always) and stdin is not one: run "
                          "kubectl seccomp from a terminal, or log in first");
    auto output = run_plugin(exec, exec_info_json(exec, cluster, interactive), interactive);
    if (!output) return make_error(what + ": " + output.error().message);
    auto cred = parse_exec_credential(*output, exec.api_version);
    if (!cred) return make_error(what + ": " + cred.error().message);
    g_cache[key] = CacheEntry{*cred};
    return cred;
}

}  // namespace ksc::kube
