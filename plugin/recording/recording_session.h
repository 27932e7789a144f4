// One recording session: what `record`, `record --from-start` and `trace` all do with a tracer's
// stream, whatever carries it (an attach WebSocket, an exec WebSocket, a local pipe). It decodes
// and checks each line (the protocol major, once, in the core: stream::check_protocol), keeps the
// tracer's errors and warnings, feeds the RecordingBuilder, folds in compact summaries, and runs the
// command side of docs/stream.md: `snapshot` on every (re)connection, `ping` while idle, `stop` with
// a deadline for the final summary. What to do when a channel is lost (attach again, read the
// kubelet's log, give up) is the verb's: step() says Lost and connect() takes the next channel.
// The verbs' live views hang on SessionEvents.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "recording.h"
#include "result.h"
#include "stream.h"

namespace ksc::rec {

// What one read of a channel brought: any of the three may be empty.
struct ChannelData {
    std::string stream;       // bytes of the tracer's stream
    std::string diagnostics;  // the tracer's own stderr, where the channel carries it apart
    std::string end_reason;   // why the channel is closing, when it says (a WebSocket's status)
};

// Where a tracer's stream comes from and its commands go.
class TracerChannel {
  public:
    virtual ~TracerChannel() = default;
    // Waits up to `wait` for data; an error means the channel broke.
    virtual Result<ChannelData> read(std::chrono::milliseconds wait) = 0;
    // The channel closed: nothing more will come.
    virtual bool ended() const = 0;
    // One command line. A channel without a way back (trace's pipe: the tracer stops on Ctrl-C,
    // which reaches it directly) ignores commands.
    virtual Status send(stream::Command command) = 0;
    virtual void close() = 0;
};

// The live view's hooks, each optional. Called for lines read live (from a channel, or fed with
// Live::Yes), not for replayed logs.
struct SessionEvents {
    std::function<void(const stream::Hello&)> hello;  // after the protocol check passed
    std::function<void(const stream::Attached&)> attached;
    // Every syscall event; `first`: its (arch, nr) was not in the recording yet.
    std::function<void(const stream::Syscall&, bool first)> syscall;
    std::function<void(const stream::Progress&)> progress;
    // A check's would-be denial (protocol 1.2); `first`: its key was not in the recording yet.
    std::function<void(const stream::Denial&, bool first)> denial;
    std::function<void(const stream::Message&)> message;  // the tracer's warning or error
    std::function<void(const std::string&)> diagnostics;  // a read's ChannelData::diagnostics
    // A line that is not an event (skipped), with the decoder's reason and how many so far.
    std::function<void(const std::string& why, std::uint64_t count)> bad_line;
    std::function<void(const Recording&)> recorded;  // after each event was added
};

struct SessionPolicy {
    std::string speaker = "the tracer";  // the protocol error's subject: "the recorder", a path
    std::string protocol_remedy;         // what to do about another protocol major
    std::optional<std::chrono::milliseconds> ping_every = std::chrono::seconds(5);  // none: no pings
    bool snapshot_on_connect = true;  // ask for a summary of what happened before this channel
    std::chrono::milliseconds stop_grace = std::chrono::seconds(30);  // for the final summary
    bool final_summary_ends = true;  // a final summary ends the session (else the channel's end)
};

class RecordingSession {
  public:
    enum class State {
        Recording,     // go on
        Done,          // the final summary arrived (policy.final_summary_ends)
        Lost,          // the channel broke (or there is none): connect() again, or give up
        Ended,         // the channel closed (a pipe's end of file): end_of_stream() has the rest
        StopTimedOut,  // stop was asked for and no final summary came within policy.stop_grace
        Failed,        // the tracer cannot be read (fatal()): stop
    };
    enum class Live { Yes, No };

    RecordingSession(SessionPolicy policy, SessionEvents events);

    // A (new) channel: a fresh line splitter (a broken connection leaves half a line), and a
    // `snapshot` asked for so that what the tracer saw meanwhile arrives as a summary. An error:
    // the snapshot could not be sent (the channel is kept; the next step() finds it broken).
    Status connect(std::unique_ptr<TracerChannel> channel);
    bool connected() const { return channel_ != nullptr; }
    // Closes and drops the channel.
    void disconnect();

    // One command on the channel (an error: there is none, or it broke).
    Status send(stream::Command command);
    // Sends `stop` (once) and arms the deadline of the final summary.
    void request_stop();
    bool stopping() const { return stopping_; }

    // One round: the stop deadline, a ping when due, a read of up to `wait`, its lines.
    State step(std::chrono::milliseconds wait);

    // Bytes of the stream from elsewhere, then the last partial line once it has ended.
    void feed(std::string_view bytes, Live live = Live::Yes);
    void end_of_stream(Live live = Live::Yes);
    // One line (without its newline).
    void feed_line(std::string_view line, Live live = Live::Yes);
    // A saved stream (the kubelet's log of the tracer): every line, or only its syscall events
    // (who made each syscall first, without replaying older summaries over newer ones).
    enum class Replay { All, SyscallsOnly };
    void replay(std::string_view log, Replay what);
    // The compact summary of a termination message (src/proto/compact_summary.h), as syscall events.
    // How many syscalls it added; nothing when the text is not a compact summary.
    std::optional<std::size_t> add_compact_summary(std::string_view termination_message);

    const Recording& recording() const { return builder_.peek(); }
    bool hello_seen() const { return hello_seen_; }
    // Why reading stopped for good (another protocol major), as one line with its remedy.
    const std::optional<std::string>& fatal() const { return fatal_; }
    // A `code` one of the tracer's messages carried ("eperm", "yama", ...), and the first message
    // that carried it.
    bool saw_code(std::string_view code) const { return codes_.count(std::string(code)) > 0; }
    std::optional<std::string> message_of(std::string_view code) const;
    // How long since the current channel last brought a byte of the stream (or was connected): a
    // tracer answers every ping, so a long silence means it stopped (docs/kubernetes.md).
    std::chrono::steady_clock::duration silent_for() const;
    // The last reason the channel gave for ending, or its read error.
    const std::string& end_reason() const { return end_reason_; }
    std::uint64_t bad_lines() const { return bad_lines_; }

  private:
    void add_event(const stream::Event& event, Live live);
    void read_channel(std::chrono::milliseconds wait);

    SessionPolicy policy_;
    SessionEvents events_;
    std::unique_ptr<TracerChannel> channel_;
    bool lost_ = false;  // the current channel broke
    RecordingBuilder builder_;
    stream::LineSplitter splitter_;
    bool hello_seen_ = false;
    std::optional<std::string> fatal_;
    std::set<std::string> codes_;
    std::map<std::string, std::string> code_messages_;
    std::chrono::steady_clock::time_point last_heard_{};
    std::string end_reason_;
    bool reason_stated_ = false;  // the current channel gave end_reason_ itself
    std::uint64_t bad_lines_ = 0;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point stop_deadline_{}, last_ping_{};
};

}  // namespace ksc::rec
