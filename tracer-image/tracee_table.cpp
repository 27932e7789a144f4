#include "tracee_table.h"

namespace ksc::tracer {

Tracee& TraceeTable::add(pid_t tid, pid_t tgid, std::uint8_t flags, const Process& proto, bool* new_process) {
    auto [it, inserted] = threads_.try_emplace(tid);
    if (!inserted) return it->second;
    it->second.tgid = tgid;
    it->second.flags = flags;
    ++threads_seen_;
    auto [pit, new_proc] = processes_.try_emplace(tgid, proto);
    if (new_proc) {
        pit->second.threads = 0;
        ++processes_seen_;
    }
    ++pit->second.threads;
    if (new_process) *new_process = new_proc;
    return it->second;
}

void TraceeTable::remove(pid_t tid) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) return;
    auto pit = processes_.find(it->second.tgid);
    if (pit != processes_.end() && --pit->second.threads == 0) processes_.erase(pit);
    threads_.erase(it);
    if (tid == last_tid_) last_tid_ = 0, last_ = nullptr;
}

}  // namespace ksc::tracer
