// A parsed JSON or YAML document as a plain tree that remembers where each value was, so that the
// profile decoders can name the line and column of a bad value, whichever format it came in.
// json_doc.h and yaml_doc.h build and print it; profile_json.h and profile_spo.h give it meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksc {

struct DocNode {
    enum class Kind {
        Null,
        Bool,    // text is "true" or "false"
        Number,  // text as written
        String,  // a JSON string, or a quoted YAML scalar
        Plain,   // an unquoted YAML scalar: a string, a number or a bool, as the reader needs
        Array,
        Object,
    };
    Kind kind = Kind::Null;
    std::string text;
    std::vector<DocNode> items;     // Array: the elements; Object: the values
    std::vector<std::string> keys;  // Object: the keys, in document order
    int line = 0;                   // 1-based; 0 when unknown
    int column = 0;

    static DocNode make(Kind kind, std::string text = {}) {
        DocNode n;
        n.kind = kind;
        n.text = std::move(text);
        return n;
    }
    bool is_scalar() const { return kind != Kind::Array && kind != Kind::Object; }
    const DocNode* get(std::string_view key) const {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &items[i];
        return nullptr;
    }
    // Object building, in order.
    DocNode& add(std::string key, DocNode value) {
        keys.push_back(std::move(key));
        items.push_back(std::move(value));
        return items.back();
    }
};

// "12:5: " for a node with a position, "" otherwise: the prefix of a decoder's error message.
std::string doc_position(const DocNode& node);

// Documents larger than this are refused before parsing, so memory stays bounded whatever the
// input. Real profiles are a few tens of KiB (moby's default: 20 KiB).
inline constexpr std::size_t kMaxDocumentBytes = 8 * 1024 * 1024;
// Deeper nesting is refused (no profile nests more than 5 levels; parsers recurse).
inline constexpr int kMaxDocumentDepth = 64;

}  // namespace ksc
