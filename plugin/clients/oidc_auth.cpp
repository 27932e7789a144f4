#include "oidc_auth.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <rapidjson/document.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base64.h"
#include "bounded_json.h"
#include "doc_node.h"
#include "http_text.h"
#include "kubeconfig.h"
#include "system_cas.h"
#include "yaml_doc.h"

namespace ksc::kube {

namespace {

using Clock = std::chrono::system_clock;

// golang.org/x/oauth2 reads at most 1 MiB of a token answer; a discovery document is a few KiB.
constexpr std::size_t kMaxAnswerBytes = 1u << 20;
// An id-token is a few KiB; a larger "JWT" is refused before it is decoded.
constexpr std::size_t kMaxJwtBytes = 256u << 10;
// client-go counts a token as expired 10 s before its exp (clock skew).
constexpr std::chrono::seconds kExpiryDelta{10};

// Go's url.QueryEscape: what RFC 3986 leaves unreserved stays, a space is '+'.
std::string query_escape(std::string_view s) {
    std::string out;
    for (char c : percent_encode(s)) out += c;
    std::string::size_type at = 0;
    while ((at = out.find("%20", at)) != std::string::npos) out.replace(at, 3, "+");
    return out;
}

Result<std::string> base64url_decode(std::string_view text) {
    // Go's RawURLEncoding: no padding allowed; '-' and '_' for '+' and '/'.
    std::string std_text;
    std_text.reserve(text.size() + 3);
    for (char c : text) {
        if (c == '+' || c == '/' || c == '=') return make_error("not unpadded base64url");
        std_text += c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (std_text.size() % 4 == 1) return make_error("not unpadded base64url (a stray character at its end)");
    while (std_text.size() % 4 != 0) std_text += '=';
    auto bytes = base64_decode(std_text);
    if (!bytes) return make_error("not unpadded base64url");
    return *bytes;
}

struct Reply {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
};

struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One request to the issuer: its CA (data, then file, then the system's), http or https only, no
// redirects (Go's client follows them, but an issuer's endpoints do not move), the answer capped.
Result<Reply> issuer_request(const OidcConfig& config, const std::string& url, const std::string& form_body,
                             const std::vector<std::string>& headers, std::chrono::milliseconds timeout) {
    curl_init_once();
    std::unique_ptr<CURL, CurlFree> handle(curl_easy_init());
    if (!handle) return make_error("cannot start a request (curl_easy_init failed)");
    CURL* c = handle.get();
    Reply reply;
    BoundedBody sink{&reply.body, kMaxAnswerBytes};
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    std::unique_ptr<curl_slist, SlistFree> slist(list);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_collect_answer(c, sink, reply.headers, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    if (!form_body.empty()) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form_body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form_body.c_str());
    }
    if (!config.ca_pem.empty()) {
        curl_blob b{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
    } else if (!config.ca_file.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, config.ca_file.c_str());
    } else if (const std::string& system = system_ca_pem(); !system.empty()) {
        curl_blob b{const_cast<char*>(system.data()), system.size(), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);  // where kubectl (Go) finds them
    }
    CURLcode rc = curl_easy_perform(c);
    if (sink.overflow)
        return make_error(fmt::format("{} answered with more than {} KiB", url, kMaxAnswerBytes >> 10));
    if (rc != CURLE_OK)
        return make_error(
            fmt::format("cannot reach {}: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
}

// What an error answer says, short: oauth2's error and error_description, else its first bytes.
std::string answer_excerpt(const std::string& body) {
    rapidjson::Document doc;
    if (parse_bounded_json(doc, body) && doc.IsObject()) {
        std::string e = json_string(doc, "error"), d = json_string(doc, "error_description");
        if (!e.empty()) return d.empty() ? e : e + ": " + d;
    }
    std::string out;
    for (char ch : body.substr(0, 80)) out += (ch >= 0x20 && ch < 0x7f) ? ch : ' ';
    return body.size() > 80 ? out + "..." : out;
}

std::string form_value(std::string_view form, std::string_view key) {
    while (!form.empty()) {
        auto amp = form.find('&');
        std::string_view pair = form.substr(0, amp);
        form.remove_prefix(amp == std::string_view::npos ? form.size() : amp + 1);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) != key || eq == std::string_view::npos) continue;
        std::string out;
        std::string_view v = pair.substr(eq + 1);
        for (std::size_t i = 0; i < v.size(); ++i) {
            auto hex = [](char h) {
                return h >= '0' && h <= '9'   ? h - '0'
                       : h >= 'a' && h <= 'f' ? h - 'a' + 10
                       : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                              : -1;
            };
            if (v[i] == '+') {
                out += ' ';
            } else if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
                out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
                i += 2;
            } else {
                out += v[i];
            }
        }
        return out;
    }
    return "";
}

DocNode* object_member(DocNode& obj, std::string_view key) {
    for (std::size_t i = 0; i < obj.keys.size(); ++i)
        if (obj.keys[i] == key) return &obj.items[i];
    return nullptr;
}

void set_string(DocNode& obj, const std::string& key, const std::string& value) {
    if (DocNode* v = object_member(obj, key)) {
        *v = DocNode::make(DocNode::Kind::String, value);
    } else {
        obj.add(key, DocNode::make(DocNode::Kind::String, value));
    }
}

}  // namespace

Result<Clock::time_point> jwt_expiry(std::string_view jwt) {
    if (jwt.size() > kMaxJwtBytes)
        return make_error(fmt::format("the id-token is over {} KiB: not a JWT", kMaxJwtBytes >> 10));
    auto first = jwt.find('.');
    auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
    if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos)
        return make_error("the id-token is not a JWT (three parts separated by dots)");
    auto payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
    if (!payload) return make_error("the id-token's payload is " + payload.error().message);
    rapidjson::Document doc;
    if (auto s = parse_bounded_json(doc, *payload); !s)
        return make_error("the id-token's payload is not JSON: " + s.error().message);
    if (!doc.IsObject()) return make_error("the id-token's payload is not a JSON object");
    const rapidjson::Value* exp = json_member(doc, "exp");
    double seconds = 0;
    if (exp && !exp->IsNull()) {
        if (!exp->IsNumber()) return make_error("the id-token's exp claim is not a number");
        seconds = exp->GetDouble();
        if (exp->IsInt64()) seconds = static_cast<double>(exp->GetInt64());
    }
    // system_clock counts nanoseconds and ends in 2262: far times are clamped (and a NaN is 0).
    if (!(seconds > 0)) seconds = 0;
    seconds = std::min(seconds, 9.0e9);
    return Clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
}

