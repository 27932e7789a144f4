#include "enosys_stub.h"

#include <algorithm>
#include <map>

namespace ksc {
namespace {

using namespace bpf::op;
using bpf::Instruction;
using bpf::Program;

constexpr std::uint32_t kEnosys = 38;
constexpr std::uint32_t kRetEnosys = bpf::kRetErrno | kEnosys;
constexpr std::uint32_t kX32Bit = 0x40000000;

Instruction ins(std::uint16_t code, std::uint32_t k, std::uint32_t jt = 0, std::uint32_t jf = 0) {
    return Instruction{code, static_cast<std::uint8_t>(jt), static_cast<std::uint8_t>(jf), k};
}

std::uint32_t audit_arch(std::uint32_t scmp_arch) {
    return scmp_arch == kScmpArchX32 ? kAuditArchX86_64 : scmp_arch;
}

// One architecture's section: loads the number and jumps `enosys` instructions past its own end
// to the ERRNO(ENOSYS) return, or `filter` past its end into the filter. `group` holds one entry,
// or x86_64's and x32's.
Program section(const std::vector<StubArch>& group, std::uint32_t enosys, std::uint32_t filter) {
    Program s = {ins(kLdWAbs, 0)};
    if (group.size() == 1) {
        const StubArch& a = group[0];
        // s390's setup(2) (number 0) carries the calls the kernel does not know by number.
        if (a.scmp_arch == kScmpArchS390 || a.scmp_arch == kScmpArchS390X) {
            s.push_back(ins(kJeqK, 0, 0, 1));
            s.push_back(ins(kRetK, kRetEnosys));
        }
        Program tail;
        if (enosys + 1 <= 255) {
            tail = {ins(kJgtK, a.last_syscall, enosys + 1, 0), ins(kJa, filter)};
        } else {
            tail = {ins(kJgtK, a.last_syscall, 0, 1), ins(kRetK, kRetEnosys), ins(kJa, filter)};
        }
        // x86_64 and x32 share an AUDIT_ARCH: a section for one of them lets the other's calls
        // through to the filter.
        auto skip = static_cast<std::uint32_t>(tail.size() - 1);
        if (a.scmp_arch == kAuditArchX86_64) tail.insert(tail.begin(), ins(kJsetK, kX32Bit, skip, 0));
        if (a.scmp_arch == kScmpArchX32) tail.insert(tail.begin(), ins(kJsetK, kX32Bit, 0, skip));
        s.insert(s.end(), tail.begin(), tail.end());
        return s;
    }
    const StubArch& x86_64 = group[0].scmp_arch == kScmpArchX32 ? group[1] : group[0];
    const StubArch& x32 = group[0].scmp_arch == kScmpArchX32 ? group[0] : group[1];
    if (enosys + 2 <= 255) {
        s.insert(s.end(), {ins(kJsetK, kX32Bit, 1, 0), ins(kJgtK, x86_64.last_syscall, enosys + 2, 1),
                           ins(kJgtK, x32.last_syscall, enosys + 1, 0), ins(kJa, filter)});
    } else {
        s.insert(s.end(), {ins(kJsetK, kX32Bit, 1, 0), ins(kJgtK, x86_64.last_syscall, 1, 2),
                           ins(kJgtK, x32.last_syscall, 0, 1), ins(kRetK, kRetEnosys), ins(kJa, filter)});
    }
    return s;
}

}  // namespace

// Built backwards, as runc does: every jump is measured to the end of what follows it, so each
// piece is complete when it is put in front of the rest.
Program enosys_stub(const std::vector<StubArch>& arches) {
    // Group by AUDIT_ARCH, in first-seen order; an architecture naming no syscall has no section
    // but keeps its jump (into the filter), as in runc.
    std::vector<std::uint32_t> order;
    std::map<std::uint32_t, std::vector<StubArch>> groups;
    for (const StubArch& a : arches) {
        std::uint32_t audit = audit_arch(a.scmp_arch);
        auto& g = groups[audit];
        if (std::find(order.begin(), order.end(), audit) == order.end()) order.push_back(audit);
        bool seen =
            std::any_of(g.begin(), g.end(), [&](const StubArch& b) { return b.scmp_arch == a.scmp_arch; });
        if (!seen && a.last_syscall != 0) g.push_back(a);
    }

    Program rest = {ins(kJa, 1), ins(kRetK, kRetEnosys)};  // fall into the filter; ENOSYS
    std::map<std::uint32_t, std::uint32_t> from_end;       // a section's start, counted from the end
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const auto& group = groups[*it];
        if (group.empty()) continue;
        auto enosys = static_cast<std::uint32_t>(rest.size() - 1);
        Program s = section(group, enosys, enosys + 1);
        rest.insert(rest.begin(), s.begin(), s.end());
        from_end[*it] = static_cast<std::uint32_t>(rest.size());
    }
    // An architecture with no section of its own goes to the filter.
    rest.insert(rest.begin(), ins(kJa, static_cast<std::uint32_t>(rest.size())));
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        auto found = from_end.find(*it);
        auto jump = static_cast<std::uint32_t>(rest.size()) - (found == from_end.end() ? 0 : found->second);
        if (jump <= 255) {
            rest.insert(rest.begin(), ins(kJeqK, *it, jump, 0));
        } else {
            rest.insert(rest.begin(), {ins(kJeqK, *it, 0, 1), ins(kJa, jump)});
        }
    }
    rest.insert(rest.begin(), ins(kLdWAbs, 4));
    return rest;
}

}  // namespace ksc
