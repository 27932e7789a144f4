#include "syscall_table.h"

#include <doctest/doctest.h>
#include <seccomp.h>

#include <set>
#include <string>
#include <tuple>

namespace ksc {
namespace {

std::tuple<int, int> version_key(std::string_view v) {
    auto dot = v.find('.');
    REQUIRE(dot != std::string_view::npos);
    return {std::stoi(std::string(v.substr(0, dot))), std::stoi(std::string(v.substr(dot + 1)))};
}

std::uint32_t scmp_arch(Arch arch) {
    switch (arch) {
        case Arch::X86_64:
            return SCMP_ARCH_X86_64;
        case Arch::X86:
            return SCMP_ARCH_X86;
        case Arch::X32:
            return SCMP_ARCH_X32;
        case Arch::AARCH64:
            return SCMP_ARCH_AARCH64;
        case Arch::ARM:
            return SCMP_ARCH_ARM;
    }
    return 0;
}

}  // namespace

TEST_CASE("syscall tables are current to Linux 6.18") {
    CHECK(syscall_table_kernel() == "6.18");
}

TEST_CASE("every architecture has a table sorted by number, with unique names and numbers") {
    for (Arch arch : all_arches()) {
        CAPTURE(arch_name(arch));
        auto entries = syscalls(arch);
        CHECK(entries.size() > 300);
        std::set<std::string_view> names;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (i > 0) CHECK(entries[i - 1].nr < entries[i].nr);
            CHECK(names.insert(entries[i].name).second);
            CHECK_FALSE(version_key(syscall_table_kernel()) < version_key(entries[i].since));
        }
    }
}

TEST_CASE("lookups work both ways for every entry") {
    for (Arch arch : all_arches()) {
        for (const auto& entry : syscalls(arch)) {
            CAPTURE(arch_name(arch));
            CAPTURE(entry.name);
            CHECK(syscall_name(arch, entry.nr) == entry.name);
            CHECK(syscall_number(arch, entry.name) == entry.nr);
            CHECK(find_syscall(arch, entry.name) == &entry);
        }
    }
}

TEST_CASE("well-known numbers per architecture") {
    CHECK(syscall_number(Arch::X86_64, "read") == 0u);
    CHECK(syscall_number(Arch::X86_64, "execve") == 59u);
    CHECK(syscall_number(Arch::X86, "execve") == 11u);
    CHECK(syscall_number(Arch::X86, "socket") == 359u);
    // x32 has its own numbers for calls that pass pointers to structs with longs, stored
    // without the x32 bit.
    CHECK(syscall_number(Arch::X32, "execve") == 520u);
    CHECK(syscall_number(Arch::X32, "read") == 0u);
    CHECK(syscall_number(Arch::AARCH64, "openat") == 56u);
    CHECK(syscall_number(Arch::ARM, "openat") == 322u);
    CHECK(syscall_number(Arch::ARM, "set_tls") == 0xf0005u);
    CHECK(syscall_name(Arch::ARM, 0xf0002) == "cacheflush");
}

TEST_CASE("legacy syscalls are absent where the architecture never had them") {
    for (auto name : {"open", "fork", "stat", "access", "pipe", "dup2", "epoll_wait"})
        CHECK_FALSE(syscall_number(Arch::AARCH64, name).has_value());
    CHECK_FALSE(syscall_number(Arch::X86_64, "socketcall").has_value());
    CHECK(syscall_number(Arch::X86, "socketcall") == 102u);
    CHECK_FALSE(syscall_number(Arch::X86_64, "clock_gettime64").has_value());
    CHECK(syscall_number(Arch::ARM, "clock_gettime64") == 403u);
    CHECK_FALSE(syscall_number(Arch::ARM, "memfd_secret").has_value());
    // uprobe trampolines exist on x86_64 only.
    CHECK(syscall_number(Arch::X86_64, "uretprobe") == 335u);
    CHECK_FALSE(syscall_number(Arch::AARCH64, "uretprobe").has_value());
}

