#include "tracer.h"

#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <variant>

#include "clock.h"
#include "launch.h"
#include "proc.h"
#include "ptrace_info.h"
#include "signals.h"
#include "syscall_args.h"
#include "syscall_table.h"

namespace ksc::tracer {

namespace {

// The part of struct __ptrace_syscall_info that we read: op, arch, nr and args (entry, seccomp) or
// rval + is_error (exit). The args are what argument-level rules record (syscall_args.h); entry and
// seccomp stops keep them at the same offsets. The kernel fills them either way: asking for less
// would only save a copy of 48 bytes.
constexpr std::size_t kSyscallInfoBytes = offsetof(__ptrace_syscall_info, seccomp.ret_data);
static_assert(offsetof(__ptrace_syscall_info, entry.args) == offsetof(__ptrace_syscall_info, seccomp.args));

// -ERESTARTSYS .. -ERESTART_RESTARTBLOCK: the kernel restarts the call (a signal or our own
// INTERRUPT came in); no program ever sees these, so they are no errors.
bool is_restart(int err) {
    return err >= 512 && err <= 516;
}

bool is_group_stop_signal(int sig) {
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

constexpr unsigned long kCommonOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                                         PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;

constexpr std::int64_t kProgressMs = 1000;
constexpr std::int64_t kScanMs = kScanTickMs;
// How long a stop waits for every tracee to reach a stop we can detach it at.
constexpr std::int64_t kDetachGraceMs = 3000;

}  // namespace

Tracer::Tracer(const Options& options, SyscallCounts& recording, Reporter& reporter, Control& control)
    : options_(options), recording_(recording), reporter_(reporter), control_(control) {
    self_ = getpid();
    start_ms_ = now_ms();
    last_progress_ms_ = start_ms_;
    last_scan_ms_ = start_ms_;
    bool filter = options.launch() && !options.no_filter;
    method_ = filter ? stream::Method::Seccomp : stream::Method::Ptrace;
    ptrace_options_ = kCommonOptions;
    if (filter || (options.launch() && options.checking())) ptrace_options_ |= PTRACE_O_TRACESECCOMP;
    // A check's filter returns SECCOMP_RET_TRACE data of its own, indistinguishable from the
    // recording filter's packing: its stops read the call with GET_SYSCALL_INFO.
    if (options.checking()) trust_trace_data_ = false;
    // Only a launched command may die with us: its filter makes every syscall fail without a
    // tracer. An attached app must outlive the tracer (even a SIGKILLed one).
    if (options.launch()) ptrace_options_ |= PTRACE_O_EXITKILL;
    resume_request_ = filter ? PTRACE_CONT : PTRACE_SYSCALL;

    if (options.scans_proc()) {
        // Our ancestors are no target: a shell that started us, kubectl exec's process, ...
        for (pid_t p = self_; p > 0;) {
            auto st = read_status(p);
            if (!st || st->ppid == p) break;
            p = st->ppid;
            if (p > 0) ancestors_.insert(p);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attaching

std::pair<std::string, std::string> Tracer::explain_eperm(pid_t pid) {
    auto st = read_status(pid);
    std::string who = "process " + std::to_string(pid) + (st ? " (" + st->name + ")" : "");
    if (st && st->tracer_pid != 0 && st->tracer_pid != self_) {
        auto tracer = read_status(st->tracer_pid);
        return {"already-traced",
                who + " is already traced by process " + std::to_string(st->tracer_pid) +
                    (tracer ? " (" + tracer->name + ")" : "") +
                    ": only one tracer at a time; stop that one (strace, gdb, another recorder) first"};
    }
    std::string yama = read_small_file("/proc/sys/kernel/yama/ptrace_scope");
    auto me = read_status(self_);
    bool have_cap = me && (me->cap_eff & (std::uint64_t{1} << 19));  // CAP_SYS_PTRACE
    if (!yama.empty() && yama[0] == '3')
        return {"yama",
                "the node forbids ptrace (Yama ptrace_scope is 3): the node's administrator must lower "
                "/proc/sys/kernel/yama/ptrace_scope"};
    if (!yama.empty() && (yama[0] == '1' || yama[0] == '2') && !have_cap)
        // "eperm" like the other refusals that SYS_PTRACE cures (the plugin's --privileges auto).
        return {"eperm",
                "cannot trace " + who + ": Yama ptrace_scope is " + yama.substr(0, 1) +
                    ", which lets only CAP_SYS_PTRACE attach: give the tracer the SYS_PTRACE capability"};
    if (st && !have_cap && (st->uid != getuid() || st->euid != geteuid()))
        return {"eperm",
                "cannot trace " + who + ": it runs as uid " + std::to_string(st->euid) +
                    " and the tracer as uid " + std::to_string(geteuid()) +
                    " without CAP_SYS_PTRACE: run the tracer as the same user, or give it SYS_PTRACE"};
    return {"eperm",
            "cannot trace " + who +
                ": permission denied (PTRACE_SEIZE): give the tracer SYS_PTRACE, or run it as the same "
                "user with at least the target's capabilities"};
}

bool Tracer::attach_process(pid_t pid, bool late, bool required) {
    auto report = [&](const std::string& code, const std::string& message) {
        if (required)
            reporter_.error(code, message);
        else
            reporter_.warning(code, message);
        // The summary says what was not captured, and why.
        recording_.lose("process not traced (" + code + ")");
    };
    Process proto;
    proto.comm = read_comm(pid);
    proto.exe = read_exe(pid);
    proto.late = late;
    std::uint8_t flags = late ? kLate : 0;
    std::unordered_set<pid_t> tried;
    bool any = false;
    // Threads keep being created while we attach: re-read the list until it holds nothing new.
    // Threads created by an already seized thread are attached by the kernel (TRACECLONE).
    for (int round = 0; round < 1000; ++round) {
        bool found_new = false;
        for (pid_t tid : list_threads(pid)) {
            if (!tried.insert(tid).second) continue;
            found_new = true;
            if (table_.find(tid)) continue;
            if (ptrace(PTRACE_SEIZE, tid, 0, ptrace_options_) == 0) {
                // Into a stop, so that it can be resumed with PTRACE_SYSCALL. Never SIGSTOP: the
                // app would see it (and a stopped process would be resumed).
                ptrace(PTRACE_INTERRUPT, tid, 0, 0);
            } else if (errno == ESRCH) {
                continue;  // exited meanwhile
            } else if (errno == EPERM) {
                auto st = read_status(tid);
                // An exiting thread cannot be seized (the leader of a process whose leader called
                // pthread_exit stays a zombie): it will make no syscall, so it is no loss.
                if (!st || st->state == 'Z' || st->state == 'X') continue;
                if (st->tracer_pid != self_) {
                    if (!any) {
                        auto [code, message] = explain_eperm(pid);
                        report(code, message);
                        return false;
                    }
                    continue;
                }
                // Already ours: created by a seized thread; its first stop will come.
            } else {
                report("attach", "cannot trace process " + std::to_string(pid) + " (thread " +
                                     std::to_string(tid) + "): " + std::strerror(errno));
                if (!any) return false;
                continue;
            }
            bool new_process = false;
            Tracee& t = table_.add(tid, pid, flags, proto, &new_process);
            any = true;
            emit_attached(tid, t, *table_.process(pid));
        }
        if (!found_new) break;
    }
    if (!any && tried.empty()) {
        if (required)
            reporter_.error("no-such-process",
                            "process " + std::to_string(pid) + " does not exist (or exited)");
        return false;
    }
    if (any) attached_any_ = true;
    return any;
}

void Tracer::attach_descendants() {
    // Until a pass finds no new child: a child can fork before its parent is seized.
    for (int round = 0; round < 100; ++round) {
        bool found = false;
        for (pid_t pid : list_processes()) {
            if (pid == self_ || table_.process(pid)) continue;
            auto st = read_status(pid);
            if (!st || !table_.process(st->ppid)) continue;
            if (st->tracer_pid == self_) continue;  // created after the seize: its stop is on the way
            found |= attach_process(pid, false, false);
        }
        if (!found) break;
    }
}

bool Tracer::excluded_from_scan(pid_t pid) {
    if (pid == self_ || ancestors_.count(pid)) return true;
    auto st = read_status(pid);
    if (!st) return true;
    // A child of a traced process that has not reported its first stop yet: it is ours already.
    if (st->tracer_pid == self_) return false;
    if (is_kernel_thread(pid)) return true;            // seen in the host's PID namespace
    if (pid == 1 && st->name == "pause") return true;  // the pod's sandbox
    if (st->name == "seccomp-tracer") return true;     // other recorders, --connect clients
    if (!options_.container_id.empty() && !cgroup_mentions(pid, options_.container_id)) return true;
    return false;
}

void Tracer::scan_proc(bool late) {
    std::vector<pid_t> present = list_processes();
    std::unordered_set<pid_t> alive(present.begin(), present.end());
    // Forget exclusions of pids that are gone, so a reused pid is looked at again.
    for (auto it = excluded_.begin(); it != excluded_.end();)
        it = alive.count(*it) ? std::next(it) : excluded_.erase(it);
    for (pid_t pid : present) {
        if (table_.process(pid) || excluded_.count(pid)) continue;
        if (excluded_from_scan(pid)) {
            excluded_.insert(pid);
            continue;
        }
        auto st = read_status(pid);
        if (st && st->tracer_pid == self_) continue;  // ours, its stop is on the way
        if (!attach_process(pid, late, false)) excluded_.insert(pid);
    }
}

// ---------------------------------------------------------------------------------------------
// Launching

bool Tracer::launch(const std::vector<std::string>& command) {
    CheckFilter check;
    sock_fprog check_fprog{};
    if (options_.checking()) {
        auto traced = bpf::transform_for_trace(options_.check_program);
        if (!traced) {  // options refused such programs already
            reporter_.error("check", "cannot check the program: " + traced.error().message);
            exit_status_ = kExitTracerFailed;
            return false;
        }
        check_traced_ = std::move(*traced);
        static_assert(sizeof(bpf::Instruction) == sizeof(sock_filter));
        check_fprog.len = static_cast<unsigned short>(check_traced_.size());
        check_fprog.filter = reinterpret_cast<sock_filter*>(check_traced_.data());
        check.program = &check_fprog;
        // A filter needs no_new_privs or CAP_SYS_ADMIN. The pod's allowPrivilegeEscalation: false
        // gave us no_new_privs already; else CAP_SYS_ADMIN installs it as runc would; else we must
        // set it, and setuid and file-capability programs then gain nothing, unlike under runc.
        bool had_nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
        auto me = read_status(self_);
        bool cap_sys_admin = me && (me->cap_eff & (std::uint64_t{1} << 21));
        check.no_new_privs = !had_nnp && !cap_sys_admin;
        if (check.no_new_privs)
            reporter_.warning("no-new-privs",
                              "the tracer set no_new_privs, which the pod did not ask for, to install the "
                              "profile without CAP_SYS_ADMIN: setuid and file-capability programs do not "
                              "gain privileges here, unlike under the runtime's enforcement");
    }
    if (options_.drop_cap_sys_admin) {
        check.drop_cap_sys_admin = true;
        auto me = read_status(self_);
        check.drop_bounding = me && (me->cap_eff & (std::uint64_t{1} << 8));  // CAP_SETPCAP
        if (!check.drop_bounding)
            reporter_.warning("cap-sys-admin-kept",
                              "without CAP_SETPCAP the tracer cannot remove CAP_SYS_ADMIN from the bounding "
                              "set: a root app regains it at its exec (the pod did not have it)");
    }
    // --check-only: the check's filter alone, so that only refused calls stop the app.
    bool recording_filter = method_ == stream::Method::Seccomp && !options_.check_only;
    auto started = start_child(command, recording_filter, ptrace_options_, check);
    if (auto* err = std::get_if<LaunchError>(&started)) {
        reporter_.error(err->exit_status == 127   ? "not-found"
                        : err->exit_status == 126 ? "cannot-run"
                                                  : "launch",
                        err->message);
        exit_status_ = err->exit_status;
        return false;
    }
    auto child = std::get<LaunchedChild>(started);
    child_ = child.pid;
    exec_error_fd_ = child.exec_error_fd;
    Process proto;
    // Named after the command from the start: its first syscall, execve, is made before the
    // kernel renames it.
    proto.comm = command[0].substr(command[0].rfind('/') + 1).substr(0, 15);
    Tracee& t = table_.add(child_, child_, kPreExec, proto);
    emit_attached(child_, t, *table_.process(child_));
    attached_any_ = true;
    return true;
}

// ---------------------------------------------------------------------------------------------
// The loop

void Tracer::run() {
    for (;;) {
        if (g_wake) on_wake();
        if (finished()) break;
        int status;
        // The hot path: this, GET_SYSCALL_INFO, two lookups and the resume. Nothing else.
        pid_t tid = waitpid(-1, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR) continue;
            if (errno == ECHILD) {
                // Nothing traced now (a --all scan may find more): wait for the next tick.
                if (table_.empty() && options_.scans_proc() && recording_active_) {
                    pause();
                    continue;
                }
                break;  // nothing left that can report
            }
            reporter_.error("waitpid", std::string("waitpid failed: ") + std::strerror(errno));
            break;
        }
        on_status(tid, status);
    }
    // The recording ends when we have let go of everything, everything ended, or we gave up on
    // the threads that would not stop.
    if (recording_active_) finish_recording();
    if (!options_.launch() && !attached_any_) exit_status_ = 1;
}

bool Tracer::finished() const {
    if (gave_up_) return true;
    if (options_.launch()) {
        if (!child_exited_) return false;
        // As PID 1, the command's exit ends the container (the kernel kills the rest).
        return table_.empty() || self_ == 1;
    }
    if (detaching_all_) return table_.empty();
    // Everything we traced ended; with /proc scans, late comers may still come.
    return table_.empty() && !options_.scans_proc() && attached_any_;
}

void Tracer::on_wake() {
    g_wake = 0;
    std::int64_t now = now_ms();
    auto signals = take_received_signals();
    if (signals.any) {
        if (options_.launch()) {
            // Forwarded, like an init: the command decides. A terminal's signals already went to
            // its whole process group, the command included: not twice.
            for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
                std::uint64_t bit = std::uint64_t{1} << sig;
                if ((signals.any & bit) && !(signals.from_terminal & bit) && !child_exited_)
                    kill(child_, sig);
            }
            if (signals.any & (std::uint64_t{1} << SIGPIPE)) stop_recording();
        } else if (recording_active_) {
            // Nobody asked over the stream: the recording is cut short, and the plugin must not
            // take it for a whole one. In a same-user recorder the sender may be the app itself.
            std::string names;
            for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
                if (signals.any & (std::uint64_t{1} << sig))
                    names += std::string(names.empty() ? "" : ", ") + (sig == SIGINT    ? "SIGINT"
                                                                       : sig == SIGTERM ? "SIGTERM"
                                                                       : sig == SIGHUP  ? "SIGHUP"
                                                                                        : "SIGPIPE");
            std::string from = signals.sender_pid > 0
                                   ? " from pid " + std::to_string(signals.sender_pid) + " (uid " +
                                         std::to_string(signals.sender_uid) + ")"
                                   : "";
            reporter_.warning("signal", "stopped by " + names + from + ": the recording ends incomplete");
            stop_recording();
        }
    }
    if (recording_active_ && control_.stop_requested()) stop_recording();
    // While letting go of everything (attach mode), nothing else is started.
    if (detaching_all_) {
        if (!table_.empty() && now >= detach_deadline_ms_) {
            // Threads that never stop again (zombies, or stuck in an uninterruptible sleep):
            // our exit detaches them (the kernel resumes all but the group-stopped).
            reporter_.warning("detach",
                              std::to_string(table_.threads()) +
                                  " threads did not stop to be detached; leaving them to the kernel");
            recording_.lose("thread not detached", table_.threads());
            gave_up_ = true;
        }
        return;
    }
    if (unsigned n = control_.take_snapshot_requests(); n && recording_active_) emit_summary(false);
    // A ping is answered with a progress line: the plugin's proof that the recorder still runs (a
    // stopped one, SIGSTOP from a same-user app, answers nothing).
    if (unsigned n = control_.take_ping_requests(); n && recording_active_) {
        last_progress_ms_ = now;
        emit_progress();
    }
    if (recording_active_ && reporter_.quiet() == false && now - last_progress_ms_ >= kProgressMs) {
        last_progress_ms_ = now;
        emit_progress();
    }
    if (recording_active_ && options_.scans_proc() && now - last_scan_ms_ >= kScanMs - 5) {
        last_scan_ms_ = now;
        scan_proc(true);
    }
    if (recording_active_ && options_.idle_timeout_ms > 0 && control_.has_channel() &&
        now - control_.last_command_ms() >= options_.idle_timeout_ms) {
        reporter_.warning("idle-timeout", "no command for " + format_duration(options_.idle_timeout_ms) +
                                              " (--idle-timeout): stopping; the app runs on, untraced");
        stop_recording();
    }
    if (recording_active_ && options_.duration_ms > 0 && now - start_ms_ >= options_.duration_ms)
        stop_recording();
    if (recording_active_ && reporter_.output_broken()) stop_recording();
    if (!ended_unannounced_.empty() && now - last_purge_ms_ >= 1000) {
        last_purge_ms_ = now;
        std::erase_if(ended_unannounced_, [&](const auto& entry) { return now - entry.second > 10'000; });
    }
}

void Tracer::on_status(pid_t tid, int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        on_exit(tid, status);
        return;
    }
    if (!WIFSTOPPED(status)) return;
    Tracee* found = table_.find(tid);
    // A new child can report its first stop before its parent's fork/clone event does.
    Tracee& t = found ? *found : adopt(tid);
    int sig = WSTOPSIG(status);
    if (sig == (SIGTRAP | 0x80)) {
        if (!pending_checks_.empty()) [[unlikely]]
            on_check_exit(tid);
        if (recording_active_) on_syscall_stop(tid, t);
        resume(tid, t, 0);
        return;
    }
    unsigned event = static_cast<unsigned>(status) >> 16;
    switch (event) {
        case 0:
            if (sig == SIGSYS && !pending_sigsys_.empty()) [[unlikely]] {
                // An enforced TRAP's SIGSYS: it carries SYS_SECCOMP siginfo, as the kernel's does.
                if (auto it = pending_sigsys_.find(tid); it != pending_sigsys_.end()) {
                    ptrace(PTRACE_SETSIGINFO, tid, 0, &it->second);
                    pending_sigsys_.erase(it);
                }
            }
            // Signal-delivery-stop: the signal goes on with this resume, exactly once.
            resume(tid, t, sig);
            return;
        case PTRACE_EVENT_STOP:
            if (is_group_stop_signal(sig)) {
                // Group-stop: stay stopped, but let us hear of SIGCONT (and let INTERRUPT work).
                // Detached here, it stays stopped: the kernel re-enters the group-stop.
                if (t.flags & kDetaching)
                    detach(tid, t, 0);
                else
                    ptrace(PTRACE_LISTEN, tid, 0, 0);
                return;
            }
            // Our INTERRUPT, a new tracee's first stop, or the end of a group-stop.
            resume(tid, t, 0);
            return;
        case PTRACE_EVENT_SECCOMP:
            // A check's refusals are handled to the end (the filter stays as long as the app).
            if (options_.checking())
                on_check_seccomp_stop(tid, t);
            else if (recording_active_)
                on_seccomp_stop(tid, t);
            resume(tid, t, 0);
            return;
        case PTRACE_EVENT_CLONE:
        case PTRACE_EVENT_FORK:
        case PTRACE_EVENT_VFORK:
            on_new_task(tid, t, event);
            resume(tid, t, 0);
            return;
        case PTRACE_EVENT_EXEC:
            on_exec(tid, t);
            resume(tid, t, 0);
            return;
        case PTRACE_EVENT_EXIT:
            t.flags |= kExiting;
            resume(tid, t, 0);
            return;
        default:
            resume(tid, t, 0);
            return;
    }
}

void Tracer::resume(pid_t tid, Tracee& t, int sig) {
    if (t.flags & kDetaching) {
        detach(tid, t, sig);
        return;
    }
    __ptrace_request request = recording_active_ ? resume_request_ : PTRACE_CONT;
    // A refused call's exit stop is still due.
    if (!pending_checks_.empty() && pending_checks_.count(tid)) [[unlikely]]
        request = PTRACE_SYSCALL;
    // ESRCH: killed meanwhile (SIGKILL does not wait for us); its exit report follows.
    ptrace(request, tid, 0, sig);
}

void Tracer::detach(pid_t tid, Tracee& t, int sig) {
    // A pending signal goes on with the detach, or it would be lost.
    ptrace(PTRACE_DETACH, tid, 0, sig);
    if (!reporter_.quiet()) {
        stream::Exited e;
        e.t = reporter_.seconds();
        e.pid = t.tgid;
        e.tid = tid;
        e.detached = true;
        reporter_.emit(e);
    }
    table_.remove(tid);
}

void Tracer::on_exit(pid_t tid, int status) {
    if (tid == child_) {
        child_exited_ = true;
        if (WIFEXITED(status)) {
            exit_status_ = WEXITSTATUS(status);
        } else {
            child_signal_ = WTERMSIG(status);
            exit_status_ = 128 + child_signal_;
        }
        if (!child_execed_ && exec_error_fd_ >= 0) {
            auto failure = exec_failure(exec_error_fd_, options_.command[0]);
            reporter_.error(failure.exit_status == 127   ? "not-found"
                            : failure.exit_status == 126 ? "cannot-run"
                                                         : "launch",
                            failure.message);
            exit_status_ = failure.exit_status;
            child_signal_ = 0;
        }
    }
    pending_checks_.erase(tid);
    pending_sigsys_.erase(tid);
    Tracee* t = table_.find(tid);
    // A new thread can live and die before its creator's clone event is processed (or be killed
    // before its first stop): remember it, so that the late event does not resurrect it.
    if ((!t || (t->flags & kAdopted)) && tid != child_) ended_unannounced_[tid] = now_ms();
    if (!t) return;  // an orphan we reaped as PID 1, or a thread we already let go of
    if (!reporter_.quiet()) {
        stream::Exited e;
        e.t = reporter_.seconds();
        e.pid = t->tgid;
        e.tid = tid;
        if (tid == t->tgid) {
            if (WIFEXITED(status))
                e.exit_code = WEXITSTATUS(status);
            else
                e.signal = WTERMSIG(status);
        }
        reporter_.emit(e);
    }
    table_.remove(tid);
}

Tracee& Tracer::adopt(pid_t tid) {
    auto st = read_status(tid);
    pid_t tgid = st ? st->tgid : tid;
    Process proto;
    const Process* parent = table_.process(tgid);
    if (!parent && st) parent = table_.process(st->ppid);
    if (parent)
        proto = *parent;
    else
        proto.comm = read_comm(tid);
    std::uint8_t flags = kAdopted | (proto.late ? kLate : 0);
    if (detaching_all_) flags |= kDetaching;
    Tracee& t = table_.add(tid, tgid, flags, proto);
    emit_attached(tid, t, *table_.process(tgid));
    return t;
}

void Tracer::on_new_task(pid_t tid, Tracee& t, unsigned event) {
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) != 0 || msg == 0) return;
    pid_t child = static_cast<pid_t>(msg);
    if (Tracee* known = table_.find(child)) {  // it reported first and was adopted
        known->flags &= static_cast<std::uint8_t>(~kAdopted);
        return;
    }
    if (ended_unannounced_.erase(child)) return;  // it came and went before this event
    // CLONE covers threads and processes made by clone() without SIGCHLD: ask /proc which.
    bool thread = event == PTRACE_EVENT_CLONE && is_thread_of(t.tgid, child);
    pid_t tgid = thread ? t.tgid : child;
    Process proto = *table_.process(t.tgid);
    std::uint8_t flags = t.flags & kLate;
    if (detaching_all_) flags |= kDetaching;
    Tracee& c = table_.add(child, tgid, flags, proto);
    emit_attached(child, c, *table_.process(tgid));
}

void Tracer::on_exec(pid_t tid, Tracee& t) {
    unsigned long former = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, 0, &former);
    if (former != 0 && static_cast<pid_t>(former) != tid) {
        // A non-leader thread exec'd: it now has the leader's tid, and its old tid is never
        // reported again. The leader itself vanished without a report.
        if (Tracee* old = table_.find(static_cast<pid_t>(former))) {
            t.in_syscall = old->in_syscall;
            t.flags = old->flags;
            table_.remove(static_cast<pid_t>(former));
        }
        // A check's refused execve (complain mode) still has its exit stop due, under the new tid.
        if (auto node = pending_checks_.extract(static_cast<pid_t>(former))) {
            node.key() = tid;
            pending_checks_.insert(std::move(node));
        }
    }
    t.flags &= static_cast<std::uint8_t>(~(kPreExec | kExiting));
    if (tid == child_) child_execed_ = true;
    if (Process* p = table_.process(t.tgid)) {
        p->comm = read_comm(tid);
        p->exe = read_exe(tid);
    }
}

// ---------------------------------------------------------------------------------------------
// SyscallCounts

void Tracer::no_syscall_info() {
    // EIO/EINVAL: a kernel older than 5.3. ESRCH (the tracee died meanwhile) is no such thing.
    if (errno == ESRCH || warned_no_syscall_info_) return;
    warned_no_syscall_info_ = true;
    recording_.lose("no PTRACE_GET_SYSCALL_INFO");
    reporter_.error("kernel", std::string("PTRACE_GET_SYSCALL_INFO failed (") + std::strerror(errno) +
                                  "): the tracer needs Linux 5.3 or later; nothing can be recorded here");
}

void Tracer::on_syscall_stop(pid_t tid, Tracee& t) {
    __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, kSyscallInfoBytes, &info) <= 0) [[unlikely]] {
        no_syscall_info();
        return;
    }
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
        std::uint64_t args[6];
        copy_args(info.entry.args, args);
        record(tid, t, info.arch, info.entry.nr, args);
        if (options_.check_mode == CheckMode::Eval) [[unlikely]]
            check_entry(tid, t, info);
    } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
        if (t.in_syscall && info.exit.is_error) {
            int err = static_cast<int>(-info.exit.rval);
            if (!is_restart(err)) recording_.count_error(*t.in_syscall, err);
        }
        t.in_syscall = nullptr;
    }
}

