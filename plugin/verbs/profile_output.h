// The data a recording verb (`trace`, `record`, `recover`) writes for -o json|yaml|report: one
// place that turns a Recording into the chosen format, so the verbs cannot drift apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "profile.h"
#include "recording.h"
#include "result.h"

namespace ksc::cli {

// `format` is "json" (OCI seccomp JSON), "yaml" (SPO SeccompProfile named `name`) or "report".
Result<std::string> render_recording(const Recording& recording, std::string_view format,
                                     const RecordOptions& options, const std::string& name);

// Several recordings (replicas, containers) as one: json/yaml the union of each one's profile
// (merge_profiles, its warnings on stderr), the report each one's in turn under its label.
Result<std::string> render_recordings(const std::vector<const Recording*>& recordings,
                                      const std::vector<std::string>& labels, std::string_view format,
                                      const RecordOptions& options, const std::string& name);

}  // namespace ksc::cli
