#include "bounded_json.h"

#include <fmt/core.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

namespace ksc {
namespace {

// The offset of the first bracket nested deeper than `max_depth` (strings skipped), or npos.
// A separate pass keeps RapidJSON's own Document builder: it has no depth hook of its own.
std::size_t too_deep_at(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return std::string_view::npos;
}

}  // namespace

Status parse_bounded_json(rapidjson::Document& doc, std::string_view text) {
    doc.SetNull();
    if (text.size() > kMaxBodyBytes)
        return make_error(
            fmt::format("{} bytes of JSON: more than the {} MiB allowed", text.size(), kMaxBodyBytes >> 20));
    if (std::size_t at = too_deep_at(text, kMaxJsonDepth); at != std::string_view::npos)
        return make_error(fmt::format("at byte {}: JSON nested deeper than {} levels", at, kMaxJsonDepth));
    rapidjson::MemoryStream in(text.data(), text.size());
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag;
    doc.ParseStream<kFlags, rapidjson::UTF8<>>(in);
    if (doc.HasParseError()) {
        std::size_t at = doc.GetErrorOffset();
        const char* what = rapidjson::GetParseError_En(doc.GetParseError());
        doc.SetNull();
        return make_error(fmt::format("at byte {}: {}", at, what));
    }
    std::size_t end = in.Tell();
    std::size_t rest = text.find_first_not_of(" \t\r\n", end);
    if (rest != std::string_view::npos) {
        doc.SetNull();
        return make_error(fmt::format("at byte {}: more after the JSON value (a byte 0x{:02x})", rest,
                                      static_cast<unsigned char>(text[rest])));
    }
    return Ok{};
}

const rapidjson::Value* json_member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() ? &it->value : nullptr;
}

rapidjson::Value* json_member(rapidjson::Value& obj, const char* key) {
    return const_cast<rapidjson::Value*>(json_member(static_cast<const rapidjson::Value&>(obj), key));
}

const rapidjson::Value* json_object(const rapidjson::Value& obj, const char* key) {
    const rapidjson::Value* v = json_member(obj, key);
    return v && v->IsObject() ? v : nullptr;
}

rapidjson::Value* json_object(rapidjson::Value& obj, const char* key) {
    rapidjson::Value* v = json_member(obj, key);
    return v && v->IsObject() ? v : nullptr;
}

const rapidjson::Value* json_array(const rapidjson::Value& obj, const char* key) {
    const rapidjson::Value* v = json_member(obj, key);
    return v && v->IsArray() ? v : nullptr;
}

rapidjson::Value* json_array(rapidjson::Value& obj, const char* key) {
    rapidjson::Value* v = json_member(obj, key);
    return v && v->IsArray() ? v : nullptr;
}

std::string json_string(const rapidjson::Value& obj, const char* key) {
    const rapidjson::Value* v = json_member(obj, key);
    return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

}  // namespace ksc
