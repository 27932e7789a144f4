// The OCI profile reader must never crash, hang or grow without bound on any input, and whatever
// it accepts must write back to something it reads as the same profile.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "profile_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto profile = ksc::read_profile_json(text);
    if (!profile) return 0;
    auto again = ksc::read_profile_json(ksc::write_profile_json(*profile));
    if (!again || !(*again == *profile)) std::abort();
    ksc::Profile normalised = *profile;
    ksc::normalise(normalised);
    return 0;
}
