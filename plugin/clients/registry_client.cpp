#include "registry_client.h"

#include "bounded_json.h"
#include "http_text.h"
#include "system_cas.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/core.h>

#include "base64.h"
#include "printable.h"
#include "version.h"

namespace ksc::registry {
namespace {

constexpr std::string_view kDockerHub = "docker.io";

// Single-platform manifests first, so a registry that can answer either answers with what we read
// most directly; the index types let it tell us about a multi-platform image.
constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::vector<std::string> json_strings(const rapidjson::Value& obj, const char* key) {
    std::vector<std::string> out;
    if (!obj.IsObject()) return out;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& v : it->value.GetArray())
        if (v.IsString()) out.emplace_back(v.GetString());
    return out;
}

bool valid_digest(std::string_view d) {
    auto colon = d.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view algo = d.substr(0, colon), hex = d.substr(colon + 1);
    if (algo == "sha256" && hex.size() != 64) return false;
    if (algo == "sha512" && hex.size() != 128) return false;
    if (hex.size() < 32) return false;
    return std::all_of(hex.begin(), hex.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
    });
}

// Whether `data` is what `digest` names. sha256 and sha512 are what the OCI image spec registers;
// content under any other algorithm cannot be checked and is refused.
Status check_digest(std::string_view data, const std::string& digest, std::string_view what) {
    const EVP_MD* md = digest.rfind("sha256:", 0) == 0   ? EVP_sha256()
                       : digest.rfind("sha512:", 0) == 0 ? EVP_sha512()
                                                         : nullptr;
    if (md == nullptr)
        return make_error(
            fmt::format("the {} has the digest {}, whose algorithm this plugin cannot check "
                        "(sha256 and sha512 only)",
                        what, digest));
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), sum, &len, md, nullptr) != 1)
        return make_error(fmt::format("hashing the {} failed", what));
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", sum[i]);
    if (digest.substr(digest.find(':') + 1) != hex)
        return make_error(
            fmt::format("the {} the registry sent does not match its digest {}: a cache or proxy "
                        "between here and the registry may be altering it",
                        what, digest));
    return Ok{};
}

bool valid_repository(std::string_view repo) {
    if (repo.empty() || repo.front() == '/' || repo.back() == '/') return false;
    return std::all_of(repo.begin(), repo.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
               c == '_' || c == '-' || c == '/';
    });
}

bool valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128 || tag.front() == '.' || tag.front() == '-') return false;
    return std::all_of(tag.begin(), tag.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

// The registry's own error ({"errors":[{"code","message"}]}), or the HTTP status.
std::string registry_error(long status, const std::string& body) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, body));
    if (doc_parsed && doc.IsObject() && doc.HasMember("errors") && doc["errors"].IsArray() &&
        !doc["errors"].Empty()) {
        const auto& e = doc["errors"][0];
        std::string code = json_string(e, "code"), message = json_string(e, "message");
        if (!code.empty() || !message.empty()) return fmt::format("HTTP {} {}: {}", status, code, message);
    }
    return fmt::format("HTTP {}", status);
}

bool is_index(std::string_view media_type) {
    return media_type == "application/vnd.oci.image.index.v1+json" ||
           media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

}  // namespace

std::string ImageReference::api_host() const {
    return registry == kDockerHub ? "registry-1.docker.io" : registry;
}

std::string ImageReference::str() const {
    std::string s = registry + "/" + repository;
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

Result<ImageReference> parse_image_reference(std::string_view image) {
    auto bad = [&](std::string_view why) {
        return make_error(fmt::format("invalid image reference \"{}\": {}", image, why));
    };
    if (image.empty()) return bad("empty");
    if (image.size() > 4096) return bad("too long");
    ImageReference ref;
    std::string_view rest = image;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        ref.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
        if (!valid_digest(ref.digest)) return bad("the digest is not ALGORITHM:HEX");
    }
    // The first component names a registry when it looks like a host (a dot, a port, localhost).
    std::string_view name = rest;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        std::string_view first = rest.substr(0, slash);
        if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
            first == "localhost") {
            ref.registry = std::string(first);
            name = rest.substr(slash + 1);
        }
    }
    if (ref.registry.empty() || ref.registry == "index.docker.io" || ref.registry == "registry-1.docker.io")
        ref.registry = std::string(kDockerHub);
    auto last_slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        ref.tag = std::string(name.substr(colon + 1));
        name = name.substr(0, colon);
        if (!valid_tag(ref.tag)) return bad("the tag has characters a tag cannot have");
    }
    ref.repository = std::string(name);
    if (!valid_repository(ref.repository))
        return bad("the repository must be lower case letters, digits, . _ - /");
    if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos)
        ref.repository = "library/" + ref.repository;
    if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
    return ref;
}

