#include "api_client.h"

#include "bounded_json.h"
#include "http_text.h"
#include "system_cas.h"

#include <curl/curl.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "base64.h"
#include "printable.h"
#include "version.h"

namespace ksc::kube {
namespace {

using Clock = std::chrono::steady_clock;

constexpr long kLowSpeedBytesPerSecond = 1024;
constexpr long kLowSpeedSeconds = 60;

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Slist make_slist(const std::vector<std::string>& items) {
    curl_slist* list = nullptr;
    for (const auto& i : items) list = curl_slist_append(list, i.c_str());
    return Slist(list);
}

// A body read into memory, up to kMaxBodyBytes: a server that sends more (by mistake or to fill
// our memory) ends the transfer instead.
// Retry-After in seconds (the HTTP-date form is treated as absent).
std::optional<std::chrono::milliseconds> retry_after(const Response& r) {
    auto it = r.headers.find("retry-after");
    if (it == r.headers.end()) return std::nullopt;
    char* end = nullptr;
    long s = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || s < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<long>(s, 30) * 1000);
}

// client-go retries a GET whose connection was reset or ended early (not one that was refused:
// nothing listens there, and kubectl says so at once).
bool transient_curl_error(CURLcode code) {
    switch (code) {
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

std::mutex g_warnings_mutex;
std::set<std::string> g_warnings_shown;
std::size_t g_warnings_received = 0;

// kubectl's warning writer: "Warning: TEXT" on stderr, each text once per run.
void show_warnings(const std::map<std::string, std::string>& headers) {
    auto it = headers.find("warning");
    if (it == headers.end()) return;
    std::lock_guard lock(g_warnings_mutex);
    for (const auto& text : parse_warning_header(it->second)) {
        if (!g_warnings_shown.insert(text).second) continue;
        ++g_warnings_received;
        fmt::print(stderr, "Warning: {}\n", printable(text));  // the server's words, never raw escapes
    }
}

// "host:port" of a server address, as kubectl names it in "The connection to the server ...".
std::string server_host_port(const std::string& server) {
    std::string rest = server.substr(server.find("://") == std::string::npos ? 0 : server.find("://") + 3);
    rest = rest.substr(0, rest.find('/'));
    bool has_port =
        rest.find(':', rest.rfind(']') == std::string::npos ? 0 : rest.rfind(']')) != std::string::npos;
    if (!has_port) rest += server.rfind("http://", 0) == 0 ? ":80" : ":443";
    return rest;
}

// A request that got no answer, in kubectl's words where kubectl has them (the connect(2)
// errno tells refused and unreachable apart; curl's message does not).
std::string unreachable(const std::string& server, CURL* curl, CURLcode rc, const std::string& why) {
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    if (rc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
        return "The connection to the server " + server_host_port(server) +
               " was refused - did you specify the right host or port?";
    if (rc == CURLE_COULDNT_CONNECT && (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH))
        return "Unable to connect to the server: dial tcp " + server_host_port(server) +
               ": connect: " + (os_errno == EHOSTUNREACH ? "no route to host" : "network is unreachable");
    return "Unable to connect to the server " + server + ": " + why +
           ": check the cluster's server address and certificate-authority in your kubeconfig";
}

// The server address taken apart: scheme, host (IPv6 in brackets), port, path prefix.
struct ServerUrl {
    std::string scheme, host, port, prefix;
};

Result<ServerUrl> parse_server(const std::string& server) {
    ServerUrl u;
    auto sep = server.find("://");
    if (sep == std::string::npos) return make_error("the server address \"" + server + "\" has no scheme");
    u.scheme = server.substr(0, sep);
    std::string rest = server.substr(sep + 3);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    if (slash != std::string::npos) u.prefix = rest.substr(slash);
    while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos)
            return make_error("the server address \"" + server + "\" has a broken IPv6 host");
        u.host = hostport.substr(0, close + 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') u.port = hostport.substr(close + 2);
    } else {
        auto colon = hostport.rfind(':');
        u.host = hostport.substr(0, colon);
        if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
    }
    if (u.host.empty()) return make_error("the server address \"" + server + "\" has no host");
    if (u.port.empty()) u.port = u.scheme == "http" ? "80" : "443";
    return u;
}

class CurlStream : public ByteStream {
  public:
    explicit CurlStream(CurlHandle curl) : curl_(std::move(curl)) {
        curl_socket_t s = CURL_SOCKET_BAD;
        curl_easy_getinfo(curl_.get(), CURLINFO_ACTIVESOCKET, &s);
        socket_ = s;
    }

    Status send_all(std::string_view data) override {
        while (!data.empty()) {
            size_t sent = 0;
            CURLcode rc = curl_easy_send(curl_.get(), data.data(), data.size(), &sent);
            if (rc == CURLE_AGAIN) {
                pollfd p{static_cast<int>(socket_), POLLOUT, 0};
                ::poll(&p, 1, 1000);
                continue;
            }
            if (rc != CURLE_OK)
                return make_error(std::string("the connection broke: ") + curl_easy_strerror(rc));
            data.remove_prefix(sent);
        }
        return Ok{};
    }

    Result<std::string> receive(std::chrono::milliseconds timeout) override {
        auto deadline = Clock::now() + timeout;
        char buf[16384];
        while (true) {
            size_t got = 0;
            CURLcode rc = curl_easy_recv(curl_.get(), buf, sizeof buf, &got);
            if (rc == CURLE_OK) {
                if (got == 0) return make_error("the connection was closed by the server");
                return std::string(buf, got);
            }
            if (rc != CURLE_AGAIN)
                return make_error(std::string("the connection broke: ") + curl_easy_strerror(rc));
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return std::string();
            pollfd p{static_cast<int>(socket_), POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r == 0) return std::string();
            if (r < 0 && errno == EINTR) return std::string();
        }
    }

  private:
    CurlHandle curl_;
    curl_socket_t socket_ = CURL_SOCKET_BAD;
};

}  // namespace

std::string url_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string_view patch_content_type(PatchType type) {
    switch (type) {
        case PatchType::StrategicMerge:
            return "application/strategic-merge-patch+json";
        case PatchType::Merge:
            return "application/merge-patch+json";
        case PatchType::Json:
            return "application/json-patch+json";
    }
    return "";
}

Result<ServerVersion> parse_server_version(std::string_view json) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, json); !parsed)
        return make_error("/version did not answer with JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("/version did not answer with a JSON object");
    ServerVersion v;
    v.git_version = json_string(doc, "gitVersion");
    auto number = [](const std::string& s) {
        int n = 0;
        std::size_t i = 0;
        for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) n = n * 10 + (s[i] - '0');
        return i == 0 ? -1 : n;
    };
    v.major = number(json_string(doc, "major"));
    v.minor = number(json_string(doc, "minor"));
    if ((v.major < 0 || v.minor < 0) && v.git_version.size() > 1) {  // e.g. {"gitVersion":"v1.29.3"}
        unsigned ma = 0, mi = 0;
        if (std::sscanf(v.git_version.c_str(), "v%u.%u", &ma, &mi) == 2) {
            v.major = static_cast<int>(ma);
            v.minor = static_cast<int>(mi);
        }
    }
    if (v.major < 0 || v.minor < 0) return make_error("/version names no major and minor version");
    return v;
}

