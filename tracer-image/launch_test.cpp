#include "launch.h"

#include <dirent.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include "arch.h"

using namespace ksc;
using namespace ksc::tracer;

namespace {

// Runs the launch filter the way the kernel would, for the few instructions it uses: a check that
// the packing round-trips, without installing a filter that could never be removed.
std::uint32_t run_filter(std::uint32_t audit_arch, std::uint32_t nr) {
    sock_fprog prog = seccomp_trace_program();
    std::uint32_t a = 0, x = 0;
    for (unsigned pc = 0; pc < prog.len; ++pc) {
        const sock_filter& i = prog.filter[pc];
        switch (i.code) {
            case BPF_LD | BPF_W | BPF_ABS:
                a = i.k == offsetof(seccomp_data, arch) ? audit_arch : i.k == 0 ? nr : 0xdead;
                break;
            case BPF_LDX | BPF_IMM:
                x = i.k;
                break;
            case BPF_JMP | BPF_JA:
                pc += i.k;
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                pc += a == i.k ? i.jt : i.jf;
                break;
            case BPF_JMP | BPF_JGE | BPF_K:
                pc += a >= i.k ? i.jt : i.jf;
                break;
            case BPF_JMP | BPF_JSET | BPF_K:
                pc += (a & i.k) ? i.jt : i.jf;
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                a &= i.k;
                break;
            case BPF_ALU | BPF_OR | BPF_K:
                a |= i.k;
                break;
            case BPF_ALU | BPF_OR | BPF_X:
                a |= x;
                break;
            case BPF_RET | BPF_A:
                return a;
            case BPF_RET | BPF_K:
                return i.k;
            default:
                FAIL("an instruction the test does not know: ", i.code);
                return 0;
        }
    }
    FAIL("the program ran off its end");
    return 0;
}

}  // namespace

TEST_CASE("the launch filter traces every call and packs (arch, nr) losslessly, or asks") {
    const std::uint32_t arches[] = {0xC000003E, 0x40000003, 0xC00000B7, 0x40000028, 0xC00000F3 /* riscv64 */};
    const std::uint32_t nrs[] = {
        0,       1,         39, 110, 435, 1023, 4095, 4096, 0x40000000, 0x40000000 + 547, 0x40000000 + 4096,
        0xf0002, 0xffffffff};
    for (std::uint32_t arch : arches) {
        for (std::uint32_t nr : nrs) {
            CAPTURE(arch);
            CAPTURE(nr);
            std::uint32_t ret = run_filter(arch, nr);
            CHECK((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE);
            std::uint32_t got_arch = 0;
            std::uint64_t got_nr = 0;
            bool packed = unpack_trace_data(ret & SECCOMP_RET_DATA, got_arch, got_nr);
            bool fits = arch != 0xC00000F3 && (nr & ~0x40000000u) < 4096;
            CHECK(packed == fits);
            if (packed) {
                CHECK(got_arch == arch);
                CHECK(got_nr == nr);
            }
        }
    }
}

namespace {

int open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int n = 0;
    while (readdir(dir)) ++n;
    closedir(dir);
    return n;
}

// In a child process: a filter that answers clone, clone3, fork and vfork with EAGAIN (root
// ignores RLIMIT_NPROC), then start_child, whose fork fails. Exit status: 0 nothing leaked,
// 2 leaked, 3 the launch did not fail as expected, 77 no filter possible here.
int fork_failure_child() {
#if defined(__x86_64__)
    const std::uint32_t native = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    const std::uint32_t native = AUDIT_ARCH_AARCH64;
#else
    return 77;
#endif
    std::vector<sock_filter> insns{BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch))};
    std::vector<std::uint32_t> nrs{SYS_clone};
#ifdef SYS_clone3
    nrs.push_back(SYS_clone3);
#endif
#ifdef SYS_fork
    nrs.push_back(SYS_fork);
#endif
#ifdef SYS_vfork
    nrs.push_back(SYS_vfork);
#endif
    // Another architecture: allowed (jump to the final ALLOW).
    insns.push_back(
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 0, static_cast<std::uint8_t>(1 + 2 * nrs.size())));
    insns.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    for (auto nr : nrs) {
        insns.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
        insns.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN));
    }
    insns.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    sock_fprog prog{static_cast<unsigned short>(insns.size()), insns.data()};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return 77;
    const int before = open_fds();
    auto launched = start_child({"/bin/true"}, false, 0);
    const int after = open_fds();
    const auto* error = std::get_if<LaunchError>(&launched);
    if (!error || error->message.find("fork") == std::string::npos) return 3;
    return before == after ? 0 : 2;
}

}  // namespace

TEST_CASE("a launch whose fork fails leaves no descriptor open") {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(fork_failure_child());
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        MESSAGE("skipped: cannot install a seccomp filter here");
        return;
    }
    CHECK_MESSAGE(WEXITSTATUS(status) != 2, "descriptors leaked when fork failed");
    CHECK(WEXITSTATUS(status) == 0);
}
