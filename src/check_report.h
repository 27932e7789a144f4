// The result of `kubectl seccomp check` (docs/check.md): every call the profile under test would
// refuse, with what decided it and who made it, and the run's caveats (what was not checked, how
// the copy differed from the pod), as a report for people (-o report) and for machines (-o json).
// The plugin fills a CheckResult from the tracer's denial events and summaries; this file only
// shapes and writes it, so that both formats say the same.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch.h"
#include "profile.h"
#include "recording.h"

namespace ksc {

struct CheckDenial {
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;
    std::string name;    // empty when our table does not know the number
    std::string action;  // SCMP_ACT_ERRNO, SCMP_ACT_TRAP, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS
    std::optional<int> errno_value;       // for SCMP_ACT_ERRNO
    std::array<std::uint64_t, 6> args{};  // of the first such call
    std::string comm, exe;                // of the first such call's process
    std::uint64_t count = 0;              // all such calls (at least 1)
    double first_t = 0;                   // seconds since the tracer started; negative: unknown
    // Before the container was Ready (start-up), after, or unknown (attach: it was Ready already).
    std::optional<bool> startup;
    // complain mode: what the app got back when the call ran anyway ("EPERM" -> n); "0" is never
    // a key (successes are not counted).
    std::map<std::string, std::uint64_t> seen_errors;
    // Refused by one of the profile's own SCMP_ACT_ERRNO rules naming the syscall (classify_denials):
    // the profile states that answer (convert's clone3 ENOSYS, so that libc falls back to clone).
    bool by_rule = false;
    // Whether it counts for the exit status and is listed as a denial: false only for a by-rule
    // refusal of a default-deny profile without --strict (reported apart).
    bool counted = true;
};

// How the checked app ended (enforce mode reports the app's reaction).
struct AppEnd {
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::string reason;  // the container's end, as the kubelet says ("Error", "Completed", ...)
};

struct CheckResult {
    std::string target;            // "web-0/app", or a copy's "web-0-seccomp-x2k9f/app (a copy of web-0)"
    std::string profile_path;      // the profile under test, as given
    std::string mode;              // eval (attach), complain, enforce
    std::size_t instructions = 0;  // of the compiled program
    double seconds = 0;            // how long the check ran
    std::vector<CheckDenial> denials;
    // What this run could not check or did differently from the pod, one sentence each
    // ("calls RuntimeDefault refuses were not checked: ...").
    std::vector<std::string> caveats;
    std::optional<AppEnd> app_end;
    bool complete = true;  // false when the tracer's final summary did not arrive (counts may be low)
};

// A recording's denials (Recording::denials) as the report's, each placed before or after Ready:
// `ready_after` is when the container became Ready (seconds since the tracer started); without it,
// every denial is start-up when `startup_when_unknown` (it never became Ready), else unknown.
std::vector<CheckDenial> check_denials(const Recording& recording, std::optional<double> ready_after,
                                       bool startup_when_unknown);

// For a rule with conditions on `name`: the argument indices its conditions test, in order (the
// arguments that decided a denial). Empty when no rule naming it has conditions.
std::vector<std::uint32_t> deciding_args(const Profile& profile, std::string_view name);

// Marks each denial refused by the profile's own rule (CheckDenial::by_rule): its verdict is
// SCMP_ACT_ERRNO and a rule of `profile` (Docker's conditions evaluated for the denial's
// architecture, profile_eval.h) with that action and errno names the syscall. A rule with
// conditions whose answer is also the default action's cannot be told from it: not by rule. Not
// by rule either: the default action, runc's ENOSYS stub (a syscall no rule names), TRAP and KILL
// rules (the app would be signalled). A by-rule refusal is not counted unless `strict`, or the
// profile's default action is SCMP_ACT_ALLOW or SCMP_ACT_LOG (a denylist: its rules are the policy).
void classify_denials(std::vector<CheckDenial>& denials, const Profile& profile, bool strict);

// The exit status `check` returns for a result: 0 no counted denial, 1 denials (diff's convention).
int check_exit_status(const CheckResult& result);

// -o report. `profile` supplies each denial's deciding arguments (may be the profile checked).
std::string write_check_report(const CheckResult& result, const Profile& profile);
// -o json: {"target", "profile", "mode", "instructions", "seconds", "complete", "denials": [...],
// "refusedByRule": [...], "caveats": [...], "app": {...}}; each denial's "args" holds only the
// deciding arguments ({"arg0": value}), "allArgs" all six. "denials" holds the counted ones (with
// "byRule": true for a counted by-rule refusal), "refusedByRule" the by-rule ones not counted.
std::string write_check_json(const CheckResult& result, const Profile& profile);

}  // namespace ksc
