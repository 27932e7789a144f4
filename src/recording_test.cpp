#include "recording.h"

#include <doctest/doctest.h>

#include "syscall_table.h"

namespace ksc {
namespace {

stream::Syscall syscall_event(Arch arch, std::uint32_t nr, std::int64_t pid, std::string comm,
                              bool late = false) {
    stream::Syscall e;
    e.arch = arch;
    e.nr = nr;
    e.pid = pid;
    e.comm = std::move(comm);
    e.late = late;
    return e;
}

}  // namespace

TEST_CASE("recording: syscall events alone make a recording (the stream may be cut before a summary)") {
    RecordingBuilder b;
    stream::Hello hello;
    hello.native_arch = Arch::X86_64;
    hello.mode = stream::Mode::Launch;
    hello.method = stream::Method::Seccomp;
    b.add(hello);
    b.add(syscall_event(Arch::X86_64, 0, 100, "app"));
    b.add(syscall_event(Arch::X86_64, 1, 101, "worker"));
    b.add(syscall_event(Arch::X86_64, 0, 102, "later"));  // a repeat never changes the first caller
    Recording r = b.take();
    CHECK(r.native_arch == Arch::X86_64);
    CHECK_FALSE(r.returns_seen);
    CHECK_FALSE(r.have_summary);
    REQUIRE(r.syscalls.size() == 2);
    CHECK(r.syscalls.at({Arch::X86_64, 0}).first_pid == 100);
    CHECK(r.syscalls.at({Arch::X86_64, 0}).first_comm == "app");
    CHECK(r.syscalls.at({Arch::X86_64, 0}).count == 0);
}

TEST_CASE("recording: the last summary replaces counts and errno returns") {
    RecordingBuilder b;
    b.add(syscall_event(Arch::X86_64, 435, 7, "app"));
    stream::Summary s;
    s.returns_seen = true;
    s.syscalls.push_back({Arch::X86_64, 435, "clone3", 3, {{38, 3}}, false});
    s.processes_seen = 2;
    s.threads_seen = 5;
    b.add(s);
    s.syscalls[0].count = 4;
    s.syscalls[0].errors = {{38, 4}};
    s.syscalls.push_back({Arch::X86, 1, "exit", 1, {}, true});  // only in a summary
    s.final = true;
    b.add(s);
    Recording r = b.take();
    CHECK(r.returns_seen);
    CHECK(r.final_summary);
    CHECK(r.processes_seen == 2);
    CHECK(r.threads_seen == 5);
    const auto& clone3 = r.syscalls.at({Arch::X86_64, 435});
    CHECK(clone3.count == 4);
    CHECK(clone3.only_errno() == 38);
    CHECK(clone3.first_pid == 7);
    const auto& exit32 = r.syscalls.at({Arch::X86, 1});
    CHECK(exit32.late_only);
    CHECK(exit32.first_pid == 0);
    CHECK(r.arches() == std::vector<Arch>{Arch::X86_64, Arch::X86});
}

TEST_CASE("recording: only_errno needs every counted call to fail with one errno") {
    RecordedSyscall sc;
    sc.count = 5;
    sc.errors = {{2, 4}};
    CHECK_FALSE(sc.only_errno());  // one call succeeded
    sc.errors = {{2, 3}, {13, 2}};
    CHECK_FALSE(sc.only_errno());  // two different errnos: the kernel ran it
    sc.errors = {{1, 5}};
    CHECK(sc.only_errno() == 1);
}

TEST_CASE("recording: names come from our table; numbers it does not know stay unnamed") {
    RecordingBuilder b;
    auto e = syscall_event(Arch::X86_64, 4000, 1, "app");
    e.name = "made_up";  // the tracer's name is not trusted
    b.add(e);
    b.add(syscall_event(Arch::X86_64, 0, 1, "app"));
    Recording r = b.take();
    CHECK(r.syscalls.at({Arch::X86_64, 4000}).name.empty());
    REQUIRE(r.unknown_numbers().size() == 1);
    CHECK(r.unknown_numbers()[0]->nr == 4000);
    CHECK(r.syscalls.at({Arch::X86_64, 0}).name == "read");
}

TEST_CASE("recording: tracer warnings and errors are kept") {
    RecordingBuilder b;
    b.add(stream::Message{false, "slow", "slow"});
    b.add(stream::Message{true, "lost it", "eperm"});
    Recording r = b.take();
    CHECK(r.warnings == std::vector<std::string>{"slow"});
    CHECK(r.errors == std::vector<std::string>{"lost it"});
}

TEST_CASE("recording: argument values come from argument lines and summaries; an overflow drops them") {
    RecordingBuilder b;
    stream::Hello hello;  // this version's protocol: arguments are recorded
    b.add(hello);
    b.add(syscall_event(Arch::X86_64, 41, 100, "app"));
    stream::Argument a;
    a.arch = Arch::X86_64;
    a.nr = 41;
    a.value = 2;
    b.add(a);
    stream::Summary s;
    stream::SyscallCount c;
    c.arch = Arch::X86_64;
    c.nr = 41;
    c.count = 4;
    c.values = {1};  // its argument line was lost: the summary still brings it
    s.syscalls.push_back(c);
    c.nr = 16;
    c.values.clear();
    c.values_overflow = true;
    s.syscalls.push_back(c);
    b.add(s);
    Recording r = b.take();
    CHECK(r.args_recorded);
    CHECK(r.syscalls.at({Arch::X86_64, 41}).arg_values == std::set<std::uint64_t>{1, 2});
    CHECK(r.syscalls.at({Arch::X86_64, 16}).arg_overflow);
    CHECK(r.syscalls.at({Arch::X86_64, 16}).arg_values.empty());
}

TEST_CASE("recording: a 1.0 tracer records no arguments") {
    RecordingBuilder b;
    stream::Hello hello;
    hello.protocol_minor = 0;
    b.add(hello);
    CHECK_FALSE(b.take().args_recorded);
}

TEST_CASE("read_recording: decodes each line, skipping blank ones") {
    std::string text;
    stream::Hello hello;
    hello.method = stream::Method::Ptrace;
    text += stream::encode(hello) + "\n\n";
    text += stream::encode(syscall_event(Arch::X86_64, 0, 1, "a")) + "\r\n";
    auto r = read_recording(text);
    REQUIRE(r.ok());
    CHECK(r->returns_seen);
    CHECK(r->syscalls.size() == 1);
}

TEST_CASE("read_recording: a bad line is an error naming its line number") {
    std::string text = stream::encode(stream::Hello{}) + "\n{\"type\":\"syscall\",\n";
    auto r = read_recording(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("line 2: ", 0) == 0);
}

TEST_CASE("read_recording: a stream of another protocol major is refused, naming both versions") {
    stream::Hello hello;
    hello.protocol_major = 9;
    hello.protocol_minor = 1;
    std::string text = stream::encode(stream::Syscall{}) + "\n" + stream::encode(hello) + "\n";
    auto r = read_recording(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "line 2: the recording speaks stream protocol 9.1, this kubectl-seccomp speaks 1.2: read it with "
          "the kubectl-seccomp of its tracer's release");
    hello.protocol_minor = 7;  // another minor of our major: read
    hello.protocol_major = stream::kProtocolMajor;
    CHECK(read_recording(stream::encode(hello) + "\n").ok());
}

TEST_CASE("read_recording: empty input is an error") {
    CHECK_FALSE(read_recording("").ok());
    CHECK_FALSE(read_recording("\n  \n").ok());
}

TEST_CASE("looks_like_stream: tells a stream from a profile") {
    CHECK(looks_like_stream("{\"type\":\"hello\",\"protocol\":\"1.0\"}\n"));
    CHECK_FALSE(looks_like_stream("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\"\n}\n"));
    CHECK_FALSE(looks_like_stream("apiVersion: v1\n"));
}

TEST_CASE("recording: a check's denials: events first-seen, then each summary's counts replace them") {
    RecordingBuilder b;
    stream::Hello hello;
    hello.check = stream::CheckInfo{"complain", 42};
    b.add(hello);
    stream::Denial d;
    d.t = 0.5;
    d.nr = 41;
    d.name = "socket";
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 1;
    d.args = {10, 1, 0, 0, 0, 0};
    d.comm = "curl";
    d.exe = "/usr/bin/curl";
    b.add(d);
    b.add(d);  // the same key again adds nothing
    d.exe = "/bin/other";
    b.add(d);
    Recording r = b.take();
    REQUIRE(r.check);
    CHECK(r.check->mode == "complain");
    REQUIRE(r.denials.size() == 2);
    const auto& first = r.denials.begin()->second;
    CHECK(first.count == 1);
    CHECK(first.first_t == 0.5);
    CHECK(first.args[0] == 10);

    stream::Summary s;
    stream::DenialCount c;
    c.nr = 41;
    c.name = "socket";
    c.action = "SCMP_ACT_ERRNO";
    c.errno_value = 1;
    c.exe = "/usr/bin/curl";
    c.count = 7;
    c.seen_errors = {{97, 7}};
    s.denials = {c};
    b.add(s);
    r = b.take();
    REQUIRE(r.denials.size() == 1);
    CHECK(r.denials.begin()->second.count == 7);
    CHECK(r.denials.begin()->second.seen_errors.at(97) == 7);
    b.add(stream::Summary{});  // nothing denied any more is a count too: a summary is complete
    CHECK(b.peek().denials.empty());
}

TEST_CASE("recording: without a check, summaries leave denials alone (there are none)") {
    RecordingBuilder b;
    b.add(stream::Summary{});
    CHECK_FALSE(b.peek().check);
    CHECK(b.peek().denials.empty());
}

}  // namespace ksc
