#include "check_report.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

namespace ksc {
namespace {

// A profile that allows socket only for AF_INET (arg0 == 2) and refuses the rest.
Profile socket_inet_only() {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "write"}, Action::Allow, {}},
                  {{"socket"}, Action::Allow, {}, {ArgRule{0, 2, 0, ArgOp::EqualTo}}}};
    return p;
}

CheckDenial socket_denial() {
    CheckDenial d;
    d.nr = 41;
    d.name = "socket";
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 1;
    d.args = {10, 1, 0, 0, 0, 0};
    d.comm = "curl";
    d.exe = "/usr/bin/curl";
    d.count = 3;
    d.first_t = 0.25;
    d.startup = true;
    return d;
}

CheckResult one_denial() {
    CheckResult r;
    r.target = "web-0/app";
    r.profile_path = "web.json";
    r.mode = "complain";
    r.instructions = 17;
    r.seconds = 12;
    r.denials = {socket_denial()};
    return r;
}

}  // namespace

TEST_CASE("check report: the deciding arguments are those the syscall's conditional rules test") {
    Profile p = socket_inet_only();
    CHECK(deciding_args(p, "socket") == std::vector<std::uint32_t>{0});
    CHECK(deciding_args(p, "read").empty());
    CHECK(deciding_args(p, "openat").empty());
    p.syscalls.push_back({{"socket"}, Action::Allow, {}, {ArgRule{1, 1, 0, ArgOp::EqualTo}}});
    CHECK(deciding_args(p, "socket") == std::vector<std::uint32_t>{0, 1});
}

TEST_CASE("check report: exit status 0 without denials, 1 with") {
    CheckResult r = one_denial();
    CHECK(check_exit_status(r) == 1);
    r.denials.clear();
    CHECK(check_exit_status(r) == 0);
}

TEST_CASE("check report: text names each denial's verdict, process, count, time and deciding args") {
    std::string text = write_check_report(one_denial(), socket_inet_only());
    CHECK(text.find("1 distinct call the profile would refuse") != std::string::npos);
    CHECK(text.find("socket") != std::string::npos);
    CHECK(text.find("SCMP_ACT_ERRNO(EPERM)") != std::string::npos);
    CHECK(text.find("start-up") != std::string::npos);
    CHECK(text.find("curl (/usr/bin/curl)") != std::string::npos);
    CHECK(text.find("deciding arguments: arg0=0xa") != std::string::npos);
    CHECK(text.find("arg1") == std::string::npos);  // not tested by the rule
}

TEST_CASE("check report: text says when nothing was refused, and the caveats and the app's end") {
    CheckResult r = one_denial();
    r.denials.clear();
    r.mode = "enforce";
    r.caveats = {"calls RuntimeDefault refuses were not checked"};
    r.app_end = AppEnd{1, std::nullopt, "Error"};
    std::string text = write_check_report(r, socket_inet_only());
    CHECK(text.find("No call was refused") != std::string::npos);
    CHECK(text.find("The app exited with code 1 (Error).") != std::string::npos);
    CHECK(text.find("  - calls RuntimeDefault refuses were not checked") != std::string::npos);
    r.app_end = AppEnd{std::nullopt, 31, ""};
    CHECK(write_check_report(r, socket_inet_only()).find("killed by SIGSYS") != std::string::npos);
}

TEST_CASE("check report: json has every field a script needs, deciding args apart from all six") {
    CheckResult r = one_denial();
    r.denials[0].seen_errors = {{"EAFNOSUPPORT", 3}};
    r.denials.push_back(socket_denial());
    r.denials[1].name = "";
    r.denials[1].nr = 999;
    r.denials[1].startup.reset();
    r.denials[1].first_t = 0.1;
    rapidjson::Document doc;
    std::string json = write_check_json(r, socket_inet_only());
    REQUIRE_FALSE(doc.Parse(json.c_str()).HasParseError());
    CHECK(std::string(doc["mode"].GetString()) == "complain");
    CHECK(doc["instructions"].GetUint64() == 17);
    REQUIRE(doc["denials"].Size() == 2);
    const auto& first = doc["denials"][0];  // ordered by first time
    CHECK(first["nr"].GetUint() == 999);
    CHECK_FALSE(first.HasMember("name"));
    CHECK(std::string(first["when"].GetString()) == "unknown");
    const auto& d = doc["denials"][1];
    CHECK(std::string(d["name"].GetString()) == "socket");
    CHECK(std::string(d["architecture"].GetString()) == "SCMP_ARCH_X86_64");
    CHECK(d["errno"].GetInt() == 1);
    CHECK(std::string(d["errnoName"].GetString()) == "EPERM");
    CHECK(d["args"]["arg0"].GetUint64() == 10);
    CHECK_FALSE(d["args"].HasMember("arg1"));
    CHECK(d["allArgs"].Size() == 6);
    CHECK(d["count"].GetUint64() == 3);
    CHECK(std::string(d["when"].GetString()) == "start-up");
    CHECK(std::string(d["exe"].GetString()) == "/usr/bin/curl");
    CHECK(d["seenErrors"]["EAFNOSUPPORT"].GetUint64() == 3);
    CHECK(d.HasMember("firstSeconds"));
    CHECK(doc["caveats"].Size() == 0);
    CHECK_FALSE(doc.HasMember("app"));
}

