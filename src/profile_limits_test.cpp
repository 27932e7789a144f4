#include "profile_limits.h"

#include <doctest/doctest.h>

#include <string>

namespace ksc {
namespace {

Profile small() {
    Profile p;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "write"}, Action::Allow, {}}};
    return p;
}

std::string refusal(const Profile& p) {
    auto st = check_runtime_limits(p);
    return st ? std::string() : st.error().message;
}

}  // namespace

TEST_CASE("runtime limits: an ordinary profile passes") {
    CHECK(check_runtime_limits(small()));
}

TEST_CASE("runtime limits: SCMP_ACT_NOTIFY is refused, as a default or in a rule") {
    Profile p = small();
    p.syscalls.push_back({{"mount"}, Action::Notify, {}});
    CHECK(refusal(p).rfind("no SCMP_ACT_NOTIFY: syscalls[1] (mount)", 0) == 0);
    p = small();
    p.default_action = Action::Notify;
    CHECK(refusal(p).rfind("no SCMP_ACT_NOTIFY: the defaultAction", 0) == 0);
}

TEST_CASE("runtime limits: listener fields are refused") {
    Profile p = small();
    p.listener_path = "/run/agent.sock";
    CHECK(refusal(p).rfind("no listener fields", 0) == 0);
}

TEST_CASE("runtime limits: errnoRet only with ERRNO or TRACE") {
    Profile p = small();
    p.syscalls[0].errno_ret = 1;
    CHECK(refusal(p).rfind("errnoRet only on errno or trace actions: syscalls[0] (read)", 0) == 0);
    p = small();
    p.syscalls.push_back({{"mkdir"}, Action::Errno, 13});
    p.syscalls.push_back({{"ptrace"}, Action::Trace, 7});
    CHECK(check_runtime_limits(p));
    p.default_action = Action::Allow;
    p.default_errno_ret = 1;
    CHECK(refusal(p).rfind("errnoRet only on errno or trace actions: defaultErrnoRet", 0) == 0);
}

TEST_CASE("runtime limits: one syscall answered two ways under the same conditions conflicts") {
    Profile p = small();
    p.syscalls.push_back({{"write"}, Action::Errno, 1});
    CHECK(refusal(p) ==
          "no conflicting entries: write is SCMP_ACT_ALLOW in one rule and SCMP_ACT_ERRNO(1) in "
          "syscalls[1] under the same conditions; keep one");
    // Different argument conditions are not a conflict; the same answer twice is not either.
    p = small();
    SyscallRule cond{{"write"}, Action::Errno, 1};
    cond.args = {{0, 2, 0, ArgOp::EqualTo}};
    p.syscalls.push_back(cond);
    p.syscalls.push_back({{"read"}, Action::Allow, {}});
    CHECK(check_runtime_limits(p));
}

TEST_CASE("runtime limits: 128 entries per syscall, the 129th refused") {
    Profile p = small();
    p.syscalls.clear();
    for (std::uint64_t i = 0; i < kMaxEntriesPerSyscall; ++i) {
        SyscallRule r{{"ioctl"}, Action::Allow, {}};
        r.args = {{1, i, 0, ArgOp::EqualTo}};
        p.syscalls.push_back(r);
    }
    CHECK(check_runtime_limits(p));
    SyscallRule extra{{"ioctl"}, Action::Allow, {}};
    extra.args = {{1, 999, 0, ArgOp::EqualTo}};
    p.syscalls.push_back(extra);
    CHECK(refusal(p).rfind("at most 128 entries per syscall: ioctl", 0) == 0);
}

TEST_CASE("runtime limits: 256 clauses per syscall") {
    Profile p = small();
    p.syscalls.clear();
    for (std::uint64_t i = 0; i < 65; ++i) {  // 65 rules of 4 conditions: 260 clauses
        SyscallRule r{{"socket"}, Action::Allow, {}};
        for (std::uint32_t a = 0; a < 4; ++a) r.args.push_back({a, i, 0, ArgOp::EqualTo});
        p.syscalls.push_back(r);
    }
    CHECK(refusal(p).rfind("at most 256 clauses per syscall: the rules for socket", 0) == 0);
}

TEST_CASE("runtime limits: 16384 clauses per profile") {
    Profile p = small();
    p.syscalls.clear();
    for (std::uint64_t n = 0; n < 100; ++n)
        for (std::uint64_t i = 0; i < 42; ++i) {  // 100 syscalls x 42 rules x 4 = 16800 clauses
            SyscallRule r{{"call" + std::to_string(n)}, Action::Allow, {}};
            for (std::uint32_t a = 0; a < 4; ++a) r.args.push_back({a, i, 0, ArgOp::EqualTo});
            p.syscalls.push_back(r);
        }
    CHECK(refusal(p).rfind("at most 16384 clauses per profile", 0) == 0);
}

}  // namespace ksc
