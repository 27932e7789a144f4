// The explanation of one profile (`kubectl seccomp explain`): what it allows, grouped by area
// (syscall_areas.h), what it refuses with an answer of its own, its argument rules, and how it
// compares with the runtime's default; rendered as text or as JSON.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "profile.h"
#include "profile_merge.h"

namespace ksc {

struct ProfileExplanation {
    std::string path;  // the input as named
    Verdict default_verdict;
    std::vector<std::string> arches;  // the profile's, or this machine's when it names none
    std::size_t known = 0;            // syscalls of those architectures our tables have
    std::size_t allowed = 0;          // of those, how many it lets through
    std::map<std::string_view, std::vector<std::string>> allowed_by_area;
    std::map<std::string, std::vector<std::string>> refused_by_verdict;  // other than the default
    std::vector<std::string> argument_rules;
    std::string runtime_default_context;  // what runtime/default was evaluated for
    std::vector<std::string> allowed_only_here, refused_only_here;
};

// `runtime_default` as evaluated for `runtime_default_context` (architecture, capabilities).
ProfileExplanation explain_profile(const Profile& profile, const std::string& path,
                                   const Profile& runtime_default,
                                   const std::string& runtime_default_context);

std::string write_explanation_text(const ProfileExplanation& e);
std::string write_explanation_json(const ProfileExplanation& e);

}  // namespace ksc
