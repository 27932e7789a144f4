#include "profile_spo.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "profile_json.h"

namespace ksc {
namespace {

std::string shared_file(const std::string& rel) {
    std::ifstream in(std::string(KSC_SHARED_DIR) + "/profiles/" + rel);
    REQUIRE_MESSAGE(in, "missing test data ", rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<SeccompProfileDoc> read_ok(std::string_view text, std::vector<std::string>* warnings = nullptr) {
    auto r = read_seccomp_profiles(text, warnings);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    return std::move(*r);
}

std::string error_of(std::string_view text) {
    auto r = read_seccomp_profiles(text);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

}  // namespace

TEST_CASE("spo: SPO's multi-document example reads every SeccompProfile with its metadata") {
    auto docs = read_ok(shared_file("spo/seccompprofile.yaml"));
    REQUIRE(docs.size() == 4);
    CHECK(docs[0].name == "profile-block-all");
    CHECK(docs[0].profile.default_action == Action::Errno);
    CHECK(docs[1].profile.default_action == Action::Log);
    CHECK(docs[2].profile.default_action == Action::Allow);
    CHECK(docs[0].annotations.at(0).first == "description");
    const auto& high_risk = docs[3];
    CHECK(high_risk.name == "profile-complain-block-high-risk");
    REQUIRE(high_risk.profile.syscalls.size() == 2);
    CHECK(high_risk.profile.syscalls[0].action == Action::Allow);
    CHECK(high_risk.profile.syscalls[1].action == Action::Errno);
    CHECK(high_risk.profile.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

TEST_CASE("spo: SPO's runc and crun base profiles read with their syscall counts") {
    auto runc = read_ok(shared_file("spo/baseprofile-runc.yaml"));
    REQUIRE(runc.size() == 1);
    CHECK(runc[0].name == "runc-v1.4.2");
    CHECK(runc[0].profile.syscalls.at(0).names.size() == 40);
    auto crun = read_ok(shared_file("spo/baseprofile-crun.yaml"));
    CHECK(crun[0].profile.syscalls.at(0).names.size() == 53);
}

TEST_CASE("spo: YAML round trip keeps every document, its metadata and baseProfileName") {
    auto docs = read_ok(shared_file("spo/seccompprofile.yaml"));
    docs[0].base_profile_name = "runc-v1.4.2";
    docs[0].namespace_name = "apps";
    docs[0].labels = {{"app", "web"}, {"version", "1.0"}};
    auto yaml = write_seccomp_profiles_yaml(docs);
    REQUIRE(yaml.ok());
    auto again = read_ok(*yaml);
    REQUIRE(again.size() == docs.size());
    for (std::size_t i = 0; i < docs.size(); ++i) {
        CAPTURE(i);
        CHECK(again[i].name == docs[i].name);
        CHECK(again[i].profile == docs[i].profile);
        CHECK(again[i].annotations == docs[i].annotations);
    }
    CHECK(again[0].base_profile_name == "runc-v1.4.2");
    CHECK(again[0].namespace_name == "apps");
    CHECK(again[0].labels == docs[0].labels);  // "1.0" stays a string
    CHECK(yaml->find("version: \"1.0\"") != std::string::npos);
}

TEST_CASE("spo: JSON form reads and writes too") {
    SeccompProfileDoc doc;
    doc.name = "web";
    doc.profile.syscalls = {{{"read"}, Action::Allow, {}}, {{"clone3"}, Action::Errno, 38}};
    auto json = write_seccomp_profile_json(doc);
    REQUIRE(json.ok());
    CHECK(json->find("\"kind\": \"SeccompProfile\"") != std::string::npos);
    auto again = read_ok(*json);
    REQUIRE(again.size() == 1);
    CHECK(again[0].profile == doc.profile);
}

TEST_CASE("spo: v1beta1 reads; an unknown apiVersion is named") {
    auto docs = read_ok(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n"
        "metadata: {name: old}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n");
    CHECK(docs[0].name == "old");
    CHECK(error_of("apiVersion: example.com/v9\nkind: SeccompProfile\nspec: {defaultAction: SCMP_ACT_LOG}\n")
              .find("\"example.com/v9\"") != std::string::npos);
}

TEST_CASE("spo: a kubectl List of SeccompProfiles reads; other kinds are skipped with a warning") {
    std::vector<std::string> w;
    auto docs = read_ok(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: security-profiles-operator.x-k8s.io/v1\n  kind: SeccompProfile\n"
        "  metadata: {name: a}\n  spec: {defaultAction: SCMP_ACT_ERRNO}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        &w);
    REQUIRE(docs.size() == 1);
    REQUIRE(w.size() == 1);
    CHECK(w[0].find("ConfigMap") != std::string::npos);
}

TEST_CASE("spo: errnoRet 0 means unset (EPERM), as SPO documents") {
    auto docs = read_ok(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: a}\n"
        "spec:\n  defaultAction: SCMP_ACT_ALLOW\n  syscalls:\n  - action: SCMP_ACT_ERRNO\n    errnoRet: 0\n"
        "    names: [ptrace]\n");
    CHECK_FALSE(docs[0].profile.syscalls[0].errno_ret);
}

TEST_CASE("spo: malformed YAML gives line and column") {
    std::string msg = error_of(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nspec:\n"
        "  defaultAction: [SCMP_ACT_ERRNO\n");
    CHECK(msg.rfind("5:", 0) == 0);
}

TEST_CASE("spo: a bad field is named with its place and its document") {
    std::string msg = error_of(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n"
        "metadata: {name: web}\nspec:\n  defaultAction: SCMP_ACT_DENY\n");
    CHECK(msg.find("5:18: SeccompProfile \"web\": spec.defaultAction: unknown action \"SCMP_ACT_DENY\"") ==
          0);
}

TEST_CASE("spo: alias bombs and deep nesting fail instead of growing") {
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'k'; ++c, ++prev)
        bomb += fmt::format("{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", c, c,
                            fmt::arg("p", prev));
    CHECK(error_of(bomb).find("more than") != std::string::npos);
    CHECK_FALSE(read_seccomp_profiles(std::string(5000, '[')).ok());
    CHECK(error_of("").find("empty") != std::string::npos);
}

TEST_CASE("spo: inputs on which yaml-cpp's own loader fills memory fail quickly instead") {
    // yaml-cpp 0.7's parser emits empty documents without end after a top-level ","; its
    // YAML::LoadAll then allocates until it runs out (found by the fuzzer: ",\xff-").
    for (std::string text : {std::string(",\xff-"), std::string(",x"), std::string("a: 1\n---\n,-\n")}) {
        CAPTURE(text);
        CHECK_FALSE(read_seccomp_profiles(text).ok());
    }
    // Anchors and aliases still mean what YAML says they mean.
    auto docs = read_seccomp_profiles(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: a}\n"
        "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n"
        "    names: &n [read, write]\n  - action: SCMP_ACT_LOG\n    names: *n\n");
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    REQUIRE((*docs)[0].profile.syscalls.size() == 2);
    CHECK((*docs)[0].profile.syscalls[1].names == std::vector<std::string>{"read", "write"});
}

TEST_CASE("spo: writing refuses what a SeccompProfile cannot hold, and says why") {
    SeccompProfileDoc doc;
    doc.name = "x";
    doc.profile.default_errno_ret = 38;
    auto r = write_seccomp_profiles_yaml({doc});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("defaultErrnoRet 38") != std::string::npos);
    doc.profile.default_errno_ret = 1;  // EPERM is what SPO means anyway
    CHECK(write_seccomp_profiles_yaml({doc}).ok());
    SyscallRule cond{{"ptrace"}, Action::Allow, {}};
    cond.includes.caps = {"CAP_SYS_PTRACE"};
    doc.profile.syscalls = {cond};
    r = write_seccomp_profiles_yaml({doc});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("includes/excludes") != std::string::npos);
}

TEST_CASE("spo: to_object_name makes a valid Kubernetes name") {
    CHECK(to_object_name("My App!") == "my-app");
    CHECK(to_object_name("--") == "recorded-profile");
    CHECK(to_object_name("nginx_1.25") == "nginx-1-25");
}

}  // namespace ksc