TEST_CASE("check report: a recording's denials, placed before or after Ready, errno names for seen errors") {
    Recording rec;
    stream::DenialCount early, late;
    early.nr = 41;
    early.name = "socket";
    early.action = "SCMP_ACT_ERRNO";
    early.errno_value = 1;
    early.first_t = 1.0;
    early.count = 0;  // a first-seen event without a summary yet: at least once
    early.seen_errors = {{97, 2}, {4000, 1}};
    late = early;
    late.nr = 42;
    late.name = "connect";
    late.first_t = 9.0;
    late.count = 5;
    rec.denials[{Arch::X86_64, 41, "SCMP_ACT_ERRNO", 1, ""}] = early;
    rec.denials[{Arch::X86_64, 42, "SCMP_ACT_ERRNO", 1, ""}] = late;
    auto ds = check_denials(rec, 5.0, true);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].startup == true);
    CHECK(ds[0].count == 1);
    CHECK(ds[0].seen_errors.at("EAFNOSUPPORT") == 2);
    CHECK(ds[0].seen_errors.at("4000") == 1);
    CHECK(ds[1].startup == false);
    CHECK(ds[1].count == 5);
    CHECK(check_denials(rec, std::nullopt, true)[1].startup == true);  // never Ready: all start-up
    CHECK_FALSE(check_denials(rec, std::nullopt, false)[1].startup);   // attached: unknown
}

TEST_CASE("check report: a denial whose time and process are unknown shows dashes, not zeros") {
    CheckResult r = one_denial();
    r.denials[0].first_t = -1;
    r.denials[0].comm.clear();
    r.denials[0].exe.clear();
    std::string text = write_check_report(r, socket_inet_only());
    CHECK(text.find("0.00s") == std::string::npos);
    CHECK(text.find("start-up" + std::string(11, ' ') + "-  -\n") != std::string::npos);
    rapidjson::Document doc;
    std::string json = write_check_json(r, socket_inet_only());
    REQUIRE_FALSE(doc.Parse(json.c_str()).HasParseError());
    CHECK_FALSE(doc["denials"][0].HasMember("firstSeconds"));
}

}  // namespace ksc

namespace ksc {
namespace {

// As record and convert write a profile: default ERRNO(EPERM), clone3 refused with ENOSYS on
// purpose (libc falls back to clone), a conditional ENOSYS rule, a TRAP and a KILL rule.
Profile recorded_style() {
    Profile p;
    p.default_action = Action::Errno;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "write", "clone"}, Action::Allow, {}},
                  {{"clone3"}, Action::Errno, 38},
                  {{"ioctl"}, Action::Errno, 38, {ArgRule{1, 0x5401, 0, ArgOp::EqualTo}}},
                  {{"ptrace"}, Action::Errno, 1, {ArgRule{0, 16, 0, ArgOp::EqualTo}}},
                  {{"mount"}, Action::Trap, {}},
                  {{"reboot"}, Action::KillProcess, {}}};
    return p;
}

CheckDenial refused(std::string name, std::uint32_t nr, std::string action, std::optional<int> err) {
    CheckDenial d;
    d.nr = nr;
    d.name = std::move(name);
    d.action = std::move(action);
    d.errno_value = err;
    d.count = 1;
    return d;
}

CheckResult with(std::vector<CheckDenial> denials) {
    CheckResult r;
    r.target = "redis-0/redis";
    r.profile_path = "redis.json";
    r.mode = "complain";
    r.denials = std::move(denials);
    return r;
}

}  // namespace

TEST_CASE("check classify: the recorded profile's own clone3 ENOSYS rule is its answer, not a denial") {
    CheckResult r = with({refused("clone3", 435, "SCMP_ACT_ERRNO", 38)});
    r.denials[0].comm = "redis-server";
    classify_denials(r.denials, recorded_style(), false);
    CHECK(r.denials[0].by_rule);
    CHECK_FALSE(r.denials[0].counted);
    CHECK(check_exit_status(r) == 0);
    std::string text = write_check_report(r, recorded_style());
    CHECK(text.find("No call was refused other than as the profile's own rules say") != std::string::npos);
    CHECK(text.find("1 distinct call refused as the profile's own rules say") != std::string::npos);
    CHECK(text.find("SCMP_ACT_ERRNO(ENOSYS)") != std::string::npos);
    CHECK(text.find("redis-server") != std::string::npos);
    rapidjson::Document doc;
    std::string json = write_check_json(r, recorded_style());
    REQUIRE_FALSE(doc.Parse(json.c_str()).HasParseError());
    CHECK(doc["denials"].Size() == 0);  // what existing consumers read: clean
    REQUIRE(doc["refusedByRule"].Size() == 1);
    CHECK(std::string(doc["refusedByRule"][0]["name"].GetString()) == "clone3");
    CHECK(doc["refusedByRule"][0]["byRule"].GetBool());
    CHECK(doc["refusedByRule"][0]["errno"].GetInt() == 38);
}

