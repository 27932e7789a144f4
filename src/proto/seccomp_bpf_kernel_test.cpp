// bpf::validate and bpf::run against the kernel itself: each program is installed as a seccomp
// filter in a forked child, which then makes a getpid call with chosen arguments; whether the kernel
// accepted the program, and what the call returned or how the child died, must be what our
// interpreter says. Linux only (the unit binary is); the architecture the tests run on.
#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ostream>
#include <random>

#include "seccomp_bpf.h"
#include "seccomp_bpf_testing.h"

using namespace ksc::bpf;
using namespace ksc::bpf::testing;

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
#error "add this architecture's AUDIT_ARCH_* value"
#endif

struct Outcome {
    bool accepted = false;  // the kernel installed the program
    int install_errno = 0;
    int signal = 0;         // the child died of it
    bool allowed = false;   // getpid returned the child's pid
    long errno_value = -1;  // getpid failed (or returned 0: ERRNO 0) with this errno
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    return os << "{accepted " << o.accepted << ", install errno " << o.install_errno << ", signal "
              << o.signal << ", allowed " << o.allowed << ", errno " << o.errno_value << "}";
}

// Only the test's own getpid meets the program; the child's other calls (write, exit_group) are
// allowed by a prefix, so that a verdict cannot stop the child from reporting.
Program wrapped(const Program& p) {
    Program w = {ld_abs(0), jmp(kJeqK, 1, 0, SYS_getpid), ret_k(kRetAllow)};
    w.insert(w.end(), p.begin(), p.end());
    return w;
}

struct Report {
    int stage;  // 1 installed or refused, 2 called
    int install_errno;
    long ret;
    int err;
    long pid;
};

// Installs `program` (as given: the caller wraps it) in a child and calls getpid with `args`.
Outcome in_kernel(const Program& program, const std::uint64_t (&args)[6]) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        ::prctl(PR_SET_DUMPABLE, 0);  // no core files from SIGSYS
        Report r{1, 0, 0, 0, ::getpid()};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(3);
        sock_fprog prog{static_cast<unsigned short>(program.size()),
                        reinterpret_cast<sock_filter*>(const_cast<Instruction*>(program.data()))};
        if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
            r.install_errno = errno;
            (void)!::write(fds[1], &r, sizeof r);
            ::_exit(0);
        }
        errno = 0;
        r.ret = ::syscall(SYS_getpid, args[0], args[1], args[2], args[3], args[4], args[5]);
        r.err = errno;
        r.stage = 2;
        (void)!::write(fds[1], &r, sizeof r);
        ::_exit(0);
    }
    ::close(fds[1]);
    Report r{};
    ssize_t n = ::read(fds[0], &r, sizeof r);
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    Outcome o;
    if (WIFSIGNALED(status)) {
        o.accepted = true;
        o.signal = WTERMSIG(status);
        return o;
    }
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(n == static_cast<ssize_t>(sizeof r));
    o.accepted = r.stage == 2;
    o.install_errno = r.install_errno;
    if (!o.accepted) return o;
    if (r.ret == r.pid)
        o.allowed = true;
    else
        o.errno_value = r.ret == 0 ? 0 : r.err;
    return o;
}

// What the kernel does, by our interpreter, for `program` (as given) and the same call.
Outcome predicted(const Program& program, const std::uint64_t (&args)[6], std::uint64_t ip) {
    Outcome o;
    if (!validate(program).ok()) {
        o.install_errno = EINVAL;
        return o;
    }
    o.accepted = true;
    SeccompData d;
    d.nr = SYS_getpid;
    d.arch = kNativeArch;
    d.instruction_pointer = ip;
    std::memcpy(d.args, args, sizeof d.args);
    std::uint32_t verdict = run(program, d);
    switch (verdict_action(verdict)) {
        case kRetAllow:
        case kRetLog:
            o.allowed = true;
            break;
        case kRetErrno:
            o.errno_value = verdict_errno(verdict);
            break;
        case kRetTrace:      // no tracer
        case kRetUserNotif:  // no listener
            o.errno_value = ENOSYS;
            break;
        default:  // TRAP with SIGSYS's default action, the kills
            o.signal = SIGSYS;
            break;
    }
    return o;
}

