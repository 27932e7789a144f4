// `kubectl seccomp record POD|deploy/NAME --from-start`: record a copy of the pod from its first
// syscall (docs/from-start.md). Called by cmd_record once its flags are parsed.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common_flags.h"
#include "profile.h"

namespace ksc::cli {

struct FromStartOptions {
    std::string target;     // "POD", "pod/POD", "deploy/NAME"
    std::string container;  // -c; empty: the only or default container
    std::string command;    // --command; empty: the pod spec, else the image's config
    std::string image;      // the tracer image
    std::string image_pull_policy;
    std::string registry_ca_file;  // --registry-ca-file
    bool keep = false;             // --keep: leave the copy
    bool no_filter = false;        // --no-filter, passed to the tracer
    std::optional<std::chrono::milliseconds> duration;
    std::chrono::milliseconds start_timeout{120000};
    RecordOptions record_options;
};

// The exit status (kExitSuccess, kExitInterrupted); throws UserError with the reason otherwise.
int record_from_start(const CommonFlags& common, const FromStartOptions& options);

}  // namespace ksc::cli
