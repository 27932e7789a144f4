#include "syscall_counts.h"

#include <doctest/doctest.h>

using namespace ksc;
using namespace ksc::tracer;

TEST_CASE("a counter per (arch, nr), stable, for small and large numbers") {
    SyscallCounts rec(true);
    SyscallStat& a = rec.stat(Arch::X86_64, 0);
    SyscallStat& b = rec.stat(Arch::X86, 0);
    SyscallStat& big = rec.stat(Arch::ARM, 0xf0002);  // ARM's private cacheflush
    CHECK(&a != &b);
    CHECK(&rec.stat(Arch::X86_64, 0) == &a);
    CHECK(&rec.stat(Arch::ARM, 0xf0002) == &big);
    a.count = 2;
    big.count = 1;
    for (int i = 0; i < 3000; ++i) rec.stat(Arch::AARCH64, 5000 + i);  // no pointer moves
    CHECK(&rec.stat(Arch::ARM, 0xf0002) == &big);
    auto seen = rec.seen();
    CHECK(seen[Arch::X86_64] == std::set<std::uint32_t>{0});
    CHECK(seen[Arch::ARM] == std::set<std::uint32_t>{0xf0002});
    CHECK(seen.count(Arch::X86) == 0);  // a counter at zero is nothing seen
}

TEST_CASE("the summary lists counts, errnos and late_only, sorted by arch then number") {
    SyscallCounts rec(true);
    rec.stat(Arch::X86_64, 257).count = 5;
    auto& read = rec.stat(Arch::X86_64, 0);
    read.count = 3;
    read.made_early = true;
    rec.count_error(rec.stat(Arch::X86_64, 257), 2);
    rec.count_error(rec.stat(Arch::X86_64, 257), 2);
    rec.count_error(rec.stat(Arch::X86_64, 257), 13);
    rec.stat(Arch::X86, 20).count = 1;
    rec.lose("unknown architecture", 2);
    auto s = rec.summary(true, 1.5);
    CHECK(s.final);
    CHECK(s.returns_seen);
    REQUIRE(s.syscalls.size() == 3);
    CHECK(s.syscalls[0].arch == Arch::X86_64);
    CHECK(s.syscalls[0].nr == 0);
    CHECK_FALSE(s.syscalls[0].late_only);
    CHECK(s.syscalls[1].nr == 257);
    CHECK(s.syscalls[1].late_only);
    CHECK(s.syscalls[1].errors == std::map<int, std::uint64_t>{{2, 2}, {13, 1}});
    CHECK(s.syscalls[2].arch == Arch::X86);
    REQUIRE(s.lost.size() == 1);
    CHECK(s.lost[0].count == 2);
}
