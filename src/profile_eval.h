// Docker's load-time conditions, evaluated the way moby does (profiles/seccomp/seccomp_linux.go):
// `archMap` picks the architectures for the machine's one, and a rule's `includes`/`excludes`
// keep or drop it by architecture (Go's names: amd64, arm64, ...), capabilities and kernel
// version. containerd and CRI-O evaluate them the same way. The result has neither, so it is
// what the kernel is given, and it can be written as a SeccompProfile.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch.h"
#include "profile.h"
#include "result.h"

namespace ksc {

struct DockerContext {
    std::string goarch = "amd64";   // runtime.GOARCH of the node
    std::vector<std::string> caps;  // the container's bounding set, "CAP_SYS_ADMIN" form
    std::string kernel;             // "6.1"; empty: new enough for every minKernel
};

// Docker's and containerd's default capability set for a container.
std::vector<std::string> default_container_caps();

// "amd64", "x86_64", "SCMP_ARCH_X86_64" -> "amd64"; nullopt when unknown.
std::optional<std::string> goarch_from_name(std::string_view name);
std::string goarch_of(Arch arch);
// "sys_admin", "SYS_ADMIN", "CAP_SYS_ADMIN" -> "CAP_SYS_ADMIN".
std::string cap_name(std::string_view name);

// True when the profile has archMap or includes/excludes, i.e. means different things on
// different nodes.
bool has_docker_conditions(const Profile& profile);

Result<Profile> evaluate_docker_conditions(const Profile& profile, const DockerContext& context);

}  // namespace ksc
