#include "registry_session.h"

#include "bounded_json.h"

#include <curl/curl.h>
#include <rapidjson/document.h>

#include <cctype>
#include <memory>
#include <thread>

#include <fmt/core.h>

#include "base64.h"
#include "http_text.h"
#include "oci_artifact.h"
#include "version.h"

namespace ksc::registry {
namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::size_t kMaxTokenBytes = 1 << 20;
constexpr std::size_t kMaxErrorBytes = 1 << 20;
constexpr int kBusyRetries = 3;

std::string string_member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return "";
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::string without_parameters(std::string media_type) {
    if (auto semi = media_type.find(';'); semi != std::string::npos) media_type = media_type.substr(0, semi);
    return trim(media_type);
}

}  // namespace

Result<std::string> resolve_url(const std::string& base, const std::string& location) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    if (!u) return make_error("out of memory");
    char* out = nullptr;
    if (curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK ||
        curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK)
        return make_error(fmt::format("the registry's Location \"{}\" is not a URL", location));
    std::string s(out);
    curl_free(out);
    return s;
}

RegistrySession::RegistrySession(ImageReference ref, std::optional<Credential> credential,
                                 SessionOptions options, bool push)
    : ref_(std::move(ref)), credential_(std::move(credential)), options_(std::move(options)), push_(push) {
    curl_init_once();
}

std::string RegistrySession::base_url() const {
    return (options_.plain_http ? "http://" : "https://") + ref_.api_host() + "/v2/" + ref_.repository;
}

Result<RegistrySession::Reply> RegistrySession::perform(const Request& rq) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return make_error("cannot start a request (curl_easy_init failed)");
    CURL* c = curl.get();
    curl_slist* list = nullptr;
    for (const auto& h : rq.headers) list = curl_slist_append(list, h.c_str());
    // No "Expect: 100-continue" round trip before a body: registries answer at once either way.
    list = curl_slist_append(list, "Expect:");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> slist(list, curl_slist_free_all);
    Reply reply;
    BoundedBody sink{&reply.body, rq.limit};
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string agent = "kubectl-seccomp/" + std::string(kVersion);
    const char* protocols = options_.plain_http ? "http,https" : "https";
    curl_easy_setopt(c, CURLOPT_URL, rq.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_collect_answer(c, sink, reply.headers, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    if (rq.follow_redirects) {
        // Blobs are often served by a storage service on another host: curl does not carry our
        // Authorization header there (CURLOPT_UNRESTRICTED_AUTH stays off), as such URLs expect.
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    }
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (rq.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (rq.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
        static const std::string empty;
        const std::string& body = rq.body ? *rq.body : empty;
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    }
    CURLcode rc = curl_easy_perform(c);
    if (sink.overflow)
        return make_error(fmt::format("{} {}: the answer is larger than {} bytes; refusing to read it",
                                      rq.method, rq.url, rq.limit));
    if (rc != CURLE_OK) {
        std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_UNSUPPORTED_PROTOCOL && !options_.plain_http)
            why += " (plain HTTP is used only with --insecure-registry)";
        else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
            why += ": give the registry's CA with --registry-ca-file";
        return make_error(fmt::format("{} {}: {}", rq.method, rq.url, why));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    char* effective = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    reply.url = effective ? effective : rq.url;
    if (options_.verbosity >= 6) fmt::print(stderr, "registry: {} {} {}\n", rq.method, rq.url, reply.status);
    return reply;
}

Result<std::string> RegistrySession::fetch_token(const std::string& realm, const std::string& service,
                                                 const std::string& scope) {
    const bool secure = realm.rfind("https://", 0) == 0;
    if (!secure && !(options_.plain_http && realm.rfind("http://", 0) == 0))
        return make_error(fmt::format("the registry's token realm \"{}\" is not an https URL{}", realm,
                                      options_.plain_http ? " or http URL" : ""));
    Request rq;
    rq.limit = kMaxTokenBytes;
    rq.headers = {"Accept: application/json"};
    std::string form;
    if (credential_ && !credential_->identity_token.empty()) {
        // docker login's identity token is an OAuth2 refresh token, exchanged by POST (the
        // distribution spec's oauth flow).
        rq.method = "POST";
        rq.url = realm;
        form = "grant_type=refresh_token&client_id=kubectl-seccomp&refresh_token=" +
               percent_encode(credential_->identity_token) + "&scope=" + percent_encode(scope);
        if (!service.empty()) form += "&service=" + percent_encode(service);
        rq.body = &form;
        rq.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    } else {
        rq.url =
            realm + (realm.find('?') == std::string::npos ? "?" : "&") + "scope=" + percent_encode(scope);
        if (!service.empty()) rq.url += "&service=" + percent_encode(service);
        if (credential_ && !credential_->username.empty())
            rq.headers.push_back("Authorization: Basic " +
                                 base64_encode(credential_->username + ":" + credential_->password));
    }
    auto reply = perform(rq);
    if (!reply) return reply.error();
    if (reply->status == 401 || reply->status == 403)
        return make_error(fmt::format(
            "the registry's token service refused {} for {} ({}): {}", scope, ref_.str(), failure("", *reply),
            credential_ ? "check the credentials in your Docker config for " + ref_.registry
                        : "log in first (docker login, podman login or oras login)"));
    if (reply->status != 200)
        return make_error(fmt::format("the registry's token service answered {}", failure("", *reply)));
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, reply->body));
    std::string token = !doc_parsed ? "" : string_member(doc, "token");
    if (token.empty() && doc_parsed) token = string_member(doc, "access_token");
    if (token.empty()) return make_error("the registry's token service answered without a token");
    return token;
}

