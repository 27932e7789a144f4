#include "profile_json.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "json_doc.h"

namespace ksc {
namespace {

std::string shared_file(const std::string& rel) {
    std::ifstream in(std::string(KSC_SHARED_DIR) + "/profiles/" + rel);
    REQUIRE_MESSAGE(in, "missing test data ", rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string error_of(std::string_view text) {
    auto p = read_profile_json(text);
    REQUIRE_FALSE(p.ok());
    return p.error().message;
}

}  // namespace

TEST_CASE("profile_json: moby's default profile reads with its archMap, includes/excludes and args") {
    std::vector<std::string> warnings;
    auto p = read_profile_json(shared_file("moby/default.json"), &warnings);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.error().message));
    CHECK(p->default_action == Action::Errno);
    CHECK(p->default_errno_ret == 1u);
    CHECK(p->arch_map.size() == 9);
    CHECK(p->arch_map[0].arch == "SCMP_ARCH_X86_64");
    CHECK(p->arch_map[0].sub_arches == std::vector<std::string>{"SCMP_ARCH_X86", "SCMP_ARCH_X32"});
    CHECK(p->syscalls.size() == 33);
    CHECK(p->syscalls[0].names.size() > 300);
    bool has_args = false, has_includes = false, has_excludes = false, has_clone3_enosys = false;
    for (const auto& r : p->syscalls) {
        has_args |= !r.args.empty();
        has_includes |= !r.includes.empty();
        has_excludes |= !r.excludes.empty();
        if (r.names == std::vector<std::string>{"clone3"} && r.errno_ret == 38u) has_clone3_enosys = true;
    }
    CHECK(has_args);
    CHECK(has_includes);
    CHECK(has_excludes);
    CHECK(has_clone3_enosys);
    for (const auto& w : warnings) CHECK_MESSAGE(w.find("unknown field") == std::string::npos, w);
}

TEST_CASE("profile_json: moby's default round-trips rule for rule") {
    auto p = read_profile_json(shared_file("moby/default.json"));
    REQUIRE(p.ok());
    std::string written = write_profile_json(*p);
    auto again = read_profile_json(written);
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? std::string() : again.error().message));
    CHECK(*again == *p);
    CHECK(write_profile_json(*again) == written);  // stable
}

TEST_CASE("profile_json: the Kubernetes tutorial's profiles read and round-trip") {
    for (auto name : {"audit.json", "violation.json", "fine-grained.json"}) {
        CAPTURE(name);
        auto p = read_profile_json(shared_file(std::string("k8s-tutorial/") + name));
        REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.error().message));
        auto again = read_profile_json(write_profile_json(*p));
        REQUIRE(again.ok());
        CHECK(*again == *p);
    }
    auto audit = read_profile_json(shared_file("k8s-tutorial/audit.json"));
    CHECK(audit->default_action == Action::Log);
    auto fine = read_profile_json(shared_file("k8s-tutorial/fine-grained.json"));
    CHECK(fine->architectures.size() == 4);
}

TEST_CASE("profile_json: writer uses a stable key order and 2-space indent") {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "write"}, Action::Allow, {}}, {{"clone3"}, Action::Errno, 38}};
    CHECK(write_profile_json(p) ==
          "{\n"
          "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
          "  \"defaultErrnoRet\": 1,\n"
          "  \"architectures\": [\n"
          "    \"SCMP_ARCH_X86_64\"\n"
          "  ],\n"
          "  \"syscalls\": [\n"
          "    {\n"
          "      \"names\": [\n"
          "        \"read\",\n"
          "        \"write\"\n"
          "      ],\n"
          "      \"action\": \"SCMP_ACT_ALLOW\"\n"
          "    },\n"
          "    {\n"
          "      \"names\": [\n"
          "        \"clone3\"\n"
          "      ],\n"
          "      \"action\": \"SCMP_ACT_ERRNO\",\n"
          "      \"errnoRet\": 38\n"
          "    }\n"
          "  ]\n"
          "}\n");
}

