// Reading a user's input file whole, with a size cap so that a wrong file (a 100 MB log, a disk
// image) fails at once with a clear message instead of filling memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "result.h"

namespace ksc {

// "-" reads stdin. Errors name the file and what to do.
Result<std::string> read_input_file(const std::string& path, std::size_t max_bytes);

}  // namespace ksc
