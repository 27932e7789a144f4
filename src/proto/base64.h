// Base64 (RFC 4648, the standard alphabet, with padding): the compact summary's bitmaps,
// kubeconfig's *-data fields, Secrets, registry auth, and the WebSocket handshake.
#pragma once

#include <string>
#include <string_view>

#include "result.h"

namespace ksc {

std::string base64_encode(std::string_view bytes);
// Strict: the length a multiple of 4, padding only at the end, no other character.
Result<std::string> base64_decode(std::string_view text);

}  // namespace ksc