TEST_CASE("check classify: the default action, the ENOSYS stub, TRAP and KILL rules are counted") {
    CheckResult r = with({refused("clone3", 435, "SCMP_ACT_ERRNO", 38),
                          refused("sendfile", 40, "SCMP_ACT_ERRNO", 1),       // default action
                          refused("futex_waitv", 449, "SCMP_ACT_ERRNO", 38),  // runc's stub: no rule
                          refused("mount", 165, "SCMP_ACT_TRAP", std::nullopt),
                          refused("reboot", 169, "SCMP_ACT_KILL_PROCESS", std::nullopt)});
    classify_denials(r.denials, recorded_style(), false);
    CHECK(r.denials[0].by_rule);
    for (std::size_t i = 1; i < r.denials.size(); ++i) {
        CAPTURE(r.denials[i].name);
        CHECK_FALSE(r.denials[i].by_rule);
        CHECK(r.denials[i].counted);
    }
    CHECK(check_exit_status(r) == 1);
    std::string text = write_check_report(r, recorded_style());
    CHECK(text.find("4 distinct calls the profile would refuse") != std::string::npos);
    CHECK(text.find("1 distinct call refused as the profile's own rules say") != std::string::npos);
    rapidjson::Document doc;
    std::string json = write_check_json(r, recorded_style());
    REQUIRE_FALSE(doc.Parse(json.c_str()).HasParseError());
    CHECK(doc["denials"].Size() == 4);
    CHECK_FALSE(doc["denials"][0].HasMember("byRule"));
    CHECK(doc["refusedByRule"].Size() == 1);
}

TEST_CASE("check classify: the verdict must be the rule's own: another errno is not that rule's") {
    // clone3 refused with EPERM: the rule says ENOSYS, so something else refused it.
    CheckResult r = with({refused("clone3", 435, "SCMP_ACT_ERRNO", 1)});
    classify_denials(r.denials, recorded_style(), false);
    CHECK_FALSE(r.denials[0].by_rule);
    CHECK(check_exit_status(r) == 1);
}

TEST_CASE("check classify: a conditional errno rule is by rule unless the default gives the same answer") {
    // ioctl's rule answers ENOSYS, the default EPERM: an ENOSYS verdict is the rule's.
    CheckResult r =
        with({refused("ioctl", 16, "SCMP_ACT_ERRNO", 38), refused("ptrace", 101, "SCMP_ACT_ERRNO", 1)});
    classify_denials(r.denials, recorded_style(), false);
    CHECK(r.denials[0].by_rule);
    // ptrace's rule and the default both answer EPERM: which one did is unknown, so it counts.
    CHECK_FALSE(r.denials[1].by_rule);
    CHECK(check_exit_status(r) == 1);
}

TEST_CASE("check classify: --strict counts the profile's own errno rules") {
    CheckResult r = with({refused("clone3", 435, "SCMP_ACT_ERRNO", 38)});
    classify_denials(r.denials, recorded_style(), true);
    CHECK(r.denials[0].by_rule);
    CHECK(r.denials[0].counted);
    CHECK(check_exit_status(r) == 1);
    std::string text = write_check_report(r, recorded_style());
    CHECK(text.find("1 distinct call the profile would refuse") != std::string::npos);
    CHECK(text.find("refused by the profile's own rule (counted)") != std::string::npos);
    rapidjson::Document doc;
    std::string json = write_check_json(r, recorded_style());
    REQUIRE_FALSE(doc.Parse(json.c_str()).HasParseError());
    REQUIRE(doc["denials"].Size() == 1);
    CHECK(doc["denials"][0]["byRule"].GetBool());
    CHECK(doc["refusedByRule"].Size() == 0);
}

TEST_CASE("check classify: a default-allow or LOG profile's errno rules are its policy: counted") {
    for (Action def : {Action::Allow, Action::Log}) {
        Profile p;
        p.default_action = def;
        p.syscalls = {{{"mount", "umount2"}, Action::Errno, 1}};
        CheckResult r = with({refused("mount", 165, "SCMP_ACT_ERRNO", 1)});
        classify_denials(r.denials, p, false);
        CHECK(r.denials[0].by_rule);
        CHECK(r.denials[0].counted);
        CHECK(check_exit_status(r) == 1);
    }
}

TEST_CASE("check classify: Docker's excludes drop a rule before it can be the answer") {
    Profile p = recorded_style();
    p.syscalls[1].excludes.arches = {"amd64"};  // clone3's ENOSYS rule is not loaded on amd64
    CheckResult r = with({refused("clone3", 435, "SCMP_ACT_ERRNO", 38)});
    classify_denials(r.denials, p, false);
    CHECK_FALSE(r.denials[0].by_rule);
    CHECK(check_exit_status(r) == 1);
}

}  // namespace ksc
