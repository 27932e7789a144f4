#include "compact_summary.h"

#include <doctest/doctest.h>

#include "base64.h"

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

TEST_CASE("compact summary: argument values round-trip beside the bitmaps") {
    SyscallSet seen{{Arch::X86_64, {16, 41, 135}}};
    ArgValueMap values{{{Arch::X86_64, 41}, {1, 2, 16 | std::uint64_t{9} << 32}},
                       {{Arch::X86_64, 135}, {0xffffffff, 0}}};
    auto text = encode_compact_summary(seen, values);
    CHECK(text.find(" @SCMP_ARCH_X86_64:41=1,2,10.9") != std::string::npos);
    auto back = decode_compact_summary(text);
    REQUIRE(back.ok());
    CHECK(*back == seen);  // the bitmap reader skips the argument items
    auto args = decode_compact_arg_values(text);
    REQUIRE(args.ok());
    CHECK(*args == values);
    CHECK(decode_compact_arg_values("ksc1 SCMP_ARCH_X86_64=AA==")->empty());
    CHECK_FALSE(decode_compact_arg_values("ksc1 @SCMP_ARCH_X86_64:41=zz").ok());
}

TEST_CASE("compact summary: argument values that do not fit 4 KiB are left out, smallest sets kept") {
    SyscallSet seen;
    ArgValueMap values;
    for (Arch a : all_arches())
        for (std::uint32_t nr = 0; nr < 1024; ++nr) seen[a].insert(nr);
    for (std::uint32_t nr = 0; nr < 20; ++nr)
        for (std::uint64_t v = 0; v < 128; ++v) values[{Arch::X86_64, nr}].insert(0x10000000 + v);
    values[{Arch::X86, 54}] = {0x5401};
    auto text = encode_compact_summary(seen, values);
    CHECK(text.size() <= kTerminationMessageLimit);
    auto args = decode_compact_arg_values(text);
    REQUIRE(args.ok());
    CHECK(args->at({Arch::X86, 54}) == std::set<std::uint64_t>{0x5401});
    CHECK(args->size() < values.size());
    for (const auto& [key, set] : *args) CHECK(set == values.at(key));  // whole sets or none
}

TEST_CASE("compact summary: a bitmap longer than syscall numbers need is refused, an empty one is no entry") {
    CHECK_FALSE(decode_compact_summary("ksc1 SCMP_ARCH_X86_64=" + base64_encode(std::string(600, '\x01'))));
    auto empty = decode_compact_summary("ksc1 SCMP_ARCH_X86_64=AA==");
    REQUIRE(empty);
    CHECK(empty->empty());
}
