// UserError: an error the user can act on. Thrown only to unwind to main(), which prints its
// message as one line on stderr and exits with the verb's error code. Never thrown between fork
// and exec, and never used for bugs.
#pragma once

#include <stdexcept>
#include <string>

namespace ksc {

class UserError : public std::runtime_error {
  public:
    explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace ksc
