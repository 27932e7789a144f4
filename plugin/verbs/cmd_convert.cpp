// kubectl seccomp convert IN [-o json|yaml|report] [--output-file FILE]
#include <fmt/core.h>

#include "common_flags.h"
#include "exit_status.h"
#include "profile_inputs.h"
#include "profile_json.h"
#include "profile_spo.h"
#include "report.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # A profile from a recording saved by seccomp-tracer (or by `kubectl logs` of a recorder)
  kubectl seccomp convert recording.ndjson > profile.json

  # The same as a Security Profiles Operator SeccompProfile
  kubectl seccomp convert recording.ndjson -o yaml --name myapp --output-file myapp.yaml

  # What the recording saw: counts, first process, errno values
  kubectl seccomp convert recording.ndjson -o report

  # A SeccompProfile (its baseProfileName resolved from a file) as the JSON the kubelet reads
  kubectl seccomp convert myapp.yaml --base-profile runc-base.yaml -o json

  # Docker's default profile as a SeccompProfile for arm64 nodes and default capabilities
  kubectl seccomp convert runtime/default -o yaml --arch arm64
)";

}  // namespace

int cmd_convert(int argc, char** argv) {
    VerbFlags flags(
        "convert",
        "Convert a recording or a profile between formats: OCI JSON (the file the kubelet reads), "
        "SeccompProfile YAML (the Security Profiles Operator's resource), or a report.",
        kOutputFlags, {"json", {"json", "yaml", "report"}});
    // clang-format off
    flags.add_options()
        ("name", "metadata.name of the SeccompProfile written (-o yaml)", cxxopts::value<std::string>())
        ("profile", "Of an input holding several SeccompProfiles, the one to convert", cxxopts::value<std::string>());
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional(
        "input", "IN",
        "A recording (NDJSON), an OCI profile, a SeccompProfile, runtime/default; - reads stdin", 1, 1,
        "one input (a recording or a profile)");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const std::string path = flags.positionals()[0];
    const std::string& format = common.output_format;
    const std::string name = args.count("name") ? args["name"].as<std::string>() : "";
    const std::string pick = args.count("profile") ? args["profile"].as<std::string>() : "";
    ProfileInputOptions options = profile_input_options(flags);

    std::string out;
    std::vector<std::string> warnings;
    if (format == "report") {
        auto input = load_input(path);
        if (!input) throw UserError(input.error().message);
        if (input->kind != InputKind::Recording)
            throw UserError("-o report needs a recording; for a profile use 'kubectl seccomp explain'");
        out = write_report(*input->recording, options.record);
    } else if (format == "json") {
        // The kubelet's file has no baseProfileName: bases are resolved into it.
        LoadedProfiles loaded = load_profiles(path, options, true);
        out = write_profile_json(pick_profile(loaded, pick).profile);
    } else {
        // SeccompProfiles stay as they are, bases named not resolved; several stay several.
        LoadedProfiles loaded = load_profiles(path, options, false);
        std::vector<SeccompProfileDoc> docs;
        if (!pick.empty() || !name.empty() || loaded.docs.size() == 1)
            docs.push_back(loaded.docs.size() == 1 && pick.empty() ? loaded.docs[0]
                                                                   : pick_profile(loaded, pick));
        else
            docs = loaded.docs;
        if (!name.empty()) docs[0].name = to_object_name(name);
        auto yaml = write_seccomp_profiles_yaml(docs, &warnings);
        if (!yaml) throw UserError(in_file(loaded.path, yaml.error().message));
        out = std::move(*yaml);
    }
    for (const auto& w : warnings) warn(w);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    return kExitSuccess;
}

}  // namespace ksc::cli
