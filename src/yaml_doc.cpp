#include "yaml_doc.h"

#include <fmt/core.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

namespace ksc {
namespace {

// More nodes than any profile has (moby's default: ~500), few enough to stay small in memory.
// Counted on the parser's events, not on a finished tree: yaml-cpp 0.7 has inputs (",x" at the
// top of a document) on which its parser emits empty documents without end, and its own tree
// builder then fills memory. Counting events stops those as well as alias bombs.
constexpr std::size_t kMaxNodes = 200000;

struct Abort {
    YAML::Mark mark;
    std::string message;
};

// Builds DocNodes straight from yaml-cpp's events, with aliases expanded under the same budget.
class Builder : public YAML::EventHandler {
  public:
    std::vector<DocNode> docs;

    void OnDocumentStart(const YAML::Mark& mark) override {
        count(mark, 1);
        root_.reset();
    }
    void OnDocumentEnd() override {
        if (root_ && root_->kind != DocNode::Kind::Null) docs.push_back(std::move(*root_));
        root_.reset();
    }
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        count(mark, 1);
        finish(at(mark, DocNode::make(DocNode::Kind::Null)), anchor, 1, mark);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        auto it = anchors_.find(anchor);
        if (it == anchors_.end()) throw Abort{mark, "an alias to an anchor that is not defined before it"};
        count(mark, it->second.second);
        finish(it->second.first, 0, it->second.second, mark);
    }
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        count(mark, 1);
        // yaml-cpp tags plain scalars "?" and quoted ones "!": only plain ones may be numbers or
        // booleans.
        finish(at(mark, DocNode::make(tag == "!" ? DocNode::Kind::String : DocNode::Kind::Plain, value)),
               anchor, 1, mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, DocNode::Kind::Array, anchor);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(mark, DocNode::Kind::Object, anchor);
    }
    void OnMapEnd() override { close(); }

  private:
    struct Frame {
        DocNode node;
        YAML::anchor_t anchor = 0;
        std::size_t size = 1;  // nodes in this subtree, for aliases to it
        bool have_key = false;
        std::string key;
        YAML::Mark key_mark;
    };
    std::vector<Frame> stack_;
    std::optional<DocNode> root_;
    std::map<YAML::anchor_t, std::pair<DocNode, std::size_t>> anchors_;
    std::size_t nodes_ = 0;

    void count(const YAML::Mark& mark, std::size_t n) {
        nodes_ += n;
        if (nodes_ > kMaxNodes)
            throw Abort{mark, fmt::format("more than {} values (aliases expanding?)", kMaxNodes)};
    }
    static DocNode at(const YAML::Mark& mark, DocNode n) {
        n.line = mark.line + 1;
        n.column = mark.column + 1;
        return n;
    }
    void open(const YAML::Mark& mark, DocNode::Kind kind, YAML::anchor_t anchor) {
        count(mark, 1);
        if (static_cast<int>(stack_.size()) >= kMaxDocumentDepth)
            throw Abort{mark, fmt::format("nested deeper than {} levels", kMaxDocumentDepth)};
        Frame f;
        f.node = at(mark, DocNode::make(kind));
        f.anchor = anchor;
        stack_.push_back(std::move(f));
    }
    void close() {
        if (stack_.empty()) throw Abort{YAML::Mark::null_mark(), "unbalanced collection end"};
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        if (f.have_key) throw Abort{f.key_mark, "a key without a value"};
        YAML::Mark mark;
        mark.line = f.node.line - 1;
        mark.column = f.node.column - 1;
        finish(std::move(f.node), f.anchor, f.size, mark);
    }
    // A complete node: into its parent, or the document's root.
    void finish(DocNode n, YAML::anchor_t anchor, std::size_t size, const YAML::Mark& mark) {
        if (anchor != 0) anchors_[anchor] = {n, size};
        if (stack_.empty()) {
            root_ = std::move(n);
            return;
        }
        Frame& parent = stack_.back();
        parent.size += size;
        if (parent.node.kind == DocNode::Kind::Array) {
            parent.node.items.push_back(std::move(n));
        } else if (!parent.have_key) {
            if (n.kind != DocNode::Kind::Plain && n.kind != DocNode::Kind::String)
                throw Abort{mark, "expected a plain key"};
            parent.key = std::move(n.text);
            parent.key_mark = mark;
            parent.have_key = true;
        } else {
            parent.node.add(std::move(parent.key), std::move(n));
            parent.key.clear();
            parent.have_key = false;
        }
    }
};

