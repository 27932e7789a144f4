#include "common_flags.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "user_error.h"

using namespace std::chrono_literals;

namespace ksc::cli {
namespace {

// Runs VerbFlags::parse over a list of strings (argv[0] is the verb).
void parse(VerbFlags& flags, std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    flags.parse(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("parse_duration takes Go durations and bare seconds") {
    CHECK(*parse_duration("0") == 0ms);
    CHECK(*parse_duration("30") == 30s);
    CHECK(*parse_duration("1.5s") == 1500ms);
    CHECK(*parse_duration("1h30m") == 90min);
    CHECK(*parse_duration("250ms") == 250ms);
    CHECK(*parse_duration("2m3s") == 123s);
}

TEST_CASE("parse_duration refuses what is not a duration, saying why") {
    CHECK_FALSE(parse_duration("").ok());
    CHECK_FALSE(parse_duration("-1s").ok());
    CHECK_FALSE(parse_duration("5x").ok());
    CHECK_FALSE(parse_duration("1h5").ok());
    CHECK(parse_duration("5 days").error().message.find("unknown unit") != std::string::npos);
}

TEST_CASE("kubectl's -v spellings all reach the verbosity flag") {
    auto out = normalize_verbosity_args({"trace", "-v=4", "--v=5", "-v", "6", "--v", "7", "-v8", "-vx"});
    CHECK(out == std::vector<std::string>{"trace", "--verbosity=4", "--verbosity=5", "--verbosity", "6",
                                          "--verbosity", "7", "--verbosity=8", "-vx"});
}

TEST_CASE("common cluster and output flags are parsed with kubectl's names") {
    VerbFlags flags("record", "test", kClusterFlags | kOutputFlags, {"json", {"json", "yaml", "report"}});
    parse(flags, {"record", "--kubeconfig", "/k", "--context=c1", "-n", "ns1", "--request-timeout", "5s",
                  "-o", "yaml", "--output-file", "/tmp/x", "-v=3"});
    const auto& c = flags.common();
    CHECK(c.kubeconfig == "/k");
    CHECK(c.context == "c1");
    CHECK(c.namespace_name == "ns1");
    CHECK(c.request_timeout == 5s);
    CHECK(c.output_format == "yaml");
    CHECK(c.output_file == "/tmp/x");
    CHECK(c.verbosity == 3);
}

TEST_CASE("the output format defaults to the verb's default and refuses others") {
    VerbFlags flags("trace", "test", kOutputFlags, {"json", {"json", "yaml"}});
    parse(flags, {"trace"});
    CHECK(flags.common().output_format == "json");
    VerbFlags bad("trace", "test", kOutputFlags, {"json", {"json", "yaml"}});
    CHECK_THROWS_AS(parse(bad, {"trace", "-o", "xml"}), UserError);
}

TEST_CASE("arguments after -- are kept apart, flags and all") {
    VerbFlags flags("trace", "test", kOutputFlags, {"json", {"json"}});
    parse(flags, {"trace", "-o", "json", "--", "ls", "-l", "--", "-o", "x"});
    CHECK(flags.has_dashdash());
    CHECK(flags.after_dashdash() == std::vector<std::string>{"ls", "-l", "--", "-o", "x"});
}

TEST_CASE("an unknown flag is a UserError that points at --help") {
    VerbFlags flags("trace", "test", kOutputFlags, {"json", {"json"}});
    try {
        parse(flags, {"trace", "--nope"});
        FAIL("no exception");
    } catch (const UserError& e) {
        CHECK(std::string(e.what()).find("kubectl seccomp trace --help") != std::string::npos);
    }
}

TEST_CASE("cluster flags are absent from verbs that do not take them") {
    VerbFlags flags("convert", "test", kOutputFlags, {"json", {"json"}});
    CHECK_THROWS_AS(parse(flags, {"convert", "--context", "x"}), UserError);
}

TEST_CASE("NO_COLOR turns colour off") {
    ::setenv("NO_COLOR", "1", 1);
    CHECK_FALSE(use_color(stderr));
    ::unsetenv("NO_COLOR");
}

TEST_CASE("write_output replaces the file whole") {
    char dir[] = "/tmp/ksc-output-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    CommonFlags flags;
    flags.output_file = std::string(dir) + "/profile.json";
    REQUIRE(write_output(flags, "first, longer content\n").ok());
    REQUIRE(write_output(flags, "second\n").ok());
    std::ifstream in(flags.output_file);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "second\n");
    ::unlink(flags.output_file.c_str());
    ::rmdir(dir);
}

TEST_CASE("write_output to a missing directory says what failed") {
    CommonFlags flags;
    flags.output_file = "/nonexistent-dir-ksc/profile.json";
    auto st = write_output(flags, "x");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("/nonexistent-dir-ksc/profile.json") != std::string::npos);
}

}  // namespace ksc::cli