TEST_CASE("syscalls newer than Debian's libseccomp and headers are present with their version") {
    struct Expect {
        const char* name;
        std::uint32_t nr;
        const char* since;
    };
    const Expect newer[] = {
        {"process_mrelease", 448, "5.15"},
        {"futex_waitv", 449, "5.16"},
        {"set_mempolicy_home_node", 450, "5.17"},
        {"cachestat", 451, "6.5"},
        {"fchmodat2", 452, "6.6"},
        {"futex_wake", 454, "6.7"},
        {"futex_wait", 455, "6.7"},
        {"futex_requeue", 456, "6.7"},
        {"statmount", 457, "6.8"},
        {"listmount", 458, "6.8"},
        {"lsm_get_self_attr", 459, "6.8"},
        {"lsm_set_self_attr", 460, "6.8"},
        {"lsm_list_modules", 461, "6.8"},
        {"mseal", 462, "6.10"},
        {"setxattrat", 463, "6.13"},
        {"getxattrat", 464, "6.13"},
        {"listxattrat", 465, "6.13"},
        {"removexattrat", 466, "6.13"},
        {"open_tree_attr", 467, "6.15"},
        {"file_getattr", 468, "6.17"},
        {"file_setattr", 469, "6.17"},
    };
    for (Arch arch : all_arches()) {
        for (const auto& e : newer) {
            CAPTURE(arch_name(arch));
            CAPTURE(e.name);
            const auto* entry = find_syscall(arch, e.name);
            REQUIRE(entry != nullptr);
            CHECK(entry->nr == e.nr);
            CHECK(entry->since == e.since);
        }
    }
    // map_shadow_stack's number came to x86_64 first, to the other tables one release later.
    CHECK(find_syscall(Arch::X86_64, "map_shadow_stack")->since == "6.6");
    CHECK(find_syscall(Arch::AARCH64, "map_shadow_stack")->since == "6.7");
    CHECK(find_syscall(Arch::X86_64, "uprobe")->nr == 336u);
}

TEST_CASE("an architecture's first kernel bounds the version") {
    CHECK(find_syscall(Arch::AARCH64, "read")->since == "3.7");
    CHECK(find_syscall(Arch::X32, "read")->since == "3.4");
    CHECK(find_syscall(Arch::X86_64, "read")->since == "3.0");
    CHECK(find_syscall(Arch::X86, "socket")->since == "4.3");
    CHECK(find_syscall(Arch::X86_64, "clone3")->since == "5.3");
}

TEST_CASE("unknown numbers and names give nothing") {
    for (Arch arch : all_arches()) {
        CHECK_FALSE(syscall_name(arch, 100000).has_value());
        CHECK_FALSE(syscall_name(arch, 0xffffffffu).has_value());
        CHECK_FALSE(syscall_number(arch, "no_such_syscall").has_value());
        CHECK_FALSE(syscall_number(arch, "").has_value());
        CHECK(find_syscall(arch, "zzz") == nullptr);
    }
    // x86_64 leaves 335..423 mostly unassigned ("don't use numbers 387 through 423").
    CHECK_FALSE(syscall_name(Arch::X86_64, 400).has_value());
    CHECK(syscalls(static_cast<Arch>(0x12345)).empty());
}

// libseccomp 2.5.4 (Debian 12) knows syscalls up to about Linux 5.15: wherever it knows a name on
// an architecture, its number must be ours.
TEST_CASE("tables agree with libseccomp where libseccomp knows the syscall") {
    for (Arch arch : all_arches()) {
        CAPTURE(arch_name(arch));
        int compared = 0;
        for (const auto& entry : syscalls(arch)) {
            std::string name(entry.name);
            int nr = seccomp_syscall_resolve_name_arch(scmp_arch(arch), name.c_str());
            if (nr < 0) continue;  // unknown to libseccomp, or a pseudo-syscall on this arch
            std::uint32_t theirs = static_cast<std::uint32_t>(nr);
            if (arch == Arch::X32) theirs &= ~kX32SyscallBit;
            CAPTURE(name);
            CHECK(theirs == entry.nr);
            ++compared;
        }
        MESSAGE(arch_name(arch), ": ", compared, " syscalls compared with libseccomp");
        CHECK(compared > 250);
    }
}

}  // namespace ksc
