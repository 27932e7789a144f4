// The recorder flags `record` and `check` share (--privileges, --timeout, --image,
// --image-pull-policy; with --from-start also --command, --registry-ca-file, --keep), read into
// the RecordSettings of recorder_run.h or the FromStartOptions of record_from_start.h.
#pragma once

#include <chrono>

#include <cxxopts.hpp>

#include "record_from_start.h"
#include "recorder_run.h"

namespace ksc::cli {

// A duration flag's value (parse_duration's forms: 30s, 5m, 1h); a bad one throws UserError naming it.
std::chrono::milliseconds duration_flag(const cxxopts::ParseResult& result, const char* name);

// --privileges (checked: auto, same-user or ptrace), --timeout, --image and --image-pull-policy.
RecordSettings record_settings(const cxxopts::ParseResult& result);

// --from-start: --command, --image, --image-pull-policy, --registry-ca-file, --keep and --timeout
// into fs (the rest is the verb's).
void read_from_start_flags(const cxxopts::ParseResult& result, FromStartOptions& fs);

}  // namespace ksc::cli
