// What an oidc issuer answers (its discovery document, a refresh's token answer as JSON or as a
// form) and the id-token it hands out (a JWT whose payload is read for exp) must never crash or
// hang the plugin.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oidc_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    (void)ksc::kube::parse_oidc_discovery(text);
    (void)ksc::kube::parse_oidc_token_answer(text, "application/json");
    (void)ksc::kube::parse_oidc_token_answer(text, "application/x-www-form-urlencoded; charset=utf-8");
    (void)ksc::kube::jwt_expiry(text);
    return 0;
}
