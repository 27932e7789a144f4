// kubectl seccomp diff OLD NEW [-o text|json] [--fail-on added|removed|any]
#include <fmt/core.h>

#include "common_flags.h"
#include "diff_report.h"
#include "exit_status.h"
#include "profile_diff.h"
#include "profile_eval.h"
#include "profile_inputs.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # What the new release's recording needs that the old profile did not allow; fail CI only then
  kubectl seccomp diff web-v1.json web-v2.ndjson --fail-on added

  # How a profile compares with the runtime's default for arm64 nodes and default capabilities
  kubectl seccomp diff runtime/default web.yaml --arch arm64

  # For machines
  kubectl seccomp diff old.json new.json -o json

Exit status: 0 the profiles are the same, 1 they differ (as --fail-on counts it), 2 error.
)";

// Compared as the kernel would get it: Docker's conditions evaluated for --arch and --caps.
Profile load_one(const std::string& path, const ProfileInputOptions& options, const std::string& pick) {
    return effective_profile(load_profiles(path, options, true), pick, options);
}

}  // namespace

int cmd_diff(int argc, char** argv) {
    VerbFlags flags(
        "diff",
        "Compare two profiles (or recordings) per architecture and action: syscalls added and removed, "
        "changed actions and errno values, argument rules, the default action.",
        kOutputFlags, {"text", {"text", "json"}});
    // clang-format off
    flags.add_options()
        ("fail-on", "Exit 1 only for: added (NEW lets more through), removed (NEW lets less through), or any",
            cxxopts::value<std::string>()->default_value("any"))
        ("profile", "Of an input holding several SeccompProfiles, the one to compare", cxxopts::value<std::string>());
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional("files", "OLD NEW",
                         "OLD and NEW: recordings, OCI profiles, SeccompProfiles or runtime/default", 2, 2,
                         "two inputs, OLD and NEW");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const auto files = flags.positionals();
    const std::string fail_on = args["fail-on"].as<std::string>();
    if (fail_on != "added" && fail_on != "removed" && fail_on != "any")
        throw UserError(fmt::format("unknown --fail-on \"{}\": use added, removed or any", fail_on));
    const std::string pick = args.count("profile") ? args["profile"].as<std::string>() : "";
    ProfileInputOptions options = profile_input_options(flags);

    Profile old_profile = load_one(files[0], options, pick);
    Profile new_profile = load_one(files[1], options, pick);
    ProfileDiff d = diff_profiles(old_profile, new_profile);

    const bool colors = common.color_stdout && common.output_file.empty();
    std::string out = common.output_format == "json" ? write_diff_json(d, files[0], files[1])
                                                     : write_diff_text(d, files[0], files[1], colors);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);

    bool fail = fail_on == "added"     ? d.lets_more_through()
                : fail_on == "removed" ? d.lets_less_through()
                                       : !d.same();
    return fail ? kExitFailure : kExitSuccess;
}

}  // namespace ksc::cli
