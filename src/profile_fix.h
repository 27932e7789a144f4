// The fixed profile of `kubectl seccomp check --output-file` (docs/check.md): the profile checked,
// plus what the check saw it refuse, written the way `record` writes a recording (its writer,
// profile_from_recording, makes the new rules), so that check, look, enforce is one loop.
#pragma once

#include <string>
#include <vector>

#include "check_report.h"
#include "profile.h"

namespace ksc {

struct FixedProfile {
    Profile profile;
    // One line per denial the fix could not add, or added narrowly ("socket: allowed for arg0=0xa
    // only (the profile's rules test arg0)"), for the user.
    std::vector<std::string> notes;
    std::size_t added = 0;  // denials let through (by-rule refusals and unknown numbers are not)
};

// `checked` with each denial let through as `record` would have written it had it recorded the
// call: allowed, or refused with the one errno the app always got (EPERM/ENOSYS, complain mode:
// errno-faithful). The profile's own rules and default action are kept; a denied syscall that the
// profile filters by argument gets an argument rule for the values its first denied call had
// (the arguments those conditions test), not a whole-syscall rule (merge would drop that beside
// the profile's argument rules). An unknown number cannot be named and is left out (noted).
FixedProfile fix_profile(const Profile& checked, const std::vector<CheckDenial>& denials);

}  // namespace ksc
