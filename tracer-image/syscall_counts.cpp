#include "syscall_counts.h"

#include <algorithm>

#include "syscall_table.h"

namespace ksc::tracer {

template <class F>
void SyscallCounts::for_each_seen(F&& f) const {
    for (Arch arch : all_arches()) {
        unsigned i = arch_index(arch);
        if (i < kArches && direct_[i])
            for (std::uint32_t nr = 0; nr < kDirect; ++nr)
                if (direct_[i][nr].count) f(arch, nr, direct_[i][nr]);
    }
    std::vector<std::uint64_t> keys;
    for (const auto& [key, stat] : overflow_)
        if (stat.count) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (auto key : keys) f(static_cast<Arch>(key >> 32), static_cast<std::uint32_t>(key), overflow_.at(key));
}

stream::Summary SyscallCounts::summary(bool final, double t) const {
    stream::Summary s;
    s.t = t;
    s.final = final;
    s.returns_seen = returns_seen_;
    for_each_seen([&](Arch arch, std::uint32_t nr, const SyscallStat& stat) {
        stream::SyscallCount c;
        c.arch = arch;
        c.nr = nr;
        if (auto name = syscall_name(arch, nr)) c.name = *name;
        c.count = stat.count;
        if (stat.errors) c.errors = *stat.errors;
        c.late_only = !stat.made_early;
        if (stat.values) {
            c.values_overflow = stat.values->overflow;
            if (!c.values_overflow) {
                c.values.assign(stat.values->v.begin(), stat.values->v.begin() + stat.values->n);
                std::sort(c.values.begin(), c.values.end());
            }
        }
        s.syscalls.push_back(std::move(c));
    });
    for (const auto& [reason, count] : lost_) s.lost.push_back({reason, count});
    return s;
}

SyscallSet SyscallCounts::seen() const {
    SyscallSet set;
    for_each_seen([&](Arch arch, std::uint32_t nr, const SyscallStat&) { set[arch].insert(nr); });
    return set;
}

ArgValueMap SyscallCounts::arg_values() const {
    ArgValueMap map;
    for_each_seen([&](Arch arch, std::uint32_t nr, const SyscallStat& stat) {
        if (stat.values && !stat.values->overflow)
            map[{arch, nr}].insert(stat.values->v.begin(), stat.values->v.begin() + stat.values->n);
    });
    return map;
}

}  // namespace ksc::tracer