std::string Platform::str() const {
    std::string s = os + "/" + architecture;
    if (!variant.empty()) s += "/" + variant;
    return s;
}

Platform host_platform() {
    Platform p;
    struct utsname u {};
    std::string machine = ::uname(&u) == 0 ? u.machine : "";
    if (machine == "x86_64")
        p.architecture = "amd64";
    else if (machine == "aarch64" || machine == "arm64")
        p.architecture = "arm64";
    else if (machine.rfind("armv7", 0) == 0)
        p.architecture = "arm", p.variant = "v7";
    else if (machine == "i686" || machine == "i386")
        p.architecture = "386";
    else
        p.architecture = machine;
    return p;
}

std::string normalize_registry_key(std::string_view key) {
    std::string k = trim(key);
    if (auto sep = k.find("://"); sep != std::string::npos) k = k.substr(sep + 3);
    if (auto slash = k.find('/'); slash != std::string::npos) k = k.substr(0, slash);
    k = ascii_lower(k);
    if (k == "index.docker.io" || k == "registry-1.docker.io" || k == "registry.hub.docker.com")
        k = "docker.io";
    return k;
}

Result<Keyring> parse_docker_config(std::string_view json) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, json));
    if (!doc_parsed || !doc.IsObject())
        return make_error("the image pull secret is not a docker config JSON object");
    // kubernetes.io/dockerconfigjson nests the entries in "auths"; the older dockercfg does not.
    const rapidjson::Value* auths = &doc;
    if (doc.HasMember("auths")) {
        if (!doc["auths"].IsObject()) return make_error("the image pull secret's \"auths\" is not an object");
        auths = &doc["auths"];
    }
    Keyring ring;
    for (const auto& m : auths->GetObject()) {
        if (!m.value.IsObject()) continue;
        Credential c;
        c.username = json_string(m.value, "username");
        c.password = json_string(m.value, "password");
        c.registry_token = json_string(m.value, "registrytoken");
        std::string auth = json_string(m.value, "auth");
        if (!auth.empty()) {
            auto decoded = base64_decode(auth);
            if (!decoded)
                return make_error(
                    fmt::format("the image pull secret's auth for {} is not base64", m.name.GetString()));
            auto colon = decoded->find(':');
            if (colon == std::string::npos)
                return make_error(fmt::format("the image pull secret's auth for {} is not USER:PASSWORD",
                                              m.name.GetString()));
            c.username = decoded->substr(0, colon);
            c.password = decoded->substr(colon + 1);
        }
        if (c.username.empty() && c.password.empty() && c.registry_token.empty()) continue;
        ring.emplace(normalize_registry_key(m.name.GetString()), std::move(c));
    }
    return ring;
}

std::optional<Credential> find_credential(const Keyring& keyring, const ImageReference& ref) {
    auto it = keyring.find(ascii_lower(ref.registry));
    if (it != keyring.end()) return it->second;
    return std::nullopt;
}

