#include "profile_compile.h"

#include <doctest/doctest.h>

#include <cerrno>

#include "enosys_stub.h"
#include "profile_io.h"
#include "runtime_default.h"
#include "syscall_table.h"

namespace ksc {
namespace {

using bpf::kRetAllow;
using bpf::kRetErrno;
using bpf::kRetKillProcess;
using bpf::kRetKillThread;
using bpf::kRetLog;
using bpf::kRetTrace;
using bpf::kRetTrap;

SyscallRule rule(std::vector<std::string> names, Action action, std::optional<std::uint32_t> errno_ret = {},
                 std::vector<ArgRule> args = {}) {
    SyscallRule r;
    r.names = std::move(names);
    r.action = action;
    r.errno_ret = errno_ret;
    r.args = std::move(args);
    return r;
}

Profile profile(Action default_action, std::optional<std::uint32_t> default_errno,
                std::vector<SyscallRule> rules, std::vector<std::string> arches = {"SCMP_ARCH_X86_64"}) {
    Profile p;
    p.default_action = default_action;
    p.default_errno_ret = default_errno;
    p.architectures = std::move(arches);
    p.syscalls = std::move(rules);
    return p;
}

bpf::Program compiled(const Profile& p, const char* goarch = "amd64") {
    DockerContext node;
    node.goarch = goarch;
    auto program = compile_program(p, node);
    REQUIRE_MESSAGE(program.ok(), (program.ok() ? "" : program.error().message));
    return *program;
}

// The verdict for a call of `name` on `arch` (x32's number with its bit).
std::uint32_t verdict(const bpf::Program& program, std::string_view name,
                      std::vector<std::uint64_t> args = {}, Arch arch = Arch::X86_64) {
    auto nr = syscall_number(arch, name);
    REQUIRE_MESSAGE(nr.has_value(), name);
    bpf::SeccompData d;
    d.nr = static_cast<std::int32_t>(*nr | (arch == Arch::X32 ? kX32SyscallBit : 0));
    d.arch = static_cast<std::uint32_t>(arch == Arch::X32 ? Arch::X86_64 : arch);
    for (std::size_t i = 0; i < args.size() && i < 6; ++i) d.args[i] = args[i];
    return bpf::run(program, d);
}

std::uint32_t verdict_nr(const bpf::Program& program, std::uint32_t nr, Arch arch = Arch::X86_64) {
    bpf::SeccompData d;
    d.nr = static_cast<std::int32_t>(nr);
    d.arch = static_cast<std::uint32_t>(arch);
    return bpf::run(program, d);
}

ArgRule arg(std::uint32_t index, ArgOp op, std::uint64_t value, std::uint64_t value_two = 0) {
    ArgRule a;
    a.index = index;
    a.op = op;
    a.value = value;
    a.value_two = value_two;
    return a;
}

Profile shared_profile(const std::string& rel) {
    auto in = load_input(std::string(KSC_SHARED_DIR) + "/profiles/" + rel);
    REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.error().message));
    REQUIRE(!in->profiles.empty());
    return in->profiles.front().profile;
}

}  // namespace

TEST_CASE("compile_program: every OCI action as runc translates it, ERRNO and TRACE defaulting to EPERM") {
    Profile p = profile(
        Action::Errno, 99,
        {rule({"getpid"}, Action::Allow), rule({"getppid"}, Action::Log), rule({"gettid"}, Action::Errno, 13),
         rule({"getuid"}, Action::Errno), rule({"getgid"}, Action::Trap), rule({"geteuid"}, Action::Kill),
         rule({"getegid"}, Action::KillThread), rule({"getpgrp"}, Action::KillProcess),
         rule({"getsid"}, Action::Trace, 5), rule({"getpgid"}, Action::Trace)});
    bpf::Program program = compiled(p);
    CHECK(verdict(program, "getpid") == kRetAllow);
    CHECK(verdict(program, "getppid") == kRetLog);
    CHECK(verdict(program, "gettid") == (kRetErrno | 13));
    CHECK(verdict(program, "getuid") == (kRetErrno | EPERM));
    CHECK(verdict(program, "getgid") == kRetTrap);
    CHECK(verdict(program, "geteuid") == kRetKillThread);
    CHECK(verdict(program, "getegid") == kRetKillThread);
    CHECK(verdict(program, "getpgrp") == kRetKillProcess);
    CHECK(verdict(program, "getsid") == (kRetTrace | 5));
    CHECK(verdict(program, "getpgid") == (kRetTrace | EPERM));
    CHECK(verdict(program, "read") == (kRetErrno | 99));  // the default
    // The default without errnoRet is EPERM too.
    CHECK(verdict(compiled(profile(Action::Errno, {}, {rule({"getpid"}, Action::Allow)})), "read") ==
          (kRetErrno | EPERM));
    CHECK(verdict(compiled(profile(Action::KillProcess, {}, {rule({"getpid"}, Action::Allow)})), "read") ==
          kRetKillProcess);
}

