#include "profile_merge.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace ksc {
namespace {

std::optional<Verdict> verdict_for(const Profile& p, std::string_view name) {
    for (const auto& r : p.syscalls)
        if (r.args.empty() && std::find(r.names.begin(), r.names.end(), name) != r.names.end())
            return rule_verdict(r);
    return std::nullopt;
}

Profile allow(std::vector<std::string> names) {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{std::move(names), Action::Allow, {}}};
    return p;
}

}  // namespace

TEST_CASE("merge: the union of recordings allows what either allowed, without warnings") {
    Profile a = allow({"read", "write"});
    Profile b = allow({"read", "openat"});
    b.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    std::vector<std::string> w;
    Profile m = merge_profiles(std::vector{a, b}, std::vector<std::string>{"a", "b"}, &w);
    CHECK(w.empty());
    CHECK(m.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
    REQUIRE(m.syscalls.size() == 1);
    CHECK(m.syscalls[0].names == std::vector<std::string>{"openat", "read", "write"});
}

TEST_CASE("merge: conflicting actions go to the more permissive one, with a warning naming each") {
    Profile a = allow({"clone3"});
    Profile b = allow({"read"});
    b.syscalls.push_back({{"clone3"}, Action::Errno, 38});
    std::vector<std::string> w;
    Profile m = merge_profiles(std::vector{a, b}, std::vector<std::string>{"a.json", "b.json"}, &w);
    CHECK(verdict_for(m, "clone3") == Verdict{Action::Allow, 0});
    REQUIRE(w.size() == 1);
    CHECK(w[0] == "clone3: SCMP_ACT_ALLOW in a.json, SCMP_ACT_ERRNO(ENOSYS) in b.json: kept SCMP_ACT_ALLOW");
}

TEST_CASE("merge: ENOSYS refusal in one, nothing in the other: ENOSYS is kept silently") {
    Profile a = allow({"read"});
    a.syscalls.push_back({{"clone3"}, Action::Errno, 38});
    Profile b = allow({"write"});
    std::vector<std::string> w;
    Profile m = merge_profiles(std::vector{a, b}, {}, &w);
    CHECK(w.empty());
    CHECK(verdict_for(m, "clone3") == Verdict{Action::Errno, 38});
}

TEST_CASE("merge: different defaults keep the more permissive, with a warning") {
    Profile a = allow({"read"});
    Profile b;
    b.default_action = Action::Log;
    b.syscalls = {{{"ptrace"}, Action::Errno, {}}};
    std::vector<std::string> w;
    Profile m = merge_profiles(std::vector{a, b}, std::vector<std::string>{"a", "b"}, &w);
    CHECK(m.default_action == Action::Log);
    REQUIRE_FALSE(w.empty());
    CHECK(w[0].find("default action") == 0);
    // read is allowed (a), ptrace refused by both (a's default, b's rule): stays refused.
    CHECK(verdict_for(m, "read") == Verdict{Action::Allow, 0});
    CHECK(verdict_for(m, "ptrace") == Verdict{Action::Errno, 1});
}

TEST_CASE("merge: conditional rules are kept once, and dropped when the union allows their syscall anyway") {
    Profile a = allow({"read"});
    SyscallRule sock{{"socket"}, Action::Allow, {}, {{0, 1, 0, ArgOp::EqualTo}}};
    a.syscalls.push_back(sock);
    Profile b = a;
    Profile m = merge_profiles(std::vector{a, b}, {}, nullptr);
    CHECK(std::count(m.syscalls.begin(), m.syscalls.end(), sock) == 1);
    Profile c = allow({"socket"});
    m = merge_profiles(std::vector{a, c}, {}, nullptr);
    CHECK(std::count(m.syscalls.begin(), m.syscalls.end(), sock) == 0);
    CHECK(verdict_for(m, "socket") == Verdict{Action::Allow, 0});
}

TEST_CASE("merge: is idempotent on a normalised profile") {
    Profile a = allow({"write", "read"});
    a.syscalls.push_back({{"clone3"}, Action::Errno, 38});
    normalise(a);
    CHECK(merge_profiles(std::vector{a, a}, {}, nullptr) == a);
}

}  // namespace ksc
