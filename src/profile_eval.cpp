#include "profile_eval.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

namespace ksc {
namespace {

struct GoArch {
    std::string_view goarch;
    std::string_view scmp;
};

// moby's goToNative table.
constexpr std::array<GoArch, 14> kGoArches{{
    {"386", "SCMP_ARCH_X86"},
    {"amd64", "SCMP_ARCH_X86_64"},
    {"arm", "SCMP_ARCH_ARM"},
    {"arm64", "SCMP_ARCH_AARCH64"},
    {"mips64", "SCMP_ARCH_MIPS64"},
    {"mips64n32", "SCMP_ARCH_MIPS64N32"},
    {"mipsel64", "SCMP_ARCH_MIPSEL64"},
    {"mipsel64n32", "SCMP_ARCH_MIPSEL64N32"},
    {"ppc64le", "SCMP_ARCH_PPC64LE"},
    {"riscv64", "SCMP_ARCH_RISCV64"},
    {"s390x", "SCMP_ARCH_S390X"},
    {"loong64", "SCMP_ARCH_LOONGARCH64"},
    {"ppc64", "SCMP_ARCH_PPC64"},
    {"s390", "SCMP_ARCH_S390"},
}};

std::string_view scmp_of(std::string_view goarch) {
    for (const auto& g : kGoArches)
        if (g.goarch == goarch) return g.scmp;
    return {};
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// moby's kernelGreaterEqualThan: major.minor compared as numbers.
bool kernel_at_least(const std::string& kernel, const std::string& min) {
    if (kernel.empty()) return true;
    auto parse = [](const std::string& s) {
        int major = 0, minor = 0;
        char dot = 0;
        std::istringstream in(s);
        in >> major >> dot >> minor;
        return std::pair{major, minor};
    };
    return parse(kernel) >= parse(min);
}

}  // namespace

std::vector<std::string> default_container_caps() {
    return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
            "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
            "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

std::optional<std::string> goarch_from_name(std::string_view name) {
    for (const auto& g : kGoArches)
        if (g.goarch == name || g.scmp == name) return std::string(g.goarch);
    if (auto a = arch_from_name(name)) return goarch_of(*a);
    return std::nullopt;
}

std::string goarch_of(Arch arch) {
    switch (arch) {
        case Arch::X86_64:
            return "amd64";
        case Arch::X86:
            return "386";
        case Arch::X32:
            return "amd64";  // x32 programs run on an amd64 node
        case Arch::AARCH64:
            return "arm64";
        case Arch::ARM:
            return "arm";
    }
    return "amd64";
}

std::string cap_name(std::string_view name) {
    std::string out;
    for (char c : name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (out.rfind("CAP_", 0) != 0) out = "CAP_" + out;
    return out;
}

bool has_docker_conditions(const Profile& p) {
    if (!p.arch_map.empty()) return true;
    return std::any_of(p.syscalls.begin(), p.syscalls.end(),
                       [](const SyscallRule& r) { return !r.includes.empty() || !r.excludes.empty(); });
}

Result<Profile> evaluate_docker_conditions(const Profile& in, const DockerContext& ctx) {
    if (!in.architectures.empty() && !in.arch_map.empty())
        return make_error("both \"architectures\" and \"archMap\" are set: Docker refuses that; keep one");
    Profile out = in;
    out.arch_map.clear();
    std::string_view native = scmp_of(ctx.goarch);
    for (const auto& m : in.arch_map)
        if (m.arch == native) {
            out.architectures.push_back(m.arch);
            out.architectures.insert(out.architectures.end(), m.sub_arches.begin(), m.sub_arches.end());
        }
    out.syscalls.clear();
    for (const auto& r : in.syscalls) {
        const Filter& ex = r.excludes;
        if (!ex.arches.empty() && contains(ex.arches, ctx.goarch)) continue;
        if (std::any_of(ex.caps.begin(), ex.caps.end(),
                        [&](const std::string& c) { return contains(ctx.caps, c); }))
            continue;
        if (!ex.min_kernel.empty() && kernel_at_least(ctx.kernel, ex.min_kernel)) continue;
        const Filter& inc = r.includes;
        if (!inc.arches.empty() && !contains(inc.arches, ctx.goarch)) continue;
        if (!std::all_of(inc.caps.begin(), inc.caps.end(),
                         [&](const std::string& c) { return contains(ctx.caps, c); }))
            continue;
        if (!inc.min_kernel.empty() && !kernel_at_least(ctx.kernel, inc.min_kernel)) continue;
        SyscallRule kept = r;
        kept.includes = {};
        kept.excludes = {};
        out.syscalls.push_back(std::move(kept));
    }
    return out;
}

}  // namespace ksc
