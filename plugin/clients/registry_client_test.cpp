#include "registry_client.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base64.h"

namespace ksc::registry {

TEST_CASE("a short name is a Docker Hub library image with the tag latest") {
    auto ref = parse_image_reference("nginx");
    REQUIRE(ref.ok());
    CHECK(ref->registry == "docker.io");
    CHECK(ref->api_host() == "registry-1.docker.io");
    CHECK(ref->repository == "library/nginx");
    CHECK(ref->tag == "latest");
    CHECK(ref->str() == "docker.io/library/nginx:latest");
}

TEST_CASE("a Docker Hub user's image gets no library/ prefix") {
    auto ref = parse_image_reference("bitnami/redis:7.2");
    REQUIRE(ref.ok());
    CHECK(ref->registry == "docker.io");
    CHECK(ref->repository == "bitnami/redis");
    CHECK(ref->tag == "7.2");
}

TEST_CASE("the first component is a registry only when it looks like a host") {
    auto a = parse_image_reference("registry.example.com/team/app:v1");
    REQUIRE(a.ok());
    CHECK(a->registry == "registry.example.com");
    CHECK(a->repository == "team/app");
    auto b = parse_image_reference("localhost:5000/app");
    REQUIRE(b.ok());
    CHECK(b->registry == "localhost:5000");
    CHECK(b->repository == "app");
    CHECK(b->tag == "latest");
    auto c = parse_image_reference("localhost/app:2");
    REQUIRE(c.ok());
    CHECK(c->registry == "localhost");
    auto d = parse_image_reference("index.docker.io/library/busybox");
    REQUIRE(d.ok());
    CHECK(d->registry == "docker.io");
    CHECK(d->repository == "library/busybox");
}

TEST_CASE("a digest is kept and used as the manifest reference, with or without a tag") {
    std::string hex(64, 'a');
    auto a = parse_image_reference("ghcr.io/o/app@sha256:" + hex);
    REQUIRE(a.ok());
    CHECK(a->tag.empty());
    CHECK(a->digest == "sha256:" + hex);
    CHECK(a->manifest_ref() == "sha256:" + hex);
    auto b = parse_image_reference("ghcr.io/o/app:1.0@sha256:" + hex);
    REQUIRE(b.ok());
    CHECK(b->tag == "1.0");
    CHECK(b->manifest_ref() == "sha256:" + hex);
    CHECK(b->str() == "ghcr.io/o/app:1.0@sha256:" + hex);
}

TEST_CASE("malformed references are refused with a one-line reason") {
    for (const char* bad : {"", "Nginx", "app:", "app@sha256:xyz", "app:-x", "/app"}) {
        auto r = parse_image_reference(bad);
        CHECK_FALSE(r.ok());
        if (!r.ok()) CHECK(r.error().message.find('\n') == std::string::npos);
    }
}

TEST_CASE("dockerconfigjson: auth, username/password and registrytoken; keys normalised") {
    std::string auth = base64_encode("alice:pw:with:colons");
    std::string json = R"({"auths":{
        "https://index.docker.io/v1/":{"auth":")" +
                       auth + R"("},
        "REGISTRY.example.com:5000":{"username":"bob","password":"pw2"},
        "https://ghcr.io/v2/":{"registrytoken":"tok"},
        "empty.example.com":{}}})";
    auto ring = parse_docker_config(json);
    REQUIRE(ring.ok());
    CHECK(ring->size() == 3);
    CHECK(ring->at("docker.io").username == "alice");
    CHECK(ring->at("docker.io").password == "pw:with:colons");
    CHECK(ring->at("registry.example.com:5000").username == "bob");
    CHECK(ring->at("ghcr.io").registry_token == "tok");
    auto ref = parse_image_reference("nginx");
    REQUIRE(ref.ok());
    auto cred = find_credential(*ring, *ref);
    REQUIRE(cred.has_value());
    CHECK(cred->username == "alice");
    auto other = parse_image_reference("quay.io/x/y");
    REQUIRE(other.ok());
    CHECK_FALSE(find_credential(*ring, *other).has_value());
}

TEST_CASE("the older dockercfg form (no auths) is read too; bad auth fields are refused") {
    auto ring = parse_docker_config(R"({"quay.io":{"auth":")" + base64_encode("u:p") + R"("}})");
    REQUIRE(ring.ok());
    CHECK(ring->at("quay.io").password == "p");
    CHECK_FALSE(
        parse_docker_config(R"({"auths":{"x":{"auth":")" + base64_encode("nocolon") + R"("}}})").ok());
    CHECK_FALSE(parse_docker_config("not json").ok());
}

TEST_CASE("WWW-Authenticate challenges are parsed with quoted and bare values") {
    auto ch = parse_challenge(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull")");
    REQUIRE(ch.has_value());
    CHECK(ch->scheme == "bearer");
    CHECK(ch->params["realm"] == "https://auth.docker.io/token");
    CHECK(ch->params["service"] == "registry.docker.io");
    CHECK(ch->params["scope"] == "repository:library/nginx:pull");
    auto b = parse_challenge("Basic realm=registry, charset=\"UTF-8\"");
    REQUIRE(b.has_value());
    CHECK(b->scheme == "basic");
    CHECK(b->params["realm"] == "registry");
    CHECK(b->params["charset"] == "UTF-8");
}