std::optional<Challenge> parse_challenge(std::string_view header) {
    std::string_view s = header;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    auto sp = s.find(' ');
    Challenge ch;
    ch.scheme = ascii_lower(std::string(s.substr(0, sp)));
    if (ch.scheme.empty()) return std::nullopt;
    if (sp == std::string_view::npos) return ch;
    s = s.substr(sp + 1);
    while (!s.empty()) {
        while (!s.empty() && (s.front() == ' ' || s.front() == ',')) s.remove_prefix(1);
        auto eq = s.find('=');
        if (eq == std::string_view::npos) break;
        std::string key = ascii_lower(trim(s.substr(0, eq)));
        s = s.substr(eq + 1);
        std::string value;
        if (!s.empty() && s.front() == '"') {
            s.remove_prefix(1);
            while (!s.empty() && s.front() != '"') {
                if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
                value += s.front();
                s.remove_prefix(1);
            }
            if (!s.empty()) s.remove_prefix(1);
        } else {
            auto comma = s.find(',');
            value = trim(s.substr(0, comma));
            s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma);
        }
        ch.params[key] = value;
    }
    return ch;
}

Result<ImageConfig> parse_image_config(std::string_view json) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, json));
    if (!doc_parsed || !doc.IsObject()) return make_error("the image config blob is not a JSON object");
    ImageConfig ic;
    auto it = doc.FindMember("config");
    if (it == doc.MemberEnd() || !it->value.IsObject()) return ic;  // an image with no defaults at all
    const auto& c = it->value;
    ic.entrypoint = json_strings(c, "Entrypoint");
    ic.cmd = json_strings(c, "Cmd");
    ic.working_dir = json_string(c, "WorkingDir");
    ic.user = json_string(c, "User");
    return ic;
}

Result<Descriptor> select_platform(const std::vector<Descriptor>& manifests, const Platform& want) {
    auto variant_of = [](const Platform& p) {
        if (p.variant.empty() && p.architecture == "arm64") return std::string("v8");
        return p.variant;
    };
    const Descriptor* loose = nullptr;
    for (const auto& d : manifests) {
        if (d.platform.os != want.os || d.platform.architecture != want.architecture) continue;
        if (variant_of(d.platform) == variant_of(want)) return d;
        // A variant we did not ask for, or none said on one side: good enough if nothing matches exactly.
        if (!loose && (want.variant.empty() || d.platform.variant.empty())) loose = &d;
    }
    if (loose) return *loose;
    std::string have;
    for (const auto& d : manifests) {
        if (d.platform.architecture.empty() || d.platform.architecture == "unknown")
            continue;  // attestations
        have += (have.empty() ? "" : ", ") + d.platform.str();
    }
    return make_error(fmt::format("the image has no manifest for {} (it has: {})", want.str(),
                                  have.empty() ? "none" : have));
}

