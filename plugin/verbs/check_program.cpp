#include "check_program.h"

#include "base64.h"
#include "profile_compile.h"
#include "user_error.h"

namespace ksc::cli {

bpf::Program compile_for_check(const Profile& profile, const std::string& path) {
    bool notify = profile.default_action == Action::Notify;
    for (const auto& r : profile.syscalls) notify = notify || r.action == Action::Notify;
    if (notify)
        throw UserError(path +
                        ": SCMP_ACT_NOTIFY needs a seccomp agent listening, which a check has not: replace "
                        "it with the action the agent would take");
    auto program = compile_program(profile);
    if (!program) throw UserError(path + ": " + program.error().message);
    return *program;
}

std::vector<std::string> tracer_check_args(const bpf::Program& program, const std::string& mode) {
    return {"--check-program", base64_encode(bpf::pack(program)), "--check-mode", mode};
}

}  // namespace ksc::cli
