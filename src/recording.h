// A recording: what one tracer stream (live, or saved as NDJSON) says the app did, folded into one
// value that the profile writer, the report and `kubectl seccomp trace`/`record` share.
//
// The stream is cumulative and may be cut anywhere (the app's PID namespace died, the connection
// broke): `syscall` events are the record and arrive at once; `summary` events (each one complete
// so far) add counts and errno returns. So a Recording is useful at every point of the stream.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "arch.h"
#include "compact_summary.h"
#include "result.h"
#include "stream.h"

namespace ksc {

struct RecordedSyscall {
    Arch arch = Arch::X86_64;
    std::uint32_t nr = 0;
    // From our own syscall table; empty when it does not know the number (reported, never named).
    std::string name;
    // Calls counted by the last summary; 0 when no summary arrived (the call was still made).
    std::uint64_t count = 0;
    // errno value -> calls that returned it; only when returns are seen (see Recording).
    std::map<int, std::uint64_t> errors;
    std::int64_t first_pid = 0;  // 0 when only a summary named it
    std::string first_comm;
    bool late_only = false;  // only processes found by a /proc re-scan made it (exec probes)
    // Argument values recorded (ArgValue, syscall_args.h), for syscalls in the argument table.
    std::set<std::uint64_t> arg_values;
    // More distinct values than kMaxArgValues: the tracer stopped keeping them; allowed whole.
    bool arg_overflow = false;

    // Every counted call failed, with exactly this errno (a refusal the app already copes with).
    std::optional<int> only_errno() const;
};

struct Recording {
    std::optional<Arch> native_arch;  // from `hello`
    std::optional<stream::Mode> mode;
    std::optional<stream::Method> method;
    std::string tracer_version;
    std::string kernel;
    bool returns_seen = false;  // errno counts mean something (method ptrace)
    // The tracer records argument values (protocol 1.1 or later): an argument-table syscall without
    // values then means none could be read. Older tracers record none: their syscalls stay whole.
    bool args_recorded = false;
    bool have_summary = false;
    bool final_summary = false;  // the tracer said it was done (`stop`), not just a snapshot
    std::map<std::pair<Arch, std::uint32_t>, RecordedSyscall> syscalls;
    std::vector<stream::Lost> lost;
    std::uint64_t processes_seen = 0;
    std::uint64_t threads_seen = 0;
    std::vector<std::string> warnings;  // the tracer's `warning` lines and our own notes
    std::vector<std::string> errors;    // the tracer's `error` lines
    // A check (protocol 1.2, `kubectl seccomp check`, `record --baseline`): the tracer ran a
    // profile's program (hello.check), and the calls it would refuse. Denial events add first-seen
    // entries (count 1); each summary, complete so far, replaces them all with its counts.
    std::optional<stream::CheckInfo> check;
    using DenialKey = std::tuple<Arch, std::uint32_t, std::string, int, std::string>;  // errno -1: none
    std::map<DenialKey, stream::DenialCount> denials;

    // Architectures with at least one recorded syscall, in all_arches() order.
    std::vector<Arch> arches() const;
    // (arch, nr) pairs our table cannot name: kept, reported, never written as a name.
    std::vector<const RecordedSyscall*> unknown_numbers() const;
};

class RecordingBuilder {
  public:
    void add(const stream::Event& event);
    // What a tracer's compact summary (its termination message) holds: the syscalls, and the
    // argument values that fit (a table syscall without them is allowed whole). False when the
    // text is no compact summary.
    bool add_compact_summary(std::string_view text);
    Recording take() const { return rec_; }
    const Recording& peek() const { return rec_; }

  private:
    Recording rec_;
    std::set<std::int64_t> pids_;
    std::set<std::int64_t> tids_;
};

// A saved stream (NDJSON). Blank lines are skipped; any other undecodable line is an error naming
// its line number. A stream that was cut (no final summary) is still a recording.
Result<Recording> read_recording(std::string_view ndjson_text);

// True when the text looks like a stream (its first non-blank line is a JSON object with "type"),
// so `convert` can tell a recording from a profile without being told.
bool looks_like_stream(std::string_view text);

}  // namespace ksc