Result<std::string> parse_oidc_discovery(std::string_view json) {
    rapidjson::Document doc;
    if (auto s = parse_bounded_json(doc, json); !s)
        return make_error("the discovery document is not JSON: " + s.error().message);
    if (!doc.IsObject()) return make_error("the discovery document is not a JSON object");
    const rapidjson::Value* endpoint = json_member(doc, "token_endpoint");
    if (endpoint && !endpoint->IsString() && !endpoint->IsNull())
        return make_error("the discovery document's token_endpoint is not a string");
    std::string url = json_string(doc, "token_endpoint");
    if (url.empty()) return make_error("the discovery document has no token_endpoint");
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        return make_error("the discovery document's token_endpoint is not an http(s) URL");
    return url;
}

Result<OidcTokens> parse_oidc_token_answer(std::string_view body, std::string_view content_type) {
    OidcTokens t;
    std::string type = ascii_lower(std::string(content_type.substr(0, content_type.find(';'))));
    type = trim(type);
    if (type == "application/x-www-form-urlencoded" || type == "text/plain") {
        if (body.size() > kMaxAnswerBytes) return make_error("the token answer is over 1 MiB");
        t.access_token = form_value(body, "access_token");
        t.id_token = form_value(body, "id_token");
        t.refresh_token = form_value(body, "refresh_token");
    } else {
        rapidjson::Document doc;
        if (auto s = parse_bounded_json(doc, body); !s)
            return make_error("the token answer is not JSON: " + s.error().message);
        if (!doc.IsObject()) return make_error("the token answer is not a JSON object");
        for (const char* key : {"access_token", "id_token", "refresh_token"}) {
            const rapidjson::Value* v = json_member(doc, key);
            if (v && !v->IsString() && !v->IsNull() && std::strcmp(key, "id_token") != 0)
                return make_error(std::string("the token answer's ") + key + " is not a string");
        }
        t.access_token = json_string(doc, "access_token");
        t.id_token = json_string(doc, "id_token");  // not a string: as missing (client-go's check)
        t.refresh_token = json_string(doc, "refresh_token");
    }
    if (t.access_token.empty()) return make_error("the token answer has no access_token");
    return t;
}

