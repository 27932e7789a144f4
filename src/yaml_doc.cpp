#include "yaml_doc.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace ksc {
namespace {

// More nodes than any profile has (moby's default: ~500), few enough to stay small in memory.
constexpr std::size_t kMaxNodes = 200000;

struct Converter {
    std::size_t nodes = 0;
    std::optional<Error> error;

    bool convert(const YAML::Node& in, DocNode& out, int depth) {
        if (++nodes > kMaxNodes) return fail(in, fmt::format("more than {} values (aliases expanding?)", kMaxNodes));
        if (depth > kMaxDocumentDepth) return fail(in, fmt::format("nested deeper than {} levels", kMaxDocumentDepth));
        out.line = in.Mark().line + 1;
        out.column = in.Mark().column + 1;
        switch (in.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null: out.kind = DocNode::Kind::Null; return true;
            case YAML::NodeType::Scalar:
                // yaml-cpp tags plain scalars "?" and quoted ones "!": only plain ones may be
                // numbers or booleans.
                out.kind = in.Tag() == "!" ? DocNode::Kind::String : DocNode::Kind::Plain;
                out.text = in.Scalar();
                return true;
            case YAML::NodeType::Sequence:
                out.kind = DocNode::Kind::Array;
                for (const auto& item : in) {
                    out.items.emplace_back();
                    if (!convert(item, out.items.back(), depth + 1)) return false;
                }
                return true;
            case YAML::NodeType::Map:
                out.kind = DocNode::Kind::Object;
                for (const auto& kv : in) {
                    if (!kv.first.IsScalar()) return fail(kv.first, "expected a plain key");
                    out.keys.push_back(kv.first.Scalar());
                    out.items.emplace_back();
                    if (!convert(kv.second, out.items.back(), depth + 1)) return false;
                }
                return true;
        }
        return true;
    }
    bool fail(const YAML::Node& at, std::string message) {
        if (!error) error = make_error(fmt::format("{}:{}: {}", at.Mark().line + 1, at.Mark().column + 1, message));
        return false;
    }
};

// Whether a plain scalar would read back as something other than this string (a null, a bool or
// a number in YAML 1.1 or 1.2). Errs toward quoting: a quoted string always reads back the same.
bool needs_quotes(const std::string& s) {
    if (s.empty()) return true;
    static constexpr std::string_view kWords[] = {"~",    "null", "Null", "NULL", "true", "True", "TRUE",
                                                  "false", "False", "FALSE", "yes", "Yes", "YES", "no",
                                                  "No",   "NO",   "on",   "On",   "ON",   "off",  "Off",
                                                  "OFF",  "y",    "Y",    "n",    "N",    ".inf", ".Inf",
                                                  ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"};
    for (auto w : kWords)
        if (s == w) return true;
    char c = s[0];
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return false;
    return std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isxdigit(static_cast<unsigned char>(ch)) || std::strchr("xXoO_.+-eE", ch) != nullptr;
    });
}

void emit(YAML::Emitter& out, const DocNode& n) {
    switch (n.kind) {
        case DocNode::Kind::Null: out << YAML::Null; break;
        case DocNode::Kind::Bool:
        case DocNode::Kind::Number: out << n.text; break;
        case DocNode::Kind::String:
        case DocNode::Kind::Plain:
            if (needs_quotes(n.text))
                out << YAML::DoubleQuoted << n.text;
            else
                out << n.text;
            break;
        case DocNode::Kind::Array:
            out << YAML::BeginSeq;
            for (const auto& item : n.items) emit(out, item);
            out << YAML::EndSeq;
            break;
        case DocNode::Kind::Object:
            out << YAML::BeginMap;
            for (std::size_t i = 0; i < n.keys.size(); ++i) {
                out << YAML::Key << n.keys[i] << YAML::Value;
                emit(out, n.items[i]);
            }
            out << YAML::EndMap;
            break;
    }
}

}  // namespace

Result<std::vector<DocNode>> parse_yaml_docs(std::string_view text) {
    if (text.size() > kMaxDocumentBytes)
        return make_error(fmt::format("too large ({} bytes; at most {} MiB): is this really a profile?", text.size(),
                                      kMaxDocumentBytes >> 20));
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        return make_error(fmt::format("{}:{}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    std::vector<DocNode> out;
    Converter conv;
    for (const auto& doc : docs) {
        if (doc.IsNull()) continue;
        DocNode node;
        try {
            if (!conv.convert(doc, node, 0)) return *conv.error;
        } catch (const YAML::Exception& e) {
            return make_error(fmt::format("{}:{}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
        }
        out.push_back(std::move(node));
    }
    if (out.empty()) return make_error("empty: expected a YAML document");
    return out;
}

std::string write_yaml_doc(const DocNode& node) {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out.SetMapFormat(YAML::Block);
    emit(out, node);
    std::string s = out.c_str();
    s += '\n';
    return s;
}

}  // namespace ksc
