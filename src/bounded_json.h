// Parsing JSON that comes from outside (API server, registry, exec credential plugins, the
// tracer's termination message): RapidJSON's iterative parser, so that nesting cannot exhaust the
// stack, a depth cap, so that nothing that walks the tree later can either, and the whole text
// consumed, so that a value followed by junk (or by a NUL, where RapidJSON would stop) is refused.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string_view>

#include "result.h"

namespace ksc {

// Deeper is refused: Kubernetes objects nest about 20 levels (managedFields included).
inline constexpr int kMaxJsonDepth = 512;
// The most an answer from the API server or a registry may hold (bodies are capped at this while
// they are read); a list larger than this is fetched in pages.
inline constexpr std::size_t kMaxBodyBytes = 64u << 20;

// Replaces `doc` with the value in `text`. Errors read "at byte N: what went wrong".
Status parse_bounded_json(rapidjson::Document& doc, std::string_view text);

}  // namespace ksc
