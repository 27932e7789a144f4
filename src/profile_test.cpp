#include "profile.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "syscall_table.h"

namespace ksc {
namespace {

void seen(Recording& r, Arch arch, std::string_view name, std::uint64_t count = 1,
          std::map<int, std::uint64_t> errors = {}) {
    auto nr = syscall_number(arch, name);
    REQUIRE_MESSAGE(nr, "no ", name, " in the table");
    RecordedSyscall sc;
    sc.arch = arch;
    sc.nr = *nr;
    sc.name = std::string(name);
    sc.count = count;
    sc.errors = std::move(errors);
    r.syscalls[{arch, *nr}] = sc;
}

const SyscallRule* rule_for(const Profile& p, std::string_view name) {
    for (const auto& r : p.syscalls)
        if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) return &r;
    return nullptr;
}

Recording x86_64_recording() {
    Recording r;
    r.native_arch = Arch::X86_64;
    r.returns_seen = true;
    r.have_summary = true;
    seen(r, Arch::X86_64, "read", 10);
    seen(r, Arch::X86_64, "write", 3);
    seen(r, Arch::X86_64, "openat", 4, {{2, 2}});   // some failed: the kernel ran it
    seen(r, Arch::X86_64, "clone3", 2, {{38, 2}});  // refused by the current profile
    seen(r, Arch::X86_64, "mount", 1, {{1, 1}});    // EPERM only
    seen(r, Arch::X86_64, "access", 3, {{2, 3}});   // always ENOENT: a probe for a file, allowed
    return r;
}

}  // namespace

TEST_CASE("profile_from_recording: default ERRNO/EPERM, native arch only when no compat call was made") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, false});
    CHECK(p.default_action == Action::Errno);
    CHECK(p.default_errno_ret == 1u);
    CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

TEST_CASE("profile_from_recording: compat arch listed when used, after the native one") {
    Recording r = x86_64_recording();
    seen(r, Arch::X86, "socketcall");
    Profile p = profile_from_recording(r, {BaseSet::None, false});
    CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
    REQUIRE(rule_for(p, "socketcall"));
    CHECK(rule_for(p, "socketcall")->action == Action::Allow);
}

TEST_CASE(
    "profile_from_recording: syscalls seen and working are allowed, including ones that sometimes fail") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, false});
    for (auto name : {"read", "write", "openat", "access"}) {
        CAPTURE(name);
        REQUIRE(rule_for(p, name));
        CHECK(rule_for(p, name)->action == Action::Allow);
    }
}

TEST_CASE(
    "profile_from_recording: a syscall seen only failing with ENOSYS is refused with ENOSYS, not EPERM") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, false});
    const SyscallRule* r = rule_for(p, "clone3");
    REQUIRE(r);
    CHECK(r->action == Action::Errno);
    CHECK(r->errno_ret == 38u);
}

TEST_CASE("profile_from_recording: a syscall seen only failing with EPERM is left to the default (EPERM)") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, false});
    CHECK_FALSE(rule_for(p, "mount"));
}

TEST_CASE("profile_from_recording: --include-denied allows what was seen refused") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, true});
    REQUIRE(rule_for(p, "clone3"));
    CHECK(rule_for(p, "clone3")->action == Action::Allow);
    REQUIRE(rule_for(p, "mount"));
    CHECK(rule_for(p, "mount")->action == Action::Allow);
}

TEST_CASE("profile_from_recording: libc's probed syscalls not recorded get ENOSYS") {
    Profile p = profile_from_recording(x86_64_recording(), {BaseSet::None, false});
    for (auto name : {"faccessat2", "openat2", "statx", "close_range", "epoll_pwait2", "fchmodat2"}) {
        CAPTURE(name);
        const SyscallRule* r = rule_for(p, name);
        REQUIRE(r);
        CHECK(r->action == Action::Errno);
        CHECK(r->errno_ret == 38u);
    }
    // 32-bit time syscalls exist only on 32-bit arches: never named in an x86_64-only profile.
    CHECK_FALSE(rule_for(p, "clock_gettime64"));
}

TEST_CASE("profile_from_recording: a probed syscall that was recorded working stays allowed") {
    Recording r = x86_64_recording();
    seen(r, Arch::X86_64, "statx", 5);
    Profile p = profile_from_recording(r, {BaseSet::None, false});
    REQUIRE(rule_for(p, "statx"));
    CHECK(rule_for(p, "statx")->action == Action::Allow);
}

