// `kubectl seccomp trace -- CMD ARGS...`: record a command run here, from its first syscall, with
// the seccomp-tracer beside us in launch mode, and write its profile. Like env(1), it exits with
// the command's own status; 125 is our own failure, 126/127 a command that cannot run / was not
// found.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "common_flags.h"
#include "exit_status.h"
#include "profile.h"
#include "profile_args.h"
#include "profile_inputs.h"
#include "profile_output.h"
#include "recording.h"
#include "stream.h"
#include "tracer_process.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

volatile sig_atomic_t g_interrupts = 0;
volatile sig_atomic_t g_forward_signal = 0;

void on_interrupt(int) {
    g_interrupts = g_interrupts + 1;
}
void on_forwarded(int sig) {
    g_forward_signal = sig;
}
void on_ignored(int) {}

// Handlers without SA_RESTART, so that a signal wakes the read loop at once.
void install_signal_handlers() {
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_forwarded;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    // Ctrl-\ reaches the command and the tracer too; it must not kill us before the profile.
    sa.sa_handler = on_ignored;
    ::sigaction(SIGQUIT, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

// What the stream told us beyond the recording itself.
struct TraceState {
    RecordingBuilder builder;
    bool hello_seen = false;
    std::optional<std::int64_t> command_pid;  // the first process the tracer attached to
    std::uint64_t bad_lines = 0;
    std::optional<std::string> fatal;  // a reason to stop reading (protocol mismatch)
};

void handle_event(TraceState& state, const stream::Event& event, const std::string& tracer_path) {
    if (const auto* hello = std::get_if<stream::Hello>(&event)) {
        if (hello->protocol_major != stream::kProtocolMajor) {
            state.fatal = fmt::format(
                "{} speaks stream protocol {}.{}, this kubectl-seccomp speaks {}.{}: use the "
                "seccomp-tracer from the same release as kubectl-seccomp (--tracer PATH)",
                tracer_path, hello->protocol_major, hello->protocol_minor, stream::kProtocolMajor,
                stream::kProtocolMinor);
            return;
        }
        state.hello_seen = true;
        verbose(1, fmt::format("seccomp-tracer {} (kernel {}, {} method)", hello->tracer_version,
                               hello->kernel, stream::method_name(hello->method)));
    } else if (const auto* attached = std::get_if<stream::Attached>(&event)) {
        if (!state.command_pid) state.command_pid = attached->pid;
        verbose(2, fmt::format("attached {} [{}/{}]", attached->comm, attached->pid, attached->tid));
    } else if (const auto* sc = std::get_if<stream::Syscall>(&event)) {
        verbose(1, fmt::format("new syscall {} ({}) by {}[{}]",
                               sc->name.empty() ? std::to_string(sc->nr) : sc->name, arch_name(sc->arch),
                               sc->comm, sc->pid));
    } else if (const auto* msg = std::get_if<stream::Message>(&event)) {
        if (msg->is_error)
            fmt::print(stderr, "seccomp-tracer: error: {}\n", msg->message);
        else
            warn("seccomp-tracer: " + msg->message);
    }
    state.builder.add(event);
}

void handle_bytes(TraceState& state, stream::LineSplitter& splitter, std::string_view bytes,
                  const std::string& tracer_path) {
    for (const auto& line : splitter.feed(bytes)) {
        if (line.empty() || line == "\r") continue;
        auto event = stream::decode(line);
        if (!event) {
            if (++state.bad_lines <= 3)
                warn("skipped a line of the tracer's stream that is not an event: " + event.error().message);
            continue;
        }
        handle_event(state, *event, tracer_path);
        if (state.fatal) return;
    }
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

}  // namespace

int cmd_trace(int argc, char** argv) {
    VerbFlags flags(
        "trace",
        "Run a command here under seccomp-tracer and write the seccomp profile of what it did, from "
        "its first syscall. Exits with the command's own status (125: trace itself failed, 126: the "
        "command cannot run, 127: not found).",
        kOutputFlags, {"json", {"json", "yaml", "report"}});
    flags.add_options()("tracer", "The seccomp-tracer binary (default: the one next to kubectl-seccomp)",
                        cxxopts::value<std::string>())(
        "no-filter",
        "Stop at every syscall entry and exit (slower) instead of installing a seccomp filter; needed when "
        "the "
        "command uses setuid or file capabilities, and shows which calls failed")(
        "base", "The container runtime's own syscalls to add: runc|crun|both|none",
        cxxopts::value<std::string>()->default_value("both"))(
        "include-denied",
        "Allow the syscalls the command saw refused, instead of refusing them the same way")(
        "args", kArgsFlagHelp, cxxopts::value<std::string>()->default_value(kArgsDefault));
    flags.set_positional("command", "-- CMD [ARGS...]", "The command to trace (after --)", 0, 0, "");
    flags.set_examples(
        "  # The profile of ls, as OCI seccomp JSON, on stdout\n"
        "  kubectl seccomp trace -- ls -l /\n"
        "  # A Security Profiles Operator SeccompProfile, to a file\n"
        "  kubectl seccomp trace -o yaml --output-file myapp.yaml -- ./myapp --selftest\n"
        "  # Counts per syscall, and which ones failed\n"
        "  kubectl seccomp trace --no-filter -o report -- curl -sI https://example.com\n");
    // trace's own failures exit 125, as env's do, so that they cannot pass for the command's status.
    try {
        if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    } catch (const UserError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return kExitTraceFailed;
    }
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();

    std::vector<std::string> command = flags.positionals();
    command.insert(command.end(), flags.after_dashdash().begin(), flags.after_dashdash().end());
    if (command.empty()) {
        fmt::print(stderr, "error: no command to trace: kubectl seccomp trace [flags] -- CMD [ARGS...]\n");
        return kExitTraceFailed;
    }
    RecordOptions record_options;
    auto base = base_set_from_name(result["base"].as<std::string>());
    if (!base) {
        fmt::print(stderr, "error: unknown --base \"{}\": use runc, crun, both or none\n",
                   result["base"].as<std::string>());
        return kExitTraceFailed;
    }
    record_options.base = *base;
    record_options.include_denied = result.count("include-denied") > 0;
    auto args = args_mode_from_name(result["args"].as<std::string>());
    if (!args) {
        fmt::print(stderr, "error: unknown --args \"{}\": use curated or none\n",
                   result["args"].as<std::string>());
        return kExitTraceFailed;
    }
    record_options.args = *args;

    // 1. Find the tracer and start it, the command under it.
    std::optional<std::string> tracer_flag;
    if (result.count("tracer")) tracer_flag = result["tracer"].as<std::string>();
    auto tracer_path = find_tracer(tracer_flag);
    if (!tracer_path) {
        fmt::print(stderr, "error: {}\n", tracer_path.error().message);
        return kExitTraceFailed;
    }
    // No summary file: launch mode runs on the user's machine, not in a container, and
    // /dev/termination-log (the default) is not ours to write here.
    std::vector<std::string> tracer_args{"--summary-file", "/dev/null"};
    if (result.count("no-filter")) tracer_args.push_back("--no-filter");
    install_signal_handlers();
    auto tracer = TracerProcess::start(*tracer_path, tracer_args, command);
    if (!tracer) {
        fmt::print(stderr, "error: {}\n", tracer.error().message);
        return kExitTraceFailed;
    }

    // 2. Read the stream until the tracer closes it and exits. A first Ctrl-C reaches the command
    // and the tracer (same process group): the tracer stops recording and waits for the command,
    // and so do we. A second one leaves at once.
    TraceState state;
    stream::LineSplitter splitter;
    bool told_interrupt = false;
    while (true) {
        if (g_interrupts >= 2) {
            fmt::print(stderr, "\ninterrupted: no profile written\n");
            return kExitInterrupted;
        }
        if (g_interrupts == 1 && !told_interrupt) {
            told_interrupt = true;
            if (common.stderr_is_terminal)
                note("stopping: waiting for the command to exit (Ctrl-C again to leave without a profile)");
        }
        if (g_forward_signal != 0) {
            int sig = g_forward_signal;
            g_forward_signal = 0;
            if (state.command_pid)
                ::kill(static_cast<pid_t>(*state.command_pid), sig);
            else
                tracer->kill(sig);
        }
        auto bytes = tracer->read_some(std::chrono::milliseconds(200));
        if (!bytes) {
            fmt::print(stderr, "error: {}\n", bytes.error().message);
            tracer->kill(SIGKILL);
            tracer->wait();
            return kExitTraceFailed;
        }
        if (!bytes->empty()) handle_bytes(state, splitter, *bytes, *tracer_path);
        if (state.fatal) {
            fmt::print(stderr, "error: {}\n", *state.fatal);
            // The command dies with it (the tracer uses PTRACE_O_EXITKILL in launch mode).
            tracer->kill(SIGKILL);
            tracer->wait();
            return kExitTraceFailed;
        }
        if (tracer->stream_ended()) break;
        // The tracer exited but something it started keeps the pipe open: read what is left.
        if (tracer->try_wait()) {
            while (!tracer->stream_ended()) {
                auto rest = tracer->read_some(std::chrono::milliseconds(50));
                if (!rest || rest->empty()) break;
                handle_bytes(state, splitter, *rest, *tracer_path);
            }
            break;
        }
    }
    std::string rest = splitter.take_rest();
    if (!rest.empty()) handle_bytes(state, splitter, rest + "\n", *tracer_path);
    ChildExit exit = tracer->wait();
    if (g_interrupts >= 2) return kExitInterrupted;

    // 3. What the exit status means.
    const Recording& recording = state.builder.peek();
    const int status = exit.shell_status();
    if (!state.hello_seen) {
        if (status == kExitCannotRun || status == kExitNotFound) return status;
        fmt::print(
            stderr,
            "error: {} ended ({}) without writing its stream: run it by hand to see why: {} --output fd:1 "
            "-- {}\n",
            *tracer_path,
            exit.code ? fmt::format("status {}", *exit.code)
                      : fmt::format("signal {}", exit.signal.value_or(0)),
            *tracer_path, command.front());
        return kExitTraceFailed;
    }
    // The command never ran (the tracer said why): there is nothing to profile.
    if ((status == kExitCannotRun || status == kExitNotFound) && !recording.errors.empty()) return status;

    bool stream_broken = !recording.final_summary;
    if (stream_broken)
        warn(
            "the tracer's stream ended without its final summary (the tracer died?): the profile has every "
            "syscall seen, without counts; run again to be sure nothing is missing");

    // 4. The profile.
    auto output =
        render_recording(recording, common.output_format, record_options, profile_name_for(command));
    if (!output) {
        fmt::print(stderr, "error: {}\n", output.error().message);
        return kExitTraceFailed;
    }
    if (auto written = write_output(common, *output); !written) {
        fmt::print(stderr, "error: {}\n", written.error().message);
        return kExitTraceFailed;
    }
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
    if (stream_broken) return kExitTraceFailed;
    return status;
}

}  // namespace ksc::cli
