#include "api_client.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>

#include "test_http_server.h"

using namespace std::chrono_literals;
using ksc::testing::http_response;
using ksc::testing::HttpRequest;
using ksc::testing::send_all;
using ksc::testing::TestHttpServer;

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

TEST_CASE("a GET answered 503 is retried, then the error is reported") {
    std::atomic<int> calls{0};
    TestHttpServer server([&](int fd, const HttpRequest&) {
        ++calls;
        send_all(fd, http_response(503, R"({"kind":"Status","message":"etcd is unavailable","code":503})"));
    });
    auto body = client_for(server)->get("/api");
    REQUIRE_FALSE(body.ok());
    CHECK(body.error().message == "etcd is unavailable");
    CHECK(calls == 4);  // the first try and max_retries = 3
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
    CHECK(body.error().message.find("http://127.0.0.1:1") != std::string::npos);
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
