// The stream protocol between seccomp-tracer and the plugin, version 1 (docs/stream.md is the
// reference; keep the two in step). One JSON object per line, each with "type". Unknown types and
// unknown fields are ignored so that both sides can grow. This file is the only encoder and the
// only decoder of the stream: the tracer encodes with it, the plugin decodes with it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "arch.h"
#include "result.h"

namespace ksc::stream {

inline constexpr int kProtocolMajor = 1;
// 1.1: `argument` events and the summary's per-syscall `values` (argument-level rules).
// 1.2: `check` in hello, `denial` events and the summary's `denials` (kubectl seccomp check).
inline constexpr int kProtocolMinor = 2;
// A line longer than this is refused by the decoder (the tracer never writes one: summaries are
// bounded by the number of syscalls, well under this).
inline constexpr std::size_t kMaxLineBytes = 4 * 1024 * 1024;

enum class Mode { Attach, Launch };
std::string_view mode_name(Mode mode);

// The recording method: "seccomp" (SECCOMP_RET_TRACE filter, one stop per syscall, returns not
// seen) or "ptrace" (PTRACE_SYSCALL, two stops per syscall, returns seen).
enum class Method { Seccomp, Ptrace };
std::string_view method_name(Method method);

// The tracer runs a profile's compiled program (--check-program): "eval" (attach mode: the program
// is run over each syscall stop, nothing changes for the app), "complain" or "enforce" (launch
// mode: the program is installed, its refusals turned into SECCOMP_RET_TRACE stops).
struct CheckInfo {
    std::string mode;
    std::uint64_t instructions = 0;
};

struct Hello {
    int protocol_major = kProtocolMajor;
    int protocol_minor = kProtocolMinor;
    std::string tracer_version;  // e.g. "0.1.0"
    std::string kernel;          // uname -r
    Arch native_arch = Arch::X86_64;
    Mode mode = Mode::Attach;
    Method method = Method::Ptrace;
    std::int64_t pid = 0;            // the tracer's own pid (in its PID namespace)
    std::optional<CheckInfo> check;  // 1.2: present only with --check-program
};

// A process or thread joined the recording.
struct Attached {
    double t = 0;  // seconds since the tracer started
    std::int64_t pid = 0;
    std::int64_t tid = 0;
    std::string comm;
    std::string exe;    // empty when unreadable
    bool late = false;  // found by a /proc re-scan, not created by a traced process
};

// A process or thread left the recording (exited, or was detached on stop).
struct Exited {
    double t = 0;
    std::int64_t pid = 0;
    std::int64_t tid = 0;
    std::optional<int> exit_code;  // for a process leader that exited
    std::optional<int> signal;     // killed by this signal
    bool detached = false;         // we let go of it; it runs on
};

// A first-seen (arch, nr) pair: the record itself.
struct Syscall {
    double t = 0;
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;  // without the x32 bit
    std::string name;      // empty when the table does not know the number
    std::int64_t pid = 0;
    std::string comm;
    bool late = false;  // made by a process found by a /proc re-scan (exec probe, kubectl exec)
};

// A first-seen (arch, nr, argument value) of a syscall in the argument table (syscall_args.h):
// the record of argument-level rules, written at once. `overflow` instead says that the syscall
// had more distinct values than the tracer keeps (kMaxArgValues): it is to be allowed whole.
struct Argument {
    double t = 0;
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;
    std::string name;
    // The recorded value (an ArgValue): the first argument's low 32 bits in the low half, the
    // second argument's (socket's netlink protocol) in the high half.
    std::uint64_t value = 0;
    bool overflow = false;
    std::int64_t pid = 0;
    std::string comm;
};

// 1.2: the first time a process with executable `exe` makes a call that the checked program
// refuses with this verdict: one line per first-seen (arch, nr, action, errno, exe).
struct Denial {
    double t = 0;
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;  // without the x32 bit
    std::string name;      // empty when the table does not know the number
    // The OCI name: SCMP_ACT_ERRNO, SCMP_ACT_TRAP, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS.
    std::string action;
    std::optional<int> errno_value;  // SCMP_ACT_ERRNO only (JSON "errno")
    std::array<std::uint64_t, 6> args{};
    std::int64_t pid = 0;
    std::int64_t tid = 0;
    std::string comm;
    std::string exe;
    bool enforced = false;  // the tracer made the verdict happen (enforce); false: the call went on
};

struct Progress {
    double t = 0;
    std::uint64_t syscalls = 0;   // distinct (arch, nr) pairs
    std::uint64_t events = 0;     // syscalls stopped at in all
    std::uint64_t threads = 0;    // threads traced now
    std::uint64_t processes = 0;  // processes traced now
};

struct SyscallCount {
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;
    std::string name;
    std::uint64_t count = 0;
    // errno value -> how many calls returned it; only when returns are seen (method ptrace).
    std::map<int, std::uint64_t> errors;
    bool late_only = false;  // only processes found by a /proc re-scan made it
    // Argument values recorded (argument-table syscalls only; protocol 1.1), sorted.
    std::vector<std::uint64_t> values;
    bool values_overflow = false;  // more than kMaxArgValues distinct values: allow it whole
};

// 1.2: a would-be denial in the summary, all its occurrences counted.
struct DenialCount {
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;
    std::string name;
    std::string action;
    std::optional<int> errno_value;
    std::uint64_t count = 0;
    double first_t = 0;
    std::string comm;                     // of the first
    std::string exe;                      // of the first
    std::array<std::uint64_t, 6> args{};  // of the first
    // Complain mode: errno -> how many times the app got it back when the call ran (successes are
    // not counted).
    std::map<int, std::uint64_t> seen_errors;
};

// The tracer keeps at most this many distinct denial keys; beyond, a `lost` entry "denials".
inline constexpr std::size_t kMaxDenials = 4096;

struct Lost {
    std::string reason;
    std::uint64_t count = 0;
};

struct Summary {
    double t = 0;
    bool final = false;         // true on stop; false for a snapshot
    bool returns_seen = false;  // false in seccomp-filter mode ("returns not seen")
    std::vector<SyscallCount> syscalls;
    std::vector<Lost> lost;
    std::vector<DenialCount> denials;  // 1.2: only with --check-program
    std::uint64_t threads_seen = 0;
    std::uint64_t processes_seen = 0;
};

struct Message {
    bool is_error = false;  // "error" or "warning"
    std::string message;    // one line a human can act on
    std::string code;       // stable machine-readable reason, e.g. "eperm", "yama", "no-target"
};

// A line of a type this version does not know (kept for diagnostics, otherwise ignored).
struct Unknown {
    std::string type;
};

using Event =
    std::variant<Hello, Attached, Exited, Syscall, Argument, Denial, Progress, Summary, Message, Unknown>;

// One line, without the trailing newline.
std::string encode(const Event& event);

// The one protocol check, made by every reader of a stream (record, trace, convert): a `hello`
// of another major version means lines this build cannot read right. The error reads "speaks
// stream protocol 9.0, this kubectl-seccomp speaks 1.0"; the caller names the speaker before it
// and what to do after it.
Status check_protocol(const Hello& hello);

// One line (a trailing "\r" or "\n" is tolerated). Errors say what was wrong with the line.
Result<Event> decode(std::string_view line);

// Commands (plugin -> tracer), one per line.
enum class Command { Stop, Snapshot, Ping };
std::string_view command_text(Command command);
// Tolerates surrounding whitespace; nullopt for anything else.
std::optional<Command> parse_command(std::string_view line);

// Splits a byte stream into lines, bounding each at kMaxLineBytes. Feed it what arrives; it hands
// back complete lines. A line that grows past the bound is reported once and dropped.
class LineSplitter {
  public:
    // Appends data; returns the complete lines it now has.
    std::vector<std::string> feed(std::string_view data);
    // The partial line left when the stream ended (empty if none).
    std::string take_rest();
    std::uint64_t overlong_lines() const { return overlong_; }

  private:
    std::string buf_;
    bool skipping_ = false;
    std::uint64_t overlong_ = 0;
};

}  // namespace ksc::stream
