#include "options.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace ksc::tracer;

namespace {

ksc::Result<Options> parse(std::initializer_list<const char*> args) {
    std::vector<std::string> storage(args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
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