Result<RegistryClient::Reply> RegistryClient::get(const std::string& url,
                                                  const std::vector<std::string>& headers,
                                                  std::size_t limit) {
    curl_init_once();
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return make_error("cannot start a request (curl_easy_init failed)");
    CURL* c = curl.get();
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> slist(list, curl_slist_free_all);
    Reply reply;
    BoundedBody sink{&reply.body, limit};
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string agent = "kubectl-seccomp/" + std::string(kVersion);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_collect_answer(c, sink, reply.headers, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    // Blobs are often redirected to a storage service; curl keeps our Authorization header to the
    // registry's own host (CURLOPT_UNRESTRICTED_AUTH stays off), which is what such URLs expect.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    if (!options_.ca_file.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    } else if (const std::string& system = kube::system_ca_pem(); !system.empty()) {
        curl_blob b{const_cast<char*>(system.data()), system.size(), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);  // where Go programs find them
    }
    if (options_.insecure_skip_tls_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    if (sink.overflow)
        return make_error(
            fmt::format("GET {}: the answer is larger than {} bytes; refusing to read it", url, limit));
    if (rc != CURLE_OK)
        return make_error(fmt::format("GET {}: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    if (options_.verbosity >= 6) fmt::print(stderr, "registry: GET {} {}\n", printable(url), reply.status);
    return reply;
}

Status RegistryClient::authorize(const ImageReference& ref, const Reply& denied,
                                 const std::optional<Credential>& credential) {
    auto header = denied.headers.find("www-authenticate");
    auto challenge = header == denied.headers.end() ? std::nullopt : parse_challenge(header->second);
    if (!challenge)
        return make_error("the registry refused the request (HTTP 401) without saying how to log in");
    if (challenge->scheme == "basic") {
        if (!credential || credential->username.empty())
            return make_error(
                fmt::format("the registry {} needs a user and password: add an imagePullSecret for "
                            "it to the pod, or give the entrypoint with --command",
                            ref.registry));
        authorization_ =
            "Authorization: Basic " + base64_encode(credential->username + ":" + credential->password);
        return Ok{};
    }
    if (challenge->scheme != "bearer")
        return make_error(
            fmt::format("the registry asks for \"{}\" authentication, which this plugin does not "
                        "speak: give the entrypoint with --command",
                        challenge->scheme));
    if (credential && !credential->registry_token.empty()) {
        authorization_ = "Authorization: Bearer " + credential->registry_token;
        return Ok{};
    }
    const std::string& realm = challenge->params["realm"];
    if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0)
        return make_error(fmt::format("the registry's token realm \"{}\" is not an http(s) URL", realm));
    std::string scope = challenge->params.count("scope") ? challenge->params["scope"]
                                                         : "repository:" + ref.repository + ":pull";
    std::string url =
        realm + (realm.find('?') == std::string::npos ? "?" : "&") + "scope=" + percent_encode(scope);
    if (challenge->params.count("service")) url += "&service=" + percent_encode(challenge->params["service"]);
    std::vector<std::string> headers{"Accept: application/json"};
    if (credential && !credential->username.empty())
        headers.push_back("Authorization: Basic " +
                          base64_encode(credential->username + ":" + credential->password));
    auto reply = get(url, headers, options_.max_token_bytes);
    if (!reply) return reply.error();
    if (reply->status == 401 || reply->status == 403)
        return make_error(fmt::format("the registry's token service refused {} ({}): {}", ref.str(),
                                      registry_error(reply->status, reply->body),
                                      credential
                                          ? "check the pod's imagePullSecret for " + ref.registry
                                          : "the image may be private: add an imagePullSecret to the pod"));
    if (reply->status != 200)
        return make_error(fmt::format("the registry's token service answered {}",
                                      registry_error(reply->status, reply->body)));
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, reply->body));
    std::string token = !doc_parsed ? "" : json_string(doc, "token");
    if (token.empty() && doc_parsed) token = json_string(doc, "access_token");
    if (token.empty()) return make_error("the registry's token service answered without a token");
    authorization_ = "Authorization: Bearer " + token;
    return Ok{};
}

Result<RegistryClient::Reply> RegistryClient::get_authorized(const ImageReference& ref,
                                                             const std::string& url,
                                                             const std::string& accept, std::size_t limit,
                                                             const std::optional<Credential>& credential) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::vector<std::string> headers{accept};
        if (!authorization_.empty()) headers.push_back(authorization_);
        auto reply = get(url, headers, limit);
        if (!reply) return reply.error();
        if (reply->status != 401) return reply;
        if (attempt == 1) break;
        authorization_.clear();
        if (auto st = authorize(ref, *reply, credential); !st) return st.error();
    }
    return make_error(fmt::format("the registry {} refused our credentials for {}: {}", ref.registry,
                                  ref.str(),
                                  credential ? "check the pod's imagePullSecret"
                                             : "the image may be private: add "
                                               "an imagePullSecret to the pod"));
}

Result<Manifest> parse_manifest(std::string_view json, std::string_view content_type) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, json); !parsed)
        return make_error("not JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("not a JSON object");
    Manifest m;
    m.media_type = json_string(doc, "mediaType");
    if (m.media_type.empty()) m.media_type = std::string(content_type);
    if (auto semi = m.media_type.find(';'); semi != std::string::npos)
        m.media_type = trim(m.media_type.substr(0, semi));
    m.is_index = is_index(m.media_type) || (doc.HasMember("manifests") && !doc.HasMember("config"));
    if (m.is_index) {
        if (doc.HasMember("manifests") && doc["manifests"].IsArray())
            for (const auto& e : doc["manifests"].GetArray()) {
                Descriptor d;
                d.media_type = json_string(e, "mediaType");
                d.digest = json_string(e, "digest");
                if (e.IsObject() && e.HasMember("platform")) {
                    const auto& p = e["platform"];
                    d.platform.os = json_string(p, "os");
                    d.platform.architecture = json_string(p, "architecture");
                    d.platform.variant = json_string(p, "variant");
                }
                m.manifests.push_back(std::move(d));
            }
        return m;
    }
    if (doc.HasMember("config")) m.config_digest = json_string(doc["config"], "digest");
    return m;
}