Status RegistrySession::authorize(const Reply& denied) {
    auto header = denied.headers.find("www-authenticate");
    auto challenge = header == denied.headers.end() ? std::nullopt : parse_challenge(header->second);
    if (!challenge)
        return make_error(fmt::format(
            "the registry {} refused the request (HTTP 401) without saying how to log in", ref_.registry));
    if (challenge->scheme == "basic") {
        if (!credential_ || credential_->username.empty())
            return make_error(
                fmt::format("the registry {} needs a user and password: log in first (docker login, "
                            "podman login or oras login) or give --registry-config",
                            ref_.registry));
        authorization_ =
            "Authorization: Basic " + base64_encode(credential_->username + ":" + credential_->password);
        return Ok{};
    }
    if (challenge->scheme != "bearer")
        return make_error(
            fmt::format("the registry asks for \"{}\" authentication, which this plugin does not speak",
                        challenge->scheme));
    if (credential_ && !credential_->registry_token.empty()) {
        authorization_ = "Authorization: Bearer " + credential_->registry_token;
        return Ok{};
    }
    // Our own scope, not the challenge's: a push must ask for push before its first write, and
    // a registry's challenge to the first HEAD names pull only.
    std::string scope = "repository:" + ref_.repository + (push_ ? ":pull,push" : ":pull");
    auto token = fetch_token(challenge->params["realm"], challenge->params["service"], scope);
    if (!token) return token.error();
    authorization_ = "Authorization: Bearer " + *token;
    return Ok{};
}

Result<RegistrySession::Reply> RegistrySession::send(Request rq) {
    const std::size_t own_headers = rq.headers.size();
    const bool idempotent = rq.method == "GET" || rq.method == "HEAD";
    int busy_retries = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
        rq.headers.resize(own_headers);
        if (!authorization_.empty()) rq.headers.push_back(authorization_);
        auto reply = perform(rq);
        if (!reply) return reply.error();
        // The spec's temporary conditions (and rate limiting): reads are tried again, a little
        // later each time; writes are not, as a half-applied write cannot be told from none.
        if (idempotent && busy_retries < kBusyRetries &&
            (reply->status == 429 || reply->status == 502 || reply->status == 503 || reply->status == 504)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250) * (1 << busy_retries));
            ++busy_retries;
            --attempt;
            continue;
        }
        if (reply->status != 401) return reply;
        if (attempt == 1) break;
        authorization_.clear();
        if (auto st = authorize(*reply); !st) return st.error();
    }
    return make_error(fmt::format("the registry {} refused {} access to {} with {}", ref_.registry,
                                  push_ ? "push" : "pull", ref_.repository,
                                  credential_ ? "the credentials found: check them, or log in again"
                                              : "no credentials: log in first (docker login, podman login or "
                                                "oras login) or give --registry-config"));
}

