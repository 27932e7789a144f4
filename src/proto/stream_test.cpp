#include "stream.h"

#include <doctest/doctest.h>

#include <string>

#include "version.h"

using namespace ksc;
using namespace ksc::stream;

namespace {
template <class T>
T roundtrip(const T& in) {
    auto line = encode(Event{in});
    CHECK(line.find('\n') == std::string::npos);
    auto out = decode(line);
    REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
    REQUIRE(std::holds_alternative<T>(*out));
    return std::get<T>(*out);
}
}  // namespace

TEST_CASE("stream: hello round-trips with its protocol version, mode and method") {
    Hello h;
    h.tracer_version = "0.1.0";
    h.kernel = "6.18.0";
    h.native_arch = Arch::AARCH64;
    h.mode = Mode::Launch;
    h.method = Method::Seccomp;
    h.pid = 1;
    auto line = encode(Event{h});
    CHECK(line.rfind(R"({"type":"hello","protocol":"1.2",)", 0) == 0);
    auto back = roundtrip(h);
    CHECK(back.protocol_major == 1);
    CHECK(back.protocol_minor == 2);
    CHECK_FALSE(back.check);
    CHECK(back.native_arch == Arch::AARCH64);
    CHECK(back.mode == Mode::Launch);
    CHECK(back.method == Method::Seccomp);
    CHECK(back.kernel == "6.18.0");
}

TEST_CASE("stream: a hello of another major version is decoded so the plugin can refuse it by number") {
    auto e = decode(R"({"type":"hello","protocol":"2.7","tracer":"9.0.0"})");
    REQUIRE(e.ok());
    CHECK(std::get<Hello>(*e).protocol_major == 2);
    CHECK(std::get<Hello>(*e).protocol_minor == 7);
    CHECK_FALSE(decode(R"({"type":"hello","protocol":"two"})").ok());
    CHECK_FALSE(decode(R"({"type":"hello"})").ok());
}

TEST_CASE("stream: check_protocol accepts our major, any minor, and names both versions otherwise") {
    Hello hello;
    CHECK(check_protocol(hello).ok());
    hello.protocol_minor = 9;
    CHECK(check_protocol(hello).ok());
    hello.protocol_major = kProtocolMajor + 1;
    auto refused = check_protocol(hello);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "speaks stream protocol 2.9, this kubectl-seccomp speaks 1.2");
}

TEST_CASE("stream: syscall events keep arch, number, name, pid and time to the millisecond") {
    Syscall s;
    s.t = 1.23456;
    s.arch = Arch::X86;
    s.nr = 11;
    s.name = "execve";
    s.pid = 42;
    s.comm = "sh";
    s.late = true;
    auto line = encode(Event{s});
    CHECK(line.find("\"t\":1.234") != std::string::npos);
    auto back = roundtrip(s);
    CHECK(back.arch == Arch::X86);
    CHECK(back.nr == 11);
    CHECK(back.name == "execve");
    CHECK(back.pid == 42);
    CHECK(back.comm == "sh");
    CHECK(back.late);
}

TEST_CASE("stream: a syscall with an unknown number keeps the number and no name") {
    Syscall s;
    s.nr = 999;
    auto back = roundtrip(s);
    CHECK(back.nr == 999);
    CHECK(back.name.empty());
    CHECK(encode(Event{s}).find("\"name\"") == std::string::npos);
}

TEST_CASE("stream: summary round-trips counts, errno counts by name, late_only and lost") {
    Summary s;
    s.final = true;
    s.returns_seen = true;
    s.threads_seen = 3;
    s.processes_seen = 2;
    SyscallCount c;
    c.arch = Arch::X86_64;
    c.nr = 435;
    c.name = "clone3";
    c.count = 7;
    c.errors = {{38, 7}};
    c.late_only = true;
    s.syscalls.push_back(c);
    s.lost.push_back({"thread exited before it could be seized", 1});
    auto line = encode(Event{s});
    CHECK(line.find(R"("errors":{"ENOSYS":7})") != std::string::npos);
    auto back = roundtrip(s);
    REQUIRE(back.syscalls.size() == 1);
    CHECK(back.syscalls[0].errors.at(38) == 7);
    CHECK(back.syscalls[0].late_only);
    CHECK(back.final);
    CHECK(back.returns_seen);
    REQUIRE(back.lost.size() == 1);
    CHECK(back.lost[0].count == 1);
}

