#include "json_doc.h"

#include <fmt/core.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

namespace ksc {

std::string doc_position(const DocNode& node) {
    if (node.line <= 0) return {};
    return fmt::format("{}:{}: ", node.line, node.column);
}

namespace {

class LineIndex {
  public:
    explicit LineIndex(std::string_view text) {
        starts_.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') starts_.push_back(i + 1);
    }
    // 1-based line and column of a byte offset.
    std::pair<int, int> at(std::size_t offset) const {
        auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
        std::size_t line = static_cast<std::size_t>(it - starts_.begin());
        return {static_cast<int>(line), static_cast<int>(offset - starts_[line - 1] + 1)};
    }

  private:
    std::vector<std::size_t> starts_;
};

using InStream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;

class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
  public:
    TreeBuilder(const InStream& in, const LineIndex& lines) : in_(in), lines_(lines) {}

    bool Null() { return scalar(DocNode::Kind::Null, "null", 4); }
    bool Bool(bool b) { return scalar(DocNode::Kind::Bool, b ? "true" : "false", b ? 4 : 5); }
    bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
        return scalar(DocNode::Kind::Number, std::string(s, len), len);
    }
    bool String(const char* s, rapidjson::SizeType len, bool) {
        return scalar(DocNode::Kind::String, std::string(s, len), len + 2);
    }
    bool Key(const char* s, rapidjson::SizeType len, bool) {
        key_.assign(s, len);
        return true;
    }
    bool StartObject() { return open(DocNode::Kind::Object); }
    bool StartArray() { return open(DocNode::Kind::Array); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    bool too_deep() const { return too_deep_; }
    DocNode take() { return std::move(root_); }

  private:
    DocNode& place(DocNode node) {
        if (stack_.empty()) {
            root_ = std::move(node);
            return root_;
        }
        DocNode& parent = *stack_.back();
        if (parent.kind == DocNode::Kind::Object) return parent.add(std::move(key_), std::move(node));
        parent.items.push_back(std::move(node));
        return parent.items.back();
    }
    void locate(DocNode& node, std::size_t token_len) {
        std::size_t end = in_.Tell();
        auto [line, col] = lines_.at(end >= token_len ? end - token_len : 0);
        node.line = line;
        node.column = col;
    }
    bool scalar(DocNode::Kind kind, std::string text, std::size_t token_len) {
        DocNode node = DocNode::make(kind, std::move(text));
        locate(node, token_len);
        place(std::move(node));
        return true;
    }
    bool open(DocNode::Kind kind) {
        if (static_cast<int>(stack_.size()) >= kMaxDocumentDepth) {
            too_deep_ = true;
            return false;
        }
        DocNode node = DocNode::make(kind);
        locate(node, 1);
        stack_.push_back(&place(std::move(node)));
        return true;
    }
    bool close() {
        stack_.pop_back();
        return true;
    }

    const InStream& in_;
    const LineIndex& lines_;
    DocNode root_;
    // Pointers stay valid: only the innermost container grows, and it is never an ancestor's
    // element that moves while we are inside it.
    std::vector<DocNode*> stack_;
    std::string key_;
    bool too_deep_ = false;
};

void write_node(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, const DocNode& n) {
    switch (n.kind) {
        case DocNode::Kind::Null:
            w.Null();
            break;
        case DocNode::Kind::Bool:
            w.Bool(n.text == "true");
            break;
        case DocNode::Kind::Number:
            w.RawValue(n.text.data(), n.text.size(), rapidjson::kNumberType);
            break;
        case DocNode::Kind::String:
        case DocNode::Kind::Plain:
            w.String(n.text.data(), static_cast<rapidjson::SizeType>(n.text.size()));
            break;
        case DocNode::Kind::Array:
            w.StartArray();
            for (const auto& item : n.items) write_node(w, item);
            w.EndArray();
            break;
        case DocNode::Kind::Object:
            w.StartObject();
            for (std::size_t i = 0; i < n.keys.size(); ++i) {
                w.Key(n.keys[i].data(), static_cast<rapidjson::SizeType>(n.keys[i].size()));
                write_node(w, n.items[i]);
            }
            w.EndObject();
            break;
    }
}

}  // namespace

Result<DocNode> parse_json_doc(std::string_view text) {
    if (text.size() > kMaxDocumentBytes)
        return make_error(fmt::format("too large ({} bytes; at most {} MiB): is this really a profile?",
                                      text.size(), kMaxDocumentBytes >> 20));
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return make_error("empty: expected a JSON object");
    LineIndex lines(text);
    rapidjson::MemoryStream ms(text.data(), text.size());
    InStream in(ms);
    TreeBuilder builder(in, lines);
    rapidjson::Reader reader;
    // StopWhenDone, then a check of the rest ourselves: RapidJSON takes a NUL byte for the end of
    // the text, and would accept a profile followed by a NUL and anything.
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag;
    auto result = reader.Parse<kFlags>(in, builder);
    if (result.IsError()) {
        auto [line, col] = lines.at(result.Offset());
        if (builder.too_deep())
            return make_error(
                fmt::format("{}:{}: nested deeper than {} levels", line, col, kMaxDocumentDepth));
        return make_error(fmt::format("{}:{}: {}", line, col, rapidjson::GetParseError_En(result.Code())));
    }
    if (std::size_t rest = text.find_first_not_of(" \t\r\n", in.Tell()); rest != std::string_view::npos) {
        auto [line, col] = lines.at(rest);
        return make_error(
            fmt::format("{}:{}: more after the end of the JSON document (a byte 0x{:02x}): "
                        "remove it",
                        line, col, static_cast<unsigned char>(text[rest])));
    }
    return builder.take();
}

std::string write_json_doc(const DocNode& node) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    write_node(w, node);
    std::string out(buf.GetString(), buf.GetSize());
    out += '\n';
    return out;
}

}  // namespace ksc
