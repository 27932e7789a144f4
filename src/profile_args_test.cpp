#include "profile_args.h"

#include <doctest/doctest.h>
#include <seccomp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "profile_compile.h"
#include "profile_diff.h"
#include "profile_merge.h"
#include "syscall_table.h"

namespace ksc {
namespace {

constexpr std::uint64_t kAudit = 16 | std::uint64_t{9} << 32;  // AF_NETLINK/NETLINK_AUDIT
constexpr std::uint64_t kRoute = 16;                           // AF_NETLINK/NETLINK_ROUTE

RecordedSyscall& seen(Recording& r, Arch arch, std::string_view name, std::set<std::uint64_t> values = {}) {
    auto nr = syscall_number(arch, name);
    REQUIRE_MESSAGE(nr, "no ", name, " in the table");
    RecordedSyscall& sc = r.syscalls[{arch, *nr}];
    sc.arch = arch;
    sc.nr = *nr;
    sc.name = std::string(name);
    sc.count = 1;
    sc.arg_values = std::move(values);
    return sc;
}

Recording web_recording() {
    Recording r;
    r.native_arch = Arch::X86_64;
    r.returns_seen = true;
    r.have_summary = true;
    r.args_recorded = true;
    seen(r, Arch::X86_64, "read");
    seen(r, Arch::X86_64, "socket", {AF_INET, AF_UNIX, kRoute});
    seen(r, Arch::X86_64, "personality", {0xffffffff});
    seen(r, Arch::X86_64, "clone", {0});
    seen(r, Arch::X86_64, "clone3");
    return r;
}

RecordOptions curated() {
    RecordOptions o;
    o.base = BaseSet::None;
    o.args = ArgsMode::Curated;
    return o;
}

std::vector<const SyscallRule*> rules_for(const Profile& p, std::string_view name) {
    std::vector<const SyscallRule*> out;
    for (const auto& r : p.syscalls)
        if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) out.push_back(&r);
    return out;
}

}  // namespace

TEST_CASE("argument rules: one MASKED_EQ rule per value on the low 32 bits, the netlink protocol ANDed") {
    Profile p = profile_from_recording(web_recording(), curated());
    auto socket = rules_for(p, "socket");
    REQUIRE(socket.size() == 3);
    for (const auto* r : socket) {
        CHECK(r->action == Action::Allow);
        CHECK(r->names.size() == 1);
        REQUIRE(!r->args.empty());
        CHECK(r->args[0].op == ArgOp::MaskedEqual);
        CHECK(r->args[0].value == 0xffffffffu);  // OCI: value is the mask, valueTwo the datum
    }
    const SyscallRule* netlink = nullptr;
    for (const auto* r : socket)
        if (r->args[0].value_two == AF_NETLINK) netlink = r;
    REQUIRE(netlink);
    REQUIRE(netlink->args.size() == 2);
    CHECK(netlink->args[1].index == 2);
    CHECK(netlink->args[1].value_two == 0);  // NETLINK_ROUTE
    auto clone = rules_for(p, "clone");
    REQUIRE(clone.size() == 1);
    CHECK(clone[0]->args[0].value == 0x7e020000u);
    CHECK(clone[0]->args[0].value_two == 0);
    // No whole-syscall rule beside the argument rules.
    for (const auto* r : rules_for(p, "socket")) CHECK(!r->args.empty());
}

TEST_CASE("argument rules: clone3 is refused with ENOSYS even when recorded; without --args it stays") {
    Profile p = profile_from_recording(web_recording(), curated());
    auto clone3 = rules_for(p, "clone3");
    REQUIRE(clone3.size() == 1);
    CHECK(clone3[0]->action == Action::Errno);
    CHECK(clone3[0]->errno_ret == 38u);
    RecordOptions none = curated();
    none.args = ArgsMode::None;
    Profile whole = profile_from_recording(web_recording(), none);
    REQUIRE(rules_for(whole, "clone3").size() == 1);
    CHECK(rules_for(whole, "clone3")[0]->action == Action::Allow);
    CHECK(rules_for(whole, "socket")[0]->args.empty());
}

TEST_CASE(
    "argument rules: overflow, a 1.0 tracer, and unmeasured base-set values leave syscalls whole, said") {
    Recording r = web_recording();
    seen(r, Arch::X86_64, "ioctl").arg_overflow = true;
    std::vector<std::string> notes;
    Profile p = profile_from_recording(r, curated(), &notes);
    REQUIRE(rules_for(p, "ioctl").size() == 1);
    CHECK(rules_for(p, "ioctl")[0]->args.empty());
    CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
        return n.find("ioctl: allowed whole: more than 128") == 0;
    }));
    r.args_recorded = false;
    notes.clear();
    p = profile_from_recording(r, curated(), &notes);
    CHECK(rules_for(p, "socket")[0]->args.empty());
}