void Tracer::on_seccomp_stop(pid_t tid, Tracee& t) {
    if (trust_trace_data_) {
        // Our filter packed the call into its SECCOMP_RET_DATA: one PTRACE_GETEVENTMSG, a cheaper
        // read than GET_SYSCALL_INFO (which fills a struct from the registers).
        unsigned long data = 0;
        std::uint32_t audit_arch;
        std::uint64_t raw_nr;
        if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &data) != 0) [[unlikely]]
            return;  // ESRCH: killed meanwhile; its exit report follows
        if (unpack_trace_data(data, audit_arch, raw_nr)) {
            record(tid, t, audit_arch, raw_nr, nullptr);
            t.in_syscall = nullptr;
            return;
        }
    }
    __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, kSyscallInfoBytes, &info) <= 0) [[unlikely]] {
        no_syscall_info();
        return;
    }
    if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
        std::uint64_t args[6];
        copy_args(info.seccomp.args, args);
        record(tid, t, info.arch, info.seccomp.nr, args);
    }
    t.in_syscall = nullptr;  // returns are not seen in this mode
}

void Tracer::record(pid_t tid, Tracee& t, std::uint32_t audit_arch, std::uint64_t raw_nr,
                    const std::uint64_t* args) {
    std::uint64_t nr = raw_nr;
    auto arch = classify_syscall(audit_arch, nr);
    t.in_syscall = nullptr;
    if (!arch || nr > 0xffffffffu) [[unlikely]] {
        // nr -1 is what a debugger or seccomp leaves to skip a call: not a syscall.
        if (raw_nr != ~std::uint64_t{0})
            recording_.lose(arch ? "bad syscall number" : "unknown architecture");
        return;
    }
    if (t.flags & kPreExec) [[unlikely]] {
        // The launched child's own set-up before its execve is not the program's.
        if (!(*arch == native_arch() && (nr == SYS_execve || nr == SYS_execveat))) return;
    }
    ++events_;
    SyscallStat& s = recording_.stat(*arch, static_cast<std::uint32_t>(nr));
    if (s.count++ == 0) [[unlikely]] {
        recording_.note_new(*arch, static_cast<std::uint32_t>(nr));
        stream::Syscall e;
        e.t = reporter_.seconds();
        e.arch = *arch;
        e.nr = static_cast<std::uint32_t>(nr);
        s.spec = arg_spec(*arch, e.nr);
        if (auto name = syscall_name(*arch, e.nr)) {
            e.name = *name;
            // The program may stack a filter of its own: a newer one's SECCOMP_RET_TRACE data would
            // override ours. Every filter comes through one of these two calls, seen here at its
            // entry, before it exists: from now on, ask GET_SYSCALL_INFO.
            if (*name == "seccomp" || *name == "prctl") trust_trace_data_ = false;
        }
        e.pid = t.tgid;
        if (Process* p = table_.process(t.tgid)) e.comm = p->comm;
        e.late = t.flags & kLate;
        reporter_.emit(e);
    }
    if (!(t.flags & kLate)) s.made_early = true;
    if (s.spec) [[unlikely]]
        record_argument(tid, t, *arch, static_cast<std::uint32_t>(nr), s, args);
    t.in_syscall = &s;
}

