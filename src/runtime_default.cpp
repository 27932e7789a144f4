#include "runtime_default.h"

#include <cstdlib>

#include "profile_json.h"

namespace ksc {

const Profile& runtime_default_raw() {
    static const Profile profile = [] {
        auto p = read_profile_json(runtime_default_json());
        // Checked in and tested: failing here is a build defect, not a user's problem.
        if (!p) std::abort();
        return std::move(*p);
    }();
    return profile;
}

Profile runtime_default_profile(const DockerContext& context) {
    auto p = evaluate_docker_conditions(runtime_default_raw(), context);
    if (!p) std::abort();  // moby's profile has no both-architectures-and-archMap error
    return std::move(*p);
}

}  // namespace ksc
