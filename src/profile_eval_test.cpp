#include "profile_eval.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "runtime_default.h"

namespace ksc {
namespace {

bool allows(const Profile& p, std::string_view name) {
    for (const auto& r : p.syscalls)
        if (r.action == Action::Allow && r.args.empty() &&
            std::find(r.names.begin(), r.names.end(), name) != r.names.end())
            return true;
    return false;
}

}  // namespace

TEST_CASE("runtime/default: the embedded moby profile parses") {
    const Profile& raw = runtime_default_raw();
    CHECK(raw.arch_map.size() == 9);
    CHECK(has_docker_conditions(raw));
}

TEST_CASE(
    "runtime/default: amd64 with default caps: x86 arches, no ptrace-free pass for mount, clone3 ENOSYS") {
    DockerContext ctx;
    ctx.goarch = "amd64";
    ctx.caps = default_container_caps();
    Profile p = runtime_default_profile(ctx);
    CHECK_FALSE(has_docker_conditions(p));
    CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
    CHECK(allows(p, "read"));
    CHECK(allows(p, "arch_prctl"));
    CHECK(allows(p, "ptrace"));  // minKernel 4.8, no kernel given: new enough
    CHECK_FALSE(allows(p, "mount"));
    CHECK_FALSE(allows(p, "s390_pci_mmio_read"));
    bool clone3_enosys = std::any_of(p.syscalls.begin(), p.syscalls.end(), [](const SyscallRule& r) {
        return r.names == std::vector<std::string>{"clone3"} && r.action == Action::Errno &&
               r.errno_ret == 38u;
    });
    CHECK(clone3_enosys);
}

TEST_CASE("runtime/default: CAP_SYS_ADMIN allows mount and clone3, and drops the clone3 ENOSYS rule") {
    DockerContext ctx;
    ctx.caps = default_container_caps();
    ctx.caps.push_back("CAP_SYS_ADMIN");
    Profile p = runtime_default_profile(ctx);
    CHECK(allows(p, "mount"));
    CHECK(allows(p, "clone3"));
    for (const auto& r : p.syscalls)
        CHECK_FALSE((r.action == Action::Errno && r.names == std::vector<std::string>{"clone3"}));
}

TEST_CASE("runtime/default: arm64 takes arm as its compat arch and the arm-only calls") {
    DockerContext ctx;
    ctx.goarch = "arm64";
    Profile p = runtime_default_profile(ctx);
    CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
    CHECK(allows(p, "cacheflush"));
    CHECK_FALSE(allows(p, "arch_prctl"));
}

TEST_CASE("eval: minKernel compares with the given kernel") {
    DockerContext ctx;
    ctx.kernel = "4.4";
    Profile p = runtime_default_profile(ctx);
    CHECK_FALSE(allows(p, "ptrace"));
    ctx.kernel = "5.10";
    CHECK(allows(runtime_default_profile(ctx), "ptrace"));
}

TEST_CASE("eval: architectures together with archMap is refused, as Docker does") {
    Profile p;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.arch_map = {{"SCMP_ARCH_X86_64", {}}};
    CHECK_FALSE(evaluate_docker_conditions(p, {}).ok());
}

TEST_CASE("eval: names of arches and caps are normalised") {
    CHECK(goarch_from_name("x86_64") == "amd64");
    CHECK(goarch_from_name("SCMP_ARCH_AARCH64") == "arm64");
    CHECK(goarch_from_name("arm64") == "arm64");
    CHECK_FALSE(goarch_from_name("vax"));
    CHECK(cap_name("sys_admin") == "CAP_SYS_ADMIN");
    CHECK(cap_name("CAP_NET_RAW") == "CAP_NET_RAW");
}

}  // namespace ksc
