#include "profile_diff.h"

#include <doctest/doctest.h>

namespace ksc {
namespace {

Profile allow(std::vector<std::string> names) {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{std::move(names), Action::Allow, {}}};
    return p;
}

}  // namespace

TEST_CASE("diff: identical profiles are the same") {
    Profile a = allow({"read", "write"});
    CHECK(diff_profiles(a, a).same());
}

TEST_CASE("diff: a syscall allowed only in NEW is added; only in OLD, removed") {
    auto d = diff_profiles(allow({"read", "write"}), allow({"read", "openat"}));
    REQUIRE(d.arches.size() == 1);
    CHECK(d.arches[0].arches == std::vector<std::string>{"SCMP_ARCH_X86_64"});
    REQUIRE(d.arches[0].changes.size() == 2);
    CHECK(d.arches[0].changes[0].name == "openat");
    CHECK(d.arches[0].changes[0].kind == ChangeKind::Added);
    CHECK(d.arches[0].changes[1].name == "write");
    CHECK(d.arches[0].changes[1].kind == ChangeKind::Removed);
    CHECK(d.lets_more_through());
    CHECK(d.lets_less_through());
}

TEST_CASE("diff: another errno is a change that lets neither more nor less through") {
    Profile a = allow({"read"});
    Profile b = a;
    a.syscalls.push_back({{"clone3"}, Action::Errno, 1});
    b.syscalls.push_back({{"clone3"}, Action::Errno, 38});
    auto d = diff_profiles(a, b);
    REQUIRE(d.arches.size() == 1);
    REQUIRE(d.arches[0].changes.size() == 1);
    CHECK(d.arches[0].changes[0].kind == ChangeKind::Changed);
    CHECK(verdict_text(d.arches[0].changes[0].new_verdict) == "SCMP_ACT_ERRNO(ENOSYS)");
    CHECK_FALSE(d.lets_more_through());
    CHECK_FALSE(d.lets_less_through());
    CHECK_FALSE(d.same());
}

TEST_CASE("diff: an explicit rule equal to the default is no change") {
    Profile a = allow({"read"});
    Profile b = a;
    b.syscalls.push_back({{"ptrace"}, Action::Errno, 1});
    CHECK(diff_profiles(a, b).same());
}

TEST_CASE("diff: the default action, architectures and argument rules are compared") {
    Profile a = allow({"read"});
    Profile b = a;
    b.default_action = Action::Log;
    b.default_errno_ret.reset();
    b.architectures.push_back("SCMP_ARCH_X86");
    b.syscalls.push_back({{"socket"}, Action::Allow, {}, {{0, 1, 0, ArgOp::EqualTo}}});
    auto d = diff_profiles(a, b);
    CHECK(d.new_default.action == Action::Log);
    CHECK(d.arches_added == std::vector<std::string>{"SCMP_ARCH_X86"});
    REQUIRE(d.rules.size() == 1);
    CHECK(d.rules[0].added);
    CHECK(d.rules[0].text == "socket: SCMP_ACT_ALLOW if arg0 == 1");
    CHECK(d.lets_more_through());
}

TEST_CASE("diff: identical changes on several arches are reported once; names not on an arch are skipped") {
    Profile a = allow({"read"});
    a.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    Profile b = a;
    b.syscalls[0].names.push_back("write");
    b.syscalls[0].names.push_back("socketcall");  // x86 only
    auto d = diff_profiles(a, b);
    REQUIRE(d.arches.size() == 2);
    CHECK(d.arches[0].arches == std::vector<std::string>{"SCMP_ARCH_X86_64"});
    CHECK(d.arches[0].changes.size() == 1);
    CHECK(d.arches[1].arches == std::vector<std::string>{"SCMP_ARCH_X86"});
    CHECK(d.arches[1].changes.size() == 2);
}

}  // namespace ksc