// The instruction pointer seccomp_data holds for the test's getpid: the same in every child (one
// call site in libc's syscall(), the address space copied by fork). Read 11 bits at a time, as
// ERRNO verdicts of 1 + those bits.
std::uint64_t instruction_pointer() {
    static const std::uint64_t ip = [] {
        std::uint64_t value = 0;
        const std::uint64_t none[6] = {};
        for (std::uint32_t word : {8U, 12U}) {
            for (std::uint32_t shift : {0U, 11U, 22U}) {
                Program p = {ld_abs(word),      insn(kAluRshK, shift),    insn(kAluAndK, 0x7ff),
                             insn(kAluAddK, 1), insn(kAluOrK, kRetErrno), ret_a()};
                Outcome o = in_kernel(wrapped(p), none);
                REQUIRE(o.errno_value > 0);
                value |= static_cast<std::uint64_t>(o.errno_value - 1) << ((word - 8) * 8 + shift);
            }
        }
        return value;
    }();
    return ip;
}

// Whether this process may install a seccomp filter at all (a container's own filter or a kernel
// without CONFIG_SECCOMP_FILTER may refuse); the kernel tests say so and pass when it may not.
bool kernel_available() {
    static const bool available = [] {
        const std::uint64_t none[6] = {};
        Outcome o = in_kernel(wrapped({ret_k(kRetErrno | 5)}), none);
        if (o.errno_value == 5) return true;
        MESSAGE("this process cannot install a seccomp filter (errno "
                << o.install_errno << "): the kernel comparisons are skipped");
        return false;
    }();
    return available;
}

void compare(const Program& program, const std::uint64_t (&args)[6]) {
    Program w = wrapped(program);
    Outcome want = predicted(w, args, instruction_pointer());
    Outcome got = in_kernel(w, args);
    CHECK(got == want);
}

}  // namespace

TEST_CASE("bpf kernel: the probe reads the call's instruction pointer the kernel passes") {
    if (!kernel_available()) return;
    std::uint64_t ip = instruction_pointer();
    CHECK(ip != 0);
    const std::uint64_t none[6] = {};
    // The two words of the pointer, compared whole.
    compare(
        {ld_abs(8), jmp(kJeqK, 0, 3, static_cast<std::uint32_t>(ip)), ld_abs(12),
         jmp(kJeqK, 0, 1, static_cast<std::uint32_t>(ip >> 32)), ret_k(kRetErrno | 7), ret_k(kRetErrno | 8)},
        none);
    Outcome o = in_kernel(wrapped({ld_abs(8), jmp(kJeqK, 0, 1, static_cast<std::uint32_t>(ip)),
                                   ret_k(kRetErrno | 7), ret_k(kRetErrno | 8)}),
                          none);
    CHECK(o.errno_value == 7);
}

TEST_CASE("bpf kernel: every action's outcome, as the interpreter predicts it") {
    if (!kernel_available()) return;
    const std::uint64_t args[6] = {1, 2, 3, 4, 5, 6};
    for (std::uint32_t v :
         {kRetAllow, kRetLog, kRetErrno | 1, kRetErrno | 0, kRetErrno | 4095, kRetErrno | 0xffff, kRetTrap,
          kRetKillThread, kRetKillProcess, kRetTrace, kRetUserNotif, 0x00010000U}) {
        CAPTURE(v);
        compare({ret_k(v)}, args);
    }
}

TEST_CASE("bpf kernel: division by a zero X kills, as the interpreter's 0 verdict says") {
    if (!kernel_available()) return;
    const std::uint64_t args[6] = {};
    compare({insn(kLdImm, 7), insn(kLdxImm, 0), insn(kAluDivX), ret_k(kRetErrno | 3)}, args);
    CHECK(run(Program{insn(kLdImm, 7), insn(kLdxImm, 0), insn(kAluDivX), ret_k(kRetErrno | 3)},
              SeccompData{}) == 0);
}

