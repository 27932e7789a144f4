// Would-be denials of a checked profile (--check-program): what the program refused, counted by
// (arch, nr, verdict, executable), with the first call's process and arguments. Bounded: at most
// stream::kMaxDenials keys; calls of further keys are counted as lost.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "arch.h"
#include "stream.h"

namespace ksc::tracer {

// A refusal: the SECCOMP_RET_* action (ALLOW and LOG are none) and, for ERRNO, its errno.
struct Verdict {
    std::uint32_t action = 0;
    std::optional<int> errno_value;
};

// The verdict of a program's return value as the kernel reads it: ERRNO's data capped at 4095
// (MAX_ERRNO), an unknown action taken as KILL_PROCESS; nullopt for ALLOW and LOG. TRACE and
// USER_NOTIF, which a checked program cannot return (options refuse it), also count as none.
std::optional<Verdict> refusal_of(std::uint32_t ret);

class Denials {
  public:
    struct Entry {
        stream::DenialCount count;
        std::uint32_t action = 0;
    };

    // Counts one refused call. `first` is set when this key is new (the caller writes its `denial`
    // line). Null when the table is full: the call is counted in lost().
    Entry* note(Arch arch, std::uint32_t nr, const Verdict& verdict, const std::string& exe,
                const std::string& comm, const std::uint64_t (&args)[6], double t, bool& first);
    // Complain mode: what a refused call that ran returned (an errno; 0 and restarts are not kept).
    static void seen_error(Entry& entry, int err);

    std::vector<stream::DenialCount> summary() const;
    std::uint64_t lost() const { return lost_; }
    std::size_t size() const { return entries_.size(); }

  private:
    using Key = std::tuple<Arch, std::uint32_t, std::uint32_t, int, std::string>;
    std::map<Key, Entry> entries_;
    std::uint64_t lost_ = 0;
};

}  // namespace ksc::tracer
