#include "profile_output.h"

#include <fmt/core.h>

#include "profile_args.h"
#include "profile_json.h"
#include "profile_merge.h"
#include "profile_spo.h"
#include "report.h"

namespace ksc::cli {

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
    for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w);
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