TEST_CASE("the image config gives Entrypoint, Cmd, WorkingDir and User; none is fine") {
    auto c = parse_image_config(
        R"({"architecture":"amd64","config":{"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["nginx","-g","daemon off;"],"WorkingDir":"/w","User":"101"}})");
    REQUIRE(c.ok());
    CHECK(c->entrypoint == std::vector<std::string>{"/docker-entrypoint.sh"});
    CHECK(c->cmd == std::vector<std::string>{"nginx", "-g", "daemon off;"});
    CHECK(c->working_dir == "/w");
    CHECK(c->user == "101");
    auto none = parse_image_config(R"({"architecture":"amd64","config":{"Entrypoint":null}})");
    REQUIRE(none.ok());
    CHECK(none->entrypoint.empty());
    CHECK(none->cmd.empty());
}

TEST_CASE("platform selection: os and architecture must match; arm64's variant defaults to v8") {
    std::vector<Descriptor> m{{"", "sha256:1", {"linux", "amd64", ""}},
                              {"", "sha256:2", {"linux", "arm64", "v8"}},
                              {"", "sha256:3", {"linux", "arm", "v7"}},
                              {"", "sha256:4", {"linux", "arm", "v6"}},
                              {"", "sha256:5", {"unknown", "unknown", ""}}};
    CHECK(select_platform(m, {"linux", "amd64", ""})->digest == "sha256:1");
    CHECK(select_platform(m, {"linux", "arm64", ""})->digest == "sha256:2");
    CHECK(select_platform(m, {"linux", "arm", "v6"})->digest == "sha256:4");
    auto missing = select_platform(m, {"linux", "s390x", ""});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("linux/s390x") != std::string::npos);
    CHECK(missing.error().message.find("linux/arm64/v8") != std::string::npos);
    CHECK(missing.error().message.find("unknown") == std::string::npos);
    CHECK_FALSE(select_platform(m, {"windows", "amd64", ""}).ok());
}

