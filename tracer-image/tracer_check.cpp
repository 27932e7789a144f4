// The Tracer's check part (tracer.h, docs/check.md): evaluating the profile's filter on each call,
// noting denials, and refusing a call as seccomp would (enforce) or letting it run (complain).
#include "tracer.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "proc.h"
#include "ptrace_info.h"
#include "regs.h"
#include "syscall_table.h"

namespace ksc::tracer {

namespace {

bpf::SeccompData seccomp_data(std::uint32_t audit_arch, std::uint64_t raw_nr, std::uint64_t ip,
                              const std::uint64_t (&args)[6]) {
    bpf::SeccompData d;
    d.nr = static_cast<std::int32_t>(raw_nr);  // as the kernel's int: x32 calls keep their bit
    d.arch = audit_arch;
    d.instruction_pointer = ip;
    for (int i = 0; i < 6; ++i) d.args[i] = args[i];
    return d;
}

// How a thread treats SIGSYS: /proc/PID/task/TID/status's SigBlk, SigIgn and SigCgt masks.
struct SigsysDisposition {
    bool blocked = false, ignored = false, caught = false;
};
SigsysDisposition sigsys_disposition(pid_t tgid, pid_t tid) {
    std::string path = "/proc/" + std::to_string(tgid) + "/task/" + std::to_string(tid) + "/status";
    std::string text = read_small_file(path.c_str());
    auto has = [&](const char* field) {
        auto at = text.find(field);
        if (at == std::string::npos) return false;
        std::uint64_t mask = std::strtoull(text.c_str() + at + std::strlen(field), nullptr, 16);
        return (mask & (std::uint64_t{1} << (SIGSYS - 1))) != 0;
    };
    return {has("SigBlk:"), has("SigIgn:"), has("SigCgt:")};
}

}  // namespace

void Tracer::check_entry(pid_t tid, Tracee& t, const __ptrace_syscall_info& info) {
    std::uint64_t args[6];
    copy_args(info.entry.args, args);
    auto data = seccomp_data(info.arch, info.entry.nr, info.instruction_pointer, args);
    if (data.nr == -1) return;  // a skipped call
    std::uint32_t ret = bpf::run(options_.check_program, data);
    if (auto verdict = refusal_of(ret)) [[unlikely]]
        note_denial(tid, t, data, *verdict, false);
}

void Tracer::on_check_seccomp_stop(pid_t tid, Tracee& t) {
    __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) <= 0) [[unlikely]] {
        no_syscall_info();
        return;
    }
    if (info.op != PTRACE_SYSCALL_INFO_SECCOMP) return;
    std::uint64_t args[6];
    copy_args(info.seccomp.args, args);
    // The recording filter's stop (method seccomp) is recorded here; method ptrace recorded the
    // call at its entry stop already.
    if (recording_active_ && method_ == stream::Method::Seccomp) {
        record(tid, t, info.arch, info.seccomp.nr, args);
        t.in_syscall = nullptr;
    }
    // Our interpreter decides, not the stop's data: with both filters stacked, the recording
    // filter's data and the check's cannot be told apart (both use all 16 bits); the verdict of
    // the original program is what the kernel computed for the check's filter.
    auto data = seccomp_data(info.arch, info.seccomp.nr, info.instruction_pointer, args);
    std::uint32_t ret = bpf::run(options_.check_program, data);
    auto verdict = refusal_of(ret);
    if (!verdict) return;
    // The stop's data is the check filter's (the kernel keeps, among equal actions, the most
    // recently installed filter's data: seccomp_run_filters): anything else means that a filter
    // of the app's own, stacked later, returned SECCOMP_RET_TRACE for this call too.
    if (static_cast<std::uint16_t>(info.seccomp.ret_data) !=
        bpf::encode_trace_data(verdict->action, static_cast<std::uint16_t>(ret & bpf::kRetData))) [[unlikely]]
        recording_.lose("check stop of another filter");
    refuse(tid, t, data, *verdict, ret);
}

Denials::Entry* Tracer::note_denial(pid_t tid, const Tracee& t, const bpf::SeccompData& data,
                                    const Verdict& verdict, bool enforced) {
    std::uint64_t nr = static_cast<std::uint32_t>(data.nr);
    auto arch = classify_syscall(data.arch, nr);
    if (!arch || nr > 0xffffffffu) {
        recording_.lose(arch ? "bad syscall number" : "unknown architecture");
        return nullptr;
    }
    const Process* p = table_.process(t.tgid);
    static const std::string none;
    const std::string& exe = p ? p->exe : none;
    const std::string& comm = p ? p->comm : none;
    bool first = false;
    double now = reporter_.seconds();
    Denials::Entry* entry =
        denials_.note(*arch, static_cast<std::uint32_t>(nr), verdict, exe, comm, data.args, now, first);
    if (first && !reporter_.quiet()) {
        stream::Denial e;
        e.t = now;
        e.arch = *arch;
        e.nr = static_cast<std::uint32_t>(nr);
        e.name = entry->count.name;
        e.action = entry->count.action;
        e.errno_value = verdict.errno_value;
        for (int i = 0; i < 6; ++i) e.args[i] = data.args[i];
        e.pid = t.tgid;
        e.tid = tid;
        e.comm = comm;
        e.exe = exe;
        e.enforced = enforced;
        reporter_.emit(e);
    }
    return entry;
}