TEST_CASE("stream: attached, exited, progress and messages round-trip") {
    Attached a{0.5, 10, 11, "nginx", "/usr/sbin/nginx", true};
    auto a2 = roundtrip(a);
    CHECK(a2.tid == 11);
    CHECK(a2.exe == "/usr/sbin/nginx");
    CHECK(a2.late);
    Exited x;
    x.pid = 10;
    x.tid = 10;
    x.signal = 9;
    auto x2 = roundtrip(x);
    CHECK(x2.signal == 9);
    CHECK_FALSE(x2.exit_code.has_value());
    Progress p{2.0, 40, 1000, 3, 1};
    CHECK(roundtrip(p).events == 1000);
    Message m{true, "cannot attach to 7: ptrace refused", "eperm"};
    auto m2 = roundtrip(m);
    CHECK(m2.is_error);
    CHECK(m2.code == "eperm");
}

TEST_CASE("stream: bytes that are not UTF-8 in comm are replaced so the line stays valid JSON") {
    Attached a;
    a.pid = 1;
    a.comm = std::string("ab\xff\xfe") + "c\n";
    auto back = roundtrip(a);
    CHECK(back.comm == "ab??c\n");
}

TEST_CASE("stream: unknown types and unknown fields are ignored, not errors") {
    auto e = decode(R"({"type":"futurething","x":1})");
    REQUIRE(e.ok());
    CHECK(std::get<Unknown>(*e).type == "futurething");
    auto s = decode(R"({"type":"syscall","arch":"SCMP_ARCH_X86_64","nr":0,"newfield":[1,2]})");
    REQUIRE(s.ok());
    CHECK(std::get<Syscall>(*s).nr == 0);
}

TEST_CASE("stream: malformed lines are errors that say what is wrong") {
    CHECK(decode("").error().message.find("not JSON") != std::string::npos);
    CHECK(decode("[1]").error().message == "not a JSON object");
    CHECK(decode(R"({"no":"type"})").error().message.find("\"type\"") != std::string::npos);
    CHECK(decode(R"({"type":"syscall","arch":"SCMP_ARCH_VAX","nr":1})").error().message.find("VAX") !=
          std::string::npos);
    CHECK(decode(R"({"type":"syscall","arch":"SCMP_ARCH_X86_64","nr":-1})").error().message.find("\"nr\"") !=
          std::string::npos);
    CHECK(decode(R"({"type":"syscall","arch":"SCMP_ARCH_X86_64","nr":1,"pid":"x"})")
              .error()
              .message.find("pid") != std::string::npos);
    CHECK_FALSE(
        decode(R"({"type":"summary","syscalls":[{"arch":"SCMP_ARCH_X86_64","nr":1,"errors":{"EFOO":1}}]})")
            .ok());
    CHECK_FALSE(decode("{\"type\":\"hello\",\"tracer\":\"\xff\"}").ok());
}

TEST_CASE("stream: deeply nested input does not exhaust the stack") {
    std::string deep = "{\"type\":\"x\",\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
    auto e = decode(deep);
    CHECK(e.ok());
}

TEST_CASE("stream: commands parse with surrounding whitespace and nothing else") {
    CHECK(parse_command("stop\n") == Command::Stop);
    CHECK(parse_command("  snapshot\r\n") == Command::Snapshot);
    CHECK(parse_command("ping") == Command::Ping);
    CHECK_FALSE(parse_command("stopp").has_value());
    CHECK_FALSE(parse_command("").has_value());
    CHECK(command_text(Command::Snapshot) == "snapshot");
}

TEST_CASE("stream: the line splitter joins partial reads and bounds line length") {
    LineSplitter s;
    CHECK(s.feed("{\"a\"").empty());
    auto lines = s.feed(":1}\n{\"b\":2}\n{\"c\"");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "{\"a\":1}");
    CHECK(lines[1] == "{\"b\":2}");
    CHECK(s.take_rest() == "{\"c\"");

    LineSplitter big;
    std::string chunk(1024 * 1024, 'x');
    for (int i = 0; i < 5; ++i) CHECK(big.feed(chunk).empty());
    auto after = big.feed("tail\nnext\n");
    REQUIRE(after.size() == 1);
    CHECK(after[0] == "next");
    CHECK(big.overlong_lines() == 1);
}