TEST_CASE("profile_json: every field survives a round trip") {
    Profile p;
    p.default_action = Action::KillProcess;
    p.default_errno_ret = 5;
    p.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
    p.arch_map = {{"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}}, {"SCMP_ARCH_RISCV64", {}}};
    p.flags = {"SECCOMP_FILTER_FLAG_LOG"};
    p.listener_path = "/run/agent.sock";
    p.listener_metadata = "meta";
    SyscallRule r{
        {"ioctl"}, Action::Notify, {}, {{1, 0xFF00, 0x5400, ArgOp::MaskedEqual}, {2, 7, 0, ArgOp::NotEqual}}};
    r.comment = "terminal ioctls";
    r.includes.caps = {"CAP_SYS_ADMIN"};
    r.includes.min_kernel = "5.8";
    r.excludes.arches = {"s390x"};
    p.syscalls = {r,
                  {{"ptrace"}, Action::Trace, 3},
                  {{"kill"}, Action::Kill, {}},
                  {{"tkill"}, Action::KillThread, {}},
                  {{"x"}, Action::Trap, {}},
                  {{"y"}, Action::Log, {}}};
    auto again = read_profile_json(write_profile_json(p));
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? std::string() : again.error().message));
    CHECK(*again == p);
}

TEST_CASE("profile_json: the old single \"name\" reads as names") {
    auto p = read_profile_json(
        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"ptrace","action":"SCMP_ACT_ERRNO"}]})");
    REQUIRE(p.ok());
    CHECK(p->syscalls[0].names == std::vector<std::string>{"ptrace"});
    CHECK(
        error_of(
            R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_LOG"}]})")
            .find("both") != std::string::npos);
}

TEST_CASE("profile_json: malformed JSON gives line, column and what was expected") {
    std::string msg = error_of("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\"\n  \"syscalls\": []\n}\n");
    CHECK(msg.rfind("3:3: ", 0) == 0);
    CHECK(msg.find("comma") != std::string::npos);
}

TEST_CASE("profile_json: unknown action, architecture, operator and flag are named with their place") {
    std::string msg = error_of("{\n  \"defaultAction\": \"SCMP_ACT_NOPE\"\n}");
    CHECK(msg.rfind("2:20: defaultAction: unknown action \"SCMP_ACT_NOPE\"", 0) == 0);
    msg = error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"]})");
    CHECK(msg.find("architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"") != std::string::npos);
    msg = error_of(
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]})");
    CHECK(msg.find("syscalls[0].args[0].op: unknown operator \"EQ\"") != std::string::npos);
    msg = error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","flags":["TSYNC"]})");
    CHECK(msg.find("unknown flag \"TSYNC\"") != std::string::npos);
}

TEST_CASE("profile_json: type errors name the field and the expected type") {
    CHECK(error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":"1"})")
              .find("defaultErrnoRet: expected an unsigned integer") != std::string::npos);
    CHECK(error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1})").find("defaultErrnoRet") !=
          std::string::npos);
    CHECK(error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":{}})").find("syscalls: expected a list") !=
          std::string::npos);
    CHECK(error_of(R"({"syscalls":[]})").find("missing \"defaultAction\"") != std::string::npos);
    CHECK(error_of(R"([1,2])").find("expected an object") != std::string::npos);
    CHECK(
        error_of(
            R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["Read!"],"action":"SCMP_ACT_ALLOW"}]})")
            .find("not a syscall name") != std::string::npos);
    CHECK(error_of(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultAction":"SCMP_ACT_LOG"})")
              .find("duplicate key") != std::string::npos);
}

TEST_CASE("profile_json: unknown fields and syscalls no arch knows are warnings, named") {
    std::vector<std::string> w;
    auto p = read_profile_json(
        R"({"defaultAction":"SCMP_ACT_ERRNO","defaultAciton":"x","syscalls":[{"names":["opne"],"action":"SCMP_ACT_ALLOW"}]})",
        &w);
    REQUIRE(p.ok());
    REQUIRE(w.size() == 2);
    CHECK(w[0].find("unknown field \"defaultAciton\"") != std::string::npos);
    CHECK(w[1].find("unknown syscall \"opne\"") != std::string::npos);
}

TEST_CASE("profile_json: empty, deeply nested and trailing garbage are clear errors") {
    CHECK(error_of("").find("empty") != std::string::npos);
    CHECK(error_of(std::string(10000, '[')).find("nested deeper") != std::string::npos);
    CHECK(error_of(R"({"defaultAction":"SCMP_ACT_ERRNO"} x)").find("1:36: ") == 0);
    CHECK(error_of(std::string(kMaxDocumentBytes + 1, ' ')).find("too large") != std::string::npos);
}

}  // namespace ksc