ApiClient::ApiClient(RestConfig config, ClientOptions options)
    : config_(std::move(config)), options_(options) {}
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::create(RestConfig config, ClientOptions options) {
    curl_init_once();
    auto u = parse_server(config.server);
    if (!u) return u.error();
    std::unique_ptr<ApiClient> c(new ApiClient(std::move(config), options));
    c->token_read_at_ = Clock::now();  // load_rest_config read the token file just now
    c->host_header_ = u->host + ":" + u->port;
    if (!c->config_.tls_server_name.empty() && u->scheme == "https") {
        c->url_base_ = u->scheme + "://" + c->config_.tls_server_name + ":" + u->port + u->prefix;
        c->connect_to_ = c->config_.tls_server_name + ":" + u->port + ":" + u->host + ":" + u->port;
    } else {
        c->url_base_ = u->scheme + "://" + u->host + ":" + u->port + u->prefix;
    }
    return c;
}

namespace {

// client-go escapes what may not appear in a header name (and '%') as %XX in an extra's key.
std::string header_key_escape(std::string_view key) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : key) {
        bool legal = std::isalnum(c) || std::strchr("!#$&'*+-.^_|~", c) != nullptr;
        if (legal && c != 0) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::size_t warnings_received() {
    std::lock_guard lock(g_warnings_mutex);
    return g_warnings_received;
}

std::vector<std::string> impersonation_headers(const Impersonation& who) {
    std::vector<std::string> headers;
    if (who.user.empty()) return headers;
    headers.push_back("Impersonate-User: " + who.user);
    if (!who.uid.empty()) headers.push_back("Impersonate-Uid: " + who.uid);
    for (const auto& g : who.groups) headers.push_back("Impersonate-Group: " + g);
    for (const auto& [key, values] : who.extra)
        for (const auto& v : values)
            headers.push_back("Impersonate-Extra-" + header_key_escape(key) + ": " + v);
    return headers;
}

std::string ApiClient::host_header() const {
    return host_header_;
}
std::string ApiClient::url(const std::string& path) const {
    return url_base_ + path;
}

Result<std::vector<std::string>> ApiClient::auth_headers(bool refresh) {
    std::vector<std::string> headers;
    if (!connect_to_.empty()) headers.push_back("Host: " + host_header_);
    // client-go's file token source: read at most once a minute, and again after a 401 (a
    // projected service-account token rotates); a failed read keeps the token we have.
    if (!config_.token_file.empty() &&
        (refresh || Clock::now() - token_read_at_ >= options_.token_file_max_age)) {
        // Bounded, as every file we read (a wrong path to /dev/zero must not fill memory).
        if (auto text = read_file(config_.token_file); text && !trim(*text).empty())
            config_.token = trim(*text);
        token_read_at_ = Clock::now();
    }
    if (!config_.token.empty()) {
        headers.push_back("Authorization: Bearer " + config_.token);
    } else if (config_.exec) {
        auto cred = exec_credential(*config_.exec, config_, refresh);
        if (!cred) return cred.error();
        if (!cred->token.empty()) headers.push_back("Authorization: Bearer " + cred->token);
        exec_cert_pem_ = cred->client_cert_pem;
        exec_key_pem_ = cred->client_key_pem;
    } else if (config_.oidc) {
        auto token = oidc_id_token(*config_.oidc, refresh, options_.request_timeout);
        if (!token) return token.error();
        headers.push_back("Authorization: Bearer " + *token);
    } else if (!config_.username.empty()) {
        headers.push_back("Authorization: Basic " +
                          ksc::base64_encode(config_.username + ":" + config_.password));
    }
    for (auto& h : impersonation_headers(config_.impersonate)) headers.push_back(std::move(h));
    return headers;
}

void ApiClient::apply_tls(void* handle) {
    CURL* c = static_cast<CURL*>(handle);
    auto blob = [&](CURLoption opt, const std::string& pem) {
        curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
        return curl_easy_setopt(c, opt, &b);
    };
    if (!config_.ca_pem.empty())
        blob(CURLOPT_CAINFO_BLOB, config_.ca_pem);
    else if (!config_.ca_file.empty())
        curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    else if (!config_.insecure_skip_tls_verify && !system_ca_pem().empty())
        blob(CURLOPT_CAINFO_BLOB, system_ca_pem());  // where kubectl (Go) finds them
    const std::string& cert = !exec_cert_pem_.empty() ? exec_cert_pem_ : config_.client_cert_pem;
    const std::string& key = !exec_key_pem_.empty() ? exec_key_pem_ : config_.client_key_pem;
    if (!cert.empty()) {
        blob(CURLOPT_SSLCERT_BLOB, cert);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!config_.client_cert_file.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
    }
    if (!key.empty()) {
        blob(CURLOPT_SSLKEY_BLOB, key);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!config_.client_key_file.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLKEY, config_.client_key_file.c_str());
    }
    if (config_.insecure_skip_tls_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!config_.proxy_url.empty()) curl_easy_setopt(c, CURLOPT_PROXY, config_.proxy_url.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    // As Go's transport: ask for gzip (and undo it) unless --disable-compression.
    static const bool has_zlib = (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_LIBZ) != 0;
    if (has_zlib && !options_.disable_compression) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(c, CURLOPT_USERAGENT, (std::string("kubectl-seccomp/") + std::string(kVersion)).c_str());
}

Result<Response> ApiClient::request(std::string_view method, const std::string& path, const std::string& body,
                                    const std::string& content_type) {
    const bool idempotent = method == "GET";
    bool refreshed = false;
    auto backoff = options_.retry_backoff;
    // --request-timeout bounds the request with its retries, not each attempt: a server that
    // fails slowly must not multiply it.
    const bool bounded = options_.request_timeout.count() > 0;
    const auto deadline = Clock::now() + options_.request_timeout;
    auto time_left = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    };
    auto can_wait = [&](std::chrono::milliseconds wait) { return !bounded || wait < time_left(); };
    for (int attempt = 0;; ++attempt) {
        auto auth = auth_headers(refreshed);
        if (!auth) return auth.error();
        std::vector<std::string> headers = *auth;
        headers.push_back("Accept: application/json");
        if (!content_type.empty()) headers.push_back("Content-Type: " + content_type);
        Slist slist = make_slist(headers);

        CurlHandle curl(curl_easy_init());
        if (!curl) return make_error("cannot start a request (curl_easy_init failed)");
        CURL* c = curl.get();
        std::string target = url(path);
        char errbuf[CURL_ERROR_SIZE] = {0};
        Response resp;
        curl_easy_setopt(c, CURLOPT_URL, target.c_str());
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
        if (method != "GET") {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, slist.get());
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        BoundedBody sink{&resp.body, kMaxBodyBytes};
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_append_bounded);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        // Without --request-timeout a request has no deadline (as kubectl's), but an answer that
        // trickles in (under 1 KiB/s for 60 s) is not an answer: it ends as a timeout.
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytesPerSecond);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_headers_into_map);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
        if (bounded)
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                             static_cast<long>(std::max<long long>(1, time_left().count())));
        Slist connect_to =
            make_slist(connect_to_.empty() ? std::vector<std::string>{} : std::vector{connect_to_});
        if (connect_to) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
        apply_tls(c);

        auto start = Clock::now();
        CURLcode rc = curl_easy_perform(c);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
        if (sink.overflow)
            return make_error(
                fmt::format("the API server's answer to {} {} is larger than {} MiB (the most "
                            "this reads): check the server address, or narrow the request",
                            method, target, kMaxBodyBytes >> 20));
        if (rc != CURLE_OK) {
            std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
            if (options_.verbosity >= 6)
                fmt::print(stderr, "{} {} failed in {} ms: {}\n", method, printable(target), ms,
                           printable(why));
            if (idempotent && transient_curl_error(rc) && attempt < options_.max_retries &&
                can_wait(backoff)) {
                if (options_.verbosity >= 6)
                    fmt::print(stderr, "retrying {} {} in {} ms (attempt {} of {})\n", method,
                               printable(target), backoff.count(), attempt + 2, options_.max_retries + 1);
                std::this_thread::sleep_for(backoff);
                backoff *= 2;
                continue;
            }
            if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_WEIRD_SERVER_REPLY ||
                rc == CURLE_BAD_CONTENT_ENCODING || rc == CURLE_GOT_NOTHING)
                return make_error(
                    fmt::format("the API server at {} sent a broken answer to {} {}: {}: check "
                                "what serves that address (a proxy in the way?)",
                                config_.server, method, path, why));
            if (rc == CURLE_OPERATION_TIMEDOUT && options_.request_timeout.count() == 0)
                return make_error(
                    fmt::format("{} {}: the API server sent less than {} bytes a second for {} s; check the "
                                "network path to the API server",
                                method, target, kLowSpeedBytesPerSecond, kLowSpeedSeconds));
            if (rc == CURLE_OPERATION_TIMEDOUT)
                return make_error(
                    fmt::format("{} {} timed out after {} ms: raise --request-timeout, or check the "
                                "network path to the API server",
                                method, target, ms));
            return make_error(unreachable(config_.server, c, rc, why));
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
        if (options_.verbosity >= 6)
            fmt::print(stderr, "{} {} {} in {} ms\n", method, printable(target), resp.status, ms);
        if (options_.verbosity >= 8 && !body.empty())
            fmt::print(stderr, "request body: {}\n", printable(body));
        if (options_.verbosity >= 8) fmt::print(stderr, "response body: {}\n", printable(resp.body));
        show_warnings(resp.headers);

        if (resp.status == 401 && !refreshed && refreshable_credentials()) {
            refreshed = true;  // a rotated token or an expired exec credential: fetch it again, once
            continue;
        }
        // client-go waits and retries a 429 or 5xx only when the server says when (Retry-After),
        // whatever the verb: the server did not act on it.
        auto wait = retry_after(resp);
        // client-go: a 429 or 5xx is retried only when the server says when (Retry-After).
        bool retryable = (resp.status == 429 || resp.status >= 500) && wait;
        if (retryable && attempt < options_.max_retries && can_wait(*wait)) {
            if (options_.verbosity >= 6)
                fmt::print(stderr, "got a Retry-After {} s response for attempt {} to {}\n",
                           wait->count() / 1000, attempt + 1, printable(target));
            std::this_thread::sleep_for(*wait);
            continue;
        }
        refreshed = false;
        return resp;
    }
}

