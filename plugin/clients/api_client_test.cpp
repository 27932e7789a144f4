#include "api_client.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "http_text.h"
#include "test_http_server.h"

using namespace std::chrono_literals;
using namespace ksc::testing;  // TestHttpServer and its helpers

namespace ksc::kube {
namespace {

std::unique_ptr<ApiClient> client_for(const TestHttpServer& server, RestConfig config = {}) {
    config.server = server.url();
    ClientOptions options;
    options.retry_backoff = 5ms;
    options.max_retries = 3;
    auto c = ApiClient::create(config, options);
    REQUIRE(c.ok());
    return std::move(*c);
}

const char* kNotFound =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web-0\" not found","reason":"NotFound","code":404})";

}  // namespace

TEST_CASE("API errors show the Status object's message, not the HTTP code") {
    TestHttpServer server([](int fd, const HttpRequest&) { send_all(fd, http_response(404, kNotFound)); });
    auto client = client_for(server);
    auto body = client->get("/api/v1/namespaces/default/pods/web-0");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message == "pods \"web-0\" not found");
}

TEST_CASE("validation causes are part of the message") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        send_all(fd,
                 http_response(422, R"({"kind":"Status","message":"Pod \"p\" is invalid","reason":"Invalid",)"
                                    R"("details":{"causes":[{"field":"spec.ephemeralContainers[0].name",)"
                                    R"("message":"Duplicate value"}]},"code":422})"));
    });
    auto r = client_for(server)->request("PATCH", "/x", "{}", "application/json");
    REQUIRE(r.ok());
    ApiStatus st = api_status(*r);
    CHECK(st.reason == "Invalid");
    REQUIRE(st.causes.size() == 1);
    CHECK(st.causes[0] == "spec.ephemeralContainers[0].name: Duplicate value");
}

TEST_CASE("429 is retried after Retry-After") {
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest&) {
        if (calls++ == 0)
            send_all(fd, http_response(429, "{}", "Retry-After: 0\r\n"));
        else
            send_all(fd, http_response(200, R"({"ok":true})"));
    });
    auto body = client_for(server)->get("/api");
    REQUIRE_MESSAGE(body.ok(), body.error().message);
    CHECK(*body == R"({"ok":true})");
    CHECK(calls == 2);
}

TEST_CASE("a GET answered 503 with Retry-After is retried, boundedly, then the error is reported") {
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest&) {
        ++calls;
        send_all(fd, http_response(503, R"({"kind":"Status","message":"etcd is unavailable","code":503})",
                                   "Retry-After: 0\r\n"));
    });
    auto body = client_for(server)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message == "etcd is unavailable");
    CHECK(calls == 4);  // the first try and max_retries = 3
}

TEST_CASE("a GET answered 503 without Retry-After is not repeated (client-go's rule)") {
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest&) {
        ++calls;
        send_all(fd, http_response(503, R"({"kind":"Status","message":"etcd is unavailable","code":503})"));
    });
    auto body = client_for(server)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(calls == 1);
}

TEST_CASE("a refused connection fails at once, in kubectl's words") {
    RestConfig rc;
    {
        TestHttpServer server([](int, const HttpRequest&) {});
        rc.server = server.url();
    }  // closed: nothing listens there now
    ClientOptions options;
    options.retry_backoff = std::chrono::milliseconds(2000);
    auto client = ApiClient::create(rc, options);
    REQUIRE(client.ok());
    auto start = std::chrono::steady_clock::now();
    auto body = (*client)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
    CHECK(body.error().message == "The connection to the server " + rc.server.substr(7) +
                                      " was refused - did you specify the right host or port?");
}

TEST_CASE("Warning headers: 299 texts, comma lists, quotes and dates") {
    auto w = parse_warning_header(
        R"(299 - "would violate PodSecurity \"restricted:latest\": x, y", 299 - "second" "Wed, 02 Dec 2026 10:00:00 GMT", 199 - "misc")");
    REQUIRE(w.size() == 2);
    CHECK(w[0] == R"(would violate PodSecurity "restricted:latest": x, y)");
    CHECK(w[1] == "second");
    CHECK(parse_warning_header("garbage").empty());
    std::map<std::string, std::string> headers;
    add_header_line("Warning: 299 - \"a\"", headers);
    add_header_line("Warning: 299 - \"b\"", headers);
    CHECK(parse_warning_header(headers["warning"]) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a PATCH answered 500 without Retry-After is not repeated") {
    std::atomic<int> calls{0};
    std::string content_type;
    std::mutex m;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        ++calls;
        std::lock_guard lock(m);
        content_type = req.headers.at("content-type");
        send_all(fd, http_response(500, R"({"kind":"Status","message":"boom","code":500})"));
    });
    auto body = client_for(server)->patch("/p", R"({"spec":{}})", PatchType::StrategicMerge);
    REQUIRE_FALSE(body.ok());
    CHECK(calls == 1);
    CHECK(content_type == "application/strategic-merge-patch+json");
}

