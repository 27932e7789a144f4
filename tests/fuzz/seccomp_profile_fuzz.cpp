// The SeccompProfile reader (YAML and JSON, several documents) must never crash, hang or grow
// without bound; what it accepts and can write as a SeccompProfile must read back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "profile_spo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto docs = ksc::read_seccomp_profiles(text);
    if (!docs) return 0;
    auto yaml = ksc::write_seccomp_profiles_yaml(*docs);
    if (!yaml) return 0;  // holds what a SeccompProfile cannot say (refused, not changed)
    auto again = ksc::read_seccomp_profiles(*yaml);
    if (!again || again->size() != docs->size()) std::abort();
    for (std::size_t i = 0; i < docs->size(); ++i) {
        // A rule without names means nothing; the writer drops it (SPO requires names).
        ksc::Profile expected = (*docs)[i].profile;
        std::erase_if(expected.syscalls, [](const ksc::SyscallRule& r) { return r.names.empty(); });
        if (!((*again)[i].profile == expected) || (*again)[i].labels != (*docs)[i].labels) std::abort();
    }
    return 0;
}
