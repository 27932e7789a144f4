// Result<T>: the one way recoverable errors travel in this project (see docs/design.md, "Conventions").
// A function that can fail for reasons outside the program (bad input, a refused syscall, the
// network) returns Result<T>; bugs abort; UserError (user_error.h) is thrown only to reach main.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ksc {

struct Error {
    std::string message;  // one line: what failed, then what to do
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, Error> v_;
};

// Result<void>
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message) {
    return Error{std::move(message)};
}

}  // namespace ksc
