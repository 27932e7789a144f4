#include "arch.h"

#include <doctest/doctest.h>

#include <set>

namespace ksc {

TEST_CASE("architectures print as libseccomp's SCMP_ARCH_ names and parse back") {
    CHECK(arch_name(Arch::X86_64) == "SCMP_ARCH_X86_64");
    CHECK(arch_name(Arch::X86) == "SCMP_ARCH_X86");
    CHECK(arch_name(Arch::X32) == "SCMP_ARCH_X32");
    CHECK(arch_name(Arch::AARCH64) == "SCMP_ARCH_AARCH64");
    CHECK(arch_name(Arch::ARM) == "SCMP_ARCH_ARM");
    std::set<std::string_view> names;
    for (Arch arch : all_arches()) {
        CHECK(arch_from_name(arch_name(arch)) == arch);
        CHECK(names.insert(arch_name(arch)).second);
    }
    CHECK(names.size() == 5);
}

TEST_CASE("the short names Docker and libseccomp use are aliases") {
    CHECK(arch_from_name("x86_64") == Arch::X86_64);
    CHECK(arch_from_name("amd64") == Arch::X86_64);
    CHECK(arch_from_name("x86") == Arch::X86);
    CHECK(arch_from_name("i386") == Arch::X86);
    CHECK(arch_from_name("x32") == Arch::X32);
    CHECK(arch_from_name("aarch64") == Arch::AARCH64);
    CHECK(arch_from_name("arm64") == Arch::AARCH64);
    CHECK(arch_from_name("arm") == Arch::ARM);
}

TEST_CASE("unknown architecture names are refused, empty alias slots never match") {
    CHECK_FALSE(arch_from_name("").has_value());
    CHECK_FALSE(arch_from_name("SCMP_ARCH_MIPS").has_value());
    CHECK_FALSE(arch_from_name("X86_64").has_value());  // names are case-sensitive, like libseccomp's
    CHECK_FALSE(arch_from_name("SCMP_ARCH_UNKNOWN").has_value());
}

TEST_CASE("architectures are keyed by their AUDIT_ARCH value") {
    CHECK(arch_from_audit(0xC000003E) == Arch::X86_64);
    CHECK(arch_from_audit(0x40000003) == Arch::X86);
    CHECK(arch_from_audit(0xC00000B7) == Arch::AARCH64);
    CHECK(arch_from_audit(0x40000028) == Arch::ARM);
    CHECK_FALSE(arch_from_audit(0).has_value());
    CHECK_FALSE(arch_from_audit(0x80000016).has_value());  // AUDIT_ARCH_S390X
    CHECK(arch_name(static_cast<Arch>(0x1234)) == "SCMP_ARCH_UNKNOWN");
}

TEST_CASE("classify_syscall: an x86_64 number with the x32 bit is an x32 call") {
    std::uint64_t nr = kX32SyscallBit | 520;  // x32 execve
    CHECK(classify_syscall(0xC000003E, nr) == Arch::X32);
    CHECK(nr == 520);

    nr = 59;  // x86_64 execve
    CHECK(classify_syscall(0xC000003E, nr) == Arch::X86_64);
    CHECK(nr == 59);
}

TEST_CASE("classify_syscall: -1 (no syscall, e.g. a tracer's skipped call) is not x32") {
    std::uint64_t nr = static_cast<std::uint64_t>(-1);
    CHECK(classify_syscall(0xC000003E, nr) == Arch::X86_64);
    CHECK(nr == static_cast<std::uint64_t>(-1));
}

TEST_CASE("classify_syscall: the x32 bit means nothing on other architectures") {
    std::uint64_t nr = kX32SyscallBit | 11;
    CHECK(classify_syscall(0x40000003, nr) == Arch::X86);
    CHECK(nr == (kX32SyscallBit | 11));
    nr = 0xf0005;  // arm's set_tls
    CHECK(classify_syscall(0x40000028, nr) == Arch::ARM);
    CHECK(nr == 0xf0005);
    nr = 1;
    CHECK_FALSE(classify_syscall(0x12345678, nr).has_value());
}

TEST_CASE("compat architectures") {
    auto x86 = compat_arches(Arch::X86_64);
    CHECK(std::set<Arch>(x86.begin(), x86.end()) == std::set<Arch>{Arch::X86, Arch::X32});
    auto arm = compat_arches(Arch::AARCH64);
    CHECK(std::set<Arch>(arm.begin(), arm.end()) == std::set<Arch>{Arch::ARM});
    CHECK(compat_arches(Arch::ARM).empty());
    CHECK(compat_arches(Arch::X86).empty());
}

TEST_CASE("native_arch is the architecture this test was built for") {
#if defined(__x86_64__) && !defined(__ILP32__)
    CHECK(native_arch() == Arch::X86_64);
#elif defined(__aarch64__)
    CHECK(native_arch() == Arch::AARCH64);
#endif
    bool known = false;
    for (Arch arch : all_arches()) known |= arch == native_arch();
    CHECK(known);
}

TEST_CASE("arch_index is each architecture's place in all_arches, and kArchCount for no architecture") {
    unsigned i = 0;
    for (Arch a : all_arches()) CHECK(arch_index(a) == i++);
    CHECK(i == kArchCount);
    CHECK(arch_index(static_cast<Arch>(0x1234)) == kArchCount);
}

}  // namespace ksc
