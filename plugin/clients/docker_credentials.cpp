#include "docker_credentials.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "base64.h"
#include "http_text.h"

namespace ksc::registry {
namespace {

constexpr std::size_t kMaxConfigBytes = 4 << 20;
constexpr std::size_t kMaxHelperOutput = 1 << 20;

std::string string_member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return "";
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Helpers and `auths` key Docker Hub as its old index URL; everything else by host.
std::string helper_server_name(const std::string& registry) {
    return registry == "docker.io" ? "https://index.docker.io/v1/" : registry;
}

// The entry of an object keyed by registry names as `docker login` writes them (with or without
// scheme and path), for `registry`.
const rapidjson::Value* entry_for(const rapidjson::Value& obj, const std::string& registry) {
    if (!obj.IsObject()) return nullptr;
    for (const auto& m : obj.GetObject())
        if (normalize_registry_key(m.name.GetString()) == registry) return &m.value;
    return nullptr;
}

extern "C" char** environ;

}  // namespace

std::vector<std::string> docker_config_files(const std::string& explicit_file) {
    if (!explicit_file.empty()) return {explicit_file};
    std::vector<std::string> candidates;
    if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) candidates.emplace_back(f);
    // podman's: the runtime directory (rootful podman's is /run/containers/0), then the config one.
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x)
        candidates.push_back(std::string(x) + "/containers/auth.json");
    else
        candidates.push_back("/run/containers/" + std::to_string(::getuid()) + "/auth.json");
    if (const char* c = std::getenv("XDG_CONFIG_HOME"); c && *c)
        candidates.push_back(std::string(c) + "/containers/auth.json");
    else if (const char* h = std::getenv("HOME"); h && *h)
        candidates.push_back(std::string(h) + "/.config/containers/auth.json");
    if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d)
        candidates.push_back(std::string(d) + "/config.json");
    else if (const char* h = std::getenv("HOME"); h && *h)
        candidates.push_back(std::string(h) + "/.docker/config.json");
    std::vector<std::string> files;
    std::error_code ec;
    for (auto& c : candidates)
        if (std::filesystem::is_regular_file(c, ec)) files.push_back(std::move(c));
    return files;
}

