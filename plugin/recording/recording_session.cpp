#include "recording_session.h"

#include "compact_summary.h"
#include "syscall_table.h"

namespace ksc::rec {

using Clock = std::chrono::steady_clock;

RecordingSession::RecordingSession(SessionPolicy policy, SessionEvents events)
    : policy_(std::move(policy)), events_(std::move(events)) {}

Status RecordingSession::connect(std::unique_ptr<TracerChannel> channel) {
    disconnect();
    channel_ = std::move(channel);
    lost_ = false;
    reason_stated_ = false;
    splitter_ = stream::LineSplitter();
    last_ping_ = last_heard_ = Clock::now();
    if (!policy_.snapshot_on_connect) return Ok{};
    auto sent = channel_->send(stream::Command::Snapshot);
    if (!sent) lost_ = true;
    return sent;
}

void RecordingSession::disconnect() {
    if (channel_) channel_->close();
    channel_.reset();
}

Status RecordingSession::send(stream::Command command) {
    if (!channel_) return make_error("not connected to the tracer");
    auto sent = channel_->send(command);
    if (!sent) lost_ = true;
    return sent;
}

void RecordingSession::request_stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ = Clock::now() + policy_.stop_grace;
    if (channel_) (void)send(stream::Command::Stop);
}

RecordingSession::State RecordingSession::step(std::chrono::milliseconds wait) {
    if (fatal_) return State::Failed;
    auto now = Clock::now();
    if (stopping_ && now > stop_deadline_) return State::StopTimedOut;
    if (!channel_) return State::Lost;
    if (!stopping_ && !lost_ && policy_.ping_every && now - last_ping_ > *policy_.ping_every) {
        last_ping_ = now;
        (void)send(stream::Command::Ping);
    }
    if (!lost_) read_channel(wait);
    if (fatal_) return State::Failed;
    if (policy_.final_summary_ends && recording().final_summary) return State::Done;
    if (lost_) return State::Lost;
    if (channel_->ended()) return State::Ended;
    return State::Recording;
}

void RecordingSession::read_channel(std::chrono::milliseconds wait) {
    auto data = channel_->read(wait);
    if (!data) {
        lost_ = true;
        // What the channel said about its end is more telling than the error of reading past it.
        if (!reason_stated_) end_reason_ = data.error().message;
        return;
    }
    if (!data->end_reason.empty()) {
        end_reason_ = data->end_reason;
        reason_stated_ = true;
    }
    if (!data->diagnostics.empty() && events_.diagnostics) events_.diagnostics(data->diagnostics);
    if (!data->stream.empty()) {
        last_heard_ = Clock::now();
        feed(data->stream);
    }
}

std::optional<std::string> RecordingSession::message_of(std::string_view code) const {
    auto it = code_messages_.find(std::string(code));
    if (it == code_messages_.end()) return std::nullopt;
    return it->second;
}

std::chrono::steady_clock::duration RecordingSession::silent_for() const {
    return Clock::now() - last_heard_;
}

void RecordingSession::feed(std::string_view bytes, Live live) {
    for (const auto& line : splitter_.feed(bytes)) {
        feed_line(line, live);
        if (fatal_) return;
    }
}

void RecordingSession::end_of_stream(Live live) {
    std::string rest = splitter_.take_rest();
    if (!rest.empty()) feed_line(rest, live);
}

void RecordingSession::feed_line(std::string_view line, Live live) {
    if (fatal_ || line.empty() || line == "\r") return;
    auto event = stream::decode(line);
    if (!event) {
        ++bad_lines_;
        if (live == Live::Yes && events_.bad_line) events_.bad_line(event.error().message, bad_lines_);
        return;
    }
    add_event(*event, live);
}

void RecordingSession::add_event(const stream::Event& event, Live live) {
    const bool on = live == Live::Yes;
    if (const auto* hello = std::get_if<stream::Hello>(&event)) {
        if (auto ok = stream::check_protocol(*hello); !ok) {
            fatal_ = policy_.speaker + " " + ok.error().message +
                     (policy_.protocol_remedy.empty() ? "" : ": " + policy_.protocol_remedy);
            return;
        }
        hello_seen_ = true;
        if (on && events_.hello) events_.hello(*hello);
    } else if (const auto* attached = std::get_if<stream::Attached>(&event)) {
        if (on && events_.attached) events_.attached(*attached);
    } else if (const auto* sc = std::get_if<stream::Syscall>(&event)) {
        if (on && events_.syscall) events_.syscall(*sc, !recording().syscalls.count({sc->arch, sc->nr}));
    } else if (const auto* denial = std::get_if<stream::Denial>(&event)) {
        if (on && events_.denial)
            events_.denial(*denial,
                           !recording().denials.count({denial->arch, denial->nr, denial->action,
                                                       denial->errno_value.value_or(-1), denial->exe}));
    } else if (const auto* progress = std::get_if<stream::Progress>(&event)) {
        if (on && events_.progress) events_.progress(*progress);
    } else if (const auto* message = std::get_if<stream::Message>(&event)) {
        if (!message->code.empty()) {
            codes_.insert(message->code);
            code_messages_.emplace(message->code, message->message);
        }
        if (on && events_.message) events_.message(*message);
    }
    builder_.add(event);
    if (on && events_.recorded) events_.recorded(recording());
}

void RecordingSession::replay(std::string_view log, Replay what) {
    stream::LineSplitter splitter;
    for (const auto& line : splitter.feed(std::string(log) + "\n")) {
        if (what == Replay::All) {
            feed_line(line, Live::No);
            continue;
        }
        auto event = stream::decode(line);
        // Syscalls and argument values only: both are the record, and only ever add.
        if (event && (std::holds_alternative<stream::Syscall>(*event) ||
                      std::holds_alternative<stream::Argument>(*event)))
            builder_.add(*event);
    }
}

std::optional<std::size_t> RecordingSession::add_compact_summary(std::string_view termination_message) {
    const std::size_t before = recording().syscalls.size();
    // The syscalls, and the argument values that fit the message (RecordingBuilder).
    if (!builder_.add_compact_summary(termination_message)) return std::nullopt;
    return recording().syscalls.size() - before;
}

}  // namespace ksc::rec