Result<ImageConfig> RegistryClient::image_config(const ImageReference& ref, const Platform& platform,
                                                 const std::optional<Credential>& credential) {
    const std::string base = "https://" + ref.api_host() + "/v2/" + ref.repository;
    std::string reference = ref.manifest_ref();
    std::string chosen_platform;
    // An index points at a manifest; a manifest never points at an index; so at most two rounds.
    for (int depth = 0; depth < 2; ++depth) {
        auto reply = get_authorized(ref, base + "/manifests/" + reference, kManifestAccept,
                                    options_.max_manifest_bytes, credential);
        if (!reply) return reply.error();
        if (reply->status == 404)
            return make_error(fmt::format("the image {} is not in the registry ({})", ref.str(),
                                          registry_error(reply->status, reply->body)));
        if (reply->status != 200)
            return make_error(fmt::format("reading the manifest of {} failed: {}", ref.str(),
                                          registry_error(reply->status, reply->body)));
        // Fetched by digest, the manifest must be what the digest names; fetched by tag, what the
        // registry says it is.
        std::string expected = reference.find(':') != std::string::npos ? reference : std::string();
        if (expected.empty() && reply->headers.count("docker-content-digest") &&
            valid_digest(reply->headers["docker-content-digest"]))
            expected = reply->headers["docker-content-digest"];
        if (!expected.empty())
            if (auto st = check_digest(reply->body, expected, fmt::format("manifest of {}", ref.str())); !st)
                return st.error();
        auto manifest = parse_manifest(reply->body, reply->headers["content-type"]);
        if (!manifest)
            return make_error(fmt::format("the manifest of {}: {}", ref.str(), manifest.error().message));
        if (manifest->is_index) {
            if (depth > 0)
                return make_error(fmt::format("the manifest of {} is an index inside an index", ref.str()));
            auto pick = select_platform(manifest->manifests, platform);
            if (!pick) return make_error(fmt::format("{}: {}", ref.str(), pick.error().message));
            if (!valid_digest(pick->digest))
                return make_error(
                    fmt::format("the index of {} names a manifest without a valid digest", ref.str()));
            reference = pick->digest;
            chosen_platform = pick->platform.str();
            continue;
        }
        const std::string& media_type = manifest->media_type;
        if (media_type == "application/vnd.docker.distribution.manifest.v1+json" ||
            media_type == "application/vnd.docker.distribution.manifest.v1+prettyjws")
            return make_error(
                fmt::format("{} has only a schema 1 manifest, which this plugin does not read: give "
                            "the entrypoint with --command",
                            ref.str()));
        const std::string& config_digest = manifest->config_digest;
        if (!valid_digest(config_digest))
            return make_error(fmt::format("the manifest of {} names no config blob", ref.str()));
        auto blob = get_authorized(ref, base + "/blobs/" + config_digest, "Accept: */*",
                                   options_.max_config_bytes, credential);
        if (!blob) return blob.error();
        if (blob->status != 200)
            return make_error(fmt::format("reading the config blob of {} failed: {}", ref.str(),
                                          registry_error(blob->status, blob->body)));
        if (auto st = check_digest(blob->body, config_digest, fmt::format("config blob of {}", ref.str()));
            !st)
            return st.error();
        auto config = parse_image_config(blob->body);
        if (!config) return make_error(fmt::format("{}: {}", ref.str(), config.error().message));
        config->manifest_digest = reply->headers.count("docker-content-digest")
                                      ? reply->headers["docker-content-digest"]
                                      : reference;
        config->platform = chosen_platform;
        return config;
    }
    return make_error(fmt::format("the manifest of {} could not be resolved", ref.str()));
}

}  // namespace ksc::registry