TEST_CASE("bpf kernel: shifts by X of 32 and more, and 64-bit arguments' halves") {
    if (!kernel_available()) return;
    for (std::uint64_t a : {0ULL, 1ULL, 31ULL, 32ULL, 33ULL, 63ULL, 0x100000001ULL, 0xffffffffffffffffULL}) {
        const std::uint64_t args[6] = {a, a >> 1, 0, 0, 0, 0x123456789abcdef0ULL};
        CAPTURE(a);
        compare({insn(kLdImm, 0x80000001), insn(kSt, 0), ld_abs(16), insn(kTax), insn(kLdMem, 0),
                 insn(kAluLshX), insn(kAluAndK, 0xfff), insn(kAluOrK, kRetErrno), ret_a()},
                args);
        compare({insn(kLdImm, 0x80000001), insn(kSt, 0), ld_abs(16), insn(kTax), insn(kLdMem, 0),
                 insn(kAluRshX), insn(kAluAndK, 0xfff), insn(kAluOrK, kRetErrno), ret_a()},
                args);
        compare({ld_abs(20), insn(kAluAndK, 0xfff), insn(kAluOrK, kRetErrno), ret_a()}, args);
        compare({ld_abs(60), insn(kAluRshK, 20), insn(kAluOrK, kRetErrno), ret_a()}, args);
    }
}

TEST_CASE("bpf kernel: refused programs are the ones validate refuses") {
    if (!kernel_available()) return;
    const std::uint64_t args[6] = {};
    compare({ld_abs(64), ret_a()}, args);
    compare({ld_abs(2), ret_a()}, args);
    compare({insn(0x94, 3), ret_a()}, args);  // MOD K: classic BPF has it, seccomp does not
    compare({insn(0x28, 0), ret_a()}, args);  // LD H ABS
    compare({insn(kAluDivK, 0), ret_a()}, args);
    compare({insn(kAluLshK, 32), ret_a()}, args);
    compare({insn(kLdMem, 0), ret_a()}, args);
    compare({jmp(kJeqK, 0, 1, 0), insn(kSt, 0), insn(kLdMem, 0), ret_a()}, args);
    compare({insn(kSt, 0), jmp(kJeqK, 0, 1, 0), insn(kSt, 1), insn(kLdMem, 0), ret_a()}, args);
    compare({insn(kLdImm, 1)}, args);
    // The length limit, prefix included.
    Program longest = wrapped(Program(kMaxInstructions - 3, ret_k(kRetErrno | 9)));
    REQUIRE(longest.size() == kMaxInstructions);
    CHECK(in_kernel(longest, args) == predicted(longest, args, instruction_pointer()));
    CHECK(predicted(longest, args, 0).errno_value == 9);
    longest.push_back(ret_k(kRetErrno | 9));
    CHECK(in_kernel(longest, args) == predicted(longest, args, 0));
    CHECK_FALSE(predicted(longest, args, 0).accepted);
}

TEST_CASE("bpf kernel: random valid programs give the kernel's verdicts (fixed seed)") {
    if (!kernel_available()) return;
    std::mt19937 rng(4096);
    for (int i = 0; i < 400; ++i) {
        // Half with every kind of verdict, half whose paths end in distinct errnos.
        Program p = random_program(rng, 40, i % 2 == 1);
        std::uint64_t args[6];
        SeccompData d = random_call(rng);
        std::memcpy(args, d.args, sizeof args);
        CAPTURE(i);
        compare(p, args);
    }
}

TEST_CASE("bpf kernel: random mutations are accepted or refused as the kernel does (fixed seed)") {
    if (!kernel_available()) return;
    std::mt19937 rng(4097);
    for (int i = 0; i < 300; ++i) {
        Program p = random_program(rng, 12);
        Instruction& m = p[rng() % p.size()];
        switch (rng() % 5) {
            case 0:
                m.code = static_cast<std::uint16_t>(rng() % 0x100);
                break;
            case 1:
                m.code = static_cast<std::uint16_t>(rng());
                break;
            case 2:
                m.k = rng() % 80;
                break;
            case 3:
                m.jt = static_cast<std::uint8_t>(rng() % 16);
                break;
            default:
                m.jf = static_cast<std::uint8_t>(rng() % 16);
                break;
        }
        std::uint64_t args[6];
        SeccompData d = random_call(rng);
        std::memcpy(args, d.args, sizeof args);
        CAPTURE(i);
        compare(p, args);
    }
}
