// A saved stream (NDJSON) goes through the codec, the recording, the profile writer and the
// report: none may crash on any input, and every profile made must read back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "profile.h"
#include "profile_json.h"
#include "recording.h"
#include "report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto rec = ksc::read_recording(text);
    if (!rec) return 0;
    (void)ksc::write_report(*rec, {});
    ksc::Profile p = ksc::profile_from_recording(*rec, {ksc::BaseSet::Both, false});
    auto again = ksc::read_profile_json(ksc::write_profile_json(p));
    if (!again || !(*again == p)) std::abort();
    return 0;
}
