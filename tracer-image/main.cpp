// seccomp-tracer: records the syscalls of a process tree with ptrace and streams them as NDJSON.
// main() is the sequence of steps; each step's details live in the file named after it.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "connect.h"
#include "control.h"
#include "install.h"
#include "launch.h"
#include "options.h"
#include "output.h"
#include "printable.h"
#include "reporter.h"
#include "signals.h"
#include "syscall_counts.h"
#include "tracer.h"
#include "version.h"

using namespace ksc;
using namespace ksc::tracer;

namespace {

bool is_launch_command_line(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--") == 0) return true;
    return false;
}

// A command killed by a signal: die the same way, so that our parent sees what it would have
// seen without us. As PID 1 (where signals without a handler do nothing), 128 + signal.
int die_like_child(int sig) {
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // the command dumped its own core, if any
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    return 128 + sig;
}

}  // namespace

int main(int argc, char** argv) {
    std::int64_t start_ms = now_ms();

    // 1. Flags. In launch mode our own failures are 125, like env(1).
    int failure_status = is_launch_command_line(argc, argv) ? kExitTracerFailed : 1;
    auto parsed = parse_options(argc - 1, argv + 1);
    if (!parsed) {
        std::fprintf(stderr, "seccomp-tracer: %s\n", ksc::printable(parsed.error().message).c_str());
        return failure_status;
    }
    const Options& opts = *parsed;
    if (opts.help) {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    if (opts.version) {
        std::printf("seccomp-tracer %s (stream protocol %s)\n", kVersion, kProtocolVersion);
        return 0;
    }

    // 2. The other jobs: carry a recorder's socket over stdin/stdout; install ourselves.
    if (!opts.connect.empty()) return run_connect_client(opts.connect);
    if (!opts.install_dir.empty()) return install_self(opts.install_dir);

    // 3. Attach mode: not dumpable, so that an app running as our uid (a same-user recorder,
    // docs/kubernetes.md) can neither ptrace us nor read our /proc files (mem, environ, fds, the
    // stream's socket); signals are all it has left, and the plugin notices those. Not in launch
    // mode: we seize the command between fork and exec, when it still has our dumpable flag.
    if (!opts.launch() && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        std::fprintf(stderr, "seccomp-tracer: cannot set PR_SET_DUMPABLE to 0: %s\n", std::strerror(errno));

    // 4. Our own signals: flags for the loop, never a syscall per stop (signals.h).
    install_signal_handlers(opts.launch());

    // 5. The stream, and hello first.
    Output output;
    if (auto opened = output.open(opts.output, opts.launch()); !opened) {
        std::fprintf(stderr, "seccomp-tracer: %s\n", ksc::printable(opened.error().message).c_str());
        return failure_status;
    }
    Reporter reporter(output, start_ms);
    reporter.set_mirror_errors(!opts.output.empty() && opts.output != "-");
    SyscallCounts recording(!opts.launch() || opts.no_filter);
    Control control;
    Tracer tracer(opts, recording, reporter, control);
    std::optional<stream::CheckInfo> check;
    if (opts.checking())
        check = stream::CheckInfo{std::string(check_mode_name(opts.check_mode)), opts.check_program.size()};
    std::string hello = Reporter::hello_line(opts.launch() ? stream::Mode::Launch : stream::Mode::Attach,
                                             tracer.method(), check);
    if (!output.serving()) output.write_line(hello);

    // 6. Commands, on a helper thread. Before the launch: the control fd must be close-on-exec by
    // then, or the command would inherit it.
    std::string control_spec = opts.control;
    if (control_spec.empty() && !opts.launch() && !output.serving())
        control_spec.assign(1, '-');  // not = "-": GCC 12 -Wrestrict false positive
    if (auto started =
            control.start(control_spec, opts.launch(), output.serving() ? &output : nullptr, hello);
        !started) {
        reporter.error("control", started.error().message);
        return failure_status;
    }
    // 7. The targets: seize them, or start the command under the tracer.
    if (opts.launch()) {
        if (!tracer.launch(opts.command)) return tracer.exit_status();
    } else if (!opts.pids.empty()) {
        bool any = false;
        for (pid_t pid : opts.pids) any |= tracer.attach_process(pid, false);
        if (!any) return 1;
        tracer.attach_descendants();
    } else {
        tracer.scan_proc(false);
        if (tracer.traced_threads() == 0) {
            std::string what = "no process to trace yet";
            if (!opts.container_id.empty()) what = "no process of container " + opts.container_id + " yet";
            reporter.warning("no-target", what + "; waiting for one to appear");
        }
    }

    // 8. The ticker: progress, /proc re-scans, timeouts.
    start_ticker(opts.scans_proc() ? kScanTickMs : kTickMs);

    // 9. The recording itself, until stop (attach mode: everything detached) or, in launch mode,
    // until the command has exited.
    tracer.run();

    // 10. The stream's last lines out (up to 10 s for a reader that is behind), then our exit
    // status: attach mode 0 or 1; launch mode the command's.
    bool drained = output.flush(Output::kExitFlushTimeout);
    if (tracer.child_signal()) return die_like_child(tracer.child_signal());
    if (!drained) {
        // The reader has not read for 10 s: the summary file and the termination message hold
        // the recording; do not wait on it any longer.
        std::fprintf(stderr, "seccomp-tracer: the stream's reader stopped reading; exiting without it\n");
        _exit(tracer.exit_status());
    }
    return tracer.exit_status();
}
