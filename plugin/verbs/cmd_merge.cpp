// kubectl seccomp merge A B ... [-o json|yaml] [--output-file FILE]
#include <fmt/core.h>

#include "common_flags.h"
#include "exit_status.h"
#include "profile_inputs.h"
#include "profile_json.h"
#include "profile_merge.h"
#include "profile_spo.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples = R"(  # One profile from the recordings of three replicas
  kubectl seccomp merge web-0.ndjson web-1.ndjson web-2.ndjson --output-file web.json

  # Add what the nightly test run needed to the production profile, as a SeccompProfile
  kubectl seccomp merge prod.json nightly.ndjson -o yaml --name web > web.yaml

  # A SeccompProfile with its base resolved into one file
  kubectl seccomp merge app.yaml --base-profile runc-base.yaml
)";

}  // namespace

int cmd_merge(int argc, char** argv) {
    VerbFlags flags(
        "merge",
        "Merge profiles and recordings into one profile: the union of what they allow. Where they give "
        "one syscall different actions, the more permissive wins, with a warning naming it.",
        kOutputFlags, {"json", {"json", "yaml"}});
    // clang-format off
    flags.add_options()
        ("name", "metadata.name of the SeccompProfile written (-o yaml)",
            cxxopts::value<std::string>()->default_value("merged"));
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional(
        "inputs", "IN...",
        "Recordings (NDJSON), OCI profiles, SeccompProfiles (every document), runtime/default", 1, 0,
        "one or more inputs (recordings or profiles)");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    ProfileInputOptions options = profile_input_options(flags);

    std::vector<Profile> profiles;
    std::vector<std::string> labels;
    for (const auto& path : flags.positionals()) {
        LoadedProfiles loaded = load_profiles(path, options, true);
        for (auto& doc : loaded.docs) {
            labels.push_back(loaded.docs.size() > 1 ? fmt::format("{} ({})", loaded.path, doc.name)
                                                    : loaded.path);
            profiles.push_back(std::move(doc.profile));
        }
    }
    std::vector<std::string> warnings;
    SeccompProfileDoc merged;
    merged.name = to_object_name(args["name"].as<std::string>());
    merged.profile = merge_profiles(profiles, labels, &warnings);

    std::string out;
    if (common.output_format == "yaml") {
        auto yaml = write_seccomp_profiles_yaml({merged}, &warnings);
        if (!yaml) throw UserError(yaml.error().message);
        out = std::move(*yaml);
    } else {
        out = write_profile_json(merged.profile);
    }
    for (const auto& w : warnings) warn(w);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    return kExitSuccess;
}

}  // namespace ksc::cli