TEST_CASE("the bearer token is sent, and a 401 re-reads tokenFile once") {
    char path[] = "/tmp/ksc-token-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << "new-token\n";
    std::vector<std::string> seen;
    std::mutex m;
    TestHttpServer server([&](int c, const HttpRequest& req) {
        std::string auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
        {
            std::lock_guard lock(m);
            seen.push_back(auth);
        }
        send_all(c, auth == "Bearer new-token"
                        ? http_response(200, "{}")
                        : http_response(401, R"({"kind":"Status","message":"Unauthorized","code":401})"));
    });
    RestConfig config;
    config.token = "old-token";
    config.token_file = path;
    auto body = client_for(server, config)->get("/api");
    CHECK(body.ok());
    CHECK(seen == std::vector<std::string>{"Bearer old-token", "Bearer new-token"});
    ::unlink(path);
}

namespace {

// A token file that tests rewrite: the rotation of a projected service-account token.
struct TokenFile {
    std::string path;
    explicit TokenFile(const std::string& token) {
        char tmpl[] = "/tmp/ksc-token-XXXXXX";
        int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = tmpl;
        write(token);
    }
    ~TokenFile() { ::unlink(path.c_str()); }
    void write(const std::string& token) const { std::ofstream(path) << token << "\n"; }
};

// A server that accepts one bearer token (changed by the test) and records what it got.
struct OneTokenServer {
    std::mutex m;
    std::string accepted;
    std::vector<std::string> seen;
    TestHttpServer server{[this](int c, const HttpRequest& req) {
        std::string auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
        bool ok;
        {
            std::lock_guard lock(m);
            seen.push_back(auth);
            ok = auth == "Bearer " + accepted;
        }
        send_all(c, ok ? http_response(200, "{}")
                       : http_response(401, R"({"kind":"Status","message":"Unauthorized","code":401})"));
    }};
    std::vector<std::string> tokens_seen() {
        std::lock_guard lock(m);
        return seen;
    }
};

}  // namespace

TEST_CASE(
    "a tokenFile is read again only once its token is older than the cache's age (client-go: a minute)") {
    TokenFile file("one");
    OneTokenServer s;
    s.accepted = "two";
    RestConfig config;
    config.server = s.server.url();
    config.token = "one";
    config.token_file = file.path;
    ClientOptions options;
    options.retry_backoff = 5ms;
    SUBCASE("within the minute the cached token is sent, until a 401") {
        auto c = ApiClient::create(config, options);
        REQUIRE(c);
        file.write("two");
        CHECK((*c)->get("/api"));  // "one" refused; the file, read again after the 401, has "two"
        CHECK(s.tokens_seen() == std::vector<std::string>{"Bearer one", "Bearer two"});
    }
    SUBCASE("past the cache's age the file is read before the request") {
        options.token_file_max_age = 1ms;
        auto c = ApiClient::create(config, options);
        REQUIRE(c);
        file.write("two");
        std::this_thread::sleep_for(5ms);
        CHECK((*c)->get("/api"));
        CHECK(s.tokens_seen() == std::vector<std::string>{"Bearer two"});
    }
}

TEST_CASE("a watch answered 401 re-reads tokenFile and watches again, once") {
    TokenFile file("one");
    OneTokenServer s;
    s.accepted = "none";
    RestConfig config;
    config.token = "one";
    config.token_file = file.path;
    auto c = client_for(s.server, config);
    file.write("two");
    auto st = c->watch(
        "/api/v1/pods", "", [](const WatchEvent&) { return false; }, 5s);
    REQUIRE_FALSE(st);
    CHECK(s.tokens_seen() == std::vector<std::string>{"Bearer one", "Bearer two"});
}