TEST_CASE(
    "argument rules: the runtime's measured values join the app's; a base-set syscall it never calls after "
    "the filter gets none") {
    RecordOptions runc = curated();
    runc.base = BaseSet::Runc;
    Recording r = web_recording();
    seen(r, Arch::X86_64, "prctl", {PR_SET_NAME});
    Profile p = profile_from_recording(r, runc);
    auto view = argument_view(p);
    CHECK(view.values.at("prctl") ==
          std::set<std::uint64_t>{PR_SET_KEEPCAPS, PR_SET_NAME, PR_CAPBSET_DROP, PR_CAP_AMBIENT});
    CHECK(view.values.at("fcntl") == std::set<std::uint64_t>{2});  // F_SETFD
    CHECK(rules_for(p, "arch_prctl").empty());                     // runc 1.1.5 never calls it after
    RecordOptions none = runc;
    none.args = ArgsMode::None;
    CHECK(rules_for(profile_from_recording(r, none), "arch_prctl").size() == 1);  // whole, as before
}

TEST_CASE("argument rules: a syscall seen only refused keeps its errno rule and no argument rule") {
    Recording r = web_recording();
    auto& bpf = seen(r, Arch::X86_64, "bpf", {5});
    bpf.errors = {{38, 1}};
    Profile p = profile_from_recording(r, curated());
    auto rules = rules_for(p, "bpf");
    REQUIRE(rules.size() == 1);
    CHECK(rules[0]->action == Action::Errno);
    CHECK(rules[0]->args.empty());
}

TEST_CASE("argument rules read back; other forms (a whole-register EQ, AF_NETLINK alone) are not ours") {
    const ArgSpec& socket = *arg_spec_any("socket");
    auto rules = argument_rules("socket", socket, {AF_INET, kAudit});
    REQUIRE(rules.size() == 2);
    CHECK(argument_rule_value(socket, rules[0]) == AF_INET);
    CHECK(argument_rule_value(socket, rules[1]) == kAudit);
    SyscallRule eq;
    eq.names = {"socket"};
    eq.args = {ArgRule{0, AF_INET6, 0, ArgOp::EqualTo}};
    CHECK_FALSE(argument_rule_value(socket, eq));
    SyscallRule netlink_any;  // AF_NETLINK without a protocol: any protocol, not one of our values
    netlink_any.names = {"socket"};
    netlink_any.args = {ArgRule{0, 0xffffffff, AF_NETLINK, ArgOp::MaskedEqual}};
    CHECK_FALSE(argument_rule_value(socket, netlink_any));
    SyscallRule lt;
    lt.names = {"socket"};
    lt.args = {ArgRule{0, 38, 0, ArgOp::LessThan}};
    CHECK_FALSE(argument_rule_value(socket, lt));
}

TEST_CASE("merge unions the value sets; a whole-syscall ALLOW makes them moot") {
    Profile a = profile_from_recording(web_recording(), curated());
    Recording rb = web_recording();
    seen(rb, Arch::X86_64, "socket", {AF_INET6});
    Profile b = profile_from_recording(rb, curated());
    Profile m = merge_profiles(std::vector<Profile>{a, b}, {}, nullptr);
    CHECK(argument_view(m).values.at("socket") ==
          std::set<std::uint64_t>{AF_UNIX, AF_INET, AF_INET6, kRoute});
    RecordOptions none = curated();
    none.args = ArgsMode::None;
    Profile whole = profile_from_recording(web_recording(), none);
    Profile mw = merge_profiles(std::vector<Profile>{a, whole}, {}, nullptr);
    CHECK_FALSE(argument_view(mw).values.contains("socket"));
    auto socket = rules_for(mw, "socket");
    REQUIRE(socket.size() == 1);
    CHECK(socket[0]->args.empty());
}

TEST_CASE("diff names added values and new namespace powers; --fail-on added counts them") {
    Profile a = profile_from_recording(web_recording(), curated());
    Recording rb = web_recording();
    seen(rb, Arch::X86_64, "socket", {AF_INET, AF_UNIX, kRoute, kAudit});
    seen(rb, Arch::X86_64, "clone", {0, 0x10000000});  // CLONE_NEWUSER
    Profile b = profile_from_recording(rb, curated());
    ProfileDiff d = diff_profiles(a, b);
    std::vector<std::string> added;
    for (const auto& r : d.rules)
        if (r.added) added.push_back(r.text);
    CHECK(std::find(added.begin(), added.end(), "socket: +AF_NETLINK/NETLINK_AUDIT") != added.end());
    CHECK(std::find(added.begin(), added.end(), "clone: may now create user namespaces") != added.end());
    CHECK(d.lets_more_through());
    CHECK_FALSE(diff_profiles(b, a).lets_more_through());
    CHECK(diff_profiles(a, a).same());
    // Whole -> argument rules is less, not a changed action of every other value.
    RecordOptions none = curated();
    none.args = ArgsMode::None;
    ProfileDiff tighter = diff_profiles(profile_from_recording(web_recording(), none), a);
    CHECK_FALSE(tighter.lets_more_through());
    CHECK(tighter.lets_less_through());
}

