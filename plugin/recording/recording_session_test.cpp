#include "recording_session.h"

#include <doctest/doctest.h>

#include <deque>
#include <thread>

#include "compact_summary.h"

namespace ksc::rec {
namespace {

using namespace std::chrono_literals;

// A channel that hands out what the test scripted, one read at a time, and keeps what was sent.
struct Script {
    std::deque<Result<ChannelData>> reads;
    std::vector<std::string> sent;
    bool closes_after_reads = false;  // the channel ends (a pipe's EOF) once the reads are used up
    bool refuse_sends = false;
};

class ScriptedChannel : public TracerChannel {
  public:
    explicit ScriptedChannel(Script& script) : script_(script) {}
    Result<ChannelData> read(std::chrono::milliseconds) override {
        if (script_.reads.empty()) {
            if (script_.closes_after_reads) ended_ = true;
            return ChannelData{};
        }
        auto next = std::move(script_.reads.front());
        script_.reads.pop_front();
        if (script_.reads.empty() && script_.closes_after_reads) ended_ = true;
        return next;
    }
    bool ended() const override { return ended_; }
    Status send(stream::Command command) override {
        if (script_.refuse_sends) return make_error("broken pipe");
        script_.sent.emplace_back(stream::command_text(command));
        return Ok{};
    }
    void close() override {}

