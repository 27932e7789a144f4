// The flags and loading the offline verbs (convert, merge, diff, explain) share: any input file,
// `runtime/default`, recordings turned into profiles, SPO bases resolved, Docker's conditions
// evaluated when asked. One place, so the verbs read inputs the same way.
#pragma once

#include <string>
#include <vector>

#include "common_flags.h"
#include "profile.h"
#include "profile_eval.h"
#include "profile_io.h"
#include "profile_spo.h"

namespace ksc::cli {

struct ProfileInputOptions {
    RecordOptions record;
    DockerContext docker;
    bool evaluate = false;                // --arch/--caps/--kernel given: evaluate Docker's conditions
    std::vector<std::string> base_files;  // --base-profile
};

// --args: argument-level rules (profile_args.h). `curated` is the default since every container
// workload runs its exercise under its argument-level profile, launch and attach + start-up, and the
// probe finds what the workload never did refused by the profile alone (tests/containers, issue 14).
inline constexpr const char* kArgsDefault = "curated";
inline constexpr const char* kArgsFlagHelp =
    "Argument-level rules for the syscalls of the argument table (socket families, clone/unshare namespace "
    "flags, personality, prctl, ioctl, ...; docs/profiles.md): curated or none";
// The mode --args names; a UserError for anything else.
ArgsMode args_mode_from_flag(const std::string& text);

// Adds --base, --include-denied, --args, --arch, --caps, --kernel, --base-profile to a verb.
void add_profile_input_flags(VerbFlags& flags);
// Reads them back (after flags.parse). Throws UserError on a bad value.
ProfileInputOptions profile_input_options(const VerbFlags& flags);

struct LoadedProfiles {
    InputKind kind = InputKind::OciProfile;
    std::string path;
    bool is_runtime_default = false;
    std::vector<SeccompProfileDoc> docs;
};

// IN as ready-to-compare profiles: "runtime/default" is moby's default evaluated for --caps and
// --arch; a recording becomes its profile (named after the file); bases are resolved when
// `resolve_bases`; Docker's conditions are evaluated when options.evaluate. Warnings go to stderr.
// Throws UserError.
LoadedProfiles load_profiles(const std::string& in, const ProfileInputOptions& options, bool resolve_bases);

// Exactly one profile of an input: the only one, or the one named `name`. Throws UserError.
const SeccompProfileDoc& pick_profile(const LoadedProfiles& loaded, const std::string& name);

// pick_profile's profile as the kernel would get it: Docker's conditions (archMap, includes,
// excludes) evaluated for --arch/--caps/--kernel, or their defaults when none was given. For the
// verbs that judge what a profile lets through (diff, explain). Throws UserError.
Profile effective_profile(const LoadedProfiles& loaded, const std::string& name,
                          const ProfileInputOptions& options);

// "path/to/My App.json" -> "my-app".
std::string name_from_path(const std::string& path);

}  // namespace ksc::cli
