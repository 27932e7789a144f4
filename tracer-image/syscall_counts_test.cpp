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

namespace ksc::tracer {

TEST_CASE("recording: argument values are kept once each, up to kMaxArgValues, then the syscall goes whole") {
    SyscallCounts rec(true);
    SyscallStat& s = rec.stat(Arch::X86_64, 250);
    s.count = 1;
    s.spec = arg_spec(Arch::X86_64, "keyctl");
    REQUIRE(s.spec);
    CHECK(rec.note_value(s, 7) == ArgNews::New);
    const ArgValues* storage = s.values.get();
    CHECK(rec.note_value(s, 7) == ArgNews::Known);
    for (ArgValue v = 100; v < 100 + kMaxArgValues - 1; ++v) CHECK(rec.note_value(s, v) == ArgNews::New);
    CHECK(s.values.get() == storage);  // allocated once, on the first value
    CHECK(rec.note_value(s, 99999) == ArgNews::Overflow);
    CHECK(rec.note_value(s, 99998) == ArgNews::Known);  // reported once
    CHECK(rec.note_value(s, 7) == ArgNews::Known);
    auto summary = rec.summary(true, 0);
    REQUIRE(summary.syscalls.size() == 1);
    CHECK(summary.syscalls[0].values_overflow);
    CHECK(summary.syscalls[0].values.empty());
    CHECK(rec.arg_values().empty());  // an overflowed syscall has no values in the compact summary
}

TEST_CASE("recording: the summary lists argument values sorted") {
    SyscallCounts rec(false);
    SyscallStat& s = rec.stat(Arch::X86_64, 41);
    s.count = 3;
    s.spec = arg_spec(Arch::X86_64, "socket");
    rec.note_value(s, 10);
    rec.note_value(s, 2);
    rec.note_value(s, 1);
    auto summary = rec.summary(true, 0);
    REQUIRE(summary.syscalls.size() == 1);
    CHECK(summary.syscalls[0].values == std::vector<std::uint64_t>{1, 2, 10});
    CHECK(rec.arg_values().at({Arch::X86_64, 41}) == std::set<std::uint64_t>{1, 2, 10});
}

}  // namespace ksc::tracer