std::string where(const YAML::Mark& mark) {
    if (mark.is_null()) return "";
    return fmt::format("{}:{}: ", mark.line + 1, mark.column + 1);
}

// Whether a plain scalar would read back as something other than this string (a null, a bool or
// a number in YAML 1.1 or 1.2). Errs toward quoting: a quoted string always reads back the same.
bool needs_quotes(const std::string& s) {
    if (s.empty()) return true;
    static constexpr std::string_view kWords[] = {
        "~",   "null", "Null", "NULL", "true", "True",  "TRUE",  "false", "False", "FALSE", "yes", "Yes",
        "YES", "no",   "No",   "NO",   "on",   "On",    "ON",    "off",   "Off",   "OFF",   "y",   "Y",
        "n",   "N",    ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan",  ".NaN",  ".NAN"};
    for (auto w : kWords)
        if (s == w) return true;
    char c = s[0];
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return false;
    return std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isxdigit(static_cast<unsigned char>(ch)) || std::strchr("xXoO_.+-eE", ch) != nullptr;
    });
}

// as_read: plain scalars are written plain, as they were read (a kubeconfig's `true` stays a
// bool for kubectl); otherwise every string that would read back as another type is quoted.
void emit(YAML::Emitter& out, const DocNode& n, bool as_read) {
    switch (n.kind) {
        case DocNode::Kind::Null:
            out << YAML::Null;
            break;
        case DocNode::Kind::Bool:
        case DocNode::Kind::Number:
            out << n.text;
            break;
        case DocNode::Kind::String:
        case DocNode::Kind::Plain:
            if (n.kind == DocNode::Kind::Plain && as_read && !n.text.empty())
                out << n.text;
            else if (needs_quotes(n.text))
                out << YAML::DoubleQuoted << n.text;
            else
                out << n.text;
            break;
        case DocNode::Kind::Array:
            out << YAML::BeginSeq;
            for (const auto& item : n.items) emit(out, item, as_read);
            out << YAML::EndSeq;
            break;
        case DocNode::Kind::Object:
            out << YAML::BeginMap;
            for (std::size_t i = 0; i < n.keys.size(); ++i) {
                out << YAML::Key << n.keys[i] << YAML::Value;
                emit(out, n.items[i], as_read);
            }
            out << YAML::EndMap;
            break;
    }
}

}  // namespace

Result<std::vector<DocNode>> parse_yaml_docs(std::string_view text) {
    if (text.size() > kMaxDocumentBytes)
        return make_error(fmt::format("too large ({} bytes; at most {} MiB): is this really a profile?",
                                      text.size(), kMaxDocumentBytes >> 20));
    // YAML allows no NUL byte, and yaml-cpp's reader would take one for the end of the text.
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        std::size_t line_start = text.rfind('\n', nul);
        line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
        auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n') + 1;
        return make_error(fmt::format("{}:{}: a NUL byte, which YAML text cannot hold: remove it", line,
                                      nul - line_start + 1));
    }
    Builder builder;
    try {
        std::istringstream in{std::string(text)};
        YAML::Parser parser(in);
        while (parser.HandleNextDocument(builder)) {
        }
    } catch (const Abort& e) {
        return make_error(where(e.mark) + e.message);
    } catch (const YAML::Exception& e) {
        return make_error(where(e.mark) + e.msg);
    }
    std::vector<DocNode> out = std::move(builder.docs);
    if (out.empty()) return make_error("empty: expected a YAML document");
    return out;
}

namespace {
std::string write(const DocNode& node, bool as_read) {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out.SetMapFormat(YAML::Block);
    emit(out, node, as_read);
    std::string s = out.c_str();
    s += '\n';
    return s;
}
}  // namespace

std::string write_yaml_doc(const DocNode& node) {
    return write(node, false);
}

std::string write_yaml_doc_as_read(const DocNode& node) {
    return write(node, true);
}

}  // namespace ksc
