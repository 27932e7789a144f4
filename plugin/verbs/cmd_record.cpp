// `kubectl seccomp record POD [-c CONTAINER]`: add a recorder (ephemeral container running
// seccomp-tracer in attach mode) to a running pod, read its stream over pods/attach, and write the
// profile when the user stops (Ctrl-C once), --duration passes, or the app's container ends.
// The flow is DESIGN.md's: version, pod, PATCH ephemeralcontainers, watch, attach, stop.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "api_client.h"
#include "cluster.h"
#include "common_flags.h"
#include "compact_summary.h"
#include "exit_status.h"
#include "interrupts.h"
#include "kubeconfig.h"
#include "profile.h"
#include "profile_inputs.h"
#include "profile_output.h"
#include "record_from_start.h"
#include "recorder.h"
#include "recording.h"
#include "stream.h"
#include "syscall_table.h"
#include "user_error.h"
#include "verbs.h"
#include "version.h"
#include "websocket.h"

namespace ksc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string format_elapsed(Clock::duration d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
}

// The live view on stderr: one updating line on a terminal, plain lines otherwise.
class LiveView {
  public:
    LiveView(bool terminal, std::string what) : terminal_(terminal), what_(std::move(what)) {}

    void new_syscall(const stream::Syscall& sc) {
        last_new_ = Clock::now();
        last_name_ = sc.name.empty() ? std::to_string(sc.nr) : sc.name;
        ++syscalls_;
        if (!terminal_)
            fmt::print(stderr, "new syscall: {}{} ({}[{}])\n", last_name_,
                       sc.arch == native_arch() ? "" : " (" + std::string(arch_name(sc.arch)) + ")", sc.comm,
                       sc.pid);
        else
            redraw(true);
    }
    // Syscalls seen before we attached arrive in the snapshot's summary, not as events.
    void set_total(std::uint64_t n) { syscalls_ = std::max(syscalls_, n); }
    void progress(const stream::Progress& p) {
        threads_ = p.threads;
        processes_ = p.processes;
        redraw(false);
    }
    void tick() { redraw(false); }
    void message(const std::string& line) {
        clear();
        fmt::print(stderr, "{}\n", line);
        redraw(true);
    }
    void clear() {
        if (terminal_ && drawn_) fmt::print(stderr, "\r\033[K");
        drawn_ = false;
    }

  private:
    void redraw(bool force) {
        auto now = Clock::now();
        if (!force && now - last_draw_ < (terminal_ ? 1s : 30s)) return;
        last_draw_ = now;
        std::string since = syscalls_ == 0 ? ""
                                           : fmt::format(", last new: {} {} ago", last_name_,
                                                         format_elapsed(now - last_new_));
        std::string line = fmt::format("recording {}: {}, {} syscalls, {} threads in {} processes{}", what_,
                                       format_elapsed(now - start_), syscalls_, threads_, processes_, since);
        if (terminal_) {
            fmt::print(stderr, "\r\033[K{}", line);
            drawn_ = true;
        } else {
            fmt::print(stderr, "{}\n", line);
        }
    }

    bool terminal_;
    std::string what_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_draw_{};
    Clock::time_point last_new_ = Clock::now();
    std::string last_name_;
    std::uint64_t syscalls_ = 0, threads_ = 0, processes_ = 0;
    bool drawn_ = false;
};

struct Session {
    RecordingBuilder builder;
    stream::LineSplitter splitter;
    bool hello_seen = false;
    std::optional<std::string> fatal;  // the tracer refused (protocol, error): stop
    std::vector<std::string> tracer_errors;
    bool eperm = false;
};

void handle_line(Session& s, LiveView& view, const std::string& line, bool live) {
    if (line.empty()) return;
    auto event = stream::decode(line);
    if (!event) {
        if (live)
            view.message("warning: skipped a stream line that is not an event: " + event.error().message);
        return;
    }
    if (const auto* hello = std::get_if<stream::Hello>(&*event)) {
        if (hello->protocol_major != stream::kProtocolMajor) {
            s.fatal = fmt::format(
                "the recorder speaks stream protocol {}.{}, this kubectl-seccomp speaks {}.{}: use "
                "--image {} (the tracer of this release)",
                hello->protocol_major, hello->protocol_minor, stream::kProtocolMajor, stream::kProtocolMinor,
                kDefaultTracerImage);
            return;
        }
        s.hello_seen = true;
    } else if (const auto* sc = std::get_if<stream::Syscall>(&*event)) {
        if (live && !s.builder.peek().syscalls.count({sc->arch, sc->nr})) view.new_syscall(*sc);
    } else if (const auto* p = std::get_if<stream::Progress>(&*event)) {
        if (live) view.progress(*p);
    } else if (const auto* m = std::get_if<stream::Message>(&*event)) {
        if (live)
            view.message(std::string(m->is_error ? "recorder error: " : "recorder warning: ") + m->message);
        if (m->is_error) s.tracer_errors.push_back(m->message);
        if (m->code == "eperm" || m->code == "yama") s.eperm = true;
    }
    s.builder.add(*event);
    if (live) view.set_total(s.builder.peek().syscalls.size());
}

