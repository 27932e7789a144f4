#include "profile_output.h"

#include <fmt/core.h>

#include "printable.h"
#include "profile_args.h"
#include "profile_inputs.h"
#include "profile_json.h"
#include "profile_merge.h"
#include "profile_spo.h"
#include "report.h"
#include "user_error.h"

namespace ksc::cli {

void add_profile_flags(VerbFlags& flags) {
    flags.add_options()("base", "The container runtime's own syscalls to add: runc|crun|both|none",
                        cxxopts::value<std::string>()->default_value("both"))(
        "include-denied",
        "Allow the syscalls the traced program saw refused, instead of refusing them the same way")(
        "args", kArgsFlagHelp, cxxopts::value<std::string>()->default_value(kArgsDefault));
}

RecordOptions profile_options_from(const cxxopts::ParseResult& result) {
    RecordOptions options;
    auto base = base_set_from_name(result["base"].as<std::string>());
    if (!base)
        throw UserError("unknown --base \"" + result["base"].as<std::string>() +
                        "\": use runc, crun, both or none");
    options.base = *base;
    options.include_denied = result.count("include-denied") > 0;
    options.args = args_mode_from_flag(result["args"].as<std::string>());
    return options;
}

void write_recording_profile(const CommonFlags& common, const Recording& recording,
                             const RecordOptions& options, const std::string& name) {
    auto output = render_recording(recording, common.output_format, options, name);
    if (!output) throw UserError(output.error().message);
    if (auto written = write_output(common, *output); !written) throw UserError(written.error().message);
}

Result<std::string> render_recording(const Recording& recording, std::string_view format,
                                     const RecordOptions& options, const std::string& name) {
    if (format == "report") return write_report(recording, options);
    Profile profile = profile_from_recording(recording, options);
    if (format == "json") return write_profile_json(profile);
    if (format == "yaml") {
        SeccompProfileDoc doc;
        doc.name = to_object_name(name);
        doc.annotations.emplace_back(kArgsAnnotation, args_mode_name(options.args));
        doc.profile = std::move(profile);
        return write_seccomp_profiles_yaml({doc});
    }
    return make_error("unknown output format \"" + std::string(format) + "\": use json, yaml or report");
}

Result<std::string> render_recordings(const std::vector<const Recording*>& recordings,
                                      const std::vector<std::string>& labels, std::string_view format,
                                      const RecordOptions& options, const std::string& name) {
    if (recordings.size() == 1) return render_recording(*recordings.front(), format, options, name);
    if (format == "report") {
        std::string out;
        for (std::size_t i = 0; i < recordings.size(); ++i)
            out += fmt::format("{}== {} ==\n{}", i ? "\n" : "", labels[i],
                               write_report(*recordings[i], options));
        return out;
    }
    std::vector<Profile> profiles;
    for (const auto* r : recordings) profiles.push_back(profile_from_recording(*r, options));
    std::vector<std::string> warnings;
    Profile merged = merge_profiles(profiles, labels, &warnings);
    for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", printable(w));
    if (format == "json") return write_profile_json(merged);
    if (format == "yaml") {
        SeccompProfileDoc doc;
        doc.name = to_object_name(name);
        doc.annotations.emplace_back(kArgsAnnotation, args_mode_name(options.args));
        doc.profile = std::move(merged);
        return write_seccomp_profiles_yaml({doc});
    }
    return make_error("unknown output format \"" + std::string(format) + "\": use json, yaml or report");
}

}  // namespace ksc::cli
