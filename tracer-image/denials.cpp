#include "denials.h"

#include "seccomp_bpf.h"
#include "syscall_table.h"

namespace ksc::tracer {

std::optional<Verdict> refusal_of(std::uint32_t ret) {
    std::uint32_t action = ret & bpf::kRetActionFull;
    switch (action) {
        case bpf::kRetAllow:
        case bpf::kRetLog:
        case bpf::kRetTrace:
        case bpf::kRetUserNotif:
            return std::nullopt;
        case bpf::kRetErrno: {
            int err = static_cast<int>(ret & bpf::kRetData);
            return Verdict{action, err > 4095 ? 4095 : err};
        }
        case bpf::kRetTrap:
        case bpf::kRetKillThread:
            return Verdict{action, std::nullopt};
        default:
            // The kernel takes any other action as KILL_PROCESS.
            return Verdict{bpf::kRetKillProcess, std::nullopt};
    }
}

Denials::Entry* Denials::note(Arch arch, std::uint32_t nr, const Verdict& verdict, const std::string& exe,
                              const std::string& comm, const std::uint64_t (&args)[6], double t,
                              bool& first) {
    first = false;
    Key key{arch, nr, verdict.action, verdict.errno_value.value_or(-1), exe};
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= stream::kMaxDenials) {
            ++lost_;
            return nullptr;
        }
        first = true;
        Entry e;
        e.action = verdict.action;
        auto& c = e.count;
        c.arch = arch;
        c.nr = nr;
        if (auto name = syscall_name(arch, nr)) c.name = std::string(*name);
        c.action = std::string(bpf::action_name(verdict.action));
        c.errno_value = verdict.errno_value;
        c.first_t = t;
        c.comm = comm;
        c.exe = exe;
        for (int i = 0; i < 6; ++i) c.args[i] = args[i];
        it = entries_.emplace(std::move(key), std::move(e)).first;
    }
    ++it->second.count.count;
    return &it->second;
}

void Denials::seen_error(Entry& entry, int err) {
    // -ERESTARTSYS .. -ERESTART_RESTARTBLOCK are restarted by the kernel: no program sees them.
    if (err <= 0 || err > 4095 || (err >= 512 && err <= 516)) return;
    ++entry.count.seen_errors[err];
}

std::vector<stream::DenialCount> Denials::summary() const {
    std::vector<stream::DenialCount> out;
    out.reserve(entries_.size());
    for (const auto& [key, e] : entries_) out.push_back(e.count);
    return out;
}

}  // namespace ksc::tracer