// The stream's first line (hello) and its first-seen syscall events were written before we
// attached; the kubelet kept them in the recorder's log. `only_syscalls`: fill in who made each
// syscall first, without replaying old summaries over newer ones.
bool read_log(kube::ApiClient& client, const std::string& path, Session& s, LiveView& view,
              bool only_syscalls) {
    auto log = client.get(path);
    if (!log) {
        view.message("warning: cannot read the recorder's log: " + log.error().message);
        return false;
    }
    stream::LineSplitter splitter;
    for (const auto& line : splitter.feed(*log + "\n")) {
        if (only_syscalls) {
            auto event = stream::decode(line);
            if (event && std::holds_alternative<stream::Syscall>(*event)) s.builder.add(*event);
            continue;
        }
        handle_line(s, view, line, false);
    }
    return true;
}

struct Target {
    std::string ns, pod, container;
    std::string pod_path() const { return "/api/v1/namespaces/" + ns + "/pods/" + pod; }
};

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
    std::vector<std::string> headers;
    auto stream = client.connect_raw(headers);
    if (!stream) return stream.error();
    std::string path =
        t.pod_path() + "/attach?container=" + kube::url_encode(name) + "&stdin=true&stdout=true&stderr=true";
    auto ws = kube::WebSocket::connect(std::move(*stream), client.host_header(), path,
                                       {kube::kChannelV5, kube::kChannelV4}, headers, 30s);
    if (!ws) return make_error("cannot attach to the recorder: " + ws.error().message);
    return ws;
}

Status send_command(kube::WebSocket& ws, stream::Command c) {
    return ws.send(kube::Opcode::Binary,
                   kube::channel_message(kube::kStdin, std::string(stream::command_text(c)) + "\n"));
}

// What recover() found, so that its caller can say where the profile came from.
struct Recovered {
    bool log_read = false;
    std::size_t from_log = 0;  // syscalls the log added
    rec::RecorderState state;  // the recorder's, when the pod could be read
    bool termination_message = false;
    std::size_t from_termination_message = 0;  // syscalls only the termination message had
};

// After the stream is lost for good: what the kubelet kept. The recorder's log holds every line it
// wrote; its termination message the compact summary.
Recovered recover(kube::ApiClient& client, const Target& t, const std::string& name, Session& s,
                  LiveView& view) {
    Recovered r;
    std::size_t before = s.builder.peek().syscalls.size();
    r.log_read = read_log(client, t.pod_path() + "/log?container=" + kube::url_encode(name), s, view, false);
    r.from_log = s.builder.peek().syscalls.size() - before;
    if (r.log_read) view.message(fmt::format("read the recorder's log: {} more syscalls", r.from_log));
    auto pod = client.get(t.pod_path());
    if (!pod) return r;
    r.state = rec::recorder_state(*pod, name);
    if (r.state.kind != rec::RecorderState::Terminated || r.state.message.empty()) return r;
    before = s.builder.peek().syscalls.size();
    if (!s.builder.add_compact_summary(r.state.message)) return r;
    r.termination_message = true;
    r.from_termination_message = s.builder.peek().syscalls.size() - before;
    return r;
}

// The flags every verb that writes a recording's profile shares (record, recover).
void add_profile_flags(VerbFlags& flags) {
    flags.add_options()("base", "The container runtime's own syscalls to add: runc|crun|both|none",
                        cxxopts::value<std::string>()->default_value("both"))(
        "include-denied", "Allow the syscalls the app saw refused, instead of refusing them the same way")(
        "args", kArgsFlagHelp, cxxopts::value<std::string>()->default_value(kArgsDefault));
}

RecordOptions record_options_from(const cxxopts::ParseResult& result) {
    RecordOptions options;
    auto base = base_set_from_name(result["base"].as<std::string>());
    if (!base)
        throw UserError("unknown --base \"" + result["base"].as<std::string>() +
                        "\": use runc, crun, both or none");
    options.base = *base;
    options.include_denied = result.count("include-denied") > 0;
    options.args = args_mode_from_flag(result["args"].as<std::string>());
    return options;
}

void write_profile(const CommonFlags& common, const Recording& recording, const RecordOptions& options,
                   const Target& t) {
    auto output = render_recording(recording, common.output_format, options, t.pod + "-" + t.container);
    if (!output) throw UserError(output.error().message);
    if (auto w = write_output(common, *output); !w) throw UserError(w.error().message);
}

std::string strip_pod_prefix(std::string name) {
    if (name.rfind("pod/", 0) == 0 || name.rfind("pods/", 0) == 0) name = name.substr(name.find('/') + 1);
    return name;
}

// One recorder: its pod and container, the ephemeral container, its stream. Several run side by
// side (deploy/NAME, -l, --all-containers): each has its own connection, and the caller's loop
// steps them in turn, so Ctrl-C and --duration stop them together.
struct RecordSettings {
    std::string image, image_pull_policy, privileges;
    std::chrono::milliseconds start_timeout{};
    bool terminal = false;  // one updating line: only when there is one recorder
};