TEST_CASE("an oidc user's id-token is refreshed after a 401, once, and the request repeated") {
    std::mutex m;
    std::vector<std::string> seen;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        std::lock_guard lock(m);
        if (req.target == "/.well-known/openid-configuration") {
            send_all(fd, http_response(200, R"({"token_endpoint":"http://127.0.0.1:)" +
                                                req.headers.at("host").substr(10) + R"(/token"})"));
            return;
        }
        if (req.target == "/token") {
            send_all(fd, http_response(200, R"({"access_token":"a","id_token":"x.eyJleHAiOjF9.y"})"));
            return;
        }
        std::string auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
        seen.push_back(auth);
        send_all(fd, auth == "Bearer x.eyJleHAiOjF9.y"
                         ? http_response(200, "{}")
                         : http_response(401, R"({"kind":"Status","message":"Unauthorized","code":401})"));
    });
    char path[] = "/tmp/ksc-oidc-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path)
        << "users:\n- name: u\n  user: {auth-provider: {name: oidc, config: {client-id: c}}}\n";
    RestConfig config;
    OidcConfig oidc;
    oidc.issuer_url = server.url();
    oidc.client_id = "c";
    oidc.id_token = "x.eyJleHAiOjQwMDAwMDAwMDB9.y";  // exp 4000000000: valid, but revoked
    oidc.refresh_token = "r";
    oidc.kubeconfig_file = path;
    oidc.user_name = "u";
    config.oidc = oidc;
    auto body = client_for(server, config)->get("/api");
    CHECK(body.ok());
    CHECK(seen == std::vector<std::string>{"Bearer x.eyJleHAiOjQwMDAwMDAwMDB9.y", "Bearer x.eyJleHAiOjF9.y"});
    ::unlink(path);
}

TEST_CASE("a refused credential says to log in again") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        send_all(fd, http_response(401, R"({"kind":"Status","message":"Unauthorized","code":401})"));
    });
    auto body = client_for(server)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message.find("log in again") != std::string::npos);
}

TEST_CASE("servers older than 1.25 are refused, saying why") {
    std::string version = R"({"major":"1","minor":"24","gitVersion":"v1.24.9"})";
    TestHttpServer server([&](int fd, const HttpRequest&) { send_all(fd, http_response(200, version)); });
    auto client = client_for(server);
    auto v = client->check_server_version();
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("v1.24.9") != std::string::npos);
    CHECK(v.error().message.find("1.25") != std::string::npos);

    auto parsed = parse_server_version(R"({"major":"1","minor":"29+","gitVersion":"v1.29.3-eks"})");
    REQUIRE(parsed.ok());
    CHECK(parsed->minor == 29);
    auto git_only = parse_server_version(R"({"gitVersion":"v1.31.0"})");
    REQUIRE(git_only.ok());
    CHECK(git_only->minor == 31);
}

TEST_CASE("--request-timeout bounds a request") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        std::this_thread::sleep_for(1500ms);
        send_all(fd, http_response(200, "{}"));
    });
    RestConfig config;
    config.server = server.url();
    ClientOptions options;
    options.request_timeout = 200ms;
    auto client = ApiClient::create(config, options);
    REQUIRE(client.ok());
    auto body = (*client)->get("/slow");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message.find("--request-timeout") != std::string::npos);
}

TEST_CASE("an unreachable server is named") {
    RestConfig config;
    config.server = "http://127.0.0.1:1";
    ClientOptions options;
    options.max_retries = 0;
    auto client = ApiClient::create(config, options);
    REQUIRE(client.ok());
    auto body = (*client)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message.find("127.0.0.1:1 was refused") != std::string::npos);
}