void Tracer::record_argument(pid_t tid, Tracee& t, Arch arch, std::uint32_t nr, SyscallStat& s,
                             const std::uint64_t* args) {
    __ptrace_syscall_info info;
    std::uint64_t read[6];
    if (!args) {
        // The seccomp data path brings no arguments: read them (only for argument-table calls).
        if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, kSyscallInfoBytes, &info) <= 0 ||
            info.op != PTRACE_SYSCALL_INFO_SECCOMP) [[unlikely]] {
            if (errno != ESRCH) recording_.lose("argument unreadable");
            return;
        }
        copy_args(info.seccomp.args, read);
        args = read;
    }
    ArgNews news = recording_.note_value(s, arg_value(*s.spec, args));
    if (news == ArgNews::Known) [[likely]]
        return;
    stream::Argument e;
    e.t = reporter_.seconds();
    e.arch = arch;
    e.nr = nr;
    e.name = std::string(s.spec->syscall);
    e.overflow = news == ArgNews::Overflow;
    if (!e.overflow) e.value = s.values->v[s.values->n - 1];
    e.pid = t.tgid;
    if (Process* p = table_.process(t.tgid)) e.comm = p->comm;
    reporter_.emit(e);
}

// ---------------------------------------------------------------------------------------------
// Stopping