void Tracer::refuse(pid_t tid, Tracee& t, const bpf::SeccompData& data, const Verdict& verdict,
                    std::uint32_t ret) {
    bool enforce = options_.check_mode == CheckMode::Enforce;
    Denials::Entry* entry = note_denial(tid, t, data, verdict, enforce);
    PendingCheck pending;
    pending.entry = entry;
    if (!enforce) {
        // Complain: the call runs; its exit stop tells what the app got back.
        pending_checks_[tid] = pending;
        return;
    }
    // Enforce: the call is skipped (number -1), as seccomp skips it.
    if (!set_syscall_nr(tid, -1)) return;  // ESRCH: killed meanwhile
    switch (verdict.action) {
        case bpf::kRetErrno:
            // The exit stop sets the return value: the kernel's -errno.
            pending.kind = PendingCheck::SetErrno;
            pending.return_value = -static_cast<long>(verdict.errno_value.value_or(0));
            pending_checks_[tid] = pending;
            return;
        case bpf::kRetTrap: {
            pending.kind = PendingCheck::Trap;
            // The kernel's syscall_rollback: the return register holds what it held at entry.
#if defined(__x86_64__)
            pending.return_value = static_cast<long>(static_cast<std::uint32_t>(data.nr));
#else
            pending.return_value = static_cast<long>(data.args[0]);
#endif
            siginfo_t& si = pending.siginfo;
            si.si_signo = SIGSYS;
            si.si_code = 1;  // SYS_SECCOMP (asm-generic/siginfo.h; glibc leaves it out with __USE_GNU off)
            si.si_errno = static_cast<int>(ret & bpf::kRetData);
            si.si_call_addr = reinterpret_cast<void*>(data.instruction_pointer);
            si.si_syscall = data.nr;
            si.si_arch = data.arch;
            pending_checks_[tid] = pending;
            return;
        }
        default:
            // KILL_THREAD and KILL_PROCESS: a tracer cannot end one thread alone; both end the
            // process with SIGSYS.
            end_with_sigsys(tid, t);
            return;
    }
}

void Tracer::end_with_sigsys(pid_t tid, const Tracee& t) {
    // SIGSYS's default action ends the whole process, with a core dump, as the kernel's kill
    // does. The kernel's SIGSYS cannot be caught; ours could: an app that catches, blocks or
    // ignores SIGSYS is ended with SIGKILL instead.
    auto d = sigsys_disposition(t.tgid, tid);
    if (!d.blocked && !d.ignored && !d.caught) {
        syscall(SYS_tgkill, t.tgid, tid, SIGSYS);
        return;
    }
    reporter_.warning("sigsys-handled", "process " + std::to_string(t.tgid) +
                                            " catches, blocks or ignores SIGSYS: the profile's kill is "
                                            "enforced with SIGKILL instead of the kernel's SIGSYS");
    kill(t.tgid, SIGKILL);
}

void Tracer::on_check_exit(pid_t tid) {
    auto it = pending_checks_.find(tid);
    if (it == pending_checks_.end()) return;
    PendingCheck pending = it->second;
    pending_checks_.erase(it);
    switch (pending.kind) {
        case PendingCheck::SeeReturn: {
            __ptrace_syscall_info info;
            if (pending.entry && ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) > 0 &&
                info.op == PTRACE_SYSCALL_INFO_EXIT && info.exit.is_error)
                Denials::seen_error(*pending.entry, static_cast<int>(-info.exit.rval));
            return;
        }
        case PendingCheck::SetErrno:
            set_return_value(tid, pending.return_value);
            return;
        case PendingCheck::Trap: {
            set_return_value(tid, pending.return_value);
            Tracee* t = table_.find(tid);
            if (!t) return;
            // The kernel forces its SIGSYS: blocked or ignored, it kills (its default action).
            // Ours cannot be forced: the end the kernel would give is given instead.
            auto d = sigsys_disposition(t->tgid, tid);
            if (d.blocked || d.ignored) {
                end_with_sigsys(tid, *t);
                return;
            }
            pending_sigsys_[tid] = pending.siginfo;
            syscall(SYS_tgkill, t->tgid, tid, SIGSYS);
            return;
        }
    }
}

}  // namespace ksc::tracer
