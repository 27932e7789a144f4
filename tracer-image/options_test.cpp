#include "options.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "base64.h"

using namespace ksc::tracer;
using ksc::bpf::Instruction;

namespace {

ksc::Result<Options> parse(std::initializer_list<const char*> args) {
    std::vector<std::string> storage(args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

// getpid (39) gets EPERM, everything else is allowed; `extra` more instructions before it.
std::string check_program(std::size_t extra = 0, std::uint32_t verdict = ksc::bpf::kRetErrno | 1) {
    ksc::bpf::Program p(extra, Instruction{0x20, 0, 0, 0});  // ld [nr]
    p.push_back({0x20, 0, 0, 0});
    p.push_back({0x15, 0, 1, 39});  // jeq #39
    p.push_back({0x06, 0, 0, verdict});
    p.push_back({0x06, 0, 0, ksc::bpf::kRetAllow});
    return ksc::base64_encode(ksc::bpf::pack(p));
}

std::string error_of(const ksc::Result<Options>& r) {
    return r.ok() ? std::string("(accepted)") : r.error().message;
}

}  // namespace

TEST_CASE("durations take ms, s, m, h, and a bare number is seconds") {
    CHECK(*parse_duration_ms("500ms") == 500);
    CHECK(*parse_duration_ms("30s") == 30'000);
    CHECK(*parse_duration_ms("5m") == 300'000);
    CHECK(*parse_duration_ms("1h") == 3'600'000);
    CHECK(*parse_duration_ms("7") == 7'000);
    CHECK(*parse_duration_ms("0") == 0);
    CHECK_FALSE(parse_duration_ms("").ok());
    CHECK_FALSE(parse_duration_ms("5x").ok());
    CHECK_FALSE(parse_duration_ms("-1s").ok());
    CHECK(format_duration(700) == "700ms");
    CHECK(format_duration(60'000) == "1m");
}

TEST_CASE("--pid takes several pids, as separate words or a comma list") {
    auto opts = parse({"--pid", "12", "34", "--pid=56,78"});
    REQUIRE(opts.ok());
    CHECK(opts->pids == std::vector<pid_t>{12, 34, 56, 78});
    CHECK_FALSE(opts->launch());
    CHECK_FALSE(parse({"--pid", "abc"}).ok());
    CHECK_FALSE(parse({"--pid", "0"}).ok());
}

TEST_CASE("everything after -- is the command of launch mode, which needs --output") {
    auto opts = parse({"--output", "fd:3", "--", "ls", "--pid", "-l"});
    REQUIRE(opts.ok());
    CHECK(opts->launch());
    CHECK(opts->command == std::vector<std::string>{"ls", "--pid", "-l"});
    CHECK(opts->pids.empty());
    auto missing = parse({"--", "ls"});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("--output") != std::string::npos);
}

TEST_CASE("defaults: idle timeout 60s, the termination log, no duration") {
    auto opts = parse({"--all"});
    REQUIRE(opts.ok());
    CHECK(opts->idle_timeout_ms == 60'000);
    CHECK(opts->duration_ms == 0);
    CHECK(opts->summary_file == "/dev/termination-log");
    CHECK_FALSE(opts->summary_file_given);
    CHECK(opts->scans_proc());
}

TEST_CASE("a container id scans /proc like --all") {
    auto opts = parse({"--container-id", "abc123", "--idle-timeout", "0"});
    REQUIRE(opts.ok());
    CHECK(opts->scans_proc());
    CHECK(opts->idle_timeout_ms == 0);
}

TEST_CASE("one kind of target at a time, and misuse is refused with a hint") {
    CHECK_FALSE(parse({}).ok());
    CHECK_FALSE(parse({"--pid", "1", "--all"}).ok());
    CHECK_FALSE(parse({"--pid", "1", "--output", "x", "--", "ls"}).ok());
    CHECK_FALSE(parse({"--pid", "1", "--no-filter"}).ok());
    CHECK_FALSE(parse({"--connect", "/tmp/s"}).ok());
    CHECK_FALSE(parse({"--all", "--output", "unix:/tmp/s", "--control", "fd:0"}).ok());
    auto unknown = parse({"--bogus"});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message.find("--help") != std::string::npos);
    CHECK_FALSE(parse({"--all=yes"}).ok());
    CHECK_FALSE(parse({"--output"}).ok());
}

TEST_CASE("--install DIR is a job of its own") {
    auto opts = parse({"--install", "/.seccomp-tracer"});
    REQUIRE(opts.ok());
    CHECK(opts->install_dir == "/.seccomp-tracer");
    CHECK_FALSE(parse({"--install", "/x", "--pid", "1"}).ok());
}

TEST_CASE("--help and --version need no target") {
    CHECK(parse({"--help"})->help);
    CHECK(parse({"--version"})->version);
}

TEST_CASE("the help lists every flag once") {
    std::string help = help_text();
    for (const char* flag :
         {"--pid", "--all", "--container-id", "--output", "--control", "--connect", "--summary-file",
          "--idle-timeout", "--duration", "--no-filter", "--install", "--version", "--help"})
        CHECK_MESSAGE(help.find(std::string("  ") + flag + " ") != std::string::npos, flag);
}

TEST_CASE(
    "--check-program takes a validated program; the mode defaults to eval (attach), complain (launch)") {
    std::string prog = check_program();
    auto attach = parse({"--pid", "1", "--check-program", prog.c_str()});
    REQUIRE_MESSAGE(attach.ok(), error_of(attach));
    CHECK(attach->check_mode == CheckMode::Eval);
    CHECK(attach->check_program.size() == 4);
    CHECK(attach->check_program[1].k == 39);
    auto launch = parse({"--output", "x", "--check-program", prog.c_str(), "--", "true"});
    REQUIRE(launch.ok());
    CHECK(launch->check_mode == CheckMode::Complain);
    auto enforce =
        parse({"--output", "x", "--check-program", prog.c_str(), "--check-mode=enforce", "--", "true"});
    REQUIRE(enforce.ok());
    CHECK(enforce->check_mode == CheckMode::Enforce);
    CHECK_FALSE(parse({"--pid", "1"})->checking());
}

TEST_CASE("check modes are refused where they cannot work, in one line") {
    std::string prog = check_program();
    auto complain = parse({"--pid", "1", "--check-program", prog.c_str(), "--check-mode", "complain"});
    CHECK(error_of(complain).find("needs launch mode") != std::string::npos);
    auto eval =
        parse({"--output", "x", "--check-program", prog.c_str(), "--check-mode", "eval", "--", "true"});
    CHECK(error_of(eval).find("complain or enforce") != std::string::npos);
    auto bare = parse({"--pid", "1", "--check-mode", "eval"});
    CHECK(error_of(bare).find("needs --check-program") != std::string::npos);
    auto odd = parse({"--pid", "1", "--check-program", prog.c_str(), "--check-mode", "loud"});
    CHECK(error_of(odd).find("eval, complain or enforce") != std::string::npos);
    for (const auto& r : {complain, eval, bare, odd}) CHECK(error_of(r).find('\n') == std::string::npos);
}

TEST_CASE("--check-program refuses what is not a valid program, and says what") {
    auto not_b64 = parse({"--pid", "1", "--check-program", "***"});
    CHECK(error_of(not_b64).find("not base64") != std::string::npos);
    std::string seven = ksc::base64_encode("1234567");
    auto partial = parse({"--pid", "1", "--check-program", seven.c_str()});
    CHECK(error_of(partial).find("8-byte") != std::string::npos);
    // A jump out of the program: the kernel's checks refuse it, and so do we.
    ksc::bpf::Program bad{{0x20, 0, 0, 0}, {0x15, 9, 0, 39}, {0x06, 0, 0, ksc::bpf::kRetAllow}};
    std::string bad_text = ksc::base64_encode(ksc::bpf::pack(bad));
    auto refused = parse({"--pid", "1", "--check-program", bad_text.c_str()});
    CHECK(error_of(refused).find("refused") != std::string::npos);
    // A program that returns SECCOMP_RET_USER_NOTIF has no listener.
    std::string notif = check_program(0, ksc::bpf::kRetUserNotif);
    CHECK_FALSE(parse({"--pid", "1", "--check-program", notif.c_str()}).ok());
}

TEST_CASE("a program over the kernel's 4096 instructions is refused in one line, with its size") {
    std::string fits = check_program(4092);
    CHECK(parse({"--pid", "1", "--check-program", fits.c_str()}).ok());
    std::string big = check_program(4093);
    auto r = parse({"--pid", "1", "--check-program", big.c_str()});
    CHECK(error_of(r).find("4097 instructions, more than the kernel's 4096") != std::string::npos);
    CHECK(error_of(r).find('\n') == std::string::npos);
}

TEST_CASE("--check-only: launch mode with a program, not with --no-filter") {
    std::string prog = check_program();
    auto ok = parse({"--output", "x", "--check-program", prog.c_str(), "--check-only", "--", "true"});
    REQUIRE(ok.ok());
    CHECK(ok->check_only);
    CHECK(error_of(parse({"--output", "x", "--check-only", "--", "true"})).find("--check-program") !=
          std::string::npos);
    CHECK(error_of(parse({"--pid", "1", "--check-program", prog.c_str(), "--check-only"}))
              .find("launch mode") != std::string::npos);
    CHECK(error_of(parse({"--output", "x", "--check-program", prog.c_str(), "--check-only", "--no-filter",
                          "--", "true"}))
              .find("exclude each other") != std::string::npos);
}

TEST_CASE("--drop-cap-sys-admin: launch mode only, off by default") {
    auto ok = parse({"--output", "x", "--drop-cap-sys-admin", "--", "true"});
    REQUIRE(ok.ok());
    CHECK(ok->drop_cap_sys_admin);
    auto plain = parse({"--output", "x", "--", "true"});
    REQUIRE(plain.ok());
    CHECK_FALSE(plain->drop_cap_sys_admin);
    CHECK(error_of(parse({"--pid", "1", "--drop-cap-sys-admin"})).find("launch mode") != std::string::npos);
    CHECK(error_of(parse({"--output", "x", "--drop-cap-sys-admin=1", "--", "true"})).find("takes no value") !=
          std::string::npos);
}
