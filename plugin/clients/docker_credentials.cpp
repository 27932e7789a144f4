#include "docker_credentials.h"

#include "bounded_json.h"

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
#include "subprocess.h"
#include "unique_fd.h"

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
    auto in = make_pipe();
    if (!in) return make_error(what + ": " + in.error().message);
    auto out = make_pipe();
    if (!out) return make_error(what + ": " + out.error().message);
    SpawnSpec spec;
    spec.argv = {program, "get"};
    spec.search_path = true;
    spec.stdin_fd = in->read.get();
    spec.stdout_fd = out->write.get();
    int exec_errno = 0;
    auto child = Subprocess::spawn(spec, &exec_errno);
    if (!child && exec_errno != 0)
        return make_error(
            fmt::format("{} cannot be run: {}: install it, or change credHelpers/credsStore in "
                        "the Docker config",
                        what, child.error().message));
    if (!child) return make_error(what + ": " + child.error().message);
    in->read.reset();
    out->write.reset();
    // The server name is a line: far below a pipe's buffer, so this cannot block.
    const std::string server = helper_server_name(registry) + "\n";
    ssize_t written = ::write(in->write.get(), server.data(), server.size());
    (void)written;
    in->write.reset();
    std::string output;
    bool too_long = false;
    char buf[8192];
    while (true) {
        ssize_t r = ::read(out->read.get(), buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (output.size() + static_cast<std::size_t>(r) > kMaxHelperOutput)
            too_long = true;
        else
            output.append(buf, static_cast<std::size_t>(r));
    }
    out->read.reset();
    const ChildExit exit = child->wait();
    if (exit.code && *exit.code != 0) {
        // The protocol's answer for "no credential for this registry".
        if (output.find("credentials not found") != std::string::npos) return std::optional<Credential>{};
        return make_error(fmt::format("{} exited with status {}: {}", what, *exit.code, trim(output)));
    }
    if (exit.signal) return make_error(fmt::format("{} was killed by signal {}", what, *exit.signal));
    if (too_long) return make_error(what + " wrote more than 1 MiB");
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, output));
    if (!doc_parsed || !doc.IsObject()) return make_error(what + " did not answer with a JSON object");
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
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, json));
    if (!doc_parsed || !doc.IsObject()) return make_error("it is not a JSON object");
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
