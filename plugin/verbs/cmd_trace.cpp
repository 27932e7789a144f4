// `kubectl seccomp trace -- CMD ARGS...`: record a command run here, from its first syscall, with
// the seccomp-tracer beside us in launch mode, and write its profile. Like env(1), it exits with
// the command's own status; 125 is our own failure (the verb table's, cli.cpp), 126/127 a command
// that cannot run / was not found.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "common_flags.h"
#include "exit_status.h"
#include "interrupts.h"
#include "printable.h"
#include "profile.h"
#include "profile_output.h"
#include "recording.h"
#include "recording_session.h"
#include "tracer_channels.h"
#include "tracer_process.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

void declare_flags(VerbFlags& flags) {
    flags.add_options()("tracer", "The seccomp-tracer binary (default: the one next to kubectl-seccomp)",
                        cxxopts::value<std::string>())(
        "no-filter",
        "Stop at every syscall entry and exit (slower) instead of installing a seccomp filter; needed when "
        "the "
        "command uses setuid or file capabilities, and shows which calls failed");
    add_profile_flags(flags);
    flags.set_positional("command", "-- CMD [ARGS...]", "The command to trace (after --)", 0, 0, "");
    flags.set_examples(
        "  # The profile of ls, as OCI seccomp JSON, on stdout\n"
        "  kubectl seccomp trace -- ls -l /\n"
        "  # A Security Profiles Operator SeccompProfile, to a file\n"
        "  kubectl seccomp trace -o yaml --output-file myapp.yaml -- ./myapp --selftest\n"
        "  # Counts per syscall, and which ones failed\n"
        "  kubectl seccomp trace --no-filter -o report -- curl -sI https://example.com\n");
}

std::vector<std::string> command_to_trace(const VerbFlags& flags) {
    std::vector<std::string> command = flags.positionals();
    command.insert(command.end(), flags.after_dashdash().begin(), flags.after_dashdash().end());
    if (command.empty())
        throw UserError("no command to trace: kubectl seccomp trace [flags] -- CMD [ARGS...]");
    return command;
}

std::string profile_name_for(const std::vector<std::string>& command) {
    std::string base = std::filesystem::path(command.front()).filename().string();
    std::string name;
    for (char c : base) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a'), ok = true;
        name += ok ? c : '-';
    }
    while (!name.empty() && (name.front() == '-' || name.front() == '.')) name.erase(0, 1);
    while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
    return name.empty() ? "traced" : name;
}

// What the stream said besides the recording: the first process the tracer attached to (the
// command, to which SIGTERM and SIGHUP are forwarded).
struct Traced {
    std::optional<std::int64_t> command_pid;
    ChildExit exit;
};

rec::RecordingSession make_session(const std::string& tracer_path, Traced& traced) {
    rec::SessionPolicy policy;
    policy.speaker = tracer_path;
    policy.protocol_remedy =
        "use the seccomp-tracer from the same release as kubectl-seccomp (--tracer PATH)";
    policy.ping_every.reset();  // launch mode has no command channel
    policy.snapshot_on_connect = false;
    policy.final_summary_ends = false;  // the pipe's end is the end
    rec::SessionEvents events;
    events.hello = [](const stream::Hello& hello) {
        verbose(1, fmt::format("seccomp-tracer {} (kernel {}, {} method)", hello.tracer_version, hello.kernel,
                               stream::method_name(hello.method)));
    };
    events.attached = [&traced](const stream::Attached& a) {
        if (!traced.command_pid) traced.command_pid = a.pid;
        verbose(2, fmt::format("attached {} [{}/{}]", a.comm, a.pid, a.tid));
    };
    events.syscall = [](const stream::Syscall& sc, bool) {
        verbose(
            1, fmt::format("new syscall {} ({}) by {}[{}]", sc.name.empty() ? std::to_string(sc.nr) : sc.name,
                           arch_name(sc.arch), sc.comm, sc.pid));
    };
    events.message = [](const stream::Message& m) {
        if (m.is_error)
            fmt::print(stderr, "seccomp-tracer: error: {}\n", printable(m.message));
        else
            warn("seccomp-tracer: " + m.message);
    };
    events.bad_line = [](const std::string& why, std::uint64_t count) {
        if (count <= 3) warn("skipped a line of the tracer's stream that is not an event: " + why);
    };
    return rec::RecordingSession(std::move(policy), std::move(events));
}

