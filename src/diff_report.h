// The renderings of a ProfileDiff (`kubectl seccomp diff`): text, a unified-diff-like listing per
// architecture ("+ name  OLD -> NEW"), coloured on a terminal; and JSON, for machines. Both name
// the two inputs as given.
#pragma once

#include <string>

#include "profile_diff.h"

namespace ksc {

// `colored`: ANSI colours (added green, removed red, changed yellow, headings bold).
std::string write_diff_text(const ProfileDiff& diff, const std::string& old_name, const std::string& new_name,
                            bool colored);
std::string write_diff_json(const ProfileDiff& diff, const std::string& old_name,
                            const std::string& new_name);

}  // namespace ksc