TEST_CASE("profile_from_recording: the runtime base set is merged, and wins over a refusal") {
    Recording r = x86_64_recording();
    seen(r, Arch::X86_64, "capset", 1, {{1, 1}});
    Profile p = profile_from_recording(r, {BaseSet::Runc, false});
    for (auto name : {"capset", "setgroups", "execve", "close_range"}) {
        CAPTURE(name);
        REQUIRE(rule_for(p, name));
        CHECK(rule_for(p, name)->action == Action::Allow);
    }
    CHECK_FALSE(rule_for(p, "pselect6"));  // crun's, not runc's
    Profile both = profile_from_recording(r, {BaseSet::Both, false});
    REQUIRE(rule_for(both, "pselect6"));
    // Neither runtime calls its container set-up under the filter: none of it is let through.
    for (auto name :
         {"mount", "umount2", "pivot_root", "unshare", "setns", "sethostname", "chown", "mknodat"}) {
        CAPTURE(name);
        CHECK_FALSE(rule_for(both, name));
    }
}

TEST_CASE("profile_from_recording: never a name that is not a syscall of a listed arch") {
    Recording r;
    r.native_arch = Arch::AARCH64;
    seen(r, Arch::AARCH64, "read");
    Profile p = profile_from_recording(r, {BaseSet::Both, false});
    // x86_64-only names of the base sets are left out on arm64.
    for (auto name : {"arch_prctl", "access", "chmod", "readlink", "newfstatat"}) {
        CAPTURE(name);
        if (!find_syscall(Arch::AARCH64, name)) CHECK_FALSE(rule_for(p, name));
    }
    for (const auto& rule : p.syscalls)
        for (const auto& name : rule.names) {
            CAPTURE(name);
            CHECK(find_syscall(Arch::AARCH64, name));
        }
}

TEST_CASE("profile_from_recording: unknown numbers are never named") {
    Recording r = x86_64_recording();
    RecordedSyscall sc;
    sc.arch = Arch::X86_64;
    sc.nr = 4000;
    r.syscalls[{Arch::X86_64, 4000}] = sc;
    Profile p = profile_from_recording(r, {BaseSet::None, false});
    for (const auto& rule : p.syscalls)
        for (const auto& name : rule.names) CHECK_FALSE(name.empty());
}

TEST_CASE("profile_from_recording: without returns (seccomp method) nothing is refused by errno") {
    Recording r = x86_64_recording();
    r.returns_seen = false;
    Profile p = profile_from_recording(r, {BaseSet::None, false});
    REQUIRE(rule_for(p, "clone3"));
    CHECK(rule_for(p, "clone3")->action == Action::Allow);
}

TEST_CASE("normalise: one rule per action and errno, sorted names, ALLOW first") {
    Profile p;
    p.syscalls = {{{"write", "read"}, Action::Errno, 38},
                  {{"b", "a"}, Action::Allow, {}},
                  {{"c", "a"}, Action::Allow, {}},
                  {{"x"}, Action::Errno, {}},
                  {{"y"}, Action::Errno, 1}};
    normalise(p);
    REQUIRE(p.syscalls.size() == 3);
    CHECK(p.syscalls[0].action == Action::Allow);
    CHECK(p.syscalls[0].names == std::vector<std::string>{"a", "b", "c"});
    CHECK(p.syscalls[1].errno_ret == 1u);
    CHECK(p.syscalls[1].names == std::vector<std::string>{"x", "y"});
    CHECK(p.syscalls[2].errno_ret == 38u);
    CHECK(p.syscalls[2].names == std::vector<std::string>{"read", "write"});
}

TEST_CASE("normalise: rules with args keep their own entries, after the plain ones") {
    Profile p;
    SyscallRule cond{{"socket"}, Action::Allow, {}, {{0, 38, 0, ArgOp::LessThan}}};
    p.syscalls = {cond, {{"read"}, Action::Allow, {}}};
    normalise(p);
    REQUIRE(p.syscalls.size() == 2);
    CHECK(p.syscalls[0].names == std::vector<std::string>{"read"});
    CHECK(p.syscalls[1].args.size() == 1);
}

TEST_CASE("actions: names round-trip and permissiveness orders ALLOW above ERRNO above KILL") {
    for (auto a : {Action::Kill, Action::KillProcess, Action::KillThread, Action::Trap, Action::Errno,
                   Action::Trace, Action::Allow, Action::Log, Action::Notify})
        CHECK(action_from_name(action_name(a)) == a);
    CHECK(permissiveness(Action::Allow) > permissiveness(Action::Log));
    CHECK(permissiveness(Action::Errno) > permissiveness(Action::KillProcess));
    CHECK_FALSE(action_from_name("SCMP_ACT_FOO"));
}

}  // namespace ksc
