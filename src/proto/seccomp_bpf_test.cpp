#include "seccomp_bpf.h"

#include <doctest/doctest.h>

#include <random>

#include "seccomp_bpf_testing.h"

using namespace ksc;
using namespace ksc::bpf;
using namespace ksc::bpf::testing;

namespace {

SeccompData call(std::int32_t nr, std::uint64_t a0 = 0, std::uint64_t a1 = 0) {
    SeccompData d;
    d.nr = nr;
    d.arch = 0xc000003e;
    d.instruction_pointer = 0x1122334455667788ULL;
    d.args[0] = a0;
    d.args[1] = a1;
    d.args[5] = 0xdeadbeefcafef00dULL;
    return d;
}

std::uint32_t eval(const Program& p, const SeccompData& d = call(1)) {
    REQUIRE_MESSAGE(validate(p).ok(), (validate(p).ok() ? "" : validate(p).error().message));
    return run(p, d);
}

bool refused(const Program& p, const char* why) {
    auto s = validate(p);
    if (s.ok()) return false;
    CHECK_MESSAGE(s.error().message.find(why) != std::string::npos, s.error().message);
    return true;
}

}  // namespace

TEST_CASE("bpf run: loads read seccomp_data words in native order, and its length") {
    SeccompData d = call(257, 0x0000000700000009ULL);
    CHECK(eval({ld_abs(0), ret_a()}, d) == 257);
    CHECK(eval({ld_abs(4), ret_a()}, d) == 0xc000003e);
    CHECK(eval({ld_abs(8), ret_a()}, d) == 0x55667788);
    CHECK(eval({ld_abs(12), ret_a()}, d) == 0x11223344);
    CHECK(eval({ld_abs(16), ret_a()}, d) == 9);
    CHECK(eval({ld_abs(20), ret_a()}, d) == 7);
    CHECK(eval({ld_abs(60), ret_a()}, d) == 0xdeadbeef);
    CHECK(eval({ld_abs(56), ret_a()}, d) == 0xcafef00d);
    CHECK(eval({insn(kLdWLen), ret_a()}) == 64);
    CHECK(eval({insn(kLdxWLen), insn(kTxa), ret_a()}) == 64);
    CHECK(eval({insn(kLdImm, 42), ret_a()}) == 42);
    CHECK(eval({insn(kLdxImm, 43), insn(kTxa), ret_a()}) == 43);
    CHECK(eval({insn(kLdImm, 44), insn(kTax), insn(kLdImm, 0), insn(kTxa), ret_a()}) == 44);
}

TEST_CASE("bpf run: scratch memory keeps what ST and STX wrote") {
    CHECK(eval({insn(kLdImm, 5), insn(kSt, 3), insn(kLdxImm, 6), insn(kStx, 15), insn(kLdImm, 0),
                insn(kLdMem, 3), insn(kLdxMem, 15), insn(kAluAddX), ret_a()}) == 11);
}

TEST_CASE("bpf run: 32-bit ALU wraps; shifts by X use its low 5 bits; NEG negates") {
    auto alu = [](std::uint32_t a, std::uint16_t code, std::uint32_t k) {
        return eval({insn(kLdxImm, k), insn(kLdImm, a), insn(code, k), ret_a()});
    };
    CHECK(alu(0xffffffff, kAluAddK, 2) == 1);
    CHECK(alu(0xffffffff, kAluAddX, 2) == 1);
    CHECK(alu(1, kAluSubK, 2) == 0xffffffff);
    CHECK(alu(1, kAluSubX, 2) == 0xffffffff);
    CHECK(alu(0x10000, kAluMulK, 0x10001) == 0x10000);
    CHECK(alu(0x10000, kAluMulX, 0x10001) == 0x10000);
    CHECK(alu(100, kAluDivK, 7) == 14);
    CHECK(alu(100, kAluDivX, 7) == 14);
    CHECK(alu(0xf0, kAluOrK, 0x0f) == 0xff);
    CHECK(alu(0xf0, kAluOrX, 0x0f) == 0xff);
    CHECK(alu(0xf0, kAluAndK, 0x3c) == 0x30);
    CHECK(alu(0xf0, kAluAndX, 0x3c) == 0x30);
    CHECK(alu(0xf0, kAluXorK, 0xff) == 0x0f);
    CHECK(alu(0xf0, kAluXorX, 0xff) == 0x0f);
    CHECK(alu(0x80000001, kAluLshK, 1) == 2);
    CHECK(alu(0x80000001, kAluLshX, 33) == 2);
    CHECK(alu(0x80000001, kAluRshK, 31) == 1);
    CHECK(alu(0x80000001, kAluRshX, 63) == 1);
    CHECK(alu(5, kAluNeg, 0) == 0xfffffffb);
}