Result<std::optional<Credential>> run_credential_helper(const std::string& helper,
                                                        const std::string& registry) {
    const std::string program = "docker-credential-" + helper;
    const std::string what = fmt::format("the credential helper {} (for {})", program, registry);
    if (helper.empty() || helper.find('/') != std::string::npos)
        return make_error(fmt::format("the credential helper name \"{}\" is not a plain name", helper));
    int in[2], out[2], report[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return make_error(what + ": pipe: " + std::strerror(errno));
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]), ::close(in[1]);
        return make_error(what + ": pipe: " + std::strerror(errno));
    }
    if (::pipe2(report, O_CLOEXEC) != 0) {
        ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
        return make_error(what + ": pipe: " + std::strerror(errno));
    }
    std::string arg0 = program, arg1 = "get";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = ::fork();
    if (pid < 0) return make_error(what + ": fork: " + std::strerror(errno));
    if (pid == 0) {  // only syscalls between fork and exec
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::execvp(argv[0], argv);
        int err = errno;
        ssize_t ignored = ::write(report[1], &err, sizeof err);
        (void)ignored;
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(report[1]);
    int exec_errno = 0;
    ssize_t n;
    do n = ::read(report[0], &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    ::close(report[0]);
    const bool exec_failed = n == static_cast<ssize_t>(sizeof exec_errno);
    if (!exec_failed) {
        // The server name is a line: far below a pipe's buffer, so this cannot block.
        std::string server = helper_server_name(registry) + "\n";
        ssize_t w = ::write(in[1], server.data(), server.size());
        (void)w;
    }
    ::close(in[1]);
    std::string output;
    bool too_long = false;
    char buf[8192];
    while (!exec_failed) {
        ssize_t r = ::read(out[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (output.size() + static_cast<std::size_t>(r) > kMaxHelperOutput)
            too_long = true;
        else
            output.append(buf, static_cast<std::size_t>(r));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (exec_failed)
        return make_error(
            fmt::format("{} cannot be run: {}: install it, or change credHelpers/credsStore in "
                        "the Docker config",
                        what, std::strerror(exec_errno)));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        // The protocol's answer for "no credential for this registry".
        if (output.find("credentials not found") != std::string::npos) return std::optional<Credential>{};
        return make_error(
            fmt::format("{} exited with status {}: {}", what, WEXITSTATUS(status), trim(output)));
    }
    if (!WIFEXITED(status)) return make_error(what + " was killed by a signal");
    if (too_long) return make_error(what + " wrote more than 1 MiB");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(output.data(), output.size());
    if (doc.HasParseError() || !doc.IsObject())
        return make_error(what + " did not answer with a JSON object");
    Credential c;
    std::string user = string_member(doc, "Username"), secret = string_member(doc, "Secret");
    // "<token>" as the user: the secret is an identity (OAuth2 refresh) token.
    if (user == "<token>")
        c.identity_token = secret;
    else
        c.username = user, c.password = secret;
    if (c.username.empty() && c.password.empty() && c.identity_token.empty())
        return std::optional<Credential>{};
    return std::optional<Credential>{std::move(c)};
}

Result<std::optional<Credential>> credential_from_config(const std::string& json, const std::string& registry,
                                                         std::string* source) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) return make_error("it is not a JSON object");
    if (auto it = doc.FindMember("credHelpers"); it != doc.MemberEnd()) {
        if (const auto* h = entry_for(it->value, registry); h && h->IsString()) {
            if (source) *source = fmt::format("credential helper docker-credential-{}", h->GetString());
            return run_credential_helper(h->GetString(), registry);
        }
    }
    if (auto it = doc.FindMember("auths"); it != doc.MemberEnd()) {
        if (const auto* a = entry_for(it->value, registry); a && a->IsObject()) {
            Credential c;
            c.username = string_member(*a, "username");
            c.password = string_member(*a, "password");
            c.registry_token = string_member(*a, "registrytoken");
            c.identity_token = string_member(*a, "identitytoken");
            if (std::string auth = string_member(*a, "auth"); !auth.empty()) {
                auto decoded = base64_decode(auth);
                auto colon = decoded ? decoded->find(':') : std::string::npos;
                if (colon == std::string::npos)
                    return make_error(
                        fmt::format("its auth for {} is not base64 of USER:PASSWORD", registry));
                c.username = decoded->substr(0, colon);
                c.password = decoded->substr(colon + 1);
            }
            if (!c.username.empty() || !c.password.empty() || !c.registry_token.empty() ||
                !c.identity_token.empty()) {
                if (source) *source = "auths";
                return std::optional<Credential>{std::move(c)};
            }
        }
    }
    if (std::string store = string_member(doc, "credsStore"); !store.empty()) {
        if (source) *source = "credential store docker-credential-" + store;
        return run_credential_helper(store, registry);
    }
    return std::optional<Credential>{};
}

Result<std::optional<Credential>> find_registry_credential(const std::string& explicit_file,
                                                           const std::string& registry, std::string* source) {
    for (const auto& file : docker_config_files(explicit_file)) {
        std::ifstream in(file, std::ios::binary);
        if (!in)
            return make_error(
                fmt::format("cannot read the registry config {}: {}", file, std::strerror(errno)));
        std::string text;
        text.resize(kMaxConfigBytes + 1);
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxConfigBytes)
            return make_error(fmt::format("the registry config {} is larger than 4 MiB", file));
        std::string from;
        auto c = credential_from_config(text, registry, &from);
        if (!c) return make_error(fmt::format("the registry config {}: {}", file, c.error().message));
        if (*c) {
            if (source) *source = file + " (" + from + ")";
            return c;
        }
    }
    return std::optional<Credential>{};
}

}  // namespace ksc::registry