TEST_CASE("stream: argument events carry the value, and the netlink protocol as value2") {
    Argument a;
    a.t = 1.5;
    a.arch = Arch::X86_64;
    a.nr = 41;
    a.name = "socket";
    a.value = 16 | std::uint64_t{9} << 32;  // AF_NETLINK, NETLINK_AUDIT
    a.pid = 7;
    a.comm = "app";
    auto line = encode(Event{a});
    CHECK(line.find(R"("value":16,"value2":9)") != std::string::npos);
    auto back = roundtrip(a);
    CHECK(back.value == a.value);
    CHECK(back.name == "socket");
    CHECK_FALSE(back.overflow);

    Argument inet = a;
    inet.value = 2;
    CHECK(encode(Event{inet}).find("value2") == std::string::npos);
    Argument over = a;
    over.overflow = true;
    CHECK(roundtrip(over).overflow);
    CHECK_FALSE(decode(R"({"type":"argument","arch":"SCMP_ARCH_X86_64","nr":41,"value":4294967296})").ok());
}

TEST_CASE("stream: summary values round-trip, pairs only where there is a second argument") {
    Summary s;
    SyscallCount c;
    c.nr = 41;
    c.name = "socket";
    c.count = 3;
    c.values = {1, 2, 16 | std::uint64_t{9} << 32};
    s.syscalls.push_back(c);
    SyscallCount d;
    d.nr = 16;
    d.name = "ioctl";
    d.values_overflow = true;
    s.syscalls.push_back(d);
    CHECK(encode(Event{s}).find(R"("values":[1,2,[16,9]])") != std::string::npos);
    auto back = roundtrip(s);
    REQUIRE(back.syscalls.size() == 2);
    CHECK(back.syscalls[0].values == c.values);
    CHECK(back.syscalls[1].values_overflow);
    CHECK(back.syscalls[1].values.empty());
}

TEST_CASE("stream: a 1.0 reader's view: argument lines are an unknown type, values unknown fields") {
    // What older plugins rely on: the decoder keeps unknown types as Unknown and skips fields.
    auto u = decode(R"({"type":"argument2","value":1})");
    REQUIRE(u.ok());
    CHECK(std::holds_alternative<Unknown>(*u));
}

TEST_CASE("the version the binaries print is the protocol the stream codec speaks") {
    CHECK(std::string(ksc::kProtocolVersion) ==
          std::to_string(ksc::stream::kProtocolMajor) + "." + std::to_string(ksc::stream::kProtocolMinor));
}

TEST_CASE("stream: hello carries the check mode and program size only when checking (1.2)") {
    Hello h;
    h.check = CheckInfo{"complain", 123};
    auto line = encode(Event{h});
    CHECK(line.find(R"("check":{"mode":"complain","instructions":123})") != std::string::npos);
    auto back = roundtrip(h);
    REQUIRE(back.check);
    CHECK(back.check->mode == "complain");
    CHECK(back.check->instructions == 123);
    CHECK_FALSE(decode(R"({"type":"hello","protocol":"1.2","check":"eval"})").ok());
    CHECK_FALSE(decode(R"({"type":"hello","protocol":"1.2","check":{"instructions":3}})").ok());
}

TEST_CASE("stream: denial events round-trip verdict, errno, the six arguments and the process (1.2)") {
    Denial d;
    d.t = 2.5;
    d.arch = Arch::X32;
    d.nr = 41;
    d.name = "socket";
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 1;
    d.args = {2, 1, 0, 0xffffffffffffffffULL, 1ULL << 63, 7};
    d.pid = 10;
    d.tid = 11;
    d.comm = "web";
    d.exe = "/usr/bin/web";
    d.enforced = true;
    auto line = encode(Event{d});
    CHECK(line.rfind(R"({"type":"denial","t":2.5,"arch":"SCMP_ARCH_X32","nr":41,"name":"socket",)"
                     R"("action":"SCMP_ACT_ERRNO","errno":1,"args":[2,1,0,18446744073709551615,)",
                     0) == 0);
    auto back = roundtrip(d);
    CHECK(back.arch == Arch::X32);
    CHECK(back.nr == 41);
    CHECK(back.action == "SCMP_ACT_ERRNO");
    CHECK(back.errno_value == 1);
    CHECK(back.args == d.args);
    CHECK(back.pid == 10);
    CHECK(back.tid == 11);
    CHECK(back.exe == "/usr/bin/web");
    CHECK(back.enforced);

    Denial trap;
    trap.action = "SCMP_ACT_TRAP";
    trap.pid = 5;
    auto t = roundtrip(trap);
    CHECK_FALSE(t.errno_value);
    CHECK(t.tid == 5);  // tid defaults to pid
    CHECK_FALSE(t.enforced);
    CHECK(encode(Event{trap}).find("\"errno\"") == std::string::npos);
}

