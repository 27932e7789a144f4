// Running a verb in collecting mode (common_flags.h) to learn its flags without running it: what
// shell completion (completion.h) and `rbac VERB ...` (cmd_rbac.cpp) both do.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "common_flags.h"

namespace ksc::cli {

// The flags `words` give `verb` (words[0] is the verb's name), or nullopt when the verb returned
// without parsing them. Anything else the verb throws (a UserError: flags it refuses) ends
// collecting mode and goes on to the caller.
std::optional<CollectedFlags> collect_verb_flags(const Verb& verb, std::vector<std::string> words);

}  // namespace ksc::cli
