#include "profile_fix.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "profile_json.h"

namespace ksc {
namespace {

Profile allow_read_write() {
    Profile p;
    p.default_action = Action::Errno;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "write"}, Action::Allow, {}}};
    return p;
}

CheckDenial denied(std::string name, std::uint32_t nr) {
    CheckDenial d;
    d.name = std::move(name);
    d.nr = nr;
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 1;
    d.count = 2;
    return d;
}

// The plain verdict the profile gives `name`: its action and errno, or the default's.
std::pair<Action, std::uint32_t> verdict(const Profile& p, const std::string& name) {
    for (const auto& r : p.syscalls)
        if (r.args.empty() && std::find(r.names.begin(), r.names.end(), name) != r.names.end())
            return {r.action, r.errno_ret.value_or(0)};
    return {p.default_action, p.default_errno_ret.value_or(0)};
}

}  // namespace

TEST_CASE("profile fix: a denied call that succeeded is allowed; the profile's rules stay") {
    auto fixed = fix_profile(allow_read_write(), {denied("openat", 257)});
    CHECK(verdict(fixed.profile, "openat").first == Action::Allow);
    CHECK(verdict(fixed.profile, "read").first == Action::Allow);
    CHECK(verdict(fixed.profile, "write").first == Action::Allow);
    CHECK(verdict(fixed.profile, "mmap") == std::pair{Action::Errno, 1u});
    CHECK(fixed.notes.empty());
}

TEST_CASE("profile fix: a call that always failed with ENOSYS is refused with ENOSYS, as record writes it") {
    CheckDenial d = denied("clone3", 435);
    d.seen_errors = {{"ENOSYS", 2}};
    auto fixed = fix_profile(allow_read_write(), {d});
    CHECK(verdict(fixed.profile, "clone3") == std::pair{Action::Errno, 38u});
    // A call that failed only sometimes is allowed.
    d.seen_errors = {{"ENOSYS", 1}};
    CHECK(verdict(fix_profile(allow_read_write(), {d}).profile, "clone3").first == Action::Allow);
}

TEST_CASE("profile fix: only the denied calls are added, not record's other rules") {
    auto fixed = fix_profile(allow_read_write(), {denied("openat", 257)});
    // record refuses libc's probed syscalls (faccessat2, ...) with ENOSYS; the fix leaves them alone.
    CHECK(verdict(fixed.profile, "faccessat2") == std::pair{Action::Errno, 1u});
    CHECK(fixed.profile.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

TEST_CASE("profile fix: the default action is the profile's, whatever it is") {
    Profile p = allow_read_write();
    p.default_action = Action::KillProcess;
    p.default_errno_ret.reset();
    auto fixed = fix_profile(p, {denied("openat", 257)});
    CHECK(fixed.profile.default_action == Action::KillProcess);
    CHECK(verdict(fixed.profile, "openat").first == Action::Allow);
}

TEST_CASE("profile fix: a syscall filtered by argument gets an argument rule for the denied value") {
    Profile p = allow_read_write();
    p.syscalls.push_back({{"socket"}, Action::Allow, {}, {ArgRule{0, 2, 0, ArgOp::EqualTo}}});
    CheckDenial d = denied("socket", 41);
    d.args = {10, 1, 0, 0, 0, 0};
    auto fixed = fix_profile(p, {d});
    int inet = 0, inet6 = 0, whole = 0;
    for (const auto& r : fixed.profile.syscalls) {
        if (std::find(r.names.begin(), r.names.end(), "socket") == r.names.end()) continue;
        if (r.args.empty()) ++whole;
        for (const auto& a : r.args) {
            CHECK(a.index == 0);
            inet += a.value == 2;
            inet6 += a.value == 10;
        }
        CHECK(r.action == Action::Allow);
    }
    CHECK(inet == 1);
    CHECK(inet6 == 1);
    CHECK(whole == 0);
    REQUIRE(fixed.notes.size() == 1);
    CHECK(fixed.notes[0].find("arg0=0xa") != std::string::npos);
}

TEST_CASE("profile fix: an unknown number is left out and said") {
    CheckDenial d = denied("", 999);
    auto fixed = fix_profile(allow_read_write(), {d});
    CHECK(fixed.profile == fix_profile(allow_read_write(), {}).profile);
    REQUIRE(fixed.notes.size() == 1);
    CHECK(fixed.notes[0].find("#999") != std::string::npos);
}

TEST_CASE("profile fix: a new architecture joins the profile's") {
    CheckDenial d = denied("read", 3);
    d.arch = Arch::X86;
    auto fixed = fix_profile(allow_read_write(), {d});
    CHECK(std::find(fixed.profile.architectures.begin(), fixed.profile.architectures.end(),
                    "SCMP_ARCH_X86") != fixed.profile.architectures.end());
}

}  // namespace ksc

namespace ksc {

TEST_CASE("profile fix: a refusal by the profile's own errno rule is never turned into an allow") {
    Profile p = allow_read_write();
    p.syscalls.push_back({{"clone3"}, Action::Errno, 38});
    CheckDenial clone3 = denied("clone3", 435);
    clone3.errno_value = 38;
    clone3.seen_errors = {};  // complain mode: the call went on and succeeded
    std::vector<CheckDenial> denials{clone3, denied("openat", 257)};
    classify_denials(denials, p, false);
    REQUIRE(denials[0].by_rule);
    FixedProfile fixed = fix_profile(p, denials);
    CHECK(fixed.added == 1);
    CHECK(verdict(fixed.profile, "clone3") == std::pair{Action::Errno, 38u});
    CHECK(verdict(fixed.profile, "openat").first == Action::Allow);
    CHECK(fixed.notes.empty());  // not counted: nothing to say

    // Counted (--strict, or a denylist's rule): still kept, and said.
    classify_denials(denials, p, true);
    fixed = fix_profile(p, denials);
    CHECK(verdict(fixed.profile, "clone3") == std::pair{Action::Errno, 38u});
    REQUIRE(fixed.notes.size() == 1);
    CHECK(fixed.notes[0].find("clone3: refused by the profile's own rule (ENOSYS): kept") !=
          std::string::npos);
}

TEST_CASE("profile fix: a default-allow profile's errno rule stays a refusal") {
    Profile p;
    p.default_action = Action::Allow;
    p.syscalls = {{{"mount"}, Action::Errno, 1}};
    std::vector<CheckDenial> denials{denied("mount", 165)};
    classify_denials(denials, p, false);
    FixedProfile fixed = fix_profile(p, denials);
    CHECK(fixed.added == 0);
    CHECK(verdict(fixed.profile, "mount") == std::pair{Action::Errno, 1u});

    // A TRAP rule's denial is let through; the errno rules the check did not see stay.
    p.syscalls.push_back({{"umount2"}, Action::Errno, 1});
    p.syscalls.push_back({{"ptrace"}, Action::Trap, {}});
    CheckDenial ptrace = denied("ptrace", 101);
    ptrace.action = "SCMP_ACT_TRAP";
    ptrace.errno_value.reset();
    denials = {ptrace};
    classify_denials(denials, p, false);
    fixed = fix_profile(p, denials);
    CHECK(fixed.added == 1);
    CHECK(fixed.profile.default_action == Action::Allow);
    CHECK(verdict(fixed.profile, "ptrace").first == Action::Allow);
    CHECK(verdict(fixed.profile, "mount") == std::pair{Action::Errno, 1u});
    CHECK(verdict(fixed.profile, "umount2") == std::pair{Action::Errno, 1u});
}

}  // namespace ksc