class Run {
  public:
    Run(kube::ApiClient& client, Target t, rec::ContainerFacts container, const RecordSettings& settings)
        : client_(client),
          t_(std::move(t)),
          container_(std::move(container)),
          settings_(settings),
          view_(settings.terminal, t_.pod + "/" + t_.container) {}

    std::string what() const { return t_.pod + "/" + t_.container; }
    const Target& target() const { return t_; }
    bool finished() const { return finished_; }

    // 3. The recorder: PATCH it in, with the privileges --privileges asks for. auto: the app's own
    // uid and no capability where its securityContext gives a non-root uid (what Pod Security's
    // restricted level allows), else SYS_PTRACE. Throws UserError with the API's refusal explained.
    void add() {
        spec_.name = rec::recorder_name();
        spec_.image = settings_.image;
        spec_.image_pull_policy = settings_.image_pull_policy;
        spec_.target = t_.container;
        spec_.container_id = rec::bare_container_id(container_.container_id);
        spec_.uid = container_.run_as_user;
        spec_.gid = container_.run_as_group;
        std::string why;
        if (settings_.privileges == "same-user") {
            if (!spec_.uid)
                throw UserError(
                    "--privileges same-user needs the container's uid, and " + what() +
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

    // 4. Wait until it runs, check its protocol (the hello in its log), attach, snapshot. False
    // when interrupted; throws UserError when it will not run.
    bool begin() {
        for (;;) {
            auto s = wait_for_recorder(client_, t_, spec_.name, settings_.start_timeout, resource_version_);
            if (!s && interrupts()) return false;
            log_path_ = t_.pod_path() + "/log?container=" + kube::url_encode(spec_.name);
            if (probing_) {
                probing_ = false;
                if (auto refused = same_user_refusal()) {
                    // Ephemeral containers cannot be changed: a new one, with SYS_PTRACE.
                    note(
                        fmt::format("recorder {} (uid {}, no capability) was refused ptrace: {}; adding a "
                                    "new recorder with SYS_PTRACE",
                                    spec_.name, *spec_.uid, *refused));
                    same_user_refused_ = *refused;
                    // It traces nothing but would scan on until its idle timeout: stop it.
                    if (auto old = attach(client_, t_, spec_.name)) {
                        (void)send_command(**old, stream::Command::Stop);
                        (void)(*old)->close();
                    }
                    spec_.privileges = rec::Privileges::Ptrace;
                    spec_.name = rec::recorder_name();
                    patch_in();
                    note("privileges of " + spec_.name + " for " + what() +
                         ": SYS_PTRACE, as the app's uid was refused ptrace");
                    continue;
                }
            }
            if (!s) throw UserError(s.error().message);
            break;
        }
        for (int i = 0; i < 10 && !session_.hello_seen && !session_.fatal; ++i) {
            auto head = client_.get(log_path_ + "&limitBytes=4096");
            if (head && !head->empty()) {
                auto nl = head->find('\n');
                if (nl != std::string::npos) handle_line(session_, view_, head->substr(0, nl), false);
                break;
            }
            std::this_thread::sleep_for(200ms);
        }
        if (session_.fatal) throw UserError(*session_.fatal);
        ws_ = attach(client_, t_, spec_.name);
        if (!ws_) throw UserError(ws_.error().message);
        if (auto s = send_command(**ws_, stream::Command::Snapshot); !s) warn(s.error().message);
        last_ping_ = started_ = Clock::now();
        return true;
    }

    // One round: stop when asked (`stop_reason` not empty), ping, read for up to `wait`, and deal
    // with a lost connection (re-attach, or what the kubelet kept).
    void step(const std::string& stop_reason, std::chrono::milliseconds wait) {
        if (finished_) return;
        auto now = Clock::now();
        if (!stopping_ && (!stop_reason.empty() || session_.fatal)) {
            stopping_ = true;
            end_reason_ = session_.fatal ? "" : stop_reason;
            stop_deadline_ = now + 30s;
            view_.message(session_.fatal ? "error: " + *session_.fatal
                                         : "stopping " + what() + ": waiting for the recorder's summary");
            if (auto s = send_command(**ws_, stream::Command::Stop); !s) lost_ = true;
        }
        if (stopping_ && now > stop_deadline_) {
            view_.message("warning: the recorder of " + what() +
                          " sent no final summary in 30s: writing what was streamed");
            finish_stream();
            return;
        }
        if (!stopping_ && now - last_ping_ > 5s) {
            last_ping_ = now;
            if (auto s = send_command(**ws_, stream::Command::Ping); !s) lost_ = true;
        }
        if (!lost_) {
            auto msg = (*ws_)->receive(wait);
            if (!msg) {
                lost_ = true;
                end_reason_ = msg.error().message;
            } else if (*msg) {
                auto data = kube::parse_channel_message((**msg).payload);
                if (data && data->channel == kube::kStdout) {
                    for (const auto& line : session_.splitter.feed(data->data))
                        handle_line(session_, view_, line, true);
                } else if (data && data->channel == kube::kStderr && !data->data.empty()) {
                    view_.message("recorder: " + data->data.substr(0, data->data.find_last_not_of('\n') + 1));
                } else if (data && data->channel == kube::kStatus && !data->data.empty()) {
                    kube::Response r;
                    r.body = data->data;
                    auto st = kube::api_status(r);
                    if (!st.message.empty()) end_reason_ = st.message;
                }
                if (stopping_ && session_.builder.peek().final_summary) {
                    finish_stream();
                    return;
                }
            }
            view_.tick();
        }
        if (lost_) on_lost();
    }

    // Ctrl-C twice: leave without a profile.
    void clear_view() { view_.clear(); }

    // 5. The recording (throws UserError when the recorder sent nothing).
    const Recording& recording() {
        if (session_.fatal) throw UserError(*session_.fatal);
        const Recording& recording = session_.builder.peek();
        if (!session_.hello_seen && recording.syscalls.empty()) {
            std::string why = session_.tracer_errors.empty() ? end_reason_ : session_.tracer_errors.front();
            throw UserError("the recorder of " + what() + " sent nothing" +
                            (why.empty() ? std::string() : ": " + why) +
                            fmt::format(": see kubectl logs {} -c {} -n {}", t_.pod, spec_.name, t_.ns));
        }
        if (session_.eperm && spec_.privileges == rec::Privileges::SameUser)
            warn(
                "the recorder was refused ptrace as the app's user (Yama ptrace_scope or different "
                "capabilities): "
                "use --privileges ptrace where Pod Security allows SYS_PTRACE");
        return recording;
    }
    Clock::duration elapsed() const { return Clock::now() - started_; }

    // Record failed elsewhere: stop this recorder now rather than at its idle timeout. An attached
    // one is told over its stream; one added but not attached yet is attached to for that, once it
    // runs (within 10 s: one still pulling its image is left to its idle timeout). True
    // when it was told to stop.
    bool abandon() {
        if (finished_) return false;
        if (ws_ && *ws_) {
            auto s = send_command(**ws_, stream::Command::Stop);
            (void)(*ws_)->close();
            return s.ok();
        }
        if (!added_ || interrupts() >= 2) return false;
        if (!wait_for_recorder(client_, t_, spec_.name, 10s, "")) return false;
        auto ws = attach(client_, t_, spec_.name);
        if (!ws) return false;
        auto s = send_command(**ws, stream::Command::Stop);
        (void)(*ws)->close();
        return s.ok();
    }
    bool added() const { return added_ && !finished_; }

  private:
    void patch_in() {
        auto patch = [&] {
            return client_.request("PATCH", t_.pod_path() + "/ephemeralcontainers",
                                   rec::recorder_patch(spec_),
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
                if (!r)
                    throw UserError("cannot add the recorder to pod " + t_.pod + ": " + r.error().message);
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
    std::optional<std::string> same_user_refusal() {
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

    void finish_stream() {
        finished_ = true;
        view_.clear();
        if (*ws_ && !(*ws_)->closed()) (void)(*ws_)->close();
        // Who made each syscall first: the log has the events written before we attached.
        if (!lost_ || session_.builder.peek().final_summary)
            read_log(client_, log_path_, session_, view_, true);
    }

    void on_lost() {
        // The recorder may be gone (the app's container ended and took the PID namespace with
        // it) or only the connection: look before re-attaching.
        auto p = client_.get(t_.pod_path());
        auto state = p ? rec::recorder_state(*p, spec_.name) : rec::RecorderState{};
        if (state.kind == rec::RecorderState::Running && reattaches_ < 3 && !stopping_) {
            ++reattaches_;
            view_.message("warning: the attach connection to the recorder of " + what() + " broke (" +
                          end_reason_ + "): attaching again");
            auto again = attach(client_, t_, spec_.name);
            if (again) {
                ws_ = std::move(again);
                lost_ = false;
                session_.splitter = stream::LineSplitter();
                if (auto s = send_command(**ws_, stream::Command::Snapshot); !s) lost_ = true;
                return;
            }
            view_.message("warning: " + again.error().message);
        }
        if (!session_.builder.peek().final_summary) {
            // The app's container ending takes the recorder with it (they share the PID
            // namespace); the pod's status may take a moment to say so.
            bool app_ended = false;
            for (int i = 0; i < 4 && !app_ended; ++i) {
                auto app = p ? rec::parse_pod(*p) : Result<rec::PodFacts>(make_error(""));
                if (app)
                    for (const auto& c : app->containers)
                        if (c.name == t_.container &&
                            (!c.running || c.restart_count != container_.restart_count))
                            app_ended = true;
                if (!app_ended && i < 3) {
                    std::this_thread::sleep_for(1s);
                    p = client_.get(t_.pod_path());
                }
            }
            view_.message(app_ended ? "the app's container " + t_.container + " ended or restarted (pod " +
                                          t_.pod + "): the recording ends there, with what was seen"
                                    : "the recorder's stream of " + what() + " ended (" + end_reason_ +
                                          "): keeping what it recorded, from its log");
            recover(client_, t_, spec_.name, session_, view_);
        }
        finish_stream();
    }

    kube::ApiClient& client_;
    Target t_;
    rec::ContainerFacts container_;
    const RecordSettings& settings_;
    LiveView view_;
    rec::RecorderSpec spec_;
    std::string resource_version_, log_path_;
    Session session_;
    Result<std::unique_ptr<kube::WebSocket>> ws_ = make_error("not attached");
    bool stopping_ = false, finished_ = false, lost_ = false;
    Clock::time_point stop_deadline_{}, last_ping_{}, started_ = Clock::now();
    std::string end_reason_;
    int reattaches_ = 0;
    bool probing_ = false;           // auto chose same-user: fall back to SYS_PTRACE on EPERM
    std::string same_user_refused_;  // why the same-user recorder could not trace
    bool added_ = false;             // spec_.name is in the pod (the API took the PATCH)
};

// The pods to record: POD, deploy/NAME (its newest ReplicaSet's Ready pods), or -l SELECTOR (the
// Ready pods matching). `replicas` empty: all of them.
std::vector<std::string> choose_pods(kube::ApiClient& client, const std::string& ns,
                                     const std::string& target, const std::string& selector_flag,
                                     std::optional<std::size_t> replicas) {
    std::string selector = selector_flag, what, owner_uid;
    if (!target.empty()) {
        auto slash = target.find('/');
        if (slash == std::string::npos) return {target};
        std::string kind = target.substr(0, slash), name = target.substr(slash + 1);
        if (kind == "pod" || kind == "pods") return {name};
        if (kind != "deploy" && kind != "deployment" && kind != "deployments")
            throw UserError("\"" + target + "\": record takes POD, deploy/NAME or -l SELECTOR");
        auto got = client.get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
        if (!got) throw UserError(got.error().message);
        auto sel = rec::deployment_selector(*got);
        if (!sel) throw UserError("deployment " + name + ": " + sel.error().message);
        selector = *sel;
        auto sets = client.get("/apis/apps/v1/namespaces/" + ns +
                               "/replicasets?labelSelector=" + kube::url_encode(selector));
        if (!sets) throw UserError(sets.error().message);
        auto uid = rec::newest_replicaset_uid(*sets);
        if (!uid) throw UserError("deployment " + name + ": " + uid.error().message);
        owner_uid = *uid;
        what = "deployment " + name;
    } else {
        what = "selector " + selector;
    }
    auto list = client.get("/api/v1/namespaces/" + ns + "/pods?labelSelector=" + kube::url_encode(selector));
    if (!list) throw UserError(list.error().message);
    auto pods = rec::parse_pod_list(*list);
    if (!pods) throw UserError(pods.error().message);
    std::vector<std::string> ready, not_ready;
    for (const auto& p : *pods) {
        if (!owner_uid.empty() &&
            std::find(p.owner_uids.begin(), p.owner_uids.end(), owner_uid) == p.owner_uids.end())
            continue;
        (p.ready ? ready : not_ready).push_back(p.name);
    }
    std::sort(ready.begin(), ready.end());
    if (ready.empty())
        throw UserError(
            what + " has no Ready pod in namespace " + ns +
            (not_ready.empty() ? std::string() : fmt::format(" ({} not ready)", not_ready.size())));
    if (replicas && ready.size() > *replicas) ready.resize(*replicas);
    if (replicas && ready.size() < *replicas)
        warn(fmt::format("{} has {} Ready pods: recording those, not {}", what, ready.size(), *replicas));
    return ready;
}

}  // namespace

int cmd_record(int argc, char** argv) {
    VerbFlags flags(
        "record",
        "Record the syscalls of a running pod's container with a recorder (an ephemeral container "
        "running seccomp-tracer) and write its seccomp profile. Ctrl-C stops and writes the profile; "
        "a second Ctrl-C leaves at once.",
        kClusterFlags | kOutputFlags, {"json", {"json", "yaml", "report"}});
    flags.add_options()("c,container",
                        "The container to record (default: the pod's only or default container)",
                        cxxopts::value<std::string>())("duration", "Stop after this long (e.g. 5m)",
                                                       cxxopts::value<std::string>())(
        "image", "The recorder image", cxxopts::value<std::string>()->default_value(kDefaultTracerImage))(
        "image-pull-policy", "Always|IfNotPresent|Never (default: the cluster's)",
        cxxopts::value<std::string>())("privileges", "How the recorder may trace: auto|same-user|ptrace",
                                       cxxopts::value<std::string>()->default_value("auto"))(
        "timeout", "How long to wait for the recorder to start",
        cxxopts::value<std::string>()->default_value("2m"))(
        "from-start", "Record a copy of the pod from its first syscall (docs/from-start.md)")(
        "keep", "--from-start: leave the copy of the pod when done")(
        "command",
        "--from-start: the command the container runs, when neither the pod spec nor the registry says",
        cxxopts::value<std::string>())(
        "no-filter",
        "--from-start: trace without the tracer's seccomp filter (two stops per syscall; setuid works)")(
        "registry-ca-file", "--from-start: a CA bundle for the image's registry",
        cxxopts::value<std::string>())(
        "l,selector", "Record the Ready pods matching this label selector (one, or --replicas)",
        cxxopts::value<std::string>())(
        "replicas", "deploy/NAME or -l: how many Ready pods to record, a count or all (default 1); merged",
        cxxopts::value<std::string>())("all-containers",
                                       "Record every app container of each pod (one recorder each); merged");
    add_profile_flags(flags);
    flags.set_positional("pod", "POD | deploy/NAME",
                         "The pod (POD), a Deployment (deploy/NAME), or none with -l", 0, 1,
                         "one pod (POD or deploy/NAME), or none with -l SELECTOR");
    flags.set_examples(
        "  # Record the app container of pod web-0 until Ctrl-C, write OCI seccomp JSON\n"
        "  kubectl seccomp record web-0 -c app --output-file web.json\n"
        "  # Five minutes, as a Security Profiles Operator SeccompProfile\n"
        "  kubectl seccomp record web-0 -n shop --duration 5m -o yaml > web.yaml\n"
        "  # Two Ready replicas of a Deployment at once, merged into one profile\n"
        "  kubectl seccomp record deploy/web --replicas 2 --duration 5m --output-file web.json\n"
        "  # Every container of the pods labelled app=web\n"
        "  kubectl seccomp record -l app=web --replicas all --all-containers --output-file web.json\n"
        "  # A copy of the pod recorded from its first syscall (its start-up included)\n"
        "  kubectl seccomp record web-0 -c app --from-start --duration 1m --output-file web.json\n");
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const std::vector<std::string> pods = flags.positionals();
    const std::string selector = result.count("selector") ? result["selector"].as<std::string>() : "";
    if ((pods.empty() && selector.empty()) || (!pods.empty() && !selector.empty()))
        throw UserError(
            "name one target: kubectl seccomp record POD [-c CONTAINER] | deploy/NAME | -l SELECTOR");
    const std::string target = pods.empty() ? "" : strip_pod_prefix(pods.front());
    if (result.count("from-start")) {
        if (!selector.empty() || result.count("replicas") || result.count("all-containers"))
            throw UserError(
                "--from-start records one copy of one pod: -l, --replicas and --all-containers do not go "
                "with it");
        const std::string& pod_name = target;
        FromStartOptions fs;
        fs.target = pod_name;
        if (result.count("container")) fs.container = result["container"].as<std::string>();
        if (result.count("command")) fs.command = result["command"].as<std::string>();
        fs.image = result["image"].as<std::string>();
        if (result.count("image-pull-policy"))
            fs.image_pull_policy = result["image-pull-policy"].as<std::string>();
        if (result.count("registry-ca-file"))
            fs.registry_ca_file = result["registry-ca-file"].as<std::string>();
        fs.keep = result.count("keep") > 0;
        fs.no_filter = result.count("no-filter") > 0;
        if (result.count("duration")) {
            auto d = parse_duration(result["duration"].as<std::string>());
            if (!d) throw UserError("--duration: " + d.error().message);
            fs.duration = *d;
        }
        auto t = parse_duration(result["timeout"].as<std::string>());
        if (!t) throw UserError("--timeout: " + t.error().message);
        fs.start_timeout = *t;
        fs.record_options = record_options_from(result);
        return record_from_start(common, fs);
    }
    for (const char* only : {"keep", "command", "no-filter", "registry-ca-file"})
        if (result.count(only)) throw UserError(std::string("--") + only + " goes with --from-start");

    const RecordOptions record_options = record_options_from(result);
    std::string privileges = result["privileges"].as<std::string>();
    if (privileges != "auto" && privileges != "same-user" && privileges != "ptrace")
        throw UserError("unknown --privileges \"" + privileges + "\": use auto, same-user or ptrace");
    auto start_timeout = parse_duration(result["timeout"].as<std::string>());
    if (!start_timeout) throw UserError("--timeout: " + start_timeout.error().message);
    std::optional<std::chrono::milliseconds> duration;
    if (result.count("duration")) {
        auto d = parse_duration(result["duration"].as<std::string>());
        if (!d) throw UserError("--duration: " + d.error().message);
        duration = *d;
    }

    // 1. The cluster, and a server that has ephemeral containers.
    install_interrupt_handlers();
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;
    const std::string& namespace_name = cluster.namespace_name;

    // 2. The pods and containers: one recorder for each (pod, container).
    std::optional<std::size_t> replicas = 1;
    if (result.count("replicas")) {
        auto r = rec::parse_replicas(result["replicas"].as<std::string>());
        if (!r) throw UserError(r.error().message);
        replicas = *r;
    }
    const bool all_containers = result.count("all-containers") > 0;
    if (all_containers && result.count("container"))
        throw UserError("-c and --all-containers: give one of them");
    RecordSettings settings;
    settings.image = result["image"].as<std::string>();
    if (result.count("image-pull-policy"))
        settings.image_pull_policy = result["image-pull-policy"].as<std::string>();
    settings.privileges = privileges;
    settings.start_timeout = *start_timeout;
    std::vector<std::pair<Target, rec::ContainerFacts>> chosen;
    for (const auto& pod_name : choose_pods(client, namespace_name, target, selector, replicas)) {
        Target t{namespace_name, pod_name, ""};
        auto pod_json = client.get(t.pod_path());
        if (!pod_json) throw UserError(pod_json.error().message);
        auto pod = rec::parse_pod(*pod_json);
        if (!pod) throw UserError(pod.error().message);
        std::vector<const rec::ContainerFacts*> containers;
        if (all_containers) {
            for (const auto& c : pod->containers) containers.push_back(&c);
        } else {
            auto c = rec::choose_container(
                *pod, result.count("container") ? result["container"].as<std::string>() : "");
            if (!c)
                throw UserError(c.error().message + (target.find('/') == std::string::npos && selector.empty()
                                                         ? std::string()
                                                         : " (or --all-containers)"));
            containers.push_back(*c);
        }
        for (const auto* c : containers)
            if (auto ok = rec::check_recordable(*pod, *c); !ok) throw UserError(ok.error().message);
        // Only one tracer can trace a process: an earlier recorder still running would refuse ours.
        // One that ended may hold a recording whose client lost it: recover reads it (the newest
        // only: older ones were most likely recorded to the end).
        std::string ended;
        for (std::size_t i = 0; i < pod->ephemeral_names.size(); ++i) {
            const auto& name = pod->ephemeral_names[i];
            if (name.rfind("seccomp-recorder-", 0) != 0) continue;
            bool ours = std::any_of(containers.begin(), containers.end(), [&](const rec::ContainerFacts* c) {
                return i < pod->ephemeral_targets.size() && pod->ephemeral_targets[i] == c->name;
            });
            auto state = rec::recorder_state(*pod_json, name);
            if (state.kind == rec::RecorderState::Terminated) ended = name;
            if (state.kind == rec::RecorderState::Running && ours)
                throw UserError(
                    "pod " + t.pod + " already has a running recorder, " + name +
                    " (another kubectl seccomp record, or one whose client left: it stops by itself "
                    "within its idle timeout, 60s): wait for it to end, then try again");
        }
        if (!ended.empty())
            note("pod " + t.pod + " has an earlier recorder, " + ended +
                 ", that ended: if its recording was lost, kubectl seccomp recover " + t.pod +
                 " --recorder " + ended + " -n " + t.ns + " writes its profile");
        for (const auto* c : containers) {
            Target tc = t;
            tc.container = c->name;
            chosen.emplace_back(tc, *c);
        }
    }
    settings.terminal = common.stderr_is_terminal && chosen.size() == 1;
    std::vector<std::unique_ptr<Run>> runs;
    for (const auto& [tc, c] : chosen) runs.push_back(std::make_unique<Run>(client, tc, c, settings));
    if (runs.size() > 1) {
        std::string names;
        for (const auto& r : runs) names += (names.empty() ? "" : ", ") + r->what();
        note(fmt::format("recording {} containers at once: {}", runs.size(), names));
    }

    // 3, 4. All recorders are added first, so they start together; then each is attached. On a
    // failure or Ctrl-C before all are attached, those already added stop now instead of tracing
    // on until their idle timeout.
    auto abandon_added = [&](std::string_view why) {
        std::size_t stopped = 0, left = 0;
        for (auto& r : runs) {
            if (!r->added()) continue;
            if (r->abandon())
                ++stopped;
            else
                ++left;
        }
        if (stopped + left > 0)
            note(fmt::format(
                "{}: stopped {} recorder(s) already added{}", why, stopped,
                left ? fmt::format("; {} not running yet stop(s) by itself after its idle timeout "
                                   "(60s)",
                                   left)
                     : ""));
    };
    try {
        for (auto& r : runs) r->add();
        for (auto& r : runs)
            if (!r->begin()) {
                abandon_added("interrupted before recording began");
                return kExitInterrupted;
            }
    } catch (const UserError&) {
        abandon_added("record failed");
        throw;
    }
    note(common.stderr_is_terminal ? "recording: press Ctrl-C to stop and write the profile" : "recording");
    const auto started = Clock::now();
    const auto wait = std::max<std::chrono::milliseconds>(20ms, 200ms / static_cast<int>(runs.size()));
    while (!std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r->finished(); })) {
        if (interrupts() >= 2) {
            for (auto& r : runs) r->clear_view();
            fmt::print(stderr,
                       "interrupted: no profile written (the recorders detach by themselves after their idle "
                       "timeout)\n");
            return kExitInterrupted;
        }
        std::string stop = interrupts() == 1                                 ? "stopped"
                           : duration && Clock::now() - started >= *duration ? "--duration reached"
                                                                             : "";
        for (auto& r : runs) r->step(stop, wait);
    }

    // 5. The profile: one recording, or the union of several (each rendered, then merged).
    std::vector<const Recording*> recordings;
    std::vector<std::string> labels;
    std::size_t total = 0;
    for (auto& r : runs) {
        recordings.push_back(&r->recording());
        labels.push_back(r->what());
        total += recordings.back()->syscalls.size();
    }
    const Target& first = runs.front()->target();
    std::string name = runs.size() == 1                        ? first.pod + "-" + first.container
                       : target.find('/') != std::string::npos ? target.substr(target.find('/') + 1)
                                                               : first.pod + "-merged";
    auto output = render_recordings(recordings, labels, common.output_format, record_options, name);
    if (!output) throw UserError(output.error().message);
    if (auto w = write_output(common, *output); !w) throw UserError(w.error().message);
    if (runs.size() == 1)
        note(fmt::format("recorded {} syscalls of {} in {}{}", total, first.pod + "/" + first.container,
                         format_elapsed(Clock::now() - started),
                         common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    else
        note(fmt::format("recorded {} containers in {}, merged into one profile{}", runs.size(),
                         format_elapsed(Clock::now() - started),
                         common.output_file.empty() ? "" : ", written to " + common.output_file));
    note(
        "attach mode sees only what the app does while recorded: its start-up is not in this profile. "
        "Exercise "
        "the app while recording, and merge a start-up recording (kubectl seccomp trace, or --from-start) "
        "with "
        "kubectl seccomp merge");
    return kExitSuccess;
}

// `kubectl seccomp recover POD`: the profile of a recorder whose client lost the stream (killed,
// network gone), from what the kubelet kept: the recorder's log (every stream line, the final
// summary when it got to stop), else its termination message (the compact summary: names only).
int cmd_recover(int argc, char** argv) {
    VerbFlags flags("recover",
                    "Write the profile of a recorder whose stream was lost (kubectl seccomp record killed or "
                    "disconnected), from the recorder's log, else from its termination message.",
                    kClusterFlags | kOutputFlags, {"json", {"json", "yaml", "report"}});
    flags.add_options()("c,container", "The recorded container: its newest recorder",
                        cxxopts::value<std::string>())(
        "recorder", "The recorder (seccomp-recorder-XXXXX) to read (default: the pod's newest)",
        cxxopts::value<std::string>());
    add_profile_flags(flags);
    flags.set_positional("pod", "POD", "The pod whose recorder to read", 1, 1,
                         "one pod: kubectl seccomp recover POD [-c CONTAINER | --recorder NAME]");
    flags.set_examples(
        "  # The profile of web-0's newest recorder, as OCI seccomp JSON\n"
        "  kubectl seccomp recover web-0 --output-file web.json\n"
        "  # A given recorder, as a report\n"
        "  kubectl seccomp recover web-0 --recorder seccomp-recorder-x7k2p -o report\n");
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const std::vector<std::string> pods = flags.positionals();
    const RecordOptions record_options = record_options_from(result);
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;
    const std::string& namespace_name = cluster.namespace_name;

    Target t{namespace_name, strip_pod_prefix(pods.front()), ""};
    auto pod_json = client.get(t.pod_path());
    if (!pod_json) throw UserError(pod_json.error().message);
    auto pod = rec::parse_pod(*pod_json);
    if (!pod) throw UserError(pod.error().message);
    auto name =
        rec::choose_recorder(*pod, result.count("recorder") ? result["recorder"].as<std::string>() : "",
                             result.count("container") ? result["container"].as<std::string>() : "");
    if (!name) throw UserError(name.error().message);
    for (std::size_t i = 0; i < pod->ephemeral_names.size(); ++i)
        if (pod->ephemeral_names[i] == *name && i < pod->ephemeral_targets.size())
            t.container = pod->ephemeral_targets[i];
    if (t.container.empty()) t.container = "app";
    const std::string what = t.pod + "/" + t.container;

    Session session;
    LiveView view(false, what);
    auto found = recover(client, t, *name, session, view);
    if (session.fatal) throw UserError(*session.fatal);
    const Recording& recording = session.builder.peek();
    if (recording.syscalls.empty())
        throw UserError(
            fmt::format("recorder {} left nothing to recover: {}{}", *name,
                        found.log_read ? "its log has no syscall events" : "its log cannot be read",
                        found.state.kind == rec::RecorderState::Terminated
                            ? " and its termination message no summary"
                            : " and it has not ended (no termination message yet)"));
    write_profile(common, recording, record_options, t);

    // Where the profile came from, and what it may lack.
    std::string source = found.from_log > 0 ? "its log" : "its termination message (the compact summary)";
    if (found.from_log > 0 && found.from_termination_message > 0) source += " and its termination message";
    note(fmt::format("recovered {} syscalls of {} from recorder {}: {}{}", recording.syscalls.size(), what,
                     *name, source,
                     common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    if (found.state.kind == rec::RecorderState::Running)
        warn("recorder " + *name +
             " is still running: this is what it logged so far; its recording goes on until it "
             "is stopped or its idle timeout (60s without a client) ends it");
    else if (found.from_log > 0 && !recording.final_summary)
        warn(
            "the log has no final summary (the recorder did not get to stop cleanly): syscalls it saw after "
            "its last "
            "logged event may be missing" +
            std::string(found.termination_message ? "; its termination message was merged in"
                                                  : ", and it left no termination message to check against"));
    if (found.from_log == 0)
        warn(
            "only the termination message was usable: the profile has the syscall names, but no counts, no "
            "first "
            "process, and no errno seen, so failed-only syscalls are allowed rather than refused");
    if (!found.log_read)
        warn(
            "the recorder's log could not be read (rotated away, or the node gone): an app whose recorder "
            "ended long "
            "ago may have lost it");
    note(
        "a recorder sees only what the app did while it was recorded: merge a start-up recording (kubectl "
        "seccomp "
        "trace, or record --from-start) with kubectl seccomp merge");
    return kExitSuccess;
}

}  // namespace ksc::cli