TEST_CASE("bpf run: division by a zero X ends the program with 0, SECCOMP_RET_KILL_THREAD") {
    CHECK(eval({insn(kLdImm, 7), insn(kLdxImm, 0), insn(kAluDivX), ret_k(kRetAllow)}) == 0);
}

TEST_CASE("bpf run: conditional jumps compare unsigned, with K or X; JA skips k instructions") {
    auto jump = [](std::uint16_t code, std::uint32_t a, std::uint32_t k) {
        return eval({insn(kLdxImm, k), insn(kLdImm, a), jmp(code, 0, 1, k), ret_k(1), ret_k(2)});
    };
    for (std::uint16_t x : {std::uint16_t{0}, std::uint16_t{8}}) {  // the K and X forms
        CHECK(jump(kJeqK | x, 5, 5) == 1);
        CHECK(jump(kJeqK | x, 5, 6) == 2);
        CHECK(jump(kJgtK | x, 0x80000000, 1) == 1);
        CHECK(jump(kJgtK | x, 5, 5) == 2);
        CHECK(jump(kJgeK | x, 5, 5) == 1);
        CHECK(jump(kJgeK | x, 4, 5) == 2);
        CHECK(jump(kJsetK | x, 6, 2) == 1);
        CHECK(jump(kJsetK | x, 6, 1) == 2);
    }
    CHECK(eval({insn(kJa, 1), ret_k(1), ret_k(2)}) == 2);
    CHECK(eval({jmp(kJeqK, 2, 0, 0), ret_k(1), ret_k(2), ret_k(3)}) == 3);
}

TEST_CASE("bpf validate: refuses what the kernel refuses, naming the instruction") {
    CHECK(refused({}, "empty"));
    CHECK(refused(Program(kMaxInstructions + 1, ret_k(kRetAllow)), "more than 4096"));
    CHECK(validate(Program(kMaxInstructions, ret_k(kRetAllow))).ok());
    CHECK(refused({insn(kLdImm, 1)}, "last instruction is not a return"));
    CHECK(refused({ld_abs(64), ret_a()}, "outside seccomp_data"));
    CHECK(refused({ld_abs(2), ret_a()}, "unaligned"));
    CHECK(refused({insn(0x28, 0), ret_a()}, "instruction 0 (code 0x28"));  // LD H ABS
    CHECK(refused({insn(0x30, 0), ret_a()}, "not an opcode"));             // LD B ABS
    CHECK(refused({insn(0x94, 3), ret_a()}, "not an opcode"));             // ALU MOD K
    CHECK(refused({insn(0x9c), ret_a()}, "not an opcode"));                // ALU MOD X
    CHECK(refused({insn(0xb1, 0), ret_a()}, "not an opcode"));             // LDX B MSH
    CHECK(refused({insn(0x106, 0)}, "not an opcode"));
    CHECK(refused({insn(kAluDivK, 0), ret_a()}, "divides by a constant zero"));
    CHECK(refused({insn(kAluLshK, 32), ret_a()}, "shifts by 32"));
    CHECK(refused({insn(kAluRshK, 32), ret_a()}, "shifts by 32"));
    CHECK(refused({insn(kSt, 16), ret_a()}, "past M[15]"));
    CHECK(refused({insn(kLdMem, 0), ret_a()}, "not written on every path"));
    CHECK(
        refused({jmp(kJeqK, 0, 1, 0), insn(kSt, 0), insn(kLdMem, 0), ret_a()}, "not written on every path"));
    CHECK(validate(Program{jmp(kJeqK, 0, 1, 0), insn(kSt, 0), insn(kSt, 0), insn(kLdMem, 0), ret_a()}).ok());
    CHECK(validate(Program{insn(kSt, 0), jmp(kJeqK, 0, 1, 0), insn(kSt, 1), insn(kLdMem, 0), ret_a()}).ok());
    CHECK(refused({insn(kJa, 1), ret_a()}, "past the program's end"));
    CHECK(refused({jmp(kJgtK, 1, 0, 0), ret_a()}, "past the program's end"));
    CHECK(refused({jmp(kJgtK, 0, 1, 0), ret_a()}, "past the program's end"));
}