TEST_CASE("compile_profile: libseccomp compiles argument rules; more values, more instructions") {
    Profile a = profile_from_recording(web_recording(), curated());
    auto ca = compile_profile(a);
    REQUIRE_MESSAGE(ca.ok(), (ca.ok() ? "" : ca.error().message));
    Recording rb = web_recording();
    std::set<std::uint64_t> many;
    for (std::uint64_t v = 0x5400; v < 0x5400 + 100; ++v) many.insert(v);
    seen(rb, Arch::X86_64, "ioctl", many);
    auto cb = compile_profile(profile_from_recording(rb, curated()));
    REQUIRE(cb.ok());
    CHECK(cb->instructions > ca->instructions + 100);
}

TEST_CASE("profile_from_recording: over the instruction limit the syscalls with the most values go whole") {
    // 14 syscalls of at most 128 values compile to about a thousand instructions per architecture
    // (libseccomp 2.5.4): the kernel's 4,096 takes several architectures of full sets. The limit
    // is lowered here to reach the fallback; the loop is the same.
    Recording r = web_recording();
    const char* names[] = {"ioctl", "fcntl", "prctl", "keyctl", "bpf", "ptrace", "setns", "socketpair"};
    std::uint64_t base = 0x1000;
    for (const char* n : names) {
        std::set<std::uint64_t> v;
        for (std::uint64_t i = 0; i < 128; ++i) v.insert(base + i * 7);
        base += 0x10000;
        seen(r, Arch::X86_64, n, v);
        seen(r, Arch::X86, n, v);  // a second architecture: its own copy of every rule
    }
    std::vector<std::string> notes;
    RecordOptions all = curated();
    all.args = ArgsMode::None;
    auto before = compile_profile(profile_from_recording(r, all));
    REQUIRE(before.ok());
    RecordOptions limited = curated();
    auto full = compile_profile(profile_from_recording(r, limited));
    REQUIRE(full.ok());
    MESSAGE("whole: ", before->instructions, " instructions; curated: ", full->instructions);
    limited.max_instructions = full->instructions / 2;
    Profile p = profile_from_recording(r, limited, &notes);
    auto c = compile_profile(p);
    REQUIRE(c.ok());
    CHECK(c->instructions <= limited.max_instructions);
    CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
        return n.find("128 values; the filter was") != std::string::npos;
    }));
    CHECK(argument_view(p).values.contains("socket"));  // the small sets stay
}

TEST_CASE("an argument profile enforced by the kernel: recorded values work, others get the default errno") {
    // A child loads the compiled filter (no_new_privs) and tries the calls: the real kernel judges.
    Recording r = web_recording();
    seen(r, Arch::X86_64, "exit_group");
    seen(r, Arch::X86_64, "write");
    seen(r, Arch::X86_64, "close");
    RecordOptions o = curated();
    Profile p = profile_from_recording(r, o);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(1));
        for (const auto& rule : p.syscalls) {
            if (rule.action == Action::Errno && !rule.errno_ret) continue;
            std::uint32_t action =
                rule.action == Action::Allow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(*rule.errno_ret);
            for (const auto& n : rule.names) {
                std::vector<scmp_arg_cmp> c;
                for (const auto& a : rule.args)
                    c.push_back({a.index, SCMP_CMP_MASKED_EQ, a.value, a.value_two});
                seccomp_rule_add_array(ctx, action, seccomp_syscall_resolve_name(n.c_str()), c.size(),
                                       c.empty() ? nullptr : c.data());
            }
        }
        // What a sanitizer runtime calls on its own (ASan maps shadow memory in the child): allowed
        // whole, so that only socket and personality, which the checks below use, are judged.
        for (const char* n :
             {"mmap",       "munmap",      "mprotect",     "madvise",        "brk",         "futex",
              "write",      "read",        "close",        "openat",         "readlink",    "getpid",
              "gettid",     "sched_yield", "rt_sigaction", "rt_sigprocmask", "sigaltstack", "exit",
              "exit_group", "prctl",       "getrlimit",    "prlimit64",      "fstat",       "newfstatat",
              "lseek",      "ioctl"})
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(n), 0);
        if (seccomp_load(ctx) != 0) _exit(90);
        int ok = 0;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ok |= (fd >= 0) << 0;
        if (fd >= 0) close(fd);
        ok |= (socket(AF_NETLINK, SOCK_RAW, 9) < 0 && errno == EPERM) << 1;   // NETLINK_AUDIT
        ok |= (personality(0xffffffff) != -1) << 2;                           // the recorded query
        ok |= (personality(READ_IMPLIES_EXEC) == -1 && errno == EPERM) << 3;  // not recorded
        _exit(ok);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0xf);
}

}  // namespace ksc
