// Writing a user's output file (--output-file) so that a reader never sees half of it and a shared
// directory cannot turn the write against another file: the data goes to a new temporary file
// created with O_CREAT|O_EXCL|O_NOFOLLOW (as mkstemp does) in the target's directory, takes the
// mode of the file it replaces, is synced, and is renamed over the target. rename(2) replaces a
// symlink at the target with the file; it never follows it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "result.h"

namespace ksc {

// Replaces `target` with `data`. An existing regular file keeps its permission bits; a new file gets
// 0666 less the umask, as open(2) would give it. Errors name the file and what to do.
Status replace_file(const std::string& target, std::string_view data);

// The same, with the temporary names' random suffixes drawn from `next_suffix` (for tests that plant
// a symlink where the temporary file will go).
Status replace_file(const std::string& target, std::string_view data,
                    const std::function<std::string()>& next_suffix);

}  // namespace ksc
