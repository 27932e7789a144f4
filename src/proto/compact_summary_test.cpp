#include "compact_summary.h"

#include <doctest/doctest.h>

using namespace ksc;

TEST_CASE("compact summary: round-trips per-architecture sets") {
    SyscallSet seen{{Arch::X86_64, {0, 1, 59, 231, 435}}, {Arch::X86, {11, 252}}};
    auto text = encode_compact_summary(seen);
    CHECK(text.rfind("ksc1 SCMP_ARCH_X86_64=", 0) == 0);
    auto back = decode_compact_summary(text);
    REQUIRE(back.ok());
    CHECK(*back == seen);
}

TEST_CASE("compact summary: every syscall of every architecture fits the kubelet's 4 KiB message") {
    SyscallSet all;
    for (Arch a : all_arches())
        for (std::uint32_t nr = 0; nr < 1024; ++nr) all[a].insert(nr);
    CHECK(encode_compact_summary(all).size() < kTerminationMessageLimit);
}

TEST_CASE("compact summary: rejects text that is not one") {
    CHECK_FALSE(decode_compact_summary("").ok());
    CHECK_FALSE(decode_compact_summary("ksc2 x").ok());
    CHECK_FALSE(decode_compact_summary("ksc1 SCMP_ARCH_VAX=AA==").ok());
    CHECK_FALSE(decode_compact_summary("ksc1 SCMP_ARCH_X86=!!!!").ok());
    CHECK(decode_compact_summary("ksc1\n")->empty());
}