std::string RegistrySession::failure(const std::string& what, const Reply& reply) const {
    std::string detail = fmt::format("HTTP {}", reply.status);
    rapidjson::Document doc;
    const bool doc_parsed =
        static_cast<bool>(parse_bounded_json(doc, std::string_view(reply.body).substr(0, kMaxErrorBytes)));
    if (doc_parsed && doc.IsObject() && doc.HasMember("errors") && doc["errors"].IsArray() &&
        !doc["errors"].Empty()) {
        const auto& e = doc["errors"][0];
        std::string code = string_member(e, "code"), message = string_member(e, "message");
        if (!code.empty() || !message.empty()) detail += fmt::format(" {}: {}", code, message);
    }
    return what.empty() ? detail : what + ": " + detail;
}

Result<FetchedManifest> RegistrySession::get_manifest(const std::string& reference) {
    Request rq;
    rq.url = base_url() + "/manifests/" + reference;
    rq.headers = {kManifestAccept};
    rq.limit = oci::kMaxManifestBytes;
    auto reply = send(rq);
    if (!reply) return reply.error();
    if (reply->status == 404)
        return make_error(fmt::format("{} is not in the registry ({})", ref_.str(), failure("", *reply)));
    if (reply->status != 200)
        return make_error(failure(fmt::format("reading the manifest of {} failed", ref_.str()), *reply));
    FetchedManifest m;
    m.body = std::move(reply->body);
    m.media_type = without_parameters(reply->headers["content-type"]);
    const bool by_digest = reference.find(':') != std::string::npos;
    std::string expected = by_digest ? reference : reply->headers["docker-content-digest"];
    if (expected.empty()) {
        // A registry that does not say: the digest of what came is what a pin would name.
        m.digest = oci::sha256_digest(m.body);
        return m;
    }
    if (auto st = oci::verify_digest(m.body, expected, fmt::format("manifest of {}", ref_.str())); !st)
        return st.error();
    m.digest = expected;
    return m;
}

Result<std::string> RegistrySession::get_blob(const std::string& digest, std::size_t limit) {
    Request rq;
    rq.url = base_url() + "/blobs/" + digest;
    rq.headers = {"Accept: */*"};
    rq.limit = limit;
    rq.follow_redirects = true;
    auto reply = send(rq);
    if (!reply) return reply.error();
    if (reply->status != 200)
        return make_error(
            failure(fmt::format("reading the blob {} of {} failed", digest, ref_.str()), *reply));
    if (auto st = oci::verify_digest(reply->body, digest, fmt::format("blob {} of {}", digest, ref_.str()));
        !st)
        return st.error();
    return std::move(reply->body);
}

Result<bool> RegistrySession::blob_exists(const std::string& digest) {
    Request rq;
    rq.method = "HEAD";
    rq.url = base_url() + "/blobs/" + digest;
    rq.follow_redirects = true;
    auto reply = send(rq);
    if (!reply) return reply.error();
    if (reply->status == 200) return true;
    if (reply->status == 404) return false;
    return make_error(
        failure(fmt::format("checking for the blob {} in {} failed", digest, ref_.str()), *reply));
}

