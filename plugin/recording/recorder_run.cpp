#include "recorder_run.h"

#include <thread>

#include <fmt/core.h>

#include "common_flags.h"
#include "interrupts.h"
#include "tracer_channels.h"
#include "user_error.h"
#include "version.h"

namespace ksc::cli {

using namespace std::chrono_literals;

// A recorder that sends nothing for this long has stopped: it answers every ping (sent each 5 s)
// with a progress line, and sends one each second anyway while it records.
constexpr auto kRecorderSilence = 20s;
using Clock = std::chrono::steady_clock;

// Waits until the recorder container runs; an Error says why it will not.
Status wait_for_recorder(kube::ApiClient& client, const Target& t, const std::string& name,
                         std::chrono::milliseconds timeout, std::string resource_version) {
    std::optional<std::string> failure;
    bool running = false;
    auto st = client.watch(
        "/api/v1/namespaces/" + t.ns + "/pods?fieldSelector=" + kube::url_encode("metadata.name=" + t.pod),
        resource_version,
        [&](const kube::WatchEvent& ev) {
            if (ev.type == "DELETED") {
                failure = "pod " + t.pod + " was deleted";
                return false;
            }
            auto state = rec::recorder_state(ev.object_json, name);
            if (state.kind == rec::RecorderState::Running) {
                running = true;
                return false;
            }
            if (state.kind == rec::RecorderState::Waiting && rec::is_fatal_waiting_reason(state.reason)) {
                failure = fmt::format("the recorder container cannot start: {}{}{}", state.reason,
                                      state.message.empty() ? "" : ": ", state.message);
                if (state.reason.find("Image") != std::string::npos)
                    *failure +=
                        ". Is the image reachable from the node? Give another with --image (e.g. a copy in "
                        "your own registry)";
                return false;
            }
            if (state.kind == rec::RecorderState::Terminated) {
                failure = fmt::format("the recorder container ended at once ({}{}){}", state.reason,
                                      state.exit_code ? fmt::format(", exit code {}", *state.exit_code) : "",
                                      state.message.empty() ? "" : ": " + state.message);
                return false;
            }
            return interrupts() == 0;
        },
        timeout);
    if (running) return Ok{};
    if (failure) return make_error(*failure);
    if (interrupts()) return make_error("interrupted while the recorder was starting");
    if (!st) {
        if (st.error().message.rfind("gave up watching", 0) == 0)
            return make_error(
                fmt::format("the recorder did not start within {}s: see kubectl describe pod {} -n {}; "
                            "raise --timeout if the node pulls slowly",
                            timeout.count() / 1000, t.pod, t.ns));
        return st.error();
    }
    return make_error("the recorder did not start");
}

Result<std::unique_ptr<kube::WebSocket>> attach(kube::ApiClient& client, const Target& t,
                                                const std::string& name) {
    std::string path =
        t.pod_path() + "/attach?container=" + kube::url_encode(name) + "&stdin=true&stdout=true&stderr=true";
    auto ws = kube::open_websocket(client, path, {kube::kChannelV5, kube::kChannelV4}, 30s);
    if (!ws) return make_error("cannot attach to the recorder: " + ws.error().message);
    return ws;
}

rec::RecordingSession recorder_session(LiveView& view) {
    rec::SessionPolicy policy;
    policy.speaker = "the recorder";
    policy.protocol_remedy = fmt::format("use --image {} (the tracer of this release)", kDefaultTracerImage);
    rec::SessionEvents events;
    events.bad_line = [&view](const std::string& why, std::uint64_t) {
        view.message("warning: skipped a stream line that is not an event: " + why);
    };
    events.syscall = [&view](const stream::Syscall& sc, bool first) {
        if (first) view.new_syscall(sc);
    };
    events.progress = [&view](const stream::Progress& p) { view.progress(p); };
    events.denial = [&view](const stream::Denial& d, bool first) {
        if (first) view.denial(d);
    };
    events.message = [&view](const stream::Message& m) {
        view.message(std::string(m.is_error ? "recorder error: " : "recorder warning: ") + m.message);
    };
    // One view line per line: the view escapes a newline inside a line.
    events.diagnostics = [&view](const std::string& text) {
        std::string_view rest = text;
        while (!rest.empty()) {
            auto nl = rest.find('\n');
            if (auto line = rest.substr(0, nl); !line.empty()) view.message("recorder: " + std::string(line));
            rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        }
    };
    events.recorded = [&view](const Recording& r) { view.set_total(r.syscalls.size()); };
    return rec::RecordingSession(std::move(policy), std::move(events));
}

namespace {

// The stream's first line (hello) and its first-seen syscall events were written before we
// attached; the kubelet kept them in the recorder's log.
bool read_log(kube::ApiClient& client, const std::string& path, rec::RecordingSession& session,
              LiveView& view, rec::RecordingSession::Replay what) {
    auto log = client.get(path);
    if (!log) {
        view.message("warning: cannot read the recorder's log: " + log.error().message);
        return false;
    }
    session.replay(*log, what);
    return true;
}

std::string log_path(const Target& t, const std::string& name) {
    return t.pod_path() + "/log?container=" + kube::url_encode(name);
}

}  // namespace

Recovered recover_from_kubelet(kube::ApiClient& client, const Target& t, const std::string& name,
                               rec::RecordingSession& session, LiveView& view) {
    Recovered r;
    std::size_t before = session.recording().syscalls.size();
    r.log_read = read_log(client, log_path(t, name), session, view, rec::RecordingSession::Replay::All);
    r.from_log = session.recording().syscalls.size() - before;
    if (r.log_read) view.message(fmt::format("read the recorder's log: {} more syscalls", r.from_log));
    auto pod = client.get(t.pod_path());
    if (!pod) return r;
    r.state = rec::recorder_state(*pod, name);
    if (r.state.kind != rec::RecorderState::Terminated || r.state.message.empty()) return r;
    auto added = session.add_compact_summary(r.state.message);
    if (!added) return r;
    r.termination_message = true;
    r.from_termination_message = *added;
    return r;
}

RecorderRun::RecorderRun(kube::ApiClient& client, Target t, rec::ContainerFacts container,
                         const RecordSettings& settings)
    : client_(client),
      t_(std::move(t)),
      container_(std::move(container)),
      settings_(settings),
      view_(settings.terminal, t_.pod + "/" + t_.container,
            settings.tracer_args.empty() ? "recording" : "checking"),
      session_(recorder_session(view_)) {}

// 3. The recorder: PATCH it in, with the privileges --privileges asks for. auto: the app's own
// uid and no capability where its securityContext gives a non-root uid (what Pod Security's
// restricted level allows), else SYS_PTRACE. Throws UserError with the API's refusal explained.
void RecorderRun::add() {
    spec_.name = rec::recorder_name();
    spec_.image = settings_.image;
    spec_.image_pull_policy = settings_.image_pull_policy;
    spec_.target = t_.container;
    spec_.extra_args = settings_.tracer_args;
    spec_.container_id = rec::bare_container_id(container_.container_id);
    spec_.uid = container_.run_as_user;
    spec_.gid = container_.run_as_group;
    std::string why;
    if (settings_.privileges == "same-user") {
        if (!spec_.uid)
            throw UserError("--privileges same-user needs the container's uid, and " + what() +
                            " sets no runAsUser: set one in its securityContext, or use --privileges ptrace");
        spec_.privileges = rec::Privileges::SameUser;
        why = fmt::format("same-user, uid {} and no capability (--privileges same-user)", *spec_.uid);
    } else if (settings_.privileges == "auto" && spec_.uid && *spec_.uid != 0) {
        spec_.privileges = rec::Privileges::SameUser;
        probing_ = true;
        why = fmt::format(
            "same-user, uid {} and no capability: the app's securityContext runs it as that non-root "
            "uid (a recorder with SYS_PTRACE follows only if ptrace is refused)",
            *spec_.uid);
    } else if (settings_.privileges == "auto") {
        why = "SYS_PTRACE: " + what() +
              (spec_.uid ? " runs as root (runAsUser 0)" : " sets no runAsUser (its uid is unknown)") +
              ", so a recorder with the app's uid is not possible";
    } else {
        why = "SYS_PTRACE (--privileges ptrace)";
    }
    patch_in();
    note("privileges of " + spec_.name + " for " + what() + ": " + why);
}

bool RecorderRun::begin() {
    if (!wait_until_running()) return false;
    check_protocol_in_log();
    auto ws = attach(client_, t_, spec_.name);
    if (!ws) throw UserError(ws.error().message);
    if (auto s = session_.connect(std::make_unique<rec::WebSocketChannel>(std::move(*ws))); !s)
        warn(s.error().message);
    started_ = Clock::now();
    return true;
}

// Until the recorder runs; auto's same-user recorder refused ptrace is replaced by one with
// SYS_PTRACE on the way. False when interrupted.
bool RecorderRun::wait_until_running() {
    for (;;) {
        auto s = wait_for_recorder(client_, t_, spec_.name, settings_.start_timeout, resource_version_);
        if (!s && interrupts()) return false;
        log_path_ = log_path(t_, spec_.name);
        if (probing_) {
            probing_ = false;
            if (auto refused = same_user_refusal()) {
                // Ephemeral containers cannot be changed: a new one, with SYS_PTRACE.
                note(
                    fmt::format("recorder {} (uid {}, no capability) was refused ptrace: {}; adding a new "
                                "recorder with SYS_PTRACE",
                                spec_.name, *spec_.uid, *refused));
                same_user_refused_ = *refused;
                stop_refused_recorder();
                spec_.privileges = rec::Privileges::Ptrace;
                spec_.name = rec::recorder_name();
                patch_in();
                note("privileges of " + spec_.name + " for " + what() +
                     ": SYS_PTRACE, as the app's uid was refused ptrace");
                continue;
            }
        }
        if (!s) throw UserError(s.error().message);
        return true;
    }
}

// The refused recorder traces nothing but would scan on until its idle timeout: stop it.
void RecorderRun::stop_refused_recorder() {
    if (auto old = attach(client_, t_, spec_.name)) {
        rec::WebSocketChannel channel(std::move(*old));
        (void)channel.send(stream::Command::Stop);
    }
}

// The hello, the log's first line: another protocol major is refused before attaching.
void RecorderRun::check_protocol_in_log() {
    for (int i = 0; i < 10 && !session_.hello_seen() && !session_.fatal(); ++i) {
        auto head = client_.get(log_path_ + "&limitBytes=4096");
        if (head && !head->empty()) {
            auto nl = head->find('\n');
            if (nl != std::string::npos)
                session_.feed_line(std::string_view(*head).substr(0, nl), rec::RecordingSession::Live::No);
            break;
        }
        std::this_thread::sleep_for(200ms);
    }
    if (session_.fatal()) throw UserError(*session_.fatal());
}

void RecorderRun::step(const std::string& stop_reason, std::chrono::milliseconds wait) {
    using State = rec::RecordingSession::State;
    if (finished_) return;
    if (!session_.stopping() && !stop_reason.empty()) {
        end_reason_ = stop_reason;
        view_.message("stopping " + what() + ": waiting for the recorder's summary");
        session_.request_stop();
    }
    auto state = session_.step(wait);
    if (state == State::Recording && !session_.stopping() && session_.silent_for() > kRecorderSilence) {
        // Stopped (SIGSTOP: in same-user mode the app can send it) or hung: what it streamed is
        // not the whole recording, and waiting longer only holds the app's threads still.
        cut_short_ =
            fmt::format("its recorder {} has not answered ping for {}s (stopped by a signal?)", spec_.name,
                        std::chrono::duration_cast<std::chrono::seconds>(session_.silent_for()).count());
        view_.message("warning: " + what() + ": " + *cut_short_ + ": its recording ends here, incomplete");
        lost_ = true;
        finished_ = true;
        view_.clear();
        session_.disconnect();
        return;
    }
    switch (state) {
        case State::Recording:
            view_.tick();
            return;
        case State::Done:
            finish_stream();
            return;
        case State::StopTimedOut:
            view_.message("warning: the recorder of " + what() +
                          " sent no final summary in 30s: writing what was streamed");
            finish_stream();
            return;
        case State::Failed:
            view_.message("error: " + *session_.fatal());
            session_.request_stop();
            lost_ = true;
            finished_ = true;
            view_.clear();
            session_.disconnect();
            return;
        case State::Lost:
        case State::Ended:
            lost_ = true;
            end_reason_ = session_.end_reason();
            on_lost();
            return;
    }
}

std::optional<std::string> RecorderRun::cut_short() const {
    if (cut_short_) return cut_short_;
    if (auto signalled = session_.message_of("signal")) return "its recorder was " + *signalled;
    return std::nullopt;
}

const Recording& RecorderRun::recording() {
    if (session_.fatal()) throw UserError(*session_.fatal());
    const Recording& recording = session_.recording();
    if (!session_.hello_seen() && recording.syscalls.empty()) {
        std::string why = recording.errors.empty() ? end_reason_ : recording.errors.front();
        throw UserError("the recorder of " + what() + " sent nothing" +
                        (why.empty() ? std::string() : ": " + why) +
                        fmt::format(": see kubectl logs {} -c {} -n {}", t_.pod, spec_.name, t_.ns));
    }
    if ((session_.saw_code("eperm") || session_.saw_code("yama")) &&
        spec_.privileges == rec::Privileges::SameUser)
        warn(
            "the recorder was refused ptrace as the app's user (Yama ptrace_scope or different "
            "capabilities): "
            "use --privileges ptrace where Pod Security allows SYS_PTRACE");
    return recording;
}

bool RecorderRun::abandon() {
    if (finished_) return false;
    if (session_.connected()) {
        auto s = session_.send(stream::Command::Stop);
        session_.disconnect();
        return s.ok();
    }
    if (!added_ || interrupts() >= 2) return false;
    if (!wait_for_recorder(client_, t_, spec_.name, 10s, "")) return false;
    auto ws = attach(client_, t_, spec_.name);
    if (!ws) return false;
    rec::WebSocketChannel channel(std::move(*ws));
    return channel.send(stream::Command::Stop).ok();
}

void RecorderRun::patch_in() {
    auto patch = [&] {
        return client_.request("PATCH", t_.pod_path() + "/ephemeralcontainers", rec::recorder_patch(spec_),
                               std::string(kube::patch_content_type(kube::PatchType::StrategicMerge)));
    };
    added_ = false;
    auto r = patch();
    if (!r) throw UserError("cannot add the recorder to pod " + t_.pod + ": " + r.error().message);
    if (!r->ok()) {
        auto status = kube::api_status(*r);
        // auto: where Pod Security forbids SYS_PTRACE, a recorder with the app's own uid may
        // still trace (unless that one was already refused).
        if (settings_.privileges == "auto" && spec_.privileges == rec::Privileges::Ptrace &&
            same_user_refused_.empty() && rec::is_pod_security_refusal(status) && spec_.uid &&
            *spec_.uid != 0) {
            note("Pod Security forbids SYS_PTRACE here: trying a recorder with the app's uid " +
                 std::to_string(*spec_.uid) + " and no capability (--privileges same-user)");
            spec_.privileges = rec::Privileges::SameUser;
            spec_.name = rec::recorder_name();
            r = patch();
            if (!r) throw UserError("cannot add the recorder to pod " + t_.pod + ": " + r.error().message);
            if (!r->ok()) status = kube::api_status(*r);
        }
        if (!r->ok()) {
            std::string before;
            if (!same_user_refused_.empty())
                before = "the recorder with the app's uid was refused ptrace (" + same_user_refused_ +
                         "), and the one with SYS_PTRACE was refused too: ";
            throw UserError("cannot add the recorder to pod " + t_.pod + ": " + before +
                            rec::explain_patch_refusal(status, t_.ns, spec_.privileges));
        }
    }
    added_ = true;
    if (auto p = rec::parse_pod(r->body)) resource_version_ = p->resource_version;
    note(
        fmt::format("added recorder {} ({}) to pod {} for {}; ephemeral containers cannot be removed, it "
                    "exits when recording ends",
                    spec_.name, spec_.image, t_.pod, t_.container));
}

// auto's same-user recorder: the tracer says within moments whether ptrace works as the app's
// uid: `attached` events, or an `error` with code eperm (SYS_PTRACE would cure it) and exit 1.
// The refusal's message, or nothing (it attached, or failed some other way: handled as usual).
std::optional<std::string> RecorderRun::same_user_refusal() {
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline && interrupts() == 0) {
        bool ended = false;
        if (auto p = client_.get(t_.pod_path()))
            ended = rec::recorder_state(*p, spec_.name).kind == rec::RecorderState::Terminated;
        if (auto log = client_.get(log_path_)) {
            stream::LineSplitter splitter;
            std::optional<std::string> eperm;
            bool other_error = false;
            for (const auto& line : splitter.feed(*log + "\n")) {
                auto event = stream::decode(line);
                if (!event) continue;
                // Something traced: a partial refusal keeps this recorder (and warns at the end).
                if (std::holds_alternative<stream::Attached>(*event) ||
                    std::holds_alternative<stream::Syscall>(*event))
                    return std::nullopt;
                if (const auto* m = std::get_if<stream::Message>(&*event)) {
                    if (m->code == "eperm" && !eperm)
                        eperm = m->message;
                    else if (m->is_error)
                        other_error = true;
                }
            }
            // Every process refused (an error, or warnings while it scans on): nothing traced.
            if (eperm) return eperm;
            if (other_error) return std::nullopt;
        }
        if (ended) return std::nullopt;
        std::this_thread::sleep_for(300ms);
    }
    return std::nullopt;
}