TEST_CASE("stream: denial fields out of bounds are errors that name the field (1.2)") {
    auto base = [](const std::string& extra) {
        return R"({"type":"denial","arch":"SCMP_ARCH_X86_64","nr":1,)" + extra + "}";
    };
    CHECK(decode(base(R"("action":"SCMP_ACT_KILL_PROCESS")")).ok());
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_ALLOW")")).ok());  // not a refusal
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_NOTIFY")")).ok());
    CHECK_FALSE(decode(base("")).ok());  // action required
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_ERRNO","errno":4096)")).ok());
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_ERRNO","errno":-1)")).ok());
    CHECK(decode(base(R"("action":"SCMP_ACT_ERRNO","errno":4095)")).ok());
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_TRAP","errno":1)")).ok());  // errno only with ERRNO
    auto five = decode(base(R"("action":"SCMP_ACT_TRAP","args":[1,2,3,4,5])"));
    REQUIRE_FALSE(five.ok());
    CHECK(five.error().message.find("\"args\"") != std::string::npos);
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_TRAP","args":[1,2,3,4,5,-6])")).ok());
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_TRAP","args":[1,2,3,4,5,"6"])")).ok());
    CHECK_FALSE(decode(base(R"("action":"SCMP_ACT_TRAP","enforced":1)")).ok());
}

TEST_CASE("stream: summary denials round-trip counts, first process and the errnos seen (1.2)") {
    Summary s;
    s.final = true;
    DenialCount d;
    d.arch = Arch::X86;
    d.nr = 102;
    d.name = "socketcall";
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 38;
    d.count = 1ULL << 40;
    d.first_t = 0.125;
    d.comm = "app";
    d.exe = "/app";
    d.args = {1, 2, 3, 4, 5, 6};
    d.seen_errors = {{1, 3}, {4000, 1}};
    s.denials.push_back(d);
    DenialCount k;
    k.action = "SCMP_ACT_KILL_THREAD";
    k.count = 1;
    s.denials.push_back(k);
    auto line = encode(Event{s});
    CHECK(line.find(R"("seen_errors":{"EPERM":3,"4000":1})") != std::string::npos);
    auto back = roundtrip(s);
    REQUIRE(back.denials.size() == 2);
    CHECK(back.denials[0].arch == Arch::X86);
    CHECK(back.denials[0].nr == 102);
    CHECK(back.denials[0].errno_value == 38);
    CHECK(back.denials[0].count == (1ULL << 40));
    CHECK(back.denials[0].first_t == doctest::Approx(0.125));
    CHECK(back.denials[0].exe == "/app");
    CHECK(back.denials[0].args == d.args);
    CHECK(back.denials[0].seen_errors == d.seen_errors);
    CHECK(back.denials[1].action == "SCMP_ACT_KILL_THREAD");
    CHECK_FALSE(back.denials[1].errno_value);
    CHECK(back.denials[1].seen_errors.empty());
    // No denials: no field, as a 1.1 summary.
    CHECK(encode(Event{Summary{}}).find("denials") == std::string::npos);
}

TEST_CASE("stream: summary denials are bounded and validated (1.2)") {
    std::string many = R"({"type":"summary","denials":[)";
    for (std::size_t i = 0; i <= kMaxDenials; ++i)
        many += std::string(i ? "," : "") + R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_TRAP"})";
    many += "]}";
    auto refused = decode(many);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("4096") != std::string::npos);
    auto d = [](const std::string& item) { return R"({"type":"summary","denials":[)" + item + "]}"; };
    CHECK(decode(d(R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_TRAP"})")).ok());
    CHECK_FALSE(decode(d(R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_LOG"})")).ok());
    CHECK_FALSE(
        decode(d(R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_TRAP","seen_errors":[]})")).ok());
    CHECK_FALSE(
        decode(d(R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_TRAP","seen_errors":{"ENOPE":1}})"))
            .ok());
    CHECK_FALSE(
        decode(d(R"({"arch":"SCMP_ARCH_X86_64","nr":1,"action":"SCMP_ACT_TRAP","seen_errors":{"0":1}})"))
            .ok());
    CHECK_FALSE(decode(R"({"type":"summary","denials":{}})").ok());
}
