#include "denials.h"

#include <doctest/doctest.h>

#include "seccomp_bpf.h"

using namespace ksc;
using namespace ksc::tracer;

TEST_CASE("refusal_of: allow and log are none; errno is capped as the kernel caps it; unknown kills") {
    CHECK_FALSE(refusal_of(bpf::kRetAllow));
    CHECK_FALSE(refusal_of(bpf::kRetLog | 7));
    auto errno_verdict = refusal_of(bpf::kRetErrno | 13);
    REQUIRE(errno_verdict);
    CHECK(errno_verdict->action == bpf::kRetErrno);
    CHECK(errno_verdict->errno_value == 13);
    CHECK(refusal_of(bpf::kRetErrno | 0xffff)->errno_value == 4095);
    CHECK(refusal_of(bpf::kRetErrno)->errno_value == 0);
    CHECK(refusal_of(bpf::kRetTrap | 5)->action == bpf::kRetTrap);
    CHECK_FALSE(refusal_of(bpf::kRetTrap | 5)->errno_value);
    CHECK(refusal_of(bpf::kRetKillThread)->action == bpf::kRetKillThread);
    CHECK(refusal_of(bpf::kRetKillProcess)->action == bpf::kRetKillProcess);
    CHECK(refusal_of(0x00010000)->action == bpf::kRetKillProcess);
}

TEST_CASE("denials: one key per (arch, nr, verdict, exe); counts, first process and arguments kept") {
    Denials d;
    std::uint64_t a1[6] = {1, 2, 3, 4, 5, 6}, a2[6] = {9, 9, 9, 9, 9, 9};
    bool first = false;
    Verdict eperm{bpf::kRetErrno, 1};
    auto* e = d.note(Arch::X86_64, 41, eperm, "/bin/app", "app", a1, 0.5, first);
    REQUIRE(e);
    CHECK(first);
    CHECK(d.note(Arch::X86_64, 41, eperm, "/bin/app", "app2", a2, 0.9, first) == e);
    CHECK_FALSE(first);
    d.note(Arch::X86_64, 41, Verdict{bpf::kRetErrno, 13}, "/bin/app", "app", a2, 1, first);
    CHECK(first);  // another errno
    d.note(Arch::X86_64, 41, eperm, "/bin/other", "other", a2, 1, first);
    CHECK(first);  // another executable
    d.note(Arch::X86, 41, eperm, "/bin/app", "app", a2, 1, first);
    CHECK(first);  // another architecture
    Denials::seen_error(*e, 1);
    Denials::seen_error(*e, 1);
    Denials::seen_error(*e, 0);    // a success is not kept
    Denials::seen_error(*e, 512);  // a restart is no error
    auto s = d.summary();
    REQUIRE(s.size() == 4);
    const stream::DenialCount* found = nullptr;
    for (const auto& c : s)
        if (c.arch == Arch::X86_64 && c.errno_value == 1 && c.exe == "/bin/app") found = &c;
    REQUIRE(found);
    CHECK(found->count == 2);
    CHECK(found->name == "socket");
    CHECK(found->action == "SCMP_ACT_ERRNO");
    CHECK(found->comm == "app");
    CHECK(found->first_t == 0.5);
    CHECK(found->args[5] == 6);
    CHECK(found->seen_errors == std::map<int, std::uint64_t>{{1, 2}});
}

TEST_CASE("denials: bounded at kMaxDenials keys, the rest counted as lost") {
    Denials d;
    std::uint64_t args[6] = {};
    bool first = false;
    for (std::uint32_t nr = 0; nr < stream::kMaxDenials + 10; ++nr)
        d.note(Arch::X86_64, nr, Verdict{bpf::kRetTrap, std::nullopt}, "/x", "x", args, 0, first);
    CHECK(d.size() == stream::kMaxDenials);
    CHECK(d.lost() == 10);
    CHECK_FALSE(first);
    // A known key still counts.
    CHECK(d.note(Arch::X86_64, 0, Verdict{bpf::kRetTrap, std::nullopt}, "/x", "x", args, 0, first));
}