namespace {

// A failed answer as one line. A redirect is never followed: it could take the user's credentials
// (a bearer token, a client certificate) to another host.
std::string describe_answer(const Response& r, const std::string& server) {
    if (r.status >= 300 && r.status < 400) {
        auto location = r.headers.find("location");
        return fmt::format(
            "the API server at {} answered HTTP {} redirecting to {}, which is not followed "
            "(your credentials go only to the kubeconfig's server): check the server address",
            server, r.status, location == r.headers.end() ? "nowhere" : location->second);
    }
    return describe_status(api_status(r));
}

}  // namespace

Result<std::string> ApiClient::get(const std::string& path) {
    auto r = request("GET", path);
    if (!r) return r.error();
    if (!r->ok()) return make_error(describe_answer(*r, config_.server));
    return std::move(r->body);
}

Result<std::string> ApiClient::patch(const std::string& path, const std::string& body, PatchType type) {
    auto r = request("PATCH", path, body, std::string(patch_content_type(type)));
    if (!r) return r.error();
    if (!r->ok()) return make_error(describe_answer(*r, config_.server));
    return std::move(r->body);
}

Status ApiClient::list(const std::string& path, const std::function<Status(const std::string& page)>& on_page,
                       int page_size) {
    std::string token;
    // A server that keeps answering with a continue token would never end: no real list has a
    // million pages.
    for (int pages = 0; pages < 100000; ++pages) {
        std::string target =
            path + (path.find('?') == std::string::npos ? "?" : "&") + "limit=" + std::to_string(page_size);
        if (!token.empty()) target += "&continue=" + url_encode(token);
        auto body = get(target);
        if (!body) return body.error();
        if (auto s = on_page(*body); !s) return s;
        rapidjson::Document doc;
        if (!parse_bounded_json(doc, *body) || !doc.IsObject()) return Ok{};  // on_page said what it found
        auto md = doc.FindMember("metadata");
        token = md != doc.MemberEnd() ? json_string(md->value, "continue") : "";
        if (token.empty()) return Ok{};
    }
    return make_error("the API server's list of " + path + " does not end (100000 pages): check the server");
}

