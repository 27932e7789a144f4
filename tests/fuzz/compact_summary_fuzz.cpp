// The compact summary: the tracer's termination message, which the plugin reads back from the
// pod's status (recover, record --from-start). Whatever decodes must encode to the same set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base64.h"
#include "compact_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto seen = ksc::decode_compact_summary(text);
    if (seen) {
        auto again = ksc::decode_compact_summary(ksc::encode_compact_summary(*seen));
        if (!again || *again != *seen) std::abort();
    }
    (void)ksc::base64_decode(text);
    return 0;
}
