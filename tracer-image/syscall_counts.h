// What has been recorded: a counter per (architecture, syscall number), the errnos seen on
// return, and what could not be captured. The lookup is on the hot path (every syscall stop):
// a direct index per architecture for the usual numbers, a hash map for the rest.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "arch.h"
#include "compact_summary.h"
#include "stream.h"
#include "syscall_args.h"

namespace ksc::tracer {

// The distinct argument values of one argument-table syscall, in first-seen order. Allocated once,
// when the first value arrives, at its full size: a value already seen costs a scan, never an
// allocation (ioctl and fcntl run on hot paths of the app).
struct ArgValues {
    std::uint32_t n = 0;
    bool overflow = false;  // a value beyond kMaxArgValues arrived: the syscall is to be allowed whole
    std::array<ArgValue, kMaxArgValues> v;
};

struct SyscallStat {
    std::uint64_t count = 0;
    std::unique_ptr<std::map<int, std::uint64_t>> errors;  // errno -> count, when returns are seen
    bool made_early = false;        // made by a process that was not found late by a /proc re-scan
    const ArgSpec* spec = nullptr;  // set on first sight when its arguments are recorded
    std::unique_ptr<ArgValues> values;
};

enum class ArgNews { Known, New, Overflow };

class SyscallCounts {
  public:
    explicit SyscallCounts(bool returns_seen) : returns_seen_(returns_seen) {}

    // The counter for (arch, nr), created at zero on first use. The pointer stays valid.
    SyscallStat& stat(Arch arch, std::uint32_t nr) {
        unsigned i = arch_index(arch);
        if (nr < kDirect && i < kArches) {
            auto& table = direct_[i];
            if (!table) [[unlikely]]
                table = std::make_unique<SyscallStat[]>(kDirect);
            return table[nr];
        }
        return overflow_[(std::uint64_t{static_cast<std::uint32_t>(arch)} << 32) | nr];
    }

    void count_error(SyscallStat& stat, int err) {
        if (!stat.errors) stat.errors = std::make_unique<std::map<int, std::uint64_t>>();
        ++(*stat.errors)[err];
    }

    void note_new(Arch, std::uint32_t) { ++distinct_; }

    // Notes an argument value of `stat` (a syscall with a spec): Known when it was seen before (or
    // the syscall already overflowed), New when it is to be reported, Overflow when this value
    // made the syscall go whole (reported once).
    ArgNews note_value(SyscallStat& stat, ArgValue value) {
        if (stat.values) [[likely]] {
            ArgValues& a = *stat.values;
            if (a.overflow) return ArgNews::Known;
            for (std::uint32_t i = 0; i < a.n; ++i)
                if (a.v[i] == value) return ArgNews::Known;
            if (a.n == kMaxArgValues) {
                a.overflow = true;
                return ArgNews::Overflow;
            }
        } else {
            stat.values = std::make_unique<ArgValues>();
        }
        stat.values->v[stat.values->n++] = value;
        return ArgNews::New;
    }
    void lose(const std::string& reason, std::uint64_t count = 1) { lost_[reason] += count; }

    std::uint64_t distinct() const { return distinct_; }
    bool returns_seen() const { return returns_seen_; }

    // Every syscall seen, with counts, sorted by architecture and number.
    stream::Summary summary(bool final, double t) const;
    SyscallSet seen() const;
    // The argument values of every syscall that has some and did not overflow.
    ArgValueMap arg_values() const;

  private:
    static constexpr unsigned kDirect = 1024;
    static constexpr unsigned kArches = kArchCount;
    template <class F>
    void for_each_seen(F&& f) const;

    bool returns_seen_;
    std::array<std::unique_ptr<SyscallStat[]>, kArches> direct_;
    std::unordered_map<std::uint64_t, SyscallStat> overflow_;
    std::uint64_t distinct_ = 0;
    std::map<std::string, std::uint64_t> lost_;
};

}  // namespace ksc::tracer