TEST_CASE("bpf pack/unpack: round trip; unpack refuses ragged or invalid bytes") {
    Program p = {ld_abs(0), jmp(kJeqK, 0, 1, 39), ret_k(kRetErrno | 1), ret_k(kRetAllow)};
    auto back = unpack(pack(p));
    REQUIRE(back.ok());
    REQUIRE(back->size() == p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        CHECK((*back)[i].code == p[i].code);
        CHECK((*back)[i].jt == p[i].jt);
        CHECK((*back)[i].jf == p[i].jf);
        CHECK((*back)[i].k == p[i].k);
    }
    CHECK_FALSE(unpack(pack(p).substr(1)).ok());
    CHECK_FALSE(unpack("").ok());
    CHECK_FALSE(unpack(pack(Program{insn(kLdImm, 1)})).ok());
    CHECK_FALSE(unpack(std::string((kMaxInstructions + 1) * 8, '\0')).ok());
}

TEST_CASE("bpf verdicts: unknown actions are KILL_PROCESS; ERRNO data is clamped to 4095") {
    CHECK(verdict_action(kRetErrno | 7) == kRetErrno);
    CHECK(verdict_action(0x00010000) == kRetKillProcess);
    CHECK(verdict_action(0x7ffe0000) == kRetKillProcess);
    CHECK(verdict_action(5) == kRetKillThread);
    CHECK(verdict_errno(kRetErrno | 5000) == 4095);
    CHECK(verdict_errno(kRetErrno | 13) == 13);
    CHECK(action_name(0) == "SCMP_ACT_KILL_THREAD");
    CHECK(action_name(kRetKillProcess) == "SCMP_ACT_KILL_PROCESS");
    CHECK(action_name(kRetErrno | 1) == "SCMP_ACT_ERRNO");
    CHECK(action_name(kRetTrap) == "SCMP_ACT_TRAP");
    CHECK(action_name(kRetTrace) == "SCMP_ACT_TRACE");
    CHECK(action_name(kRetUserNotif) == "SCMP_ACT_NOTIFY");
    CHECK(action_name(kRetLog) == "SCMP_ACT_LOG");
    CHECK(action_name(kRetAllow) == "SCMP_ACT_ALLOW");
}

TEST_CASE("bpf trace data: encodes every action and errno 0..4095 and decodes them back") {
    for (std::uint32_t action : {kRetKillProcess, kRetKillThread, kRetTrap, kRetErrno}) {
        for (std::uint16_t e : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{38}, std::uint16_t{4095}}) {
            OriginalVerdict v = decode_trace_data(encode_trace_data(action, e));
            CHECK(v.action == action);
            std::uint16_t expected = action == kRetErrno || action == kRetTrap ? e : 0;
            CHECK(v.errno_value == expected);
        }
    }
    CHECK(decode_trace_data(encode_trace_data(kRetErrno, 9999)).errno_value == 4095);
    CHECK(decode_trace_data(0xf000).action == kRetKillProcess);
}

