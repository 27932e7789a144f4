// Parsing JSON that comes from outside (API server, registry, exec credential plugins, the
// tracer's termination message): RapidJSON's iterative parser, so that nesting cannot exhaust the
// stack, a depth cap, so that nothing that walks the tree later can either, and the whole text
// consumed, so that a value followed by junk (or by a NUL, where RapidJSON would stop) is refused.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
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

// Walking a document of unknown shape: RapidJSON's HasMember, operator[] and Get* on a value of
// another type are undefined behaviour (an assert compiled out), so a walk asks these instead.
// obj[key] when obj is an object that has the key (the first, if repeated), else null.
const rapidjson::Value* json_member(const rapidjson::Value& obj, const char* key);
rapidjson::Value* json_member(rapidjson::Value& obj, const char* key);
// obj[key] when it is an object, or an array; else null.
const rapidjson::Value* json_object(const rapidjson::Value& obj, const char* key);
rapidjson::Value* json_object(rapidjson::Value& obj, const char* key);
const rapidjson::Value* json_array(const rapidjson::Value& obj, const char* key);
rapidjson::Value* json_array(rapidjson::Value& obj, const char* key);
// obj[key]'s text when it is a string, else "".
std::string json_string(const rapidjson::Value& obj, const char* key);

}  // namespace ksc