void RecorderRun::finish_stream() {
    finished_ = true;
    view_.clear();
    session_.disconnect();
    // Who made each syscall first: the log has the events written before we attached.
    if (!lost_ || session_.recording().final_summary)
        read_log(client_, log_path_, session_, view_, rec::RecordingSession::Replay::SyscallsOnly);
}

// The recorder may be gone (the app's container ended and took the PID namespace with it) or
// only the connection: look before re-attaching.
void RecorderRun::on_lost() {
    auto p = client_.get(t_.pod_path());
    auto state = p ? rec::recorder_state(*p, spec_.name) : rec::RecorderState{};
    if (state.kind == rec::RecorderState::Running && reattaches_ < 3 && !session_.stopping() && reattach())
        return;
    if (!session_.recording().final_summary) {
        const bool app_ended = app_container_ended(p);
        // Killed while the app runs on (SIGKILL needs no handler: a same-user app can send it):
        // the log holds a recording that stops short, which must not pass for a whole one.
        if (auto now = client_.get(t_.pod_path())) state = rec::recorder_state(*now, spec_.name);
        if (!app_ended && state.kind == rec::RecorderState::Terminated && state.exit_code &&
            *state.exit_code > 128 && !cut_short_)
            cut_short_ = fmt::format("its recorder {} was killed by signal {} before its final summary",
                                     spec_.name, *state.exit_code - 128);
        view_.message(app_ended ? "the app's container " + t_.container + " ended or restarted (pod " +
                                      t_.pod + "): the recording ends there, with what was seen"
                                : "the recorder's stream of " + what() + " ended (" + end_reason_ +
                                      "): keeping what it recorded, from its log");
        recover_from_kubelet(client_, t_, spec_.name, session_, view_);
    }
    finish_stream();
}

bool RecorderRun::reattach() {
    ++reattaches_;
    view_.message("warning: the attach connection to the recorder of " + what() + " broke (" + end_reason_ +
                  "): attaching again");
    auto again = attach(client_, t_, spec_.name);
    if (!again) {
        view_.message("warning: " + again.error().message);
        return false;
    }
    lost_ = false;
    // A snapshot that cannot be sent leaves the session lost: the next step comes back here.
    (void)session_.connect(std::make_unique<rec::WebSocketChannel>(std::move(*again)));
    return true;
}

// The app's container ending takes the recorder with it (they share the PID namespace); the
// pod's status may take a moment to say so.
bool RecorderRun::app_container_ended(Result<std::string> p) {
    for (int i = 0; i < 4; ++i) {
        auto app = p ? rec::parse_pod(*p) : Result<rec::PodFacts>(make_error(""));
        if (app)
            for (const auto& c : app->containers)
                if (c.name == t_.container && (!c.running || c.restart_count != container_.restart_count))
                    return true;
        if (i < 3) {
            std::this_thread::sleep_for(1s);
            p = client_.get(t_.pod_path());
        }
    }
    return false;
}

}  // namespace ksc::cli
