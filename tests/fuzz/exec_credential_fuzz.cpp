// An exec credential plugin's output (ExecCredential JSON) must never crash or hang the plugin.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    (void)ksc::kube::parse_exec_credential(text, "client.authentication.k8s.io/v1");
    (void)ksc::kube::parse_exec_credential(text, "client.authentication.k8s.io/v1beta1");
    return 0;
}
