#include "profile_compile.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "enosys_stub.h"

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

// seccomp_export_bpf writes to a file descriptor (libseccomp 2.5.4 has no export to memory): a
// memfd, read back.
Result<bpf::Program> export_program(const Ctx& ctx) {
    int fd = memfd_create("ksc-filter", MFD_CLOEXEC);
    if (fd < 0)
        return make_error(std::string("cannot compile the profile: memfd_create: ") + std::strerror(errno));
    int rc = seccomp_export_bpf(ctx.get(), fd);
    off_t size = lseek(fd, 0, SEEK_END);
    if (rc != 0) {
        close(fd);
        return make_error(std::string("libseccomp cannot compile the profile: ") + std::strerror(-rc));
    }
    bpf::Program program(static_cast<std::size_t>(size) / sizeof(bpf::Instruction));
    std::size_t bytes = program.size() * sizeof(bpf::Instruction);
    ssize_t n = bytes == 0 ? 0 : pread(fd, program.data(), bytes, 0);
    int read_errno = errno;
    close(fd);
    if (n < 0 || static_cast<std::size_t>(n) != bytes)
        return make_error(std::string("cannot read the compiled profile back: ") + std::strerror(read_errno));
    return program;
}

std::uint32_t scmp_arch_token(const std::string& arch) {
    std::uint32_t token = seccomp_arch_resolve_name(arch.c_str());
    if (token != 0) return token;
    // libseccomp spells its names without the SCMP_ARCH_ prefix, in lower case.
    std::string shortname = arch.rfind("SCMP_ARCH_", 0) == 0 ? arch.substr(10) : arch;
    for (auto& c : shortname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return seccomp_arch_resolve_name(shortname.c_str());
}

// runc's patchbpf: the stub is left out when the default action lets calls through (ALLOW, LOG,
// and TRACE, whose tracer is expected to handle new calls), and when the default errno equals
// SCMP_ACT_ERRNO(ENOSYS) as a whole value (runc compares the errno with the action word; this
// never holds for a real errno and is kept only to match runc).
bool wants_enosys_stub(const Profile& profile) {
    if (profile.default_errno_ret && *profile.default_errno_ret == SCMP_ACT_ERRNO(ENOSYS)) return false;
    switch (profile.default_action) {
        case Action::Allow:
        case Action::Log:
        case Action::Trace:
            return false;
        default:
            return true;
    }
}

// Every architecture the profile lists, then the node's (runc 1.2 adds it when missing), each
// with the largest number any rule's names have on it (unknown names and negative pseudo numbers
// left out, as runc does).
std::vector<StubArch> stub_arches(const Profile& profile, std::uint32_t node_token) {
    std::vector<std::uint32_t> tokens;
    for (const auto& arch : profile.architectures)
        if (std::uint32_t t = scmp_arch_token(arch); t != 0) tokens.push_back(t);
    if (std::find(tokens.begin(), tokens.end(), node_token) == tokens.end()) tokens.push_back(node_token);
    std::vector<StubArch> out;
    for (std::uint32_t t : tokens) {
        StubArch a{t, 0};
        for (const auto& rule : profile.syscalls)
            for (const auto& name : rule.names) {
                int nr = seccomp_syscall_resolve_name_arch(t, name.c_str());
                if (nr > 0 && static_cast<std::uint32_t>(nr) > a.last_syscall)
                    a.last_syscall = static_cast<std::uint32_t>(nr);
            }
        out.push_back(a);
    }
    return out;
}

}  // namespace

Result<CompiledProfile> compile_profile(const Profile& profile, Arch node) {
    CompiledProfile out;
    std::uint32_t default_action = scmp_action(profile.default_action, profile.default_errno_ret);
    Ctx ctx(seccomp_init(default_action));
    if (!ctx) return make_error("libseccomp cannot start a filter with the profile's default action");
    // libseccomp starts with this machine's architecture; runc's starts with the node's.
    const auto node_token = static_cast<std::uint32_t>(node);
    if (node_token != seccomp_arch_native()) {
        int rc = seccomp_arch_add(ctx.get(), node_token);
        if (rc == 0) rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE);
        if (rc != 0)
            return make_error("libseccomp cannot compile for " + std::string(arch_name(node)) + ": " +
                              std::strerror(-rc));
    }
    for (const auto& arch : profile.architectures) {
        std::uint32_t token = scmp_arch_token(arch);
        if (token == 0) {
            out.skipped.push_back(arch + ": an architecture this libseccomp does not know");
            continue;
        }
        int rc = seccomp_arch_add(ctx.get(), token);
        if (rc != 0 && rc != -EEXIST)
            return make_error("libseccomp refuses architecture " + arch + ": " + std::strerror(-rc));
    }
    // runc 1.2 and later: libseccomp's binary tree of syscalls past 32 names (libseccomp 2.5.4
    // misbehaves with it and no rules).
    std::size_t names = 0;
    for (const auto& rule : profile.syscalls) names += rule.names.size();
    if (names > 32) seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
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
    auto filter = export_program(ctx);
    if (!filter) return filter.error();
    if (wants_enosys_stub(profile)) out.program = enosys_stub(stub_arches(profile, node_token));
    out.stub_instructions = out.program.size();
    out.program.insert(out.program.end(), filter->begin(), filter->end());
    out.instructions = out.program.size();
    return out;
}

Result<bpf::Program> compile_program(const Profile& profile, const std::optional<DockerContext>& node) {
    DockerContext context;
    context.goarch = goarch_of(native_arch());
    context.caps = default_container_caps();
    if (node) context = *node;
    auto arch = arch_from_name(context.goarch);
    if (!arch)
        return make_error("cannot compile the profile for a node of architecture " + context.goarch +
                          ": only x86_64, x86, x32, aarch64 and arm are known");
    Profile evaluated = profile;
    if (has_docker_conditions(profile)) {
        auto e = evaluate_docker_conditions(profile, context);
        if (!e) return e.error();
        evaluated = std::move(*e);
    }
    bool notify = evaluated.default_action == Action::Notify;
    for (const auto& rule : evaluated.syscalls) notify = notify || rule.action == Action::Notify;
    if (notify)
        return make_error(
            "the profile uses SCMP_ACT_NOTIFY, which needs a listener (a seccomp agent) that check cannot "
            "be: "
            "replace it by the action the agent would answer with");
    auto compiled = compile_profile(evaluated, *arch);
    if (!compiled) return compiled.error();
    if (compiled->instructions > kMaxFilterInstructions)
        return make_error(
            "the profile would be refused by the kernel (" + std::to_string(compiled->instructions) +
            " instructions, the limit is " + std::to_string(kMaxFilterInstructions) +
            ") and runc would fail to start the container: remove rules or argument conditions");
    if (auto valid = bpf::validate(compiled->program); !valid)
        return make_error("libseccomp wrote a program the kernel would refuse: " + valid.error().message);
    return std::move(compiled->program);
}

}  // namespace ksc