Status RegistrySession::upload_blob(const std::string& data, const std::string& digest, const std::string&) {
    auto exists = blob_exists(digest);
    if (!exists) return exists.error();
    if (*exists) {
        if (options_.verbosity >= 2)
            fmt::print(stderr, "registry: {} already has {}\n", ref_.registry, digest);
        return Ok{};
    }
    Request start;
    start.method = "POST";
    start.url = base_url() + "/blobs/uploads/";
    auto reply = send(start);
    if (!reply) return reply.error();
    if (reply->status != 202 || reply->headers["location"].empty())
        return make_error(failure(fmt::format("starting an upload to {} failed", ref_.str()), *reply));
    auto location = resolve_url(reply->url, reply->headers["location"]);
    if (!location) return location.error();
    std::string last_location = *location;
    auto st = transfer(*location, data, digest, last_location);
    if (!st) {
        // The spec asks a client that gives up to cancel, so the registry frees the upload now.
        Request cancel;
        cancel.method = "DELETE";
        cancel.url = last_location;
        auto ignored = send(cancel);
        (void)ignored;
    }
    return st;
}

Status RegistrySession::transfer(const std::string& first_location, const std::string& data,
                                 const std::string& digest, std::string& location) {
    location = first_location;
    std::string put_body = data;
    if (options_.upload_chunk_bytes > 0) {
        // Chunked: PATCH each piece with its Content-Range; the registry answers where to go on.
        for (std::size_t off = 0; off < data.size(); off += options_.upload_chunk_bytes) {
            std::string chunk = data.substr(off, options_.upload_chunk_bytes);
            Request patch;
            patch.method = "PATCH";
            patch.url = location;
            patch.body = &chunk;
            patch.headers = {"Content-Type: application/octet-stream",
                             fmt::format("Content-Range: {}-{}", off, off + chunk.size() - 1)};
            auto r = send(patch);
            if (!r) return r.error();
            if (r->status != 202 || r->headers["location"].empty())
                return make_error(failure(fmt::format("uploading a chunk to {} failed", ref_.str()), *r));
            auto next = resolve_url(r->url, r->headers["location"]);
            if (!next) return next.error();
            location = *next;
        }
        put_body.clear();
    }
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    char* put_url = nullptr;
    std::string query = "digest=" + digest;
    if (!u || curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_QUERY, query.c_str(), CURLU_APPENDQUERY) != CURLUE_OK ||
        curl_url_get(u.get(), CURLUPART_URL, &put_url, 0) != CURLUE_OK)
        return make_error(fmt::format("the registry's upload location \"{}\" is not a URL", location));
    Request put;
    put.method = "PUT";
    put.url = put_url;
    curl_free(put_url);
    put.body = &put_body;
    put.headers = {"Content-Type: application/octet-stream"};
    auto done = send(put);
    if (!done) return done.error();
    if (done->status != 201)
        return make_error(
            failure(fmt::format("uploading the blob {} to {} failed", digest, ref_.str()), *done));
    const std::string& answered = done->headers["docker-content-digest"];
    if (!answered.empty() && answered != digest)
        return make_error(
            fmt::format("the registry stored the blob as {} where we sent {}: it altered the bytes; "
                        "nothing was tagged",
                        answered, digest));
    return Ok{};
}

Result<std::string> RegistrySession::put_manifest(const std::string& tag, const std::string& body,
                                                  const std::string& media_type) {
    Request put;
    put.method = "PUT";
    put.url = base_url() + "/manifests/" + tag;
    put.body = &body;
    put.headers = {"Content-Type: " + media_type};
    auto reply = send(put);
    if (!reply) return reply.error();
    if (reply->status != 201)
        return make_error(failure(fmt::format("writing the manifest of {} failed", ref_.str()), *reply));
    const std::string digest = oci::sha256_digest(body);
    const std::string& answered = reply->headers["docker-content-digest"];
    if (!answered.empty() && answered != digest)
        return make_error(
            fmt::format("the registry stored the manifest of {} as {} where we sent {}: it altered it; "
                        "do not use that tag",
                        ref_.str(), answered, digest));
    return digest;
}

}  // namespace ksc::registry
