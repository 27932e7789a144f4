// The recorder flags `record` and `check` share (--privileges, --timeout, --image,
// --image-pull-policy), read into the RecordSettings of recorder_run.h.
#pragma once

#include <chrono>

#include <cxxopts.hpp>

#include "recorder_run.h"

namespace ksc::cli {

// A duration flag's value (parse_duration's forms: 30s, 5m, 1h); a bad one throws UserError naming it.
std::chrono::milliseconds duration_flag(const cxxopts::ParseResult& result, const char* name);

// --privileges (checked: auto, same-user or ptrace), --timeout, --image and --image-pull-policy.
RecordSettings record_settings(const cxxopts::ParseResult& result);

}  // namespace ksc::cli
