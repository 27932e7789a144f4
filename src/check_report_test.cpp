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
