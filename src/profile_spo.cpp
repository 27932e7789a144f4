#include "profile_spo.h"

#include <fmt/core.h>

#include <array>
#include <cctype>
#include <limits>

#include "json_doc.h"
#include "profile_json.h"
#include "yaml_doc.h"

namespace ksc {
namespace {

using Kind = DocNode::Kind;

constexpr std::array<std::string_view, 3> kReadableVersions{
    "security-profiles-operator.x-k8s.io/v1",
    "security-profiles-operator.x-k8s.io/v1beta1",
    "security-profiles-operator.x-k8s.io/v1alpha1",
};

// SPO's Arch enum (api/seccompprofile/v1): libseccomp's names but LOONGARCH64, M68K, SH.
bool spo_knows_arch(std::string_view a) {
    return is_known_scmp_arch(a) && a != "SCMP_ARCH_LOONGARCH64" && a != "SCMP_ARCH_M68K" &&
           a != "SCMP_ARCH_SH";
}

std::string text_of(const DocNode* n) {
    if (!n || !n->is_scalar() || n->kind == Kind::Null) return {};
    return n->text;
}

Result<std::vector<std::pair<std::string, std::string>>> string_map(const DocNode* n, std::string_view path) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!n || n->kind == Kind::Null) return out;
    if (n->kind != Kind::Object)
        return make_error(fmt::format("{}{}: expected a map of strings", doc_position(*n), path));
    for (std::size_t i = 0; i < n->keys.size(); ++i) {
        if (!n->items[i].is_scalar())
            return make_error(
                fmt::format("{}{}.{}: expected a string", doc_position(n->items[i]), path, n->keys[i]));
        out.emplace_back(n->keys[i], n->items[i].text);
    }
    return out;
}

Status decode_one(const DocNode& root, std::vector<SeccompProfileDoc>& out,
                  std::vector<std::string>* warnings) {
    SeccompProfileDoc doc;
    doc.api_version = text_of(root.get("apiVersion"));
    bool readable = false;
    for (auto v : kReadableVersions) readable |= doc.api_version == v;
    if (!readable)
        return make_error(
            fmt::format("{}apiVersion: \"{}\" is not a SeccompProfile version we read (expected {})",
                        doc_position(root), doc.api_version, kSpoApiVersion));
    const DocNode* meta = root.get("metadata");
    if (meta && meta->kind == Kind::Object) {
        doc.name = text_of(meta->get("name"));
        doc.namespace_name = text_of(meta->get("namespace"));
        auto labels = string_map(meta->get("labels"), "metadata.labels");
        if (!labels) return labels.error();
        doc.labels = std::move(*labels);
        auto annotations = string_map(meta->get("annotations"), "metadata.annotations");
        if (!annotations) return annotations.error();
        doc.annotations = std::move(*annotations);
    }
    const DocNode* spec = root.get("spec");
    if (!spec)
        return make_error(
            fmt::format("{}SeccompProfile \"{}\": missing \"spec\"", doc_position(root), doc.name));
    static constexpr std::string_view kSpoOnly[] = {"baseProfileName", "disabled"};
    std::vector<std::string> local;
    auto profile = decode_profile(*spec, &local, kSpoOnly);
    for (auto& w : local) {
        if (warnings) warnings->push_back(fmt::format("SeccompProfile \"{}\": spec.{}", doc.name, w));
    }
    if (!profile) {
        const std::string& m = profile.error().message;
        // Keep the position first, name the document and the spec field after it.
        auto colon = m.find(": ");
        bool positioned =
            !m.empty() && std::isdigit(static_cast<unsigned char>(m[0])) && colon != std::string::npos;
        if (positioned)
            return make_error(fmt::format("{}: SeccompProfile \"{}\": spec.{}", m.substr(0, colon), doc.name,
                                          m.substr(colon + 2)));
        return make_error(fmt::format("SeccompProfile \"{}\": spec.{}", doc.name, m));
    }
    doc.profile = std::move(*profile);
    // SPO: "A value of 0 is treated like an unset field".
    for (auto& rule : doc.profile.syscalls)
        if (rule.errno_ret == 0u) rule.errno_ret.reset();
    doc.base_profile_name = text_of(spec->get("baseProfileName"));
    doc.disabled = text_of(spec->get("disabled")) == "true";
    out.push_back(std::move(doc));
    return Ok{};
}