TEST_CASE("compile_program: every comparison operator, on 64-bit arguments") {
    const std::uint64_t big = 0x100000005ULL;
    Profile p = profile(
        Action::Errno, {},
        {rule({"read"}, Action::Allow, {}, {arg(0, ArgOp::NotEqual, big)}),
         rule({"write"}, Action::Allow, {}, {arg(1, ArgOp::LessThan, big)}),
         rule({"close"}, Action::Allow, {}, {arg(2, ArgOp::LessEqual, big)}),
         rule({"dup"}, Action::Allow, {}, {arg(3, ArgOp::EqualTo, big)}),
         rule({"dup2"}, Action::Allow, {}, {arg(4, ArgOp::GreaterEqual, big)}),
         rule({"lseek"}, Action::Allow, {}, {arg(5, ArgOp::GreaterThan, big)}),
         rule({"fcntl"}, Action::Allow, {}, {arg(1, ArgOp::MaskedEqual, 0xff00000000ULL, 0x1200000000ULL)})});
    bpf::Program program = compiled(p);
    const std::uint32_t deny = kRetErrno | EPERM;
    auto at = [](std::size_t index, std::uint64_t value) {
        std::vector<std::uint64_t> a(6, 0);
        a[index] = value;
        return a;
    };
    CHECK(verdict(program, "read", at(0, big)) == deny);
    CHECK(verdict(program, "read", at(0, 5)) == kRetAllow);  // the low word alone does not decide
    CHECK(verdict(program, "write", at(1, big - 1)) == kRetAllow);
    CHECK(verdict(program, "write", at(1, big)) == deny);
    CHECK(verdict(program, "close", at(2, big)) == kRetAllow);
    CHECK(verdict(program, "close", at(2, big + 1)) == deny);
    CHECK(verdict(program, "close", at(2, 0x6)) == kRetAllow);
    CHECK(verdict(program, "dup", at(3, big)) == kRetAllow);
    CHECK(verdict(program, "dup", at(3, 5)) == deny);
    CHECK(verdict(program, "dup2", at(4, big)) == kRetAllow);
    CHECK(verdict(program, "dup2", at(4, 0xffffffffULL)) == deny);
    CHECK(verdict(program, "lseek", at(5, big + 1)) == kRetAllow);
    CHECK(verdict(program, "lseek", at(5, big)) == deny);
    CHECK(verdict(program, "fcntl", at(1, 0xab12cdcdcdcdULL)) == kRetAllow);
    CHECK(verdict(program, "fcntl", at(1, 0xab13cdcdcdcdULL)) == deny);
}

TEST_CASE("compile_program: conditions on different arguments AND; a repeated argument index ORs (runc)") {
    Profile p =
        profile(Action::Errno, {},
                {rule({"read"}, Action::Allow, {}, {arg(0, ArgOp::EqualTo, 1), arg(2, ArgOp::EqualTo, 3)}),
                 rule({"write"}, Action::Allow, {}, {arg(0, ArgOp::EqualTo, 1), arg(0, ArgOp::EqualTo, 2)})});
    bpf::Program program = compiled(p);
    CHECK(verdict(program, "read", {1, 0, 3}) == kRetAllow);
    CHECK(verdict(program, "read", {1, 0, 4}) == (kRetErrno | EPERM));
    CHECK(verdict(program, "read", {2, 0, 3}) == (kRetErrno | EPERM));
    CHECK(verdict(program, "write", {1}) == kRetAllow);
    CHECK(verdict(program, "write", {2}) == kRetAllow);
    CHECK(verdict(program, "write", {3}) == (kRetErrno | EPERM));
}

