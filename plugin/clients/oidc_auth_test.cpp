#include "oidc_auth.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "base64.h"
#include "kubeconfig.h"
#include "test_http_server.h"
#include "yaml_doc.h"

using namespace std::chrono_literals;
using namespace ksc::testing;  // TestHttpServer and its helpers

namespace ksc::kube {
namespace {

using Clock = std::chrono::system_clock;

std::string b64url(const std::string& s) {
    std::string out = base64_encode(s);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

std::string jwt(const std::string& payload) {
    return b64url(R"({"alg":"RS256"})") + "." + b64url(payload) + ".c2ln";
}

Clock::time_point at(long long unix_seconds) {
    return Clock::time_point(std::chrono::seconds(unix_seconds));
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct TempKubeconfig {
    std::string path;
    explicit TempKubeconfig(const std::string& text, mode_t mode = 0600) {
        char tmpl[] = "/tmp/ksc-oidc-kubeconfig-XXXXXX";
        int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = tmpl;
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
    }
    ~TempKubeconfig() { ::unlink(path.c_str()); }
};

const char* kKubeconfig =
    "# a comment kubectl drops too\n"
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: x\n"
    "clusters:\n- name: k\n  cluster: {server: 'https://h:6443', insecure-skip-tls-verify: true}\n"
    "contexts:\n- name: x\n  context: {cluster: k, user: u, namespace: \"007\"}\n"
    "users:\n"
    "- name: other\n  user: {token: \"true\"}\n"
    "- name: u\n  user:\n    auth-provider:\n      name: oidc\n      config:\n"
    "        idp-issuer-url: https://idp\n        client-id: c\n        id-token: old\n"
    "        refresh-token: r1\n";

}  // namespace

TEST_CASE("a JWT's exp is read from its unpadded base64url payload, as an integer or a fraction") {
    CHECK(*jwt_expiry(jwt(R"({"exp":1700000000,"sub":"me"})")) == at(1700000000));
    CHECK(*jwt_expiry(jwt(R"({"exp":1700000000.9})")) == at(1700000000));
    CHECK(*jwt_expiry(jwt(R"({"sub":"no exp"})")) == at(0));  // client-go: expired
    CHECK(*jwt_expiry(jwt(R"({"exp":1e300})")) <= at(9000000000LL));
}

TEST_CASE("what is not a JWT with a JSON object payload is refused, never read past") {
    CHECK_FALSE(jwt_expiry("only.two"));
    CHECK_FALSE(jwt_expiry("a.b.c.d"));
    CHECK_FALSE(jwt_expiry("x." + base64_encode(R"({"exp":10})") + ".s"));  // padded: not RawURLEncoding
    CHECK_FALSE(jwt_expiry("x.A.s"));                                       // a stray character
    CHECK_FALSE(jwt_expiry(jwt("[1,2]")));
    CHECK_FALSE(jwt_expiry(jwt(R"({"exp":"soon"})")));
    CHECK_FALSE(jwt_expiry(jwt(std::string(600, '[') + std::string(600, ']'))));
    CHECK_FALSE(jwt_expiry(std::string(300000, 'a') + ".b.c"));
}

TEST_CASE("the discovery document gives the token endpoint") {
    CHECK(*parse_oidc_discovery(R"({"issuer":"https://idp","token_endpoint":"https://idp/token"})") ==
          "https://idp/token");
    CHECK_FALSE(parse_oidc_discovery(R"({"issuer":"https://idp"})"));
    CHECK_FALSE(parse_oidc_discovery(R"({"token_endpoint":7})"));
    CHECK_FALSE(parse_oidc_discovery(R"({"token_endpoint":"file:///etc/passwd"})"));
    CHECK_FALSE(parse_oidc_discovery(R"(["token_endpoint"])"));
    CHECK_FALSE(parse_oidc_discovery(R"({"token_endpoint":"https://idp/token"} junk)"));
}

TEST_CASE("a token answer is JSON, or a form when its Content-Type says so; access_token is required") {
    auto j = parse_oidc_token_answer(R"({"access_token":"a","id_token":"i","refresh_token":"r"})",
                                     "application/json; charset=utf-8");
    REQUIRE(j);
    CHECK(j->id_token == "i");
    CHECK(j->refresh_token == "r");
    auto f = parse_oidc_token_answer("access_token=a&id_token=i%2Bj&refresh_token=r+s",
                                     "application/x-www-form-urlencoded");
    REQUIRE(f);
    CHECK(f->id_token == "i+j");
    CHECK(f->refresh_token == "r s");
    auto no_id = parse_oidc_token_answer(R"({"access_token":"a","id_token":5})", "application/json");
    REQUIRE(no_id);
    CHECK(no_id->id_token.empty());
    CHECK_FALSE(parse_oidc_token_answer(R"({"id_token":"i"})", "application/json"));
    CHECK_FALSE(parse_oidc_token_answer("not json", "application/json"));
}

TEST_CASE("new tokens are written back to the user's entry, the rest of the file and its mode kept") {
    TempKubeconfig file(kKubeconfig, 0640);
    REQUIRE(write_back_oidc_tokens(file.path, "u", "new-id", "r2"));
    struct stat st {};
    REQUIRE(::stat(file.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    auto rc = rest_config_from_text(slurp(file.path), file.path, "", "");
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    REQUIRE(rc->oidc);
    CHECK(rc->oidc->id_token == "new-id");
    CHECK(rc->oidc->refresh_token == "r2");
    CHECK(rc->server == "https://h:6443");
    CHECK(rc->namespace_name == "007");
    // Types survive: the bool stays a bool, the quoted strings stay strings.
    auto docs = parse_yaml_docs(slurp(file.path));
    REQUIRE(docs);
    const DocNode& root = (*docs)[0];
    const DocNode* cluster = root.get("clusters")->items[0].get("cluster");
    CHECK(cluster->get("insecure-skip-tls-verify")->kind == DocNode::Kind::Plain);
    CHECK(root.get("contexts")->items[0].get("context")->get("namespace")->kind == DocNode::Kind::String);
    CHECK(root.get("users")->items[0].get("user")->get("token")->kind == DocNode::Kind::String);
    CHECK(root.get("kind")->text == "Config");
}

TEST_CASE(
    "a kubeconfig locked by kubectl (FILE.lock) is not written, and our own lock is removed after writing") {
    TempKubeconfig file(kKubeconfig);
    std::ofstream(file.path + ".lock") << "";
    auto st = write_back_oidc_tokens(file.path, "u", "i", "");
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find(".lock") != std::string::npos);
    CHECK(slurp(file.path) == kKubeconfig);
    ::unlink((file.path + ".lock").c_str());
    REQUIRE(write_back_oidc_tokens(file.path, "u", "i", ""));
    CHECK(::access((file.path + ".lock").c_str(), F_OK) != 0);
}

TEST_CASE("writing back to a file that lost the user fails, leaving it as it was") {
    TempKubeconfig file("users: []\n");
    auto st = write_back_oidc_tokens(file.path, "u", "i", "");
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("no longer has the oidc auth-provider of user \"u\"") != std::string::npos);
    CHECK(slurp(file.path) == "users: []\n");
}

namespace {

// An issuer at a local server: its discovery document and token endpoint, the requests recorded.
struct Issuer {
    std::mutex m;
    std::vector<HttpRequest> requests;
    std::string token_answer;
    bool refuse_basic = false;
    TestHttpServer server{[this](int fd, const HttpRequest& req) {
        std::lock_guard lock(m);
        requests.push_back(req);
        if (req.target == "/.well-known/openid-configuration") {
            send_all(fd, http_response(200, R"({"token_endpoint":")" + server.url() + R"(/token"})"));
        } else if (req.target == "/token" && !(refuse_basic && req.headers.count("authorization"))) {
            send_all(fd, http_response(200, token_answer));
        } else {
            send_all(fd, http_response(401, R"({"error":"invalid_client"})"));
        }
    }};
};

OidcConfig config_for(Issuer& issuer, const std::string& kubeconfig, const std::string& id_token) {
    OidcConfig c;
    c.issuer_url = issuer.server.url() + "/";
    c.client_id = "kube cli";
    c.client_secret = "s3cret";
    c.id_token = id_token;
    c.refresh_token = "r1";
    c.kubeconfig_file = kubeconfig;
    c.user_name = "u";
    return c;
}

}  // namespace

TEST_CASE("a valid id-token is used as it is: the issuer is not asked") {
    Issuer issuer;
    TempKubeconfig file(kKubeconfig);
    std::string token = jwt(R"({"exp":2000000000})");
    OidcConfig c = config_for(issuer, file.path, token);
    auto got = oidc_id_token(c, false, 5s, at(1900000000));
    REQUIRE(got);
    CHECK(*got == token);
    CHECK(issuer.requests.empty());
    // Within client-go's 10 s of its exp, it counts as expired.
    issuer.token_answer = R"({"access_token":"a","id_token":"fresh"})";
    CHECK(*oidc_id_token(c, false, 5s, at(1999999995)) == "fresh");
}

TEST_CASE("an expired id-token is refreshed through discovery and written back, as client-go does") {
    Issuer issuer;
    issuer.token_answer =
        R"({"access_token":"a","id_token":"new-id","refresh_token":"r2","token_type":"Bearer"})";
    TempKubeconfig file(kKubeconfig);
    OidcConfig c = config_for(issuer, file.path, jwt(R"({"exp":1000})"));
    auto got = oidc_id_token(c, false, 5s, at(1900000000));
    REQUIRE_MESSAGE(got, got.error().message);
    CHECK(*got == "new-id");
    CHECK(c.refresh_token == "r2");
    REQUIRE(issuer.requests.size() == 2);
    CHECK(issuer.requests[0].method == "GET");
    CHECK(issuer.requests[0].target == "/.well-known/openid-configuration");  // the trailing '/' trimmed
    CHECK(issuer.requests[1].method == "POST");
    CHECK(issuer.requests[1].body == "grant_type=refresh_token&refresh_token=r1");
    // oauth2: id and secret query-escaped, then HTTP basic auth.
    CHECK(issuer.requests[1].headers.at("authorization") == "Basic " + base64_encode("kube+cli:s3cret"));
    CHECK(issuer.requests[1].headers.at("content-type") == "application/x-www-form-urlencoded");
    auto rc = rest_config_from_text(slurp(file.path), file.path, "", "");
    REQUIRE(rc);
    CHECK(rc->oidc->id_token == "new-id");
    CHECK(rc->oidc->refresh_token == "r2");
}

TEST_CASE("an issuer that refuses basic auth gets the client's id and secret in the form (oauth2's probe)") {
    Issuer issuer;
    issuer.refuse_basic = true;
    issuer.token_answer = R"({"access_token":"a","id_token":"new-id"})";
    TempKubeconfig file(kKubeconfig);
    OidcConfig c = config_for(issuer, file.path, "");
    REQUIRE(*oidc_id_token(c, false, 5s) == "new-id");
    REQUIRE(issuer.requests.size() == 3);
    CHECK(issuer.requests[2].body ==
          "client_id=kube+cli&client_secret=s3cret&grant_type=refresh_token&refresh_token=r1");
    CHECK(c.refresh_token == "r1");  // none returned: the old one stays
}

TEST_CASE("a refresh answer without id_token fails in one line, and the kubeconfig is left alone") {
    Issuer issuer;
    issuer.token_answer = R"({"access_token":"a"})";
    TempKubeconfig file(kKubeconfig);
    OidcConfig c = config_for(issuer, file.path, "");
    auto got = oidc_id_token(c, false, 5s);
    REQUIRE_FALSE(got);
    CHECK(got.error().message.find("no id_token") != std::string::npos);
    CHECK(got.error().message.find('\n') == std::string::npos);
    CHECK(slurp(file.path) == kKubeconfig);
}

TEST_CASE("an expired id-token without a refresh-token says to log in again") {
    Issuer issuer;
    TempKubeconfig file(kKubeconfig);
    OidcConfig c = config_for(issuer, file.path, jwt(R"({"exp":1000})"));
    c.refresh_token.clear();
    auto got = oidc_id_token(c, false, 5s);
    REQUIRE_FALSE(got);
    CHECK(got.error().message.find("cannot refresh without refresh-token") != std::string::npos);
    CHECK(issuer.requests.empty());
}

TEST_CASE("after a 401 (force), a still valid id-token is refreshed all the same") {
    Issuer issuer;
    issuer.token_answer = R"({"access_token":"a","id_token":"after-401"})";
    TempKubeconfig file(kKubeconfig);
    OidcConfig c = config_for(issuer, file.path, jwt(R"({"exp":4000000000})"));
    CHECK(*oidc_id_token(c, true, 5s) == "after-401");
}

}  // namespace ksc::kube