Status write_back_oidc_tokens(const std::string& file, const std::string& user_name,
                              const std::string& id_token, const std::string& refresh_token) {
    namespace fs = std::filesystem;
    // client-go's lock while it modifies a kubeconfig: FILE.lock, created exclusively, so that
    // kubectl and this plugin never write the same file at once.
    const std::string lock_path = file + ".lock";
    int lock_fd = ::open(lock_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (lock_fd < 0)
        return make_error("cannot lock the kubeconfig " + file + " (" + lock_path +
                          "): " + std::strerror(errno) +
                          (errno == EEXIST ? ": another kubectl is writing it, or remove a stale lock" : ""));
    ::close(lock_fd);
    struct Unlock {
        const std::string& path;
        ~Unlock() { ::unlink(path.c_str()); }
    } unlock{lock_path};
    std::error_code ec;
    // A symlinked kubeconfig is written through the link (the link stays).
    fs::path target = fs::canonical(file, ec);
    if (ec) return make_error("cannot find the kubeconfig " + file + ": " + ec.message());
    auto text = read_file(target.string());
    if (!text) return make_error("cannot read the kubeconfig " + file + ": " + std::strerror(errno));
    auto docs = parse_yaml_docs(*text);
    if (!docs) return make_error("cannot read the kubeconfig " + file + " again: " + docs.error().message);
    if (docs->size() != 1 || (*docs)[0].kind != DocNode::Kind::Object)
        return make_error("the kubeconfig " + file + " is not one YAML map any more");
    DocNode& root = (*docs)[0];
    DocNode* config = nullptr;
    if (DocNode* users = object_member(root, "users"); users && users->kind == DocNode::Kind::Array)
        for (DocNode& entry : users->items) {
            if (entry.kind != DocNode::Kind::Object) continue;
            const DocNode* name = entry.get("name");
            if (!name || !name->is_scalar() || name->text != user_name) continue;
            DocNode* user = object_member(entry, "user");
            DocNode* provider =
                user && user->kind == DocNode::Kind::Object ? object_member(*user, "auth-provider") : nullptr;
            if (!provider || provider->kind != DocNode::Kind::Object) break;
            config = object_member(*provider, "config");
            if (!config) config = &provider->add("config", DocNode::make(DocNode::Kind::Object));
            break;
        }
    if (!config || config->kind != DocNode::Kind::Object)
        return make_error("the kubeconfig " + file + " no longer has the oidc auth-provider of user \"" +
                          user_name + "\"");
    set_string(*config, "id-token", id_token);
    if (!refresh_token.empty()) set_string(*config, "refresh-token", refresh_token);
    std::string out = write_yaml_doc_as_read(root);

    struct stat st {};
    if (::stat(target.c_str(), &st) != 0)
        return make_error("cannot stat the kubeconfig " + file + ": " + std::strerror(errno));
    std::string tmp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
    int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        return make_error("cannot write the kubeconfig " + file +
                          "'s new tokens next to it: " + std::strerror(errno));
    auto fail = [&](const char* what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return make_error(fmt::format("cannot write the kubeconfig {}'s new tokens ({}): {}", file, what,
                                      std::strerror(err)));
    };
    if (::fchmod(fd, st.st_mode & 07777) != 0) return fail("chmod");
    for (std::size_t off = 0; off < out.size();) {
        ssize_t n = ::write(fd, out.data() + off, out.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail("write");
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("fsync");
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return make_error("cannot write the kubeconfig " + file + "'s new tokens: " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return make_error("cannot replace the kubeconfig " + file + ": " + std::strerror(err));
    }
    return Ok{};
}

Result<std::string> oidc_id_token(OidcConfig& config, bool force, std::chrono::milliseconds timeout,
                                  Clock::time_point now) {
    // One refresh at a time (client-go's provider holds a mutex too): two requests that find the
    // token expired together must not both spend the refresh-token and write the file.
    static std::mutex refreshing;
    std::lock_guard lock(refreshing);
    const std::string who = "the oidc id-token of user \"" + config.user_name + "\"";
    if (!config.id_token.empty() && !(force && !config.refresh_token.empty())) {
        auto exp = jwt_expiry(config.id_token);
        if (!exp) return make_error(who + " cannot be read: " + exp.error().message + ": log in again");
        if (now + kExpiryDelta < *exp || force) return config.id_token;
    }
    if (config.refresh_token.empty())
        return make_error("no valid id-token for user \"" + config.user_name +
                          "\", and cannot refresh without refresh-token: log in to the issuer again");
    if (timeout.count() <= 0) timeout = std::chrono::seconds(30);
    const std::string failed = "cannot refresh " + who + ": ";

    const std::string issuer = config.issuer_url;
    std::string well_known = issuer;
    while (!well_known.empty() && well_known.back() == '/') well_known.pop_back();
    well_known += "/.well-known/openid-configuration";
    auto discovery = issuer_request(config, well_known, "", {"Accept: application/json"}, timeout);
    if (!discovery) return make_error(failed + discovery.error().message);
    if (discovery->status != 200)
        return make_error(fmt::format("{}{} answered HTTP {}: {}: check idp-issuer-url", failed, well_known,
                                      discovery->status, answer_excerpt(discovery->body)));
    auto endpoint = parse_oidc_discovery(discovery->body);
    if (!endpoint) return make_error(failed + endpoint.error().message + " (" + well_known + ")");

    // golang.org/x/oauth2 with no AuthStyle: the client's id and secret as HTTP basic auth first,
    // then, if that fails, in the form.
    const std::string grant = "grant_type=refresh_token&refresh_token=" + query_escape(config.refresh_token);
    const std::vector<std::string> form_headers = {"Content-Type: application/x-www-form-urlencoded",
                                                   "Accept: application/json"};
    Result<OidcTokens> tokens = make_error("");
    std::string last;
    for (int style = 0; style < 2; ++style) {
        std::vector<std::string> headers = form_headers;
        std::string body;
        if (style == 0) {
            headers.push_back("Authorization: Basic " + base64_encode(query_escape(config.client_id) + ":" +
                                                                      query_escape(config.client_secret)));
            body = grant;
        } else {
            body = "client_id=" + query_escape(config.client_id);
            if (!config.client_secret.empty()) body += "&client_secret=" + query_escape(config.client_secret);
            body += "&" + grant;
        }
        auto reply = issuer_request(config, *endpoint, body, headers, timeout);
        if (!reply) return make_error(failed + reply.error().message);
        if (reply->status < 200 || reply->status > 299) {
            last =
                fmt::format("{} answered HTTP {}: {}", *endpoint, reply->status, answer_excerpt(reply->body));
            continue;
        }
        auto type = reply->headers.find("content-type");
        tokens = parse_oidc_token_answer(reply->body, type == reply->headers.end() ? "" : type->second);
        if (tokens) break;
        last = tokens.error().message + " (" + *endpoint + ")";
    }
    if (!tokens) return make_error(failed + last + ": log in to the issuer again");
    if (tokens->id_token.empty())
        return make_error(failed +
                          "the token answer has no id_token: the scope \"openid\" was not requested at "
                          "login, or the issuer gives no id_token on refresh; log in again with it");
    std::string new_refresh = tokens->refresh_token != config.refresh_token ? tokens->refresh_token : "";
    if (auto s =
            write_back_oidc_tokens(config.kubeconfig_file, config.user_name, tokens->id_token, new_refresh);
        !s)
        return make_error("could not persist new tokens: " + s.error().message);
    config.id_token = tokens->id_token;
    if (!new_refresh.empty()) config.refresh_token = new_refresh;
    return config.id_token;
}

}  // namespace ksc::kube