TEST_CASE("compile_program: each listed architecture by its own numbers; others get libseccomp's KILL") {
    Profile p = profile(Action::Errno, {}, {rule({"socketcall", "socket", "read"}, Action::Allow)},
                        {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
    bpf::Program program = compiled(p);
    CHECK(verdict(program, "read", {}, Arch::X86_64) == kRetAllow);
    CHECK(verdict(program, "read", {}, Arch::X86) == kRetAllow);
    CHECK(verdict(program, "read", {}, Arch::X32) == kRetAllow);
    CHECK(verdict(program, "socketcall", {}, Arch::X86) == kRetAllow);
    CHECK(verdict(program, "write", {}, Arch::X86) == (kRetErrno | EPERM));
    CHECK(verdict(program, "read", {}, Arch::AARCH64) == kRetKillThread);
    // Without x86 listed, an i386 call is a foreign architecture's.
    bpf::Program native_only = compiled(profile(Action::Errno, {}, {rule({"read"}, Action::Allow)}));
    CHECK(verdict(native_only, "read", {}, Arch::X86) == kRetKillThread);
}

TEST_CASE("compile_program: an arm64 node compiles the arm64 filter on any machine") {
    Profile p = profile(Action::Errno, {}, {rule({"read", "openat"}, Action::Allow)}, {"SCMP_ARCH_AARCH64"});
    bpf::Program program = compiled(p, "arm64");
    CHECK(verdict(program, "openat", {}, Arch::AARCH64) == kRetAllow);
    CHECK(verdict(program, "dup", {}, Arch::AARCH64) == (kRetErrno | EPERM));
    CHECK(verdict(program, "read", {}, Arch::X86_64) == kRetKillThread);
}

TEST_CASE(
    "compile_program: runc's stub answers ENOSYS above the profile's largest syscall, per architecture") {
    // read (0) and openat (257) on x86_64; x86's openat is 295, x32's 257|x32 bit.
    Profile p = profile(Action::Errno, {}, {rule({"read", "openat"}, Action::Allow)},
                        {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"});
    bpf::Program program = compiled(p);
    const std::uint32_t eperm = kRetErrno | EPERM;
    const std::uint32_t enosys = kRetErrno | ENOSYS;
    CHECK(verdict_nr(program, 257) == kRetAllow);
    CHECK(verdict_nr(program, 100) == eperm);  // below the largest: the default
    CHECK(verdict_nr(program, 258) == enosys);
    CHECK(verdict_nr(program, 1000) == enosys);
    CHECK(verdict_nr(program, 295, Arch::X86) == kRetAllow);
    CHECK(verdict_nr(program, 296, Arch::X86) == enosys);
    CHECK(verdict_nr(program, 200, Arch::X86) == eperm);
    CHECK(verdict_nr(program, kX32SyscallBit | 257) == kRetAllow);
    CHECK(verdict_nr(program, kX32SyscallBit | 258) == enosys);
    CHECK(verdict_nr(program, kX32SyscallBit | 100) == eperm);
    CHECK(verdict_nr(program, 56, Arch::AARCH64) == kRetAllow);  // arm64 openat
    CHECK(verdict_nr(program, 64, Arch::AARCH64) == enosys);
    CHECK(verdict_nr(program, 10, Arch::AARCH64) == eperm);

    // x86_64 alone: the x32 numbers fall through to the filter (which refuses them as libseccomp
    // does); the native architecture gets a section even when the profile lists none (runc 1.2).
    bpf::Program alone = compiled(profile(Action::Errno, {}, {rule({"read", "openat"}, Action::Allow)}, {}));
    CHECK(verdict_nr(alone, 258) == enosys);
    CHECK(verdict_nr(alone, 100) == eperm);

    // No stub when the default lets calls through.
    for (Action a : {Action::Allow, Action::Log, Action::Trace}) {
        Profile allow = profile(a, {}, {rule({"read"}, Action::Errno, 3)});
        DockerContext node;
        auto c = compile_profile(allow);
        REQUIRE(c.ok());
        CHECK(c->stub_instructions == 0);
    }
    auto killing = compile_profile(profile(Action::KillProcess, {}, {rule({"openat"}, Action::Allow)}));
    REQUIRE(killing.ok());
    CHECK(killing->stub_instructions > 0);
    CHECK(verdict_nr(killing->program, 1000) == enosys);
    // runc reads a largest number of 0 (x86_64's read alone) as "no syscall named": no section.
    bpf::Program only_read = compiled(profile(Action::KillProcess, {}, {rule({"read"}, Action::Allow)}));
    CHECK(verdict_nr(only_read, 1000) == kRetKillProcess);
}

TEST_CASE("enosys_stub: long jumps past 255 instructions keep the verdicts") {
    // Many architectures sharing no AUDIT_ARCH value make the first section's jumps long: a
    // synthetic list (the values need not be real architectures for the stub's logic).
    std::vector<StubArch> arches;
    for (std::uint32_t i = 0; i < 60; ++i) arches.push_back({0x1000 + i, 100 + i});
    arches.push_back({kAuditArchX86_64, 300});
    arches.push_back({kScmpArchX32, kX32SyscallBit | 400});
    bpf::Program stub = enosys_stub(arches);
    stub.push_back(bpf::Instruction{bpf::op::kRetK, 0, 0, kRetAllow});  // the "filter"
    REQUIRE(bpf::validate(stub).ok());
    for (std::uint32_t i = 0; i < 60; ++i) {
        CHECK(verdict_nr(stub, 100 + i, static_cast<Arch>(0x1000 + i)) == kRetAllow);
        CHECK(verdict_nr(stub, 101 + i, static_cast<Arch>(0x1000 + i)) == (kRetErrno | ENOSYS));
    }
    CHECK(verdict_nr(stub, 300) == kRetAllow);
    CHECK(verdict_nr(stub, 301) == (kRetErrno | ENOSYS));
    CHECK(verdict_nr(stub, kX32SyscallBit | 400) == kRetAllow);
    CHECK(verdict_nr(stub, kX32SyscallBit | 401) == (kRetErrno | ENOSYS));
    CHECK(verdict_nr(stub, 5000, static_cast<Arch>(0x7777)) == kRetAllow);  // not listed: the filter
}

TEST_CASE("compile_program: NOTIFY and programs over 4096 instructions are refused in one line") {
    auto notify = compile_program(profile(Action::Errno, {}, {rule({"read"}, Action::Notify)}));
    REQUIRE_FALSE(notify.ok());
    CHECK(notify.error().message.find("SCMP_ACT_NOTIFY") != std::string::npos);
    CHECK(notify.error().message.find('\n') == std::string::npos);

    std::vector<ArgRule> many;
    for (std::uint64_t v = 0; v < 2500; ++v) many.push_back(arg(1, ArgOp::EqualTo, v << 32 | v));
    auto big = compile_program(profile(Action::Errno, {}, {rule({"ioctl"}, Action::Allow, {}, many)}));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message.find("would be refused by the kernel (") != std::string::npos);
    CHECK(big.error().message.find("the limit is 4096") != std::string::npos);
    CHECK(big.error().message.find('\n') == std::string::npos);
}

TEST_CASE("compile_program: the public profiles compile, valid and under the kernel's limit") {
    for (const char* rel : {"moby/default.json", "k8s-tutorial/audit.json", "k8s-tutorial/fine-grained.json",
                            "k8s-tutorial/violation.json", "spo/baseprofile-runc.yaml",
                            "spo/baseprofile-crun.yaml", "spo/seccompprofile.yaml"}) {
        std::string name = rel;
        CAPTURE(name);
        Profile p = shared_profile(rel);
        auto program = compile_program(p);
        REQUIRE_MESSAGE(program.ok(), (program.ok() ? "" : program.error().message));
        CHECK(bpf::validate(*program).ok());
        CHECK(program->size() <= 4096);
        MESSAGE(name, ": ", program->size(), " instructions");
    }
    // runtime/default for amd64 (Docker conditions evaluated): read allowed, an unknown high
    // number ENOSYS, a known refused call EPERM.
    DockerContext node;
    node.goarch = "amd64";
    node.caps = default_container_caps();
    bpf::Program rd = compiled(runtime_default_profile(node));
    CHECK(verdict(rd, "read") == kRetAllow);
    CHECK(verdict(rd, "mount") == (kRetErrno | EPERM));
    CHECK(verdict_nr(rd, 1000) == (kRetErrno | ENOSYS));
    CHECK(verdict(rd, "clone3") == (kRetErrno | ENOSYS));
}

}  // namespace ksc
