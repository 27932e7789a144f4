// errno values by name ("EPERM" <-> 1), for the stream's summaries and profiles' errnoRet.
#pragma once

#include <optional>
#include <string_view>

namespace ksc {

std::optional<std::string_view> errno_name(int value);
std::optional<int> errno_from_name(std::string_view name);

}  // namespace ksc