TEST_CASE("bpf transform_for_trace: refusals become TRACE carrying them; ALLOW and LOG stay") {
    Program p = {ld_abs(0),
                 jmp(kJeqK, 0, 1, 1),
                 ret_k(kRetErrno | 13),
                 jmp(kJeqK, 0, 1, 2),
                 ret_k(kRetTrap),
                 jmp(kJeqK, 0, 1, 3),
                 ret_k(kRetKillProcess),
                 jmp(kJeqK, 0, 1, 4),
                 ret_k(kRetKillThread),
                 jmp(kJeqK, 0, 1, 5),
                 ret_k(kRetLog),
                 ret_k(kRetAllow)};
    auto t = transform_for_trace(p);
    REQUIRE(t.ok());
    CHECK(t->size() == p.size());
    auto traced = [&](int nr) {
        std::uint32_t v = run(*t, call(nr));
        REQUIRE(verdict_action(v) == kRetTrace);
        return decode_trace_data(static_cast<std::uint16_t>(v & kRetData));
    };
    CHECK(traced(1).action == kRetErrno);
    CHECK(traced(1).errno_value == 13);
    CHECK(traced(2).action == kRetTrap);
    CHECK(traced(3).action == kRetKillProcess);
    CHECK(traced(4).action == kRetKillThread);
    CHECK(run(*t, call(5)) == kRetLog);
    CHECK(run(*t, call(6)) == kRetAllow);

    CHECK_FALSE(transform_for_trace(Program{ret_k(kRetTrace | 1)}).ok());
    CHECK_FALSE(transform_for_trace(Program{ret_k(kRetUserNotif)}).ok());
    CHECK_FALSE(transform_for_trace(Program{insn(kLdImm, 1)}).ok());
    CHECK_FALSE(transform_for_trace(Program{insn(kLdxImm, 1), insn(kAluDivX), ret_k(kRetAllow)}).ok());
}

TEST_CASE("bpf transform_for_trace: a computed verdict (RET A) is rewritten at run time") {
    // A = args[0]: every 32-bit verdict, through one RET A.
    Program p = {ld_abs(16), ret_a()};
    auto t = transform_for_trace(p);
    REQUIRE(t.ok());
    REQUIRE(validate(*t).ok());
    for (std::uint32_t v : {kRetAllow, kRetAllow | 5, kRetLog | 1, kRetErrno, kRetErrno | 1, kRetErrno | 4095,
                            kRetErrno | 0xffff, kRetTrap, kRetTrap | 77, kRetKillThread, kRetKillThread | 3,
                            kRetKillProcess, 0x00010000U, 0xffffffffU, kRetTrace | 4, kRetUserNotif}) {
        CAPTURE(v);
        std::uint32_t got = run(*t, call(0, v));
        std::uint32_t action = verdict_action(v);
        if (action == kRetAllow || action == kRetLog) {
            CHECK(got == v);
            continue;
        }
        REQUIRE(verdict_action(got) == kRetTrace);
        OriginalVerdict o = decode_trace_data(static_cast<std::uint16_t>(got & kRetData));
        if (action == kRetTrace || action == kRetUserNotif) {
            CHECK(o.action == kRetErrno);
            CHECK(o.errno_value == 38);
        } else {
            CHECK(o.action == action);
            if (action == kRetErrno) CHECK(o.errno_value == verdict_errno(v));
            if (action == kRetTrap) CHECK(o.errno_value == std::min<std::uint32_t>(v & kRetData, 4095));
        }
    }
}

TEST_CASE("bpf transform_for_trace: random programs keep their verdicts") {
    std::mt19937 rng(1313);
    for (int i = 0; i < 300; ++i) {
        Program p = random_program(rng);
        REQUIRE(validate(p).ok());
        auto t = transform_for_trace(p);
        if (!t.ok()) continue;  // returns TRACE or USER_NOTIF, or divides by X
        REQUIRE(validate(*t).ok());
        for (int c = 0; c < 8; ++c) {
            SeccompData d = random_call(rng);
            std::uint32_t want = run(p, d);
            std::uint32_t got = run(*t, d);
            std::uint32_t action = verdict_action(want);
            if (action == kRetAllow || action == kRetLog) {
                CHECK(got == want);
            } else if (action == kRetTrace || action == kRetUserNotif) {
                CHECK(got == (kRetTrace | encode_trace_data(kRetErrno, 38)));
            } else {
                CHECK(got ==
                      (kRetTrace | encode_trace_data(action, static_cast<std::uint16_t>(want & kRetData))));
            }
        }
    }
}
