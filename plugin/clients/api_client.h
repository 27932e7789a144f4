// A small Kubernetes API client over libcurl: what `record` needs and no more. Requests with
// timeouts and retries (429 and 5xx, honouring Retry-After), errors shown as the API's Status
// message, watches that resume from the last resourceVersion, and raw connections (for the
// WebSocket upgrade of pods/attach) opened with the same TLS settings and credentials.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_status.h"
#include "kubeconfig.h"
#include "result.h"

namespace ksc::kube {

struct ClientOptions {
    // Per request, as --request-timeout; zero means none (watches and attach never have one).
    std::chrono::milliseconds request_timeout{0};
    std::chrono::milliseconds connect_timeout{30000};
    int max_retries = 5;
    // Backoff between retries when the server gives no Retry-After (doubles each time).
    std::chrono::milliseconds retry_backoff{500};
    int verbosity = 0;                 // -v: 6 logs each request and its status, 8 bodies too (as kubectl)
    bool disable_compression = false;  // --disable-compression: no Accept-Encoding: gzip
    bool warnings_as_errors = false;   // --warnings-as-errors
    // How long a tokenFile's token is used before the file is read again (client-go: a minute).
    std::chrono::milliseconds token_file_max_age{60000};
};

struct Response {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names lower-cased
    bool ok() const { return status >= 200 && status < 300; }
};

enum class PatchType {
    StrategicMerge,  // application/strategic-merge-patch+json
    Merge,           // application/merge-patch+json
    Json,            // application/json-patch+json
};
std::string_view patch_content_type(PatchType type);

struct ServerVersion {
    int major = 0;
    int minor = 0;
    std::string git_version;  // "v1.29.3"
};
// Parses /version's JSON ("minor": "29+" counts as 29).
Result<ServerVersion> parse_server_version(std::string_view json);

struct WatchEvent {
    std::string type;         // ADDED, MODIFIED, DELETED, BOOKMARK (ERROR is handled inside)
    std::string object_json;  // the object, as JSON text
};

// A connection that carries bytes both ways after an HTTP/1.1 upgrade (see websocket.h).
class ByteStream {
  public:
    virtual ~ByteStream() = default;
    // Sends all of `data`; an error when the connection is gone.
    virtual Status send_all(std::string_view data) = 0;
    // Waits up to `timeout` for data; returns what arrived (empty: timed out). An error when the
    // connection is closed or broken.
    virtual Result<std::string> receive(std::chrono::milliseconds timeout) = 0;
};

class ApiClient {
  public:
    static Result<std::unique_ptr<ApiClient>> create(RestConfig config, ClientOptions options = {});
    ~ApiClient();

    const RestConfig& config() const { return config_; }

    // Any request; a non-2xx answer is still a Response (see api_status). Errors are for requests
    // that got no answer (connection refused, TLS, timeout) after the retries.
    Result<Response> request(std::string_view method, const std::string& path, const std::string& body = "",
                             const std::string& content_type = "");

    // 2xx bodies; anything else an Error with the Status message ("pods \"x\" not found").
    Result<std::string> get(const std::string& path);
    Result<std::string> patch(const std::string& path, const std::string& body, PatchType type);

    // A collection (`path` may carry a query) fetched in pages of `page_size` (limit and continue,
    // as kubectl does), each page handed to `on_page` as it comes: a namespace of 50,000 pods fits
    // in the per-answer cap and in memory. A continue token that expired (410) is an error that
    // says to run it again.
    Status list(const std::string& path, const std::function<Status(const std::string& page)>& on_page,
                int page_size = 500);

    // GET /version, refused below `min_minor` of Kubernetes 1.x, saying why.
    Result<ServerVersion> check_server_version(int min_minor = 25);

    // Watches `path` (a collection, usually with a fieldSelector) from `resource_version`,
    // reconnecting when the server closes the watch or the connection drops, until `on_event`
    // returns false or `timeout` passes (an Error saying so). A 410 Gone restarts from now.
    Status watch(const std::string& path, std::string resource_version,
                 const std::function<bool(const WatchEvent&)>& on_event, std::chrono::milliseconds timeout);

    // Opens a TLS (or plain) connection to the server with curl's CONNECT_ONLY and our TLS
    // settings, for a protocol we speak ourselves over it. `headers` gets what authenticates a
    // request on it (Authorization), for the caller's own request. `refresh`: after a 401, the
    // credentials fetched again (tokenFile re-read, exec plugin run, oidc token refreshed).
    Result<std::unique_ptr<ByteStream>> connect_raw(std::vector<std::string>& headers, bool refresh = false);

    // Whether a 401 is worth one more try with credentials fetched again: a tokenFile (rotated),
    // an exec plugin or an oidc auth-provider (expired).
    bool refreshable_credentials() const;

    // "host:port" as the Host header must name it.
    std::string host_header() const;
    std::string url(const std::string& path) const;

  private:
    ApiClient(RestConfig config, ClientOptions options);
    struct Credentials;
    Result<std::vector<std::string>> auth_headers(bool refresh);
    void apply_tls(void* curl);

    RestConfig config_;
    ClientOptions options_;
    // For tls-server-name: the URL carries that name (so curl sends it as SNI and checks the
    // certificate against it) and CURLOPT_CONNECT_TO sends the connection to the real host.
    std::string url_base_;
    std::string connect_to_;
    std::string host_header_;
    std::string exec_cert_pem_, exec_key_pem_;
    std::chrono::steady_clock::time_point token_read_at_;  // when token_file was last read
};

// How many distinct Warning: texts the API server sent this run (each printed once on stderr as
// "Warning: TEXT", as kubectl prints them); --warnings-as-errors fails the run when not zero.
std::size_t warnings_received();

// The Impersonate-* headers for `who` (none when it names no user), as client-go sends them.
std::vector<std::string> impersonation_headers(const Impersonation& who);

// Percent-encoding for query values (label and field selectors).
std::string url_encode(std::string_view text);

}  // namespace ksc::kube
