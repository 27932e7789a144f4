// A small OCI distribution (registry v2) client over libcurl: just enough to read an image's
// entrypoint for `record --from-start` when the pod spec does not say what the container runs.
// Resolve the reference (Docker Hub defaults), GET the manifest (following manifest lists and OCI
// indexes to the node's platform), GET the config blob. Anonymous pulls go through the registry's
// bearer-token challenge; the pod's imagePullSecrets supply basic credentials or a registry token.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace ksc::registry {

// "nginx" → docker.io / library/nginx : latest. `registry` is the name credentials are keyed by
// ("docker.io"); api_host() is where the API lives ("registry-1.docker.io").
struct ImageReference {
    std::string registry;
    std::string repository;
    std::string tag;     // empty when only a digest was given
    std::string digest;  // "sha256:..." or empty
    std::string api_host() const;
    std::string manifest_ref() const { return digest.empty() ? tag : digest; }
    std::string str() const;  // the canonical form, "docker.io/library/nginx:latest"
};
Result<ImageReference> parse_image_reference(std::string_view image);

// A node's platform as the kubelet's labels say it (kubernetes.io/os, kubernetes.io/arch).
struct Platform {
    std::string os = "linux";
    std::string architecture;  // amd64, arm64, ...
    std::string variant;       // v8, v7, ... or empty
    std::string str() const;
};
Platform host_platform();  // the platform this plugin runs on (the fallback when the node is unknown)

// One entry of a docker config (`auths` of kubernetes.io/dockerconfigjson, or the older dockercfg).
struct Credential {
    std::string username;
    std::string password;
    std::string registry_token;  // used as a bearer token directly
    std::string identity_token;  // an OAuth2 refresh token (docker login's "identitytoken"): push/pull only
};
// Keyed by registry host ("docker.io", "registry.example.com:5000"): scheme, path and
// index.docker.io are normalised away, as the kubelet's keyring does.
using Keyring = std::map<std::string, Credential>;
Result<Keyring> parse_docker_config(std::string_view json);
std::string normalize_registry_key(std::string_view key);
std::optional<Credential> find_credential(const Keyring& keyring, const ImageReference& ref);

// `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (or Basic realm=...).
struct Challenge {
    std::string scheme;  // "bearer" or "basic" (lower case)
    std::map<std::string, std::string> params;
};
std::optional<Challenge> parse_challenge(std::string_view header);

// What the container would run, from the image's config blob.
struct ImageConfig {
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::string user;
    std::string manifest_digest;  // the manifest the config came from (the platform's)
    std::string platform;         // the platform chosen from an index, or empty for a single manifest
};
// Reads the config blob's JSON ({"config": {"Entrypoint", "Cmd", "WorkingDir", "User"}}).
Result<ImageConfig> parse_image_config(std::string_view json);

struct Descriptor {
    std::string media_type;
    std::string digest;
    Platform platform;
};
// A manifest list or OCI index: the entry for `platform` (os and architecture must match; the
// variant too when both say one, arm64's "v8" being the default); an error listing what exists.
Result<Descriptor> select_platform(const std::vector<Descriptor>& manifests, const Platform& platform);

// A manifest as read (bounded JSON): an index (a manifest list or OCI index: its entries) or an
// image manifest (its config blob's digest). `content_type` is the reply's, for manifests that do
// not name their mediaType.
struct Manifest {
    std::string media_type;
    bool is_index = false;
    std::vector<Descriptor> manifests;
    std::string config_digest;
};
Result<Manifest> parse_manifest(std::string_view json, std::string_view content_type);

struct RegistryOptions {
    std::string ca_file;  // extra CA bundle (tests); empty: the system's
    bool insecure_skip_tls_verify = false;
    std::chrono::milliseconds timeout{30000};
    std::size_t max_manifest_bytes = 4 << 20;
    std::size_t max_config_bytes = 8 << 20;
    std::size_t max_token_bytes = 1 << 20;
    int verbosity = 0;
};

class RegistryClient {
  public:
    explicit RegistryClient(RegistryOptions options = {}) : options_(std::move(options)) {}
    // The image's config for `platform`, authenticating with `credential` when the registry asks.
    Result<ImageConfig> image_config(const ImageReference& ref, const Platform& platform,
                                     const std::optional<Credential>& credential);

  private:
    struct Reply {
        long status = 0;
        std::string body;
        std::map<std::string, std::string> headers;
    };
    Result<Reply> get(const std::string& url, const std::vector<std::string>& headers, std::size_t limit);
    Result<Reply> get_authorized(const ImageReference& ref, const std::string& url, const std::string& accept,
                                 std::size_t limit, const std::optional<Credential>& credential);
    Status authorize(const ImageReference& ref, const Reply& challenge_reply,
                     const std::optional<Credential>& credential);

    RegistryOptions options_;
    std::string authorization_;  // the header that worked last ("Authorization: Bearer ...")
};

}  // namespace ksc::registry
