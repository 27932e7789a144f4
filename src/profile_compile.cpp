#include "profile_compile.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

namespace ksc {
namespace {

struct CtxDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::uint32_t scmp_action(Action action, std::optional<std::uint32_t> errno_ret) {
    switch (action) {
        case Action::Kill:
        case Action::KillThread:
            return SCMP_ACT_KILL_THREAD;
        case Action::KillProcess:
            return SCMP_ACT_KILL_PROCESS;
        case Action::Trap:
            return SCMP_ACT_TRAP;
        case Action::Errno:
            return SCMP_ACT_ERRNO(errno_ret.value_or(kDefaultErrno));
        case Action::Trace:
            return SCMP_ACT_TRACE(errno_ret.value_or(kDefaultErrno));
        case Action::Allow:
            return SCMP_ACT_ALLOW;
        case Action::Log:
            return SCMP_ACT_LOG;
        case Action::Notify:
            return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_THREAD;
}

scmp_compare scmp_op(ArgOp op) {
    switch (op) {
        case ArgOp::NotEqual:
            return SCMP_CMP_NE;
        case ArgOp::LessThan:
            return SCMP_CMP_LT;
        case ArgOp::LessEqual:
            return SCMP_CMP_LE;
        case ArgOp::EqualTo:
            return SCMP_CMP_EQ;
        case ArgOp::GreaterEqual:
            return SCMP_CMP_GE;
        case ArgOp::GreaterThan:
            return SCMP_CMP_GT;
        case ArgOp::MaskedEqual:
            return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;
}

scmp_arg_cmp condition(const ArgRule& a) {
    return scmp_arg_cmp{a.index, scmp_op(a.op), a.value, a.value_two};
}

}  // namespace

Result<CompiledProfile> compile_profile(const Profile& profile) {
    CompiledProfile out;
    std::uint32_t default_action = scmp_action(profile.default_action, profile.default_errno_ret);
    Ctx ctx(seccomp_init(default_action));
    if (!ctx) return make_error("libseccomp cannot start a filter with the profile's default action");
    for (const auto& arch : profile.architectures) {
        std::uint32_t token = seccomp_arch_resolve_name(arch.c_str());
        if (token == 0) {
            // libseccomp spells its names without the SCMP_ARCH_ prefix, in lower case.
            std::string shortname = arch.rfind("SCMP_ARCH_", 0) == 0 ? arch.substr(10) : arch;
            for (auto& c : shortname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            token = seccomp_arch_resolve_name(shortname.c_str());
        }
        if (token == 0) {
            out.skipped.push_back(arch + ": an architecture this libseccomp does not know");
            continue;
        }
        int rc = seccomp_arch_add(ctx.get(), token);
        if (rc != 0 && rc != -EEXIST)
            return make_error("libseccomp refuses architecture " + arch + ": " + std::strerror(-rc));
    }
    for (const auto& rule : profile.syscalls) {
        std::uint32_t action = scmp_action(rule.action, rule.errno_ret);
        if (action == default_action) continue;  // runc skips these; libseccomp would refuse them
        std::set<std::uint32_t> indexes;
        bool repeated = false;
        for (const auto& a : rule.args) repeated = !indexes.insert(a.index).second || repeated;
        for (const auto& name : rule.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                out.skipped.push_back(name + ": a syscall this libseccomp does not know");
                continue;
            }
            auto add = [&](const std::vector<scmp_arg_cmp>& conds) -> Status {
                int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(conds.size()),
                                                conds.empty() ? nullptr : conds.data());
                if (rc != 0)
                    return make_error("libseccomp refuses the " + std::string(action_name(rule.action)) +
                                      " rule for " + name + ": " + std::strerror(-rc));
                return Ok{};
            };
            if (repeated) {
                for (const auto& a : rule.args)
                    if (auto st = add({condition(a)}); !st) return st.error();
            } else {
                std::vector<scmp_arg_cmp> conds;
                for (const auto& a : rule.args) conds.push_back(condition(a));
                if (auto st = add(conds); !st) return st.error();
            }
        }
    }
    int fd = memfd_create("ksc-filter", MFD_CLOEXEC);
    if (fd < 0)
        return make_error(std::string("cannot compile the profile: memfd_create: ") + std::strerror(errno));
    int rc = seccomp_export_bpf(ctx.get(), fd);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    if (rc != 0)
        return make_error(std::string("libseccomp cannot compile the profile: ") + std::strerror(-rc));
    out.instructions = static_cast<std::size_t>(size) / 8;  // sizeof(struct sock_filter)
    return out;
}

}  // namespace ksc