  private:
    Script& script_;
    bool ended_ = false;
};

ChannelData out(std::string stream) {
    ChannelData d;
    d.stream = std::move(stream);
    return d;
}

std::string line(const stream::Event& e) {
    return stream::encode(e) + "\n";
}

stream::Syscall syscall(std::uint32_t nr, const char* name) {
    stream::Syscall sc;
    sc.arch = Arch::X86_64;
    sc.nr = nr;
    sc.name = name;
    sc.pid = 7;
    return sc;
}

stream::Summary summary(bool final, std::vector<std::uint32_t> nrs) {
    stream::Summary s;
    s.final = final;
    for (auto nr : nrs) {
        stream::SyscallCount c;
        c.arch = Arch::X86_64;
        c.nr = nr;
        c.count = 3;
        s.syscalls.push_back(c);
    }
    return s;
}

using State = RecordingSession::State;

}  // namespace

TEST_CASE(
    "recording session: decodes lines split across reads, asks for a snapshot, ends on the final summary") {
    Script script;
    std::string hello = line(stream::Hello{});
    script.reads.push_back(out(hello.substr(0, 10)));
    script.reads.push_back(out(hello.substr(10) + line(syscall(0, "read"))));
    script.reads.push_back(out(line(summary(true, {0, 1}))));
    std::vector<std::string> first_seen;
    SessionEvents events;
    events.syscall = [&](const stream::Syscall& sc, bool first) {
        if (first) first_seen.push_back(sc.name);
    };
    RecordingSession session({}, events);
    REQUIRE(session.connect(std::make_unique<ScriptedChannel>(script)).ok());
    CHECK(script.sent == std::vector<std::string>{"snapshot"});
    CHECK(session.step(1ms) == State::Recording);
    CHECK_FALSE(session.hello_seen());
    CHECK(session.step(1ms) == State::Recording);
    CHECK(session.hello_seen());
    CHECK(first_seen == std::vector<std::string>{"read"});
    CHECK(session.step(1ms) == State::Done);
    CHECK(session.recording().syscalls.size() == 2);
    CHECK(session.recording().syscalls.at({Arch::X86_64, 0}).count == 3);
}

TEST_CASE(
    "recording session: a broken connection is Lost; a new channel starts a fresh line and a snapshot") {
    Script first;
    first.reads.push_back(out(line(stream::Hello{}) + "{\"type\":\"sysc"));  // half a line, then broken
    first.reads.push_back(make_error("connection reset"));
    RecordingSession session({}, {});
    (void)session.connect(std::make_unique<ScriptedChannel>(first));
    CHECK(session.step(1ms) == State::Recording);
    CHECK(session.step(1ms) == State::Lost);
    CHECK(session.end_reason() == "connection reset");
    CHECK(session.step(1ms) == State::Lost);  // stays lost until the verb connects again

    Script second;
    second.reads.push_back(out(line(syscall(1, "write"))));
    second.reads.push_back(out(line(summary(false, {1, 2}))));
    REQUIRE(session.connect(std::make_unique<ScriptedChannel>(second)).ok());
    CHECK(second.sent == std::vector<std::string>{"snapshot"});
    CHECK(session.step(1ms) == State::Recording);
    CHECK(session.step(1ms) == State::Recording);
    CHECK(session.bad_lines() == 0);  // the half line of the broken channel was dropped, not decoded
    CHECK(session.recording().syscalls.size() == 2);
    CHECK(session.recording().have_summary);
    CHECK_FALSE(session.recording().final_summary);
}

TEST_CASE("recording session: stop is sent once, then a deadline for the final summary") {
    Script script;
    SessionPolicy policy;
    policy.stop_grace = 0ms;
    RecordingSession session(policy, {});
    (void)session.connect(std::make_unique<ScriptedChannel>(script));
    session.request_stop();
    session.request_stop();
    CHECK(script.sent == std::vector<std::string>{"snapshot", "stop"});
    std::this_thread::sleep_for(2ms);
    CHECK(session.step(1ms) == State::StopTimedOut);
}

TEST_CASE("recording session: pings an idle channel; a ping that cannot be sent loses the channel") {
    Script script;
    SessionPolicy policy;
    policy.ping_every = 0ms;
    policy.snapshot_on_connect = false;
    RecordingSession session(policy, {});
    (void)session.connect(std::make_unique<ScriptedChannel>(script));
    std::this_thread::sleep_for(1ms);
    CHECK(session.step(1ms) == State::Recording);
    CHECK(script.sent == std::vector<std::string>{"ping"});
    script.refuse_sends = true;
    std::this_thread::sleep_for(1ms);
    CHECK(session.step(1ms) == State::Lost);
}

TEST_CASE("recording session: summary-only recovery from a termination message, and the log's syscalls") {
    RecordingSession session({}, {});
    CHECK_FALSE(session.add_compact_summary("not a summary"));
    const std::string message = encode_compact_summary({{Arch::X86_64, {0, 1, 60}}});
    CHECK(session.add_compact_summary(message) == std::optional<std::size_t>(3));
    CHECK(session.add_compact_summary(message) == std::optional<std::size_t>(0));
    CHECK(session.recording().syscalls.at({Arch::X86_64, 60}).name == "exit");
    CHECK(session.recording().syscalls.at({Arch::X86_64, 60}).first_pid == 0);
    // The log fills in who made each syscall first, without its (older) summaries.
    std::string log = line(stream::Hello{}) + line(syscall(60, "exit")) + line(summary(false, {0}));
    session.replay(log, RecordingSession::Replay::SyscallsOnly);
    CHECK(session.recording().syscalls.at({Arch::X86_64, 60}).first_pid == 7);
    CHECK_FALSE(session.recording().have_summary);
    CHECK_FALSE(session.hello_seen());
    session.replay(log, RecordingSession::Replay::All);
    CHECK(session.hello_seen());
    CHECK(session.recording().have_summary);
}

TEST_CASE("recording session: the tracer's errors and warnings are kept, with their codes") {
    Script script;
    stream::Message error;
    error.is_error = true;
    error.message = "ptrace: Operation not permitted";
    error.code = "eperm";
    stream::Message warning;
    warning.message = "slow";
    script.reads.push_back(out(line(stream::Hello{}) + line(error) + line(warning) + "not json\n"));
    std::vector<std::string> seen, bad;
    SessionEvents events;
    events.message = [&](const stream::Message& m) { seen.push_back(m.message); };
    events.bad_line = [&](const std::string& why, std::uint64_t n) {
        bad.push_back(std::to_string(n) + why);
    };
    RecordingSession session({}, events);
    (void)session.connect(std::make_unique<ScriptedChannel>(script));
    CHECK(session.step(1ms) == State::Recording);
    CHECK(session.recording().errors == std::vector<std::string>{"ptrace: Operation not permitted"});
    CHECK(session.recording().warnings == std::vector<std::string>{"slow"});
    CHECK(session.saw_code("eperm"));
    CHECK_FALSE(session.saw_code("yama"));
    CHECK(seen.size() == 2);
    CHECK(bad.size() == 1);
    CHECK(session.bad_lines() == 1);
}

TEST_CASE("recording session: another protocol major fails the session, naming the speaker and the remedy") {
    Script script;
    stream::Hello hello;
    hello.protocol_major = 2;
    script.reads.push_back(out(line(hello) + line(syscall(0, "read"))));
    SessionPolicy policy;
    policy.speaker = "the recorder";
    policy.protocol_remedy = "use --image X";
    RecordingSession session(policy, {});
    (void)session.connect(std::make_unique<ScriptedChannel>(script));
    CHECK(session.step(1ms) == State::Failed);
    REQUIRE(session.fatal());
    CHECK(*session.fatal() ==
          "the recorder speaks stream protocol 2.2, this kubectl-seccomp speaks 1.2: use --image X");
    CHECK(session.recording().syscalls.empty());  // nothing after the refused hello is read
    CHECK(session.step(1ms) == State::Failed);
}

TEST_CASE("recording session: a pipe's end is Ended, and the last partial line is read at the end") {
    Script script;
    script.closes_after_reads = true;
    script.reads.push_back(out(line(stream::Hello{}) + stream::encode(syscall(0, "read"))));  // no newline
    SessionPolicy policy;
    policy.final_summary_ends = false;
    RecordingSession session(policy, {});
    (void)session.connect(std::make_unique<ScriptedChannel>(script));
    CHECK(session.step(1ms) == State::Ended);
    CHECK(session.recording().syscalls.empty());
    session.end_of_stream();
    CHECK(session.recording().syscalls.size() == 1);
}

}  // namespace ksc::rec
