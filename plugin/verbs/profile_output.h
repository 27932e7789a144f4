// The data a recording verb (`trace`, `record`, `recover`) writes for -o json|yaml|report, and the
// flags that shape it: one place that turns a Recording into the chosen format, so the verbs cannot
// drift apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common_flags.h"
#include "profile.h"
#include "recording.h"
#include "result.h"

namespace ksc::cli {

// The profile flags every recording verb shares: --base and --include-denied.
void add_profile_flags(VerbFlags& flags);
// Their values; throws UserError on an unknown --base.
RecordOptions profile_options_from(const cxxopts::ParseResult& result);

// `format` is "json" (OCI seccomp JSON), "yaml" (SPO SeccompProfile named `name`) or "report".
Result<std::string> render_recording(const Recording& recording, std::string_view format,
                                     const RecordOptions& options, const std::string& name);

// Several recordings (replicas, containers) as one: json/yaml the union of each one's profile
// (merge_profiles, its warnings on stderr), the report each one's in turn under its label.
Result<std::string> render_recordings(const std::vector<const Recording*>& recordings,
                                      const std::vector<std::string>& labels, std::string_view format,
                                      const RecordOptions& options, const std::string& name);

// render_recording to stdout or --output-file; throws UserError when either fails.
void write_recording_profile(const CommonFlags& common, const Recording& recording,
                             const RecordOptions& options, const std::string& name);

}  // namespace ksc::cli
