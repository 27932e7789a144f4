#include "docker_credentials.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "base64.h"

namespace ksc::registry {
namespace {

// A directory with a docker-credential-ksctest helper, put first on PATH while it lives.
struct HelperOnPath {
    std::filesystem::path dir;
    std::string old_path;
    explicit HelperOnPath(const std::string& script) {
        char tmpl[] = "/tmp/ksc-credhelper-XXXXXX";
        dir = ::mkdtemp(tmpl);
        auto helper = dir / "docker-credential-ksctest";
        std::ofstream(helper) << script;
        ::chmod(helper.c_str(), 0755);
        old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
        ::setenv("PATH", (dir.string() + ":" + old_path).c_str(), 1);
    }
    ~HelperOnPath() {
        ::setenv("PATH", old_path.c_str(), 1);
        std::filesystem::remove_all(dir);
    }
};

constexpr const char* kHelper = R"(#!/bin/sh
# Answers for the registry it is asked about (read on stdin), as docker-credential-* do.
[ "$1" = get ] || exit 2
read server
case "$server" in
  registry.example.com) echo '{"ServerURL":"registry.example.com","Username":"robot","Secret":"from-helper"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"docker.io","Username":"<token>","Secret":"refresh-me"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
)";

}  // namespace

TEST_CASE("docker config: an auths entry gives the user and password, keyed as docker login writes it") {
    const std::string config = R"({"auths":{"https://registry.example.com/v1/":{"auth":")" +
                               base64_encode("alice:pw:with:colons") + R"("}}})";
    std::string source;
    auto c = credential_from_config(config, "registry.example.com", &source);
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    REQUIRE(c->has_value());
    CHECK((*c)->username == "alice");
    CHECK((*c)->password == "pw:with:colons");
    CHECK(source == "auths");
    auto other = credential_from_config(config, "ghcr.io", nullptr);
    REQUIRE(other.ok());
    CHECK_FALSE(other->has_value());
    auto bad = credential_from_config(R"({"auths":{"ghcr.io":{"auth":"!!"}}})", "ghcr.io", nullptr);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("not base64 of USER:PASSWORD") != std::string::npos);
}

TEST_CASE("docker config: an identity token is kept for the OAuth2 refresh exchange") {
    auto c = credential_from_config(R"({"auths":{"ghcr.io":{"identitytoken":"tok"}}})", "ghcr.io", nullptr);
    REQUIRE(c.ok());
    REQUIRE(c->has_value());
    CHECK((*c)->identity_token == "tok");
}

TEST_CASE("docker config: credHelpers and credsStore run docker-credential-NAME get") {
    HelperOnPath helper(kHelper);
    std::string source;
    auto c = credential_from_config(R"({"credHelpers":{"registry.example.com":"ksctest"}})",
                                    "registry.example.com", &source);
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    REQUIRE(c->has_value());
    CHECK((*c)->username == "robot");
    CHECK((*c)->password == "from-helper");
    CHECK(source == "credential helper docker-credential-ksctest");
    // The store serves every registry; Docker Hub is asked for by its old index URL, and a
    // "<token>" user means the secret is an identity token.
    auto hub = credential_from_config(R"({"credsStore":"ksctest"})", "docker.io", nullptr);
    REQUIRE_MESSAGE(hub.ok(), hub.error().message);
    REQUIRE(hub->has_value());
    CHECK((*hub)->identity_token == "refresh-me");
    CHECK((*hub)->username.empty());
    // "credentials not found" is no credential, not an error.
    auto none = credential_from_config(R"({"credsStore":"ksctest"})", "ghcr.io", nullptr);
    REQUIRE_MESSAGE(none.ok(), none.error().message);
    CHECK_FALSE(none->has_value());
    auto missing = credential_from_config(R"({"credsStore":"ksc-no-such-helper"})", "ghcr.io", nullptr);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("docker-credential-ksc-no-such-helper (for ghcr.io) cannot be run") !=
          std::string::npos);
}

TEST_CASE("docker config: the explicit file is the only one read, and must exist") {
    auto r = find_registry_credential("/nonexistent/ksc-config.json", "ghcr.io", nullptr);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("cannot read the registry config /nonexistent/ksc-config.json") !=
          std::string::npos);
    CHECK(docker_config_files("/x/y.json") == std::vector<std::string>{"/x/y.json"});
}

TEST_CASE("docker config: podman's files before Docker's, only those that exist") {
    char tmpl[] = "/tmp/ksc-configs-XXXXXX";
    std::filesystem::path dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir / "run/containers");
    std::filesystem::create_directories(dir / "config/containers");
    std::filesystem::create_directories(dir / "docker");
    for (auto f : {"run/containers/auth.json", "config/containers/auth.json", "docker/config.json"})
        std::ofstream(dir / f) << "{}";
    struct Env {
        const char* name;
        std::optional<std::string> old;
    };
    std::vector<Env> saved;
    for (const char* n : {"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG"})
        saved.push_back({n, std::getenv(n) ? std::optional<std::string>(std::getenv(n)) : std::nullopt});
    ::unsetenv("REGISTRY_AUTH_FILE");
    ::setenv("XDG_RUNTIME_DIR", (dir / "run").c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
    ::setenv("DOCKER_CONFIG", (dir / "docker").c_str(), 1);
    auto files = docker_config_files("");
    CHECK(files == std::vector<std::string>{(dir / "run/containers/auth.json").string(),
                                            (dir / "config/containers/auth.json").string(),
                                            (dir / "docker/config.json").string()});
    std::filesystem::remove(dir / "config/containers/auth.json");
    CHECK(docker_config_files("").size() == 2);
    for (const auto& e : saved) {
        if (e.old)
            ::setenv(e.name, e.old->c_str(), 1);
        else
            ::unsetenv(e.name);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace ksc::registry