Status decode_any(const DocNode& root, std::vector<SeccompProfileDoc>& out,
                  std::vector<std::string>* warnings, int depth) {
    if (root.kind != Kind::Object)
        return make_error(fmt::format("{}expected a SeccompProfile object, found a {}", doc_position(root),
                                      root.kind == Kind::Array ? "list" : "scalar"));
    std::string kind = text_of(root.get("kind"));
    if (kind == "SeccompProfile") return decode_one(root, out, warnings);
    if ((kind == "List" || kind == "SeccompProfileList") && depth == 0) {
        const DocNode* items = root.get("items");
        if (!items || items->kind == Kind::Null) return Ok{};
        if (items->kind != Kind::Array)
            return make_error(
                fmt::format("{}items: expected a list of SeccompProfile objects", doc_position(*items)));
        for (const auto& item : items->items)
            if (auto st = decode_any(item, out, warnings, depth + 1); !st) return st;
        return Ok{};
    }
    if (kind.empty() && root.get("defaultAction")) {
        // An OCI profile written as YAML: read it as one, unnamed.
        SeccompProfileDoc doc;
        auto p = decode_profile(root, warnings);
        if (!p) return p.error();
        doc.profile = std::move(*p);
        out.push_back(std::move(doc));
        return Ok{};
    }
    if (warnings)
        warnings->push_back(fmt::format("{}skipped a document of kind \"{}\" (not a SeccompProfile)",
                                        doc_position(root), kind.empty() ? "?" : kind));
    return Ok{};
}

DocNode str(std::string_view s) {
    return DocNode::make(Kind::String, std::string(s));
}

}  // namespace

bool is_seccomp_profile_doc(const DocNode& root) {
    if (root.kind != Kind::Object) return false;
    std::string kind = text_of(root.get("kind"));
    return kind == "SeccompProfile" || kind == "SeccompProfileList" || kind == "List" ||
           root.get("apiVersion");
}

Result<std::vector<SeccompProfileDoc>> decode_seccomp_profiles(const std::vector<DocNode>& docs,
                                                               std::vector<std::string>* warnings) {
    std::vector<SeccompProfileDoc> out;
    for (const auto& d : docs)
        if (auto st = decode_any(d, out, warnings, 0); !st) return st.error();
    if (out.empty()) return make_error("no SeccompProfile in it (expected kind: SeccompProfile)");
    return out;
}

Result<std::vector<SeccompProfileDoc>> read_seccomp_profiles(std::string_view text,
                                                             std::vector<std::string>* warnings) {
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '{') {
        // JSON is YAML too, but RapidJSON reports JSON's errors in JSON's terms.
        auto doc = parse_json_doc(text);
        if (!doc) return doc.error();
        return decode_seccomp_profiles({std::move(*doc)}, warnings);
    }
    auto docs = parse_yaml_docs(text);
    if (!docs) return docs.error();
    return decode_seccomp_profiles(*docs, warnings);
}

