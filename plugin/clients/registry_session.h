// One repository of an OCI distribution registry, read and written: what `kubectl seccomp push`
// and `pull` need beyond the read-only RegistryClient (registry_client.h) that `record
// --from-start` uses. HTTPS (plain HTTP only when asked, for a local registry), the registry's
// 401 challenge answered with Basic credentials or a bearer token fetched for the scope it names
// (pull, or pull,push), and every byte read or written checked against its digest.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "registry_client.h"
#include "result.h"

namespace ksc::registry {

struct SessionOptions {
    std::string ca_file;      // --registry-ca-file: trust this CA bundle too; empty: the system's
    bool plain_http = false;  // --insecure-registry: http:// (a local registry without TLS)
    std::chrono::milliseconds timeout{60000};
    std::size_t upload_chunk_bytes = 0;  // 0: one monolithic PUT; else PATCH chunks of this size
    int verbosity = 0;
};

struct FetchedManifest {
    std::string body;
    std::string media_type;  // Content-Type, parameters dropped
    std::string digest;      // checked: the one asked for, or the registry's Docker-Content-Digest
};

class RegistrySession {
  public:
    // `push`: ask for pull,push access (a token for pull only would not do to write).
    RegistrySession(ImageReference ref, std::optional<Credential> credential, SessionOptions options,
                    bool push);

    // The manifest `reference` (a tag or a digest) names. Fetched by digest, it must hash to it;
    // by tag, to the Docker-Content-Digest the registry sends (when it sends one).
    Result<FetchedManifest> get_manifest(const std::string& reference);
    // The blob, at most `limit` bytes, refused unless it hashes to `digest`.
    Result<std::string> get_blob(const std::string& digest, std::size_t limit);
    Result<bool> blob_exists(const std::string& digest);
    // POST an upload, then PUT it (whole, or PATCH in chunks first); the registry's answer must
    // name `digest`. Skipped when the registry already has the blob; cancelled (DELETE) on failure.
    Status upload_blob(const std::string& data, const std::string& digest, const std::string& media_type);
    // PUT the manifest under `tag`; returns its digest, checked against what the registry answered.
    Result<std::string> put_manifest(const std::string& tag, const std::string& body,
                                     const std::string& media_type);

    std::string base_url() const;  // "https://host/v2/repo"

  private:
    struct Reply {
        long status = 0;
        std::string body;
        std::map<std::string, std::string> headers;
        std::string url;  // the effective URL (after redirects)
    };
    struct Request {
        std::string method = "GET";
        std::string url;
        std::vector<std::string> headers;
        const std::string* body = nullptr;
        std::size_t limit = 1 << 20;
        bool follow_redirects = false;
    };
    Result<Reply> perform(const Request& request);
    // The upload's data to `location` (PATCH chunks or not, then the closing PUT); `location` ends
    // as the last one the registry gave, for a cancel.
    Status transfer(const std::string& first_location, const std::string& data, const std::string& digest,
                    std::string& location);
    // perform() with the authorization that worked last; on 401, answers the challenge once; a
    // GET or HEAD answered 429, 502, 503 or 504 is tried again (3 times, from 250 ms on).
    Result<Reply> send(Request request);
    Status authorize(const Reply& denied);
    Result<std::string> fetch_token(const std::string& realm, const std::string& service,
                                    const std::string& scope);
    std::string failure(const std::string& what, const Reply& reply) const;

    ImageReference ref_;
    std::optional<Credential> credential_;
    SessionOptions options_;
    bool push_;
    std::string authorization_;  // "Authorization: ..." that worked last
};

// Resolves `location` (absolute or relative, as a Location header gives it) against `base`.
Result<std::string> resolve_url(const std::string& base, const std::string& location);

}  // namespace ksc::registry
