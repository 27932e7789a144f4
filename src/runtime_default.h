// `runtime/default`: what Kubernetes' RuntimeDefault means, taken as moby's default profile (the
// one containerd's and CRI-O's defaults derive from), evaluated for a container's capabilities and
// its node's architecture. Data: runtime_default_data.cpp (tools/update-runtime-default).
#pragma once

#include <string_view>

#include "profile.h"
#include "profile_eval.h"
#include "result.h"

namespace ksc {

inline constexpr std::string_view kRuntimeDefaultName = "runtime/default";

std::string_view runtime_default_json();

// moby's profile as it is (with archMap and includes/excludes).
const Profile& runtime_default_raw();
Profile runtime_default_profile(const DockerContext& context);

}  // namespace ksc