Result<ServerVersion> ApiClient::check_server_version(int min_minor) {
    auto body = get("/version");
    if (!body) return make_error("cannot read the API server's version: " + body.error().message);
    auto v = parse_server_version(*body);
    if (!v) return v.error();
    if (v->major < 1 || (v->major == 1 && v->minor < min_minor))
        return make_error(
            fmt::format("the API server runs Kubernetes {} ({}.{}); this needs 1.{} or newer "
                        "(ephemeral containers are GA from 1.25): upgrade the cluster",
                        v->git_version.empty() ? "?" : v->git_version, v->major, v->minor, min_minor));
    return v;
}

namespace {

struct WatchState {
    std::string buffer;
    std::string error_body;
    long status = 0;
    CURL* curl = nullptr;
    const std::function<bool(const WatchEvent&)>* on_event = nullptr;
    std::string* resource_version = nullptr;
    bool stopped = false;  // the callback said so
    bool gone = false;     // 410: start again from now
    bool got_event = false;
    std::optional<std::string> error;
    std::map<std::string, std::string> headers;
};

void handle_watch_line(WatchState& st, const std::string& line) {
    if (trim(line).empty()) return;
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, line));
    if (!doc_parsed || !doc.IsObject()) {
        st.error = "the watch sent a line that is not JSON";
        return;
    }
    WatchEvent ev;
    ev.type = json_string(doc, "type");
    auto obj = doc.FindMember("object");
    if (obj == doc.MemberEnd() || !obj->value.IsObject()) return;
    if (ev.type == "ERROR") {
        Response r;
        r.status = 500;
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        obj->value.Accept(w);
        r.body = buf.GetString();
        ApiStatus s = api_status(r);
        if (s.code == 410)
            st.gone = true;
        else
            st.error = describe_status(s);
        return;
    }
    st.got_event = true;
    if (auto md = obj->value.FindMember("metadata"); md != obj->value.MemberEnd())
        if (std::string rv = json_string(md->value, "resourceVersion"); !rv.empty())
            *st.resource_version = rv;
    if (ev.type == "BOOKMARK") return;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    obj->value.Accept(w);
    ev.object_json = buf.GetString();
    if (!(*st.on_event)(ev)) st.stopped = true;
}