void Tracer::stop_recording() {
    if (!recording_active_) return;
    if (!options_.launch() && !table_.empty()) {
        // Attach mode: let go of everything first; run() ends the recording once that is done.
        if (!detaching_all_) begin_detach_all();
        return;
    }
    finish_recording();
}

void Tracer::finish_recording() {
    // Launch mode: the filter cannot be removed and without a tracer its calls fail, so we stay,
    // passing each stop straight on (and saying nothing more), until the command exits.
    recording_active_ = false;
    if (!options_.launch()) emit_progress();
    emit_summary(true);
    reporter_.write_summary_file(options_.summary_file, options_.summary_file_given, recording_);
    reporter_.set_quiet(true);
}

void Tracer::begin_detach_all() {
    detaching_all_ = true;
    detach_deadline_ms_ = now_ms() + kDetachGraceMs;
    std::vector<pid_t> gone;
    table_.for_each([&](pid_t tid, Tracee& t) {
        t.flags |= kDetaching;
        // Past its exit event a thread never stops again (and cannot be detached): let it be.
        if (t.flags & kExiting) {
            gone.push_back(tid);
            return;
        }
        // Only a stopped tracee can be detached: bring each into a stop; resume() detaches it.
        if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0 && errno == ESRCH) gone.push_back(tid);
    });
    for (pid_t tid : gone) table_.remove(tid);
}

// ---------------------------------------------------------------------------------------------
// Events

void Tracer::emit_attached(pid_t tid, const Tracee& t, const Process& p) {
    if (reporter_.quiet()) return;
    stream::Attached e;
    e.t = reporter_.seconds();
    e.pid = t.tgid;
    e.tid = tid;
    e.comm = p.comm;
    if (tid == t.tgid) e.exe = p.exe;
    e.late = t.flags & kLate;
    reporter_.emit(e);
}

void Tracer::emit_summary(bool final) {
    stream::Summary s = recording_.summary(final, reporter_.seconds());
    if (options_.checking()) {
        s.denials = denials_.summary();
        if (denials_.lost()) s.lost.push_back(stream::Lost{"denials", denials_.lost()});
    }
    s.threads_seen = table_.threads_seen();
    s.processes_seen = table_.processes_seen();
    reporter_.emit(s);
}

void Tracer::emit_progress() {
    stream::Progress e;
    e.t = reporter_.seconds();
    e.syscalls = recording_.distinct();
    e.events = events_;
    e.threads = table_.threads();
    e.processes = table_.processes();
    reporter_.emit(e);
}

}  // namespace ksc::tracer