// Reads the stream until the tracer closes it and exits. A first Ctrl-C reaches the command and
// the tracer (same process group): the tracer stops recording and waits for the command, and so
// do we. A second one leaves at once (false).
bool read_stream(TracerProcess& tracer, rec::RecordingSession& session, Traced& traced, bool terminal) {
    (void)session.connect(std::make_unique<rec::PipeChannel>(tracer));  // a pipe takes no snapshot
    bool told_interrupt = false;
    for (;;) {
        if (interrupts() >= 2) return false;
        if (interrupts() == 1 && !told_interrupt) {
            told_interrupt = true;
            if (terminal)
                note("stopping: waiting for the command to exit (Ctrl-C again to leave without a profile)");
        }
        if (int sig = take_forwarded_signal(); sig != 0) {
            if (traced.command_pid)
                ::kill(static_cast<pid_t>(*traced.command_pid), sig);
            else
                tracer.kill(sig);
        }
        auto state = session.step(std::chrono::milliseconds(200));
        if (state == rec::RecordingSession::State::Ended) break;
        if (state == rec::RecordingSession::State::Lost || state == rec::RecordingSession::State::Failed) {
            // The command dies with it (the tracer uses PTRACE_O_EXITKILL in launch mode).
            tracer.kill(SIGKILL);
            tracer.wait();
            throw UserError(session.fatal() ? *session.fatal() : session.end_reason());
        }
    }
    session.end_of_stream();
    traced.exit = tracer.wait();
    return interrupts() < 2;
}

// What the tracer's exit status means when something went wrong: the status to exit with, or
// nothing when there is a profile to write.
std::optional<int> failed_status(const rec::RecordingSession& session, const Traced& traced,
                                 const std::string& tracer_path, const std::string& command) {
    const int status = traced.exit.shell_status();
    const bool cannot_run = status == kExitCannotRun || status == kExitNotFound;
    if (!session.hello_seen()) {
        if (cannot_run) return status;
        throw UserError(fmt::format(
            "{} ended ({}) without writing its stream: run it by hand to see why: {} --output fd:1 -- {}",
            tracer_path,
            traced.exit.code ? fmt::format("status {}", *traced.exit.code)
                             : fmt::format("signal {}", traced.exit.signal.value_or(0)),
            tracer_path, command));
    }
    // The command never ran (the tracer said why): there is nothing to profile.
    if (cannot_run && !session.recording().errors.empty()) return status;
    return std::nullopt;
}

void report_recorded(const Recording& recording, const CommonFlags& common) {
    for (const auto* unknown : recording.unknown_numbers())
        warn(fmt::format(
            "syscall number {} on {} is not in our table: left out of the profile (a newer kernel?)",
            unknown->nr, arch_name(unknown->arch)));
    std::string arches;
    for (Arch a : recording.arches()) arches += (arches.empty() ? "" : ", ") + std::string(arch_name(a));
    note(fmt::format("recorded {} syscall{} ({}) from {} process{}{}", recording.syscalls.size(),
                     recording.syscalls.size() == 1 ? "" : "s", arches, recording.processes_seen,
                     recording.processes_seen == 1 ? "" : "es",
                     common.output_file.empty() ? "" : "; profile written to " + common.output_file));
}

}  // namespace

int cmd_trace(int argc, char** argv) {
    VerbFlags flags(
        "trace",
        "Run a command here under seccomp-tracer and write the seccomp profile of what it did, from "
        "its first syscall. Exits with the command's own status (125: trace itself failed, 126: the "
        "command cannot run, 127: not found).",
        kOutputFlags, {"json", {"json", "yaml", "report"}});
    declare_flags(flags);
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const std::vector<std::string> command = command_to_trace(flags);
    const RecordOptions record_options = profile_options_from(result);

    // 1. Find the tracer and start it, the command under it. No summary file: launch mode runs on
    // the user's machine, not in a container, and /dev/termination-log is not ours to write here.
    std::optional<std::string> tracer_flag;
    if (result.count("tracer")) tracer_flag = result["tracer"].as<std::string>();
    auto tracer_path = find_tracer(tracer_flag);
    if (!tracer_path) throw UserError(tracer_path.error().message);
    std::vector<std::string> tracer_args{"--summary-file", "/dev/null"};
    if (result.count("no-filter")) tracer_args.push_back("--no-filter");
    install_interrupt_handlers(InterruptMode::ForwardSignals);
    auto tracer = TracerProcess::start(*tracer_path, tracer_args, command);
    if (!tracer) throw UserError(tracer.error().message);

    // 2. The stream, until the tracer ends.
    Traced traced;
    rec::RecordingSession session = make_session(*tracer_path, traced);
    if (!read_stream(*tracer, session, traced, common.stderr_is_terminal)) {
        fmt::print(stderr, "\ninterrupted: no profile written\n");
        return kExitInterrupted;
    }

    // 3. What the exit status means.
    if (auto status = failed_status(session, traced, *tracer_path, command.front())) return *status;
    const Recording& recording = session.recording();
    const bool stream_broken = !recording.final_summary;
    if (stream_broken)
        warn(
            "the tracer's stream ended without its final summary (the tracer died?): the profile has every "
            "syscall seen, without counts; run again to be sure nothing is missing");

    // 4. The profile.
    write_recording_profile(common, recording, record_options, profile_name_for(command));
    report_recorded(recording, common);
    return stream_broken ? kExitTraceFailed : traced.exit.shell_status();
}

}  // namespace ksc::cli
