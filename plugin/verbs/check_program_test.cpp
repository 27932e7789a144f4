#include "check_program.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "syscall_table.h"
#include "user_error.h"

namespace ksc::cli {
namespace {

Profile read_write_only() {
    Profile p;
    p.default_action = Action::Errno;
    p.default_errno_ret = 1;
    p.architectures = {std::string(arch_name(native_arch()))};
    p.syscalls = {{{"read", "write", "exit_group"}, Action::Allow, {}},
                  {{"clone3"}, Action::Errno, 38},
                  {{"ptrace"}, Action::KillProcess, {}}};
    return p;
}

}  // namespace

TEST_CASE("check program: the tracer's flags carry the program; launch modes add --check-only") {
    auto program = compile_for_check(read_write_only(), "p.json");
    CHECK(program.size() > 4);
    auto eval = tracer_check_args(program, "eval");
    REQUIRE(eval.size() == 4);
    CHECK(eval[0] == "--check-program");
    CHECK(eval[3] == "eval");
    auto complain = tracer_check_args(program, "complain");
    CHECK(std::find(complain.begin(), complain.end(), "--check-only") != complain.end());
}

TEST_CASE("check program: NOTIFY is refused in one line naming the file") {
    Profile p = read_write_only();
    p.syscalls.push_back({{"openat"}, Action::Notify, {}});
    try {
        compile_for_check(p, "p.json");
        FAIL("NOTIFY compiled");
    } catch (const UserError& e) {
        CHECK(std::string(e.what()).find("p.json: SCMP_ACT_NOTIFY") == 0);
    }
}

TEST_CASE("check program: an ended app's syscalls are judged by the program, allowed ones left out") {
    auto program = compile_for_check(read_write_only(), "p.json");
    Recording rec;
    const Arch a = native_arch();
    for (std::string name : {"read", "openat", "clone3", "ptrace"}) {
        auto nr = syscall_number(a, name);
        REQUIRE(nr);
        RecordedSyscall sc;
        sc.arch = a;
        sc.nr = *nr;
        sc.name = name;
        rec.syscalls[{a, *nr}] = sc;
    }
    auto ds = denials_from_syscalls(rec, program);
    REQUIRE(ds.size() == 3);  // read is allowed
    auto find = [&](const std::string& name) {
        return *std::find_if(ds.begin(), ds.end(), [&](const CheckDenial& d) { return d.name == name; });
    };
    CHECK(find("openat").action == "SCMP_ACT_ERRNO");
    CHECK(find("openat").errno_value == 1);
    CHECK(find("clone3").errno_value == 38);
    CHECK(find("ptrace").action == "SCMP_ACT_KILL_PROCESS");
    CHECK_FALSE(find("ptrace").errno_value);
}

TEST_CASE("check program: a program over the kernel's 4,096 instructions is refused in one line") {
    Profile p = read_write_only();
    SyscallRule many;
    many.names = {"ioctl"};
    for (std::uint64_t v = 0; v < 4500; ++v) {
        SyscallRule r = many;
        r.args = {ArgRule{1, v, 0, ArgOp::EqualTo}};
        p.syscalls.push_back(r);
    }
    try {
        auto program = compile_for_check(p, "big.json");
        FAIL("a program of " << program.size() << " instructions compiled");
    } catch (const UserError& e) {
        std::string what = e.what();
        CHECK(what.rfind("big.json: ", 0) == 0);
        CHECK(what.find("4096") != std::string::npos);
        CHECK(what.find('\n') == std::string::npos);
    }
}

TEST_CASE("check program: compiled for the node's architecture, not this machine's") {
    Profile p = read_write_only();
    p.architectures.clear();
    auto here = compile_for_check(p, "p.json");
    auto arm64 = compile_for_check(p, "p.json", "arm64");
    CHECK(bpf::pack(here) != bpf::pack(arm64));
    bpf::SeccompData data;
    data.arch = static_cast<std::uint32_t>(Arch::AARCH64);
    data.nr = 63;  // read on arm64
    CHECK((bpf::run(arm64, data) & bpf::kRetActionFull) == bpf::kRetAllow);
    CHECK_THROWS_AS(compile_for_check(p, "p.json", "mips"), UserError);
}

}  // namespace ksc::cli