Result<DocNode> encode_seccomp_profile(const SeccompProfileDoc& doc, std::vector<std::string>* warnings) {
    const Profile& p = doc.profile;
    auto who = fmt::format("SeccompProfile \"{}\"", doc.name);
    auto cannot = [&](std::string what) {
        return make_error(fmt::format("{} cannot be written as a SeccompProfile: {}", who, what));
    };
    if (p.default_errno_ret && *p.default_errno_ret != kDefaultErrno)
        return cannot(
            fmt::format("it has defaultErrnoRet {} and a SeccompProfile always answers EPERM; keep it as OCI "
                        "JSON (-o json)",
                        *p.default_errno_ret));
    if (p.default_action == Action::Notify) return cannot("SCMP_ACT_NOTIFY cannot be the default action");
    if (!p.arch_map.empty())
        return cannot(
            "it has Docker's archMap; pick the architectures with --arch (and --caps) to evaluate it first");
    for (const auto& a : p.architectures)
        if (!spo_knows_arch(a)) return cannot(fmt::format("SPO does not know the architecture {}", a));
    for (std::size_t i = 0; i < p.syscalls.size(); ++i) {
        const auto& r = p.syscalls[i];
        if (!r.includes.empty() || !r.excludes.empty())
            return cannot(fmt::format(
                "rule {} has Docker's includes/excludes; evaluate them first with --arch and --caps", i));
        if (r.errno_ret && *r.errno_ret > 4095)
            return cannot(fmt::format("rule {} has errnoRet {} (SPO takes at most 4095)", i, *r.errno_ret));
        if (r.errno_ret == 0u && action_takes_errno(r.action))
            return cannot(
                fmt::format("rule {} has errnoRet 0, which a SeccompProfile reads as unset (EPERM)", i));
        for (const auto& a : r.args)
            if (a.value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
                a.value_two > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return cannot(fmt::format(
                    "rule {} compares with a value above 2^63-1, which SPO's int64 cannot hold", i));
        if (!r.comment.empty() && warnings)
            warnings->push_back(
                fmt::format("{}: rule {}'s comment dropped (SeccompProfile has no comments)", who, i));
    }
    // The OCI encoding, minus what SPO has no field for (checked above), plus SPO's own fields.
    Profile plain = p;
    plain.default_errno_ret.reset();
    std::erase_if(plain.syscalls, [&](const SyscallRule& r) {
        if (r.names.empty() && warnings)
            warnings->push_back(fmt::format("{}: a rule without names dropped", who));
        return r.names.empty();
    });
    for (auto& r : plain.syscalls) r.comment.clear();
    DocNode spec = encode_profile(plain);
    DocNode out_spec = DocNode::make(Kind::Object);
    if (!doc.base_profile_name.empty()) out_spec.add("baseProfileName", str(doc.base_profile_name));
    if (doc.disabled) out_spec.add("disabled", DocNode::make(Kind::Bool, "true"));
    for (std::size_t i = 0; i < spec.keys.size(); ++i) out_spec.add(spec.keys[i], std::move(spec.items[i]));

    DocNode root = DocNode::make(Kind::Object);
    root.add("apiVersion", str(kSpoApiVersion));
    root.add("kind", str("SeccompProfile"));
    DocNode meta = DocNode::make(Kind::Object);
    meta.add("name", str(doc.name.empty() ? "recorded-profile" : doc.name));
    if (!doc.namespace_name.empty()) meta.add("namespace", str(doc.namespace_name));
    for (auto [key, list] : {std::pair{"labels", &doc.labels}, std::pair{"annotations", &doc.annotations}}) {
        if (list->empty()) continue;
        DocNode m = DocNode::make(Kind::Object);
        for (const auto& [k, v] : *list) m.add(k, str(v));
        meta.add(key, std::move(m));
    }
    root.add("metadata", std::move(meta));
    root.add("spec", std::move(out_spec));
    return root;
}

Result<std::string> write_seccomp_profiles_yaml(const std::vector<SeccompProfileDoc>& docs,
                                                std::vector<std::string>* warnings) {
    std::string out;
    for (const auto& doc : docs) {
        auto node = encode_seccomp_profile(doc, warnings);
        if (!node) return node.error();
        out += "---\n";
        out += write_yaml_doc(*node);
    }
    return out;
}

Result<std::string> write_seccomp_profile_json(const SeccompProfileDoc& doc,
                                               std::vector<std::string>* warnings) {
    auto node = encode_seccomp_profile(doc, warnings);
    if (!node) return node.error();
    return write_json_doc(*node);
}

std::string to_object_name(std::string_view text) {
    std::string out;
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u))
            out += static_cast<char>(std::tolower(u));
        else if (!out.empty() && out.back() != '-')
            out += '-';
        if (out.size() >= 253) break;
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "recorded-profile" : out;
}

}  // namespace ksc