TEST_CASE("a watch resumes from the last resourceVersion when the server closes it") {
    std::vector<std::string> targets;
    std::mutex m;
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        {
            std::lock_guard lock(m);
            targets.push_back(req.target);
        }
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        int n = calls++;
        if (n == 0) {
            send_all(fd, head +
                             R"({"type":"ADDED","object":{"metadata":{"name":"p","resourceVersion":"10"}}})"
                             "\n" +
                             R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})"
                             "\n");
        } else if (n == 1) {
            // The server forgot that version: the client starts again from now.
            send_all(
                fd,
                head +
                    R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})"
                    "\n");
        } else {
            send_all(fd,
                     head + R"({"type":"MODIFIED","object":{"metadata":{"name":"p","resourceVersion":"20"}}})"
                            "\n");
        }
    });
    std::vector<std::string> types;
    auto st = client_for(server)->watch(
        "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dp", "5",
        [&](const WatchEvent& ev) {
            types.push_back(ev.type);
            return ev.type != "MODIFIED";
        },
        10s);
    REQUIRE_MESSAGE(st.ok(), st.error().message);
    CHECK(types == std::vector<std::string>{"ADDED", "MODIFIED"});
    REQUIRE(targets.size() == 3);
    CHECK(targets[0].find("resourceVersion=5") != std::string::npos);
    CHECK(targets[0].find("fieldSelector=metadata.name%3Dp&watch=1") != std::string::npos);
    CHECK(targets[1].find("resourceVersion=12") != std::string::npos);  // the bookmark's
    CHECK(targets[2].find("resourceVersion") == std::string::npos);     // after 410 Gone
}

TEST_CASE("a watch that is refused reports the Status message") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        send_all(
            fd,
            http_response(
                403,
                R"({"kind":"Status","code":403,"reason":"Forbidden","message":"pods is forbidden: User \"bob\" cannot watch resource \"pods\""})"));
    });
    auto st = client_for(server)->watch(
        "/api/v1/pods", "", [](const WatchEvent&) { return true; }, 5s);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("cannot watch resource") != std::string::npos);
}

TEST_CASE("url_encode escapes selectors") {
    CHECK(url_encode("app=web,tier in (a,b)") == "app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
}

TEST_CASE("lists are fetched in pages of 500, following continue") {
    std::vector<std::string> targets;
    std::mutex mu;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        {
            std::lock_guard<std::mutex> lock(mu);
            targets.push_back(req.target);
        }
        bool first = req.target.find("continue=") == std::string::npos;
        send_all(fd, http_response(200, first ? R"({"metadata":{"continue":"a b"},"items":[1]})"
                                              : R"({"metadata":{},"items":[2]})"));
    });
    int pages = 0;
    auto s =
        client_for(server)->list("/api/v1/namespaces/x/pods?labelSelector=a%3Db", [&](const std::string&) {
            ++pages;
            return Status(Ok{});
        });
    REQUIRE(s.ok());
    CHECK(pages == 2);
    REQUIRE(targets.size() == 2);
    CHECK(targets[0] == "/api/v1/namespaces/x/pods?labelSelector=a%3Db&limit=500");
    CHECK(targets[1] == "/api/v1/namespaces/x/pods?labelSelector=a%3Db&limit=500&continue=a%20b");
}

TEST_CASE("an answer over 64 MiB ends the request, naming the cap") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
        if (!send_all(fd, head)) return;
        std::string chunk(1 << 20, ' ');
        for (int i = 0; i < 80; ++i)
            if (!send_all(fd, chunk)) return;
    });
    auto body = client_for(server)->get("/version");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message.find("larger than 64 MiB") != std::string::npos);
}

TEST_CASE("an API answer nested 3,000,000 deep is an error, not a crash") {
    TestHttpServer server(
        [](int fd, const HttpRequest&) { send_all(fd, http_response(200, std::string(3000000, '['))); });
    auto v = client_for(server)->check_server_version();
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message ==
          "/version did not answer with JSON (at byte 512: JSON nested deeper than 512 levels)");
}

TEST_CASE("--request-timeout bounds a request with its retries") {
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest&) {
        ++calls;
        send_all(fd, http_response(503, "{}", "Retry-After: 1\r\n"));
    });
    RestConfig config;
    config.server = server.url();
    ClientOptions options;
    options.request_timeout = 1500ms;
    auto client = ApiClient::create(config, options);
    REQUIRE(client.ok());
    auto start = std::chrono::steady_clock::now();
    auto body = (*client)->get("/busy");
    REQUIRE_FALSE(body.ok());
    CHECK(std::chrono::steady_clock::now() - start < 1500ms);
    CHECK(calls.load() == 2);  // the first, and one retry a second later: a third would end past 1.5 s
}

TEST_CASE("a redirect is not followed, and says where it pointed") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        send_all(fd,
                 "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/version\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
    });
    auto body = client_for(server)->get("/version");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message.find(
              "redirecting to https://elsewhere.example/version, which is not followed") !=
          std::string::npos);
}

}  // namespace ksc::kube