// Against tests/e2e/registry_double.py (HTTPS, token challenge); the CTest test
// `registry_client_double` starts it and runs these with KSC_REGISTRY_DOUBLE set.
namespace {
struct DoubleInfo {
    std::string host, ca, user, password;
};
// These cases are marked skip, so that a plain unit run leaves them out rather than passing them
// without doing anything; the CTest test runs them with --no-skip, and then the double must be there.
std::optional<DoubleInfo> registry_double() {
    const char* path = std::getenv("KSC_REGISTRY_DOUBLE");
    REQUIRE_MESSAGE(path != nullptr,
                    "KSC_REGISTRY_DOUBLE is not set: run these through CTest's registry_client_double");
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(ss.str().c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return DoubleInfo{doc["host"].GetString(), doc["ca"].GetString(), doc["user"].GetString(),
                      doc["password"].GetString()};
}
ImageReference at(const DoubleInfo& d, const std::string& name) {
    auto r = parse_image_reference(d.host + "/" + name);
    REQUIRE(r.ok());
    return *r;
}
RegistryClient client(const DoubleInfo& d) {
    RegistryOptions o;
    o.ca_file = d.ca;
    return RegistryClient(o);
}
const Platform kAmd64{"linux", "amd64", ""};
}  // namespace

TEST_SUITE("registry-double" * doctest::skip()) {
    TEST_CASE("an OCI image's config is read through the anonymous token challenge") {
        auto d = registry_double();
        auto c = client(*d).image_config(at(*d, "library/app:1"), kAmd64, std::nullopt);
        REQUIRE_MESSAGE(c.ok(), c.error().message);
        CHECK(c->entrypoint == std::vector<std::string>{"/usr/bin/app", "--serve"});
        CHECK(c->cmd == std::vector<std::string>{"--port", "8080"});
        CHECK(c->working_dir == "/srv");
        CHECK(c->user == "1000:1000");
        CHECK(c->manifest_digest.rfind("sha256:", 0) == 0);
        CHECK(c->platform.empty());
    }

    TEST_CASE("an OCI index and a Docker manifest list resolve to the node's platform") {
        auto d = registry_double();
        for (const char* repo : {"library/multi:1", "library/dlist:1"}) {
            CAPTURE(repo);
            auto amd = client(*d).image_config(at(*d, repo), kAmd64, std::nullopt);
            REQUIRE_MESSAGE(amd.ok(), amd.error().message);
            CHECK(amd->entrypoint == std::vector<std::string>{"/bin/amd64"});
            CHECK(amd->platform == "linux/amd64");
            auto arm64 = client(*d).image_config(at(*d, repo), {"linux", "arm64", ""}, std::nullopt);
            REQUIRE_MESSAGE(arm64.ok(), arm64.error().message);
            CHECK(arm64->entrypoint == std::vector<std::string>{"/bin/arm64"});
            auto arm = client(*d).image_config(at(*d, repo), {"linux", "arm", "v7"}, std::nullopt);
            REQUIRE_MESSAGE(arm.ok(), arm.error().message);
            CHECK(arm->entrypoint == std::vector<std::string>{"/bin/arm"});
            auto none = client(*d).image_config(at(*d, repo), {"linux", "riscv64", ""}, std::nullopt);
            REQUIRE_FALSE(none.ok());
            CHECK(none.error().message.find("no manifest for linux/riscv64") != std::string::npos);
        }
    }

    TEST_CASE("a private repository needs the pull secret's credentials at the token service") {
        auto d = registry_double();
        auto anon = client(*d).image_config(at(*d, "private/app:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(anon.ok());
        CHECK(anon.error().message.find("imagePullSecret") != std::string::npos);
        auto wrong =
            client(*d).image_config(at(*d, "private/app:1"), kAmd64, Credential{d->user, "nope", ""});
        REQUIRE_FALSE(wrong.ok());
        CHECK(wrong.error().message.find("refused") != std::string::npos);
        auto good =
            client(*d).image_config(at(*d, "private/app:1"), kAmd64, Credential{d->user, d->password, ""});
        REQUIRE_MESSAGE(good.ok(), good.error().message);
        CHECK(good->cmd == std::vector<std::string>{"/private"});
    }

    TEST_CASE("a registry asking for Basic auth gets the pull secret's user and password") {
        auto d = registry_double();
        auto anon = client(*d).image_config(at(*d, "basic/app:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(anon.ok());
        CHECK(anon.error().message.find("user and password") != std::string::npos);
        auto good =
            client(*d).image_config(at(*d, "basic/app:1"), kAmd64, Credential{d->user, d->password, ""});
        REQUIRE_MESSAGE(good.ok(), good.error().message);
        CHECK(good->cmd == std::vector<std::string>{"/basic"});
    }

    TEST_CASE("an image by digest, an image without config, unknown images and tags") {
        auto d = registry_double();
        auto first = client(*d).image_config(at(*d, "library/app:1"), kAmd64, std::nullopt);
        REQUIRE(first.ok());
        auto by_digest =
            client(*d).image_config(at(*d, "library/app@" + first->manifest_digest), kAmd64, std::nullopt);
        REQUIRE_MESSAGE(by_digest.ok(), by_digest.error().message);
        CHECK(by_digest->entrypoint == first->entrypoint);
        auto bare = client(*d).image_config(at(*d, "library/noconfig:1"), kAmd64, std::nullopt);
        REQUIRE_MESSAGE(bare.ok(), bare.error().message);
        CHECK(bare->entrypoint.empty());
        CHECK(bare->cmd.empty());
        auto no_tag = client(*d).image_config(at(*d, "library/app:2"), kAmd64, std::nullopt);
        REQUIRE_FALSE(no_tag.ok());
        CHECK(no_tag.error().message.find("MANIFEST_UNKNOWN") != std::string::npos);
        auto no_repo = client(*d).image_config(at(*d, "library/nothere:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(no_repo.ok());
        CHECK(no_repo.error().message.find("NAME_UNKNOWN") != std::string::npos);
    }

    TEST_CASE("content that does not match its digest is refused: a swapped config blob or manifest") {
        auto d = registry_double();
        auto config = client(*d).image_config(at(*d, "tampered/config:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(config.ok());
        CHECK(config.error().message.find("config blob") != std::string::npos);
        CHECK(config.error().message.find("does not match its digest") != std::string::npos);
        auto index = client(*d).image_config(at(*d, "tampered/index:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(index.ok());
        CHECK(index.error().message.find("manifest") != std::string::npos);
        CHECK(index.error().message.find("does not match its digest") != std::string::npos);
        // The other platforms of the same index are intact.
        auto arm64 =
            client(*d).image_config(at(*d, "tampered/index:1"), {"linux", "arm64", ""}, std::nullopt);
        CHECK_MESSAGE(arm64.ok(), arm64.error().message);
    }

    TEST_CASE("oversized manifests, schema 1 and untrusted certificates are refused in one line") {
        auto d = registry_double();
        auto huge = client(*d).image_config(at(*d, "huge/app:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(huge.ok());
        CHECK(huge.error().message.find("larger than") != std::string::npos);
        auto s1 = client(*d).image_config(at(*d, "library/schema1:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(s1.ok());
        CHECK(s1.error().message.find("schema 1") != std::string::npos);
        RegistryClient untrusting;  // the system's CAs only
        auto tls = untrusting.image_config(at(*d, "library/app:1"), kAmd64, std::nullopt);
        REQUIRE_FALSE(tls.ok());
        CHECK(tls.error().message.find('\n') == std::string::npos);
    }
}

}  // namespace ksc::registry
