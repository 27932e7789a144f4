// A kubeconfig (YAML or JSON) is read with the bounded YAML reader and checked field by field:
// no input may crash, hang or grow without bound; every refusal is one line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    // tokenFile is read when a context uses it: a fuzzed path could name a FIFO and block.
    if (text.find("tokenFile") != std::string::npos) return 0;
    auto rc = ksc::kube::rest_config_from_text(text, "/fuzz/config", "", "");
    if (!rc && rc.error().message.find('\n') != std::string::npos) std::abort();
    return 0;
}
