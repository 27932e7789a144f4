#include "syscall_args.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/ptrace.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "syscall_table.h"

namespace ksc {
namespace {

const ArgSpec& spec(std::string_view name) {
    const ArgSpec* s = arg_spec_any(name);
    REQUIRE(s != nullptr);
    return *s;
}

TEST_CASE("every argument-table syscall exists on each architecture it is recorded on") {
    for (const auto& s : arg_specs())
        for (Arch a : all_arches())
            if (s.arches & (1u << arch_index(a))) CHECK_MESSAGE(syscall_number(a, s.syscall), s.syscall);
}

TEST_CASE("the argument positions are the kernel's on every architecture") {
    for (Arch a : all_arches()) {
        CHECK(arg_spec(a, "socket")->index == 0);
        CHECK(arg_spec(a, "clone")->index == 0);  // clone's flags come first everywhere
        CHECK(arg_spec(a, "ioctl")->index == 1);
        CHECK(arg_spec(a, "fcntl")->index == 1);
        CHECK(arg_spec(a, "setns")->index == 1);
    }
    CHECK(arg_spec(Arch::AARCH64, "arch_prctl") == nullptr);  // x86 only
    CHECK(arg_spec(Arch::X86_64, "fcntl64") == nullptr);
    CHECK(arg_spec(Arch::X86, "socketcall") == nullptr);  // arguments behind a pointer: whole
    CHECK(arg_spec(Arch::X86_64, "clone3") == nullptr);
}

TEST_CASE("the value names agree with the system headers") {
    CHECK(arg_name("socket_domain", AF_INET) == "AF_INET");
    CHECK(arg_name("socket_domain", AF_NETLINK) == "AF_NETLINK");
    CHECK(arg_name("socket_domain", AF_VSOCK) == "AF_VSOCK");
    CHECK(arg_name("socket_domain", AF_ALG) == "AF_ALG");
    CHECK(arg_name("socket_domain", AF_PACKET) == "AF_PACKET");
    CHECK(arg_name("netlink_protocol", NETLINK_AUDIT) == "NETLINK_AUDIT");
    CHECK(arg_name("netlink_protocol", NETLINK_XFRM) == "NETLINK_XFRM");
    CHECK(arg_name("clone_flags", CLONE_NEWUSER) == "CLONE_NEWUSER");
    CHECK(arg_name("clone_flags", CLONE_NEWNET) == "CLONE_NEWNET");
    CHECK(arg_name("personality", READ_IMPLIES_EXEC) == "READ_IMPLIES_EXEC");
    CHECK(arg_name("prctl_option", PR_SET_NO_NEW_PRIVS) == "PR_SET_NO_NEW_PRIVS");
    CHECK(arg_name("prctl_option", PR_SET_SECCOMP) == "PR_SET_SECCOMP");
    CHECK(arg_name("ioctl_request", TIOCSTI) == "TIOCSTI");
    CHECK(arg_name("ioctl_request", TCGETS) == "TCGETS");
    CHECK(arg_name("ioctl_request", FIONBIO) == "FIONBIO");
    CHECK(arg_name("keyctl_operation", KEYCTL_JOIN_SESSION_KEYRING) == "KEYCTL_JOIN_SESSION_KEYRING");
    CHECK(arg_name("bpf_command", BPF_PROG_LOAD) == "BPF_PROG_LOAD");
    CHECK(arg_name("ptrace_request", PTRACE_ATTACH) == "PTRACE_ATTACH");
    CHECK(arg_name("ptrace_request", PTRACE_SEIZE) == "PTRACE_SEIZE");
    CHECK(arg_name("fcntl_command", F_DUPFD_CLOEXEC) == "F_DUPFD_CLOEXEC");
    CHECK(arg_name("fcntl_command", F_SETFL) == "F_SETFL");
    // The namespace mask of clone is Docker's: every CLONE_NEW* but CLONE_NEWTIME, whose bit is
    // part of clone()'s exit signal (only clone3 and unshare take it).
    CHECK(spec("clone").mask == (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                 CLONE_NEWPID | CLONE_NEWNET));
    CHECK(spec("unshare").mask == (spec("clone").mask | 0x80u));
}

TEST_CASE("a recorded value keeps the low 32 bits, so -1 and 0xffffffff are one value") {
    std::uint64_t a[6] = {0xffffffffffffffffull, 0, 0, 0, 0, 0};
    std::uint64_t b[6] = {0xffffffffull, 0, 0, 0, 0, 0};
    CHECK(arg_value(spec("personality"), a) == arg_value(spec("personality"), b));
    CHECK(arg_value(spec("personality"), a) == 0xffffffffull);
}

TEST_CASE("clone records only its namespace bits") {
    std::uint64_t fork_like[6] = {0x01200011, 0, 0, 0, 0, 0};  // CLONE_CHILD_SETTID|CLEARTID|SIGCHLD
    std::uint64_t userns[6] = {CLONE_NEWUSER | CLONE_NEWNS | 0x11, 0, 0, 0, 0, 0};
    CHECK(arg_value(spec("clone"), fork_like) == 0);
    CHECK(arg_value(spec("clone"), userns) == (CLONE_NEWUSER | CLONE_NEWNS));
    CHECK(arg_value_name(spec("clone"), 0) == "no namespace flags");
    CHECK(arg_value_name(spec("clone"), CLONE_NEWUSER | CLONE_NEWNS) == "CLONE_NEWNS|CLONE_NEWUSER");
}

TEST_CASE("socket records the netlink protocol of AF_NETLINK sockets only") {
    std::uint64_t inet[6] = {AF_INET, SOCK_STREAM, 6, 0, 0, 0};
    std::uint64_t audit[6] = {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT, 0, 0, 0};
    std::uint64_t route[6] = {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, 0, 0, 0};
    CHECK(arg_value(spec("socket"), inet) == AF_INET);
    CHECK(arg_value_name(spec("socket"), arg_value(spec("socket"), audit)) == "AF_NETLINK/NETLINK_AUDIT");
    CHECK(arg_value_name(spec("socket"), arg_value(spec("socket"), route)) == "AF_NETLINK/NETLINK_ROUTE");
    CHECK(arg_value(spec("socket"), audit) != arg_value(spec("socket"), route));
}

TEST_CASE("value names read back") {
    for (std::string_view name : {"AF_INET", "AF_NETLINK/NETLINK_AUDIT", "AF_NETLINK/0x55", "0x99"}) {
        auto v = arg_value_from_name(spec("socket"), name);
        REQUIRE(v);
        CHECK(arg_value_name(spec("socket"), *v) == name);
    }
    CHECK_FALSE(arg_value_from_name(spec("socket"), "AF_NETLINK"));  // which protocol?
    CHECK_FALSE(arg_value_from_name(spec("socket"), "AF_NOPE"));
    CHECK(arg_value_from_name(spec("personality"), "-1") == 0xffffffffull);
    CHECK(arg_value_from_name(spec("clone"), "CLONE_NEWUSER|CLONE_NEWNET") == (CLONE_NEWUSER | CLONE_NEWNET));
    CHECK(arg_value_from_name(spec("clone"), "no namespace flags") == 0);
}

}  // namespace
}  // namespace ksc
