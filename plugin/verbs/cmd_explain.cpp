// kubectl seccomp explain PROFILE [-o text|json]
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "common_flags.h"
#include "exit_status.h"
#include "explain_report.h"
#include "profile_eval.h"
#include "profile_inputs.h"
#include "runtime_default.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # What a recorded profile lets the app do, and what it needs beyond the runtime's default
  kubectl seccomp explain web.json

  # The same for a SeccompProfile, compared with the default for a container with CAP_NET_ADMIN
  kubectl seccomp explain web.yaml --caps NET_ADMIN,NET_BIND_SERVICE

  # For machines
  kubectl seccomp explain web.json -o json
)";

}  // namespace

int cmd_explain(int argc, char** argv) {
    VerbFlags flags(
        "explain",
        "Explain a profile: what it allows, grouped by area (files, network, processes, memory, ...), what "
        "it refuses with its own errno, and how it compares with the runtime's default (runtime/default).",
        kOutputFlags, {"text", {"text", "json"}});
    // clang-format off
    flags.add_options()
        ("profile", "Of an input holding several SeccompProfiles, the one to explain", cxxopts::value<std::string>());
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional("input", "PROFILE",
                         "A profile (OCI JSON or SeccompProfile), a recording, or runtime/default", 1, 1,
                         "one profile");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const std::string path = flags.positionals()[0];
    ProfileInputOptions options = profile_input_options(flags);
    LoadedProfiles loaded = load_profiles(path, options, true);
    Profile p =
        effective_profile(loaded, args.count("profile") ? args["profile"].as<std::string>() : "", options);
    Profile rd = runtime_default_profile(options.docker);

    std::string rd_context = fmt::format("{}, capabilities {}", options.docker.goarch,
                                         options.docker.caps == default_container_caps()
                                             ? std::string("the runtime's default set")
                                             : fmt::format("{}", fmt::join(options.docker.caps, ",")));
    ProfileExplanation e = explain_profile(p, loaded.path, rd, rd_context);
    std::string out = common.output_format == "json" ? write_explanation_json(e) : write_explanation_text(e);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    return kExitSuccess;
}

}  // namespace ksc::cli