size_t watch_header_cb(char* data, size_t size, size_t n, void* user) {
    auto& st = *static_cast<WatchState*>(user);
    std::string_view line(data, size * n);
    if (line == "\r\n" || line == "\n") show_warnings(st.headers);  // the end of the headers
    return curl_headers_into_map(data, size, n, &st.headers);
}

size_t watch_cb(char* data, size_t size, size_t n, void* user) {
    auto& st = *static_cast<WatchState*>(user);
    if (st.status == 0) curl_easy_getinfo(st.curl, CURLINFO_RESPONSE_CODE, &st.status);
    if (st.status < 200 || st.status >= 300) {
        if (st.error_body.size() < 65536) st.error_body.append(data, size * n);
        return size * n;
    }
    st.buffer.append(data, size * n);
    std::size_t nl;
    while ((nl = st.buffer.find('\n')) != std::string::npos) {
        std::string line = st.buffer.substr(0, nl);
        st.buffer.erase(0, nl + 1);
        handle_watch_line(st, line);
        if (st.stopped || st.gone || st.error) return 0;  // ends the transfer
    }
    if (st.buffer.size() > (16u << 20)) {
        st.error = "the watch sent an event over 16 MiB";
        return 0;
    }
    return size * n;
}

}  // namespace

Status ApiClient::watch(const std::string& path, std::string resource_version,
                        const std::function<bool(const WatchEvent&)>& on_event,
                        std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    int failures = 0;
    bool refreshed = false;
    auto backoff = options_.retry_backoff;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return make_error(fmt::format("gave up watching after {} s", timeout.count() / 1000));
        std::string target =
            path + (path.find('?') == std::string::npos ? "?" : "&") +
            "watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
            std::to_string(std::max<long long>(1, std::min<long long>(left.count() / 1000, 300)));
        if (!resource_version.empty()) target += "&resourceVersion=" + url_encode(resource_version);

        auto auth = auth_headers(refreshed);
        if (!auth) return auth.error();
        std::vector<std::string> headers = *auth;
        headers.push_back("Accept: application/json");
        Slist slist = make_slist(headers);
        CurlHandle curl(curl_easy_init());
        CURL* c = curl.get();
        WatchState st;
        st.curl = c;
        st.on_event = &on_event;
        st.resource_version = &resource_version;
        char errbuf[CURL_ERROR_SIZE] = {0};
        std::string full = url(target);
        curl_easy_setopt(c, CURLOPT_URL, full.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, slist.get());
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, watch_header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
        // The server ends the watch at timeoutSeconds; this is for a server that does not.
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count() + 5000));
        Slist connect_to =
            make_slist(connect_to_.empty() ? std::vector<std::string>{} : std::vector{connect_to_});
        if (connect_to) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
        apply_tls(c);
        if (options_.verbosity >= 6) fmt::print(stderr, "WATCH {}\n", printable(full));
        CURLcode rc = curl_easy_perform(c);
        if (st.status == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st.status);

        if (st.stopped) return Ok{};
        if (st.error) return make_error(*st.error);
        if (st.gone) {
            resource_version.clear();
            continue;
        }
        if (st.status == 401 && !refreshed && refreshable_credentials()) {
            refreshed = true;
            continue;
        }
        refreshed = false;
        if (st.status != 0 && (st.status < 200 || st.status >= 300)) {
            Response r;
            r.status = st.status;
            r.body = st.error_body;
            bool retryable = st.status == 429 || st.status >= 500;
            if (!retryable || ++failures > options_.max_retries)
                return make_error(describe_status(api_status(r)));
        } else if (rc == CURLE_OK || rc == CURLE_OPERATION_TIMEDOUT) {
            failures = 0;  // the server closed the watch at its timeout: resume
            continue;
        } else if (st.got_event) {
            failures = 0;
        } else if (rc == CURLE_COULDNT_CONNECT && !st.got_event && failures == 0) {
            // Nothing listens there: say so at once, as kubectl does.
            return make_error(
                unreachable(config_.server, c, rc, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
        } else if (++failures > options_.max_retries) {
            return make_error(fmt::format("the watch of {} keeps failing: {}", path,
                                          errbuf[0] ? errbuf : curl_easy_strerror(rc)));
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
    }
}

bool ApiClient::refreshable_credentials() const {
    return config_.exec || !config_.token_file.empty() || config_.oidc;
}

Result<std::unique_ptr<ByteStream>> ApiClient::connect_raw(std::vector<std::string>& headers, bool refresh) {
    auto auth = auth_headers(refresh);
    if (!auth) return auth.error();
    headers = *auth;
    headers.push_back("User-Agent: kubectl-seccomp/" + std::string(kVersion));
    CurlHandle curl(curl_easy_init());
    CURL* c = curl.get();
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string target = url("/");
    curl_easy_setopt(c, CURLOPT_URL, target.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    // The upgrade is an HTTP/1.1 request: ALPN must not pick h2.
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    Slist connect_to =
        make_slist(connect_to_.empty() ? std::vector<std::string>{} : std::vector{connect_to_});
    if (connect_to) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
    apply_tls(c);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return make_error(unreachable(config_.server, c, rc, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    std::unique_ptr<ByteStream> stream = std::make_unique<CurlStream>(std::move(curl));
    return stream;
}

}  // namespace ksc::kube
