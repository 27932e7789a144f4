// `kubectl seccomp record POD|deploy/NAME --from-start`: record a copy of the pod from its first
// syscall (docs/from-start.md). Called by cmd_record once its flags are parsed.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common_flags.h"
#include "from_start.h"
#include "profile.h"
#include "recording.h"

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
    // check --from-start and record --baseline (docs/check.md): the tracer's check flags, and the
    // copy set by fromstart::plan_check_copy (the namespace's Pod Security level read).
    std::vector<std::string> tracer_args;
    bool check_copy = false;
    // record --baseline: the profile whose program runs in complain mode; the result is it plus
    // what it refused (profile_fix.h).
    std::optional<Profile> baseline;
    std::string baseline_path;
};

// What a run of the copy leaves: the recording, the copy's last state (Ended: the app's end),
// and what the copy did differently from the pod (check_copy's caveats).
struct FromStartRun {
    Recording recording;
    fromstart::CopyState end;
    std::string pod, copy, container;
    std::vector<std::string> caveats;
    double seconds = 0;
    // The tracer's stream was read (its hello arrived); false when the app ended before any exec
    // reached it: the recording then holds only its termination message's syscalls.
    bool stream_read = false;
};

// The copy from its creation to its deletion (unless --keep). nullopt when interrupted; throws
// UserError with the reason otherwise (also when the tracer sent nothing at all).
std::optional<FromStartRun> run_from_start(const CommonFlags& common, const FromStartOptions& options);

// The exit status (kExitSuccess, kExitInterrupted); throws UserError with the reason otherwise.
int record_from_start(const CommonFlags& common, const FromStartOptions& options);

}  // namespace ksc::cli
