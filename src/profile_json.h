// The OCI/Docker seccomp JSON format <-> Profile. Reads the whole vocabulary (profile.h) and keeps
// its meaning; writes with a stable key order and 2-space indent. The report writer lives in
// report.h, the SPO SeccompProfile format in profile_spo.h.
//
// Errors are one line: "LINE:COLUMN: what is wrong, and what was expected"; callers prefix the
// file name. Warnings (fields the runtimes ignore, names no architecture knows) are collected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "doc_node.h"
#include "profile.h"
#include "result.h"

namespace ksc {

// Decodes a profile object. `skip_keys` are keys the caller handles (SPO's baseProfileName).
Result<Profile> decode_profile(const DocNode& root, std::vector<std::string>* warnings,
                               std::span<const std::string_view> skip_keys = {});
// The profile as a document, keys in the order writers print them.
DocNode encode_profile(const Profile& profile);

Result<Profile> read_profile_json(std::string_view text, std::vector<std::string>* warnings = nullptr);
std::string write_profile_json(const Profile& profile);

// A syscall name some architecture knows (our tables, or libseccomp's for the architectures we
// have no table for). Profiles written for other arches (moby's) name s390 or ppc calls.
bool is_syscall_anywhere(std::string_view name);

}  // namespace ksc
