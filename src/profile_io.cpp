#include "profile_io.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cctype>

#include "input_file.h"
#include "json_doc.h"
#include "profile_json.h"
#include "profile_merge.h"

namespace ksc {

std::string in_file(const std::string& path, const std::string& message) {
    bool positioned = !message.empty() && std::isdigit(static_cast<unsigned char>(message[0]));
    return fmt::format("{}:{}{}", path, positioned ? "" : " ", message);
}

Result<LoadedInput> load_input(const std::string& path) {
    auto text = read_input_file(path, kMaxRecordingFileBytes);
    if (!text) return text.error();
    return load_input_text(path, *text);
}

Result<LoadedInput> load_input_text(const std::string& path, const std::string& text) {
    LoadedInput in;
    in.path = path == "-" ? "<stdin>" : path;
    if (looks_like_stream(text)) {
        auto rec = read_recording(text);
        if (!rec) return make_error(in_file(in.path, rec.error().message));
        in.kind = InputKind::Recording;
        in.recording = std::move(*rec);
        return in;
    }
    if (text.size() > kMaxProfileFileBytes)
        return make_error(fmt::format("{}: too large for a profile ({} bytes; at most {} MiB)", in.path,
                                      text.size(), kMaxProfileFileBytes >> 20));
    std::vector<std::string> warnings;
    auto first = text.find_first_not_of(" \t\r\n");
    bool json = first != std::string::npos && text[first] == '{';
    Result<std::vector<SeccompProfileDoc>> docs = make_error("");
    if (json) {
        auto doc = parse_json_doc(text);
        if (!doc) return make_error(in_file(in.path, doc.error().message));
        if (is_seccomp_profile_doc(*doc)) {
            in.kind = InputKind::SeccompProfile;
            docs = decode_seccomp_profiles({std::move(*doc)}, &warnings);
        } else {
            in.kind = InputKind::OciProfile;
            auto p = decode_profile(*doc, &warnings);
            if (p)
                docs = std::vector<SeccompProfileDoc>{SeccompProfileDoc{.profile = std::move(*p)}};
            else
                docs = p.error();
        }
    } else {
        in.kind = InputKind::SeccompProfile;
        docs = read_seccomp_profiles(text, &warnings);
    }
    for (auto& w : warnings) in.warnings.push_back(in_file(in.path, w));
    if (!docs) return make_error(in_file(in.path, docs.error().message));
    in.profiles = std::move(*docs);
    return in;
}

namespace {

bool is_file(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct BaseFinder {
    const LoadedInput& input;
    std::vector<LoadedInput> extra;  // --base-profile files, then NAME.yaml files found beside

    const SeccompProfileDoc* find(const std::string& name, std::string& where) {
        for (const auto& d : input.profiles)
            if (d.name == name) {
                where = input.path;
                return &d;
            }
        for (const auto& in : extra)
            for (const auto& d : in.profiles)
                if (d.name == name) {
                    where = in.path;
                    return &d;
                }
        if (input.path == "<stdin>") return nullptr;
        for (auto ext : {".yaml", ".yml", ".json"}) {
            std::string candidate = dir_of(input.path) + "/" + name + ext;
            if (!is_file(candidate)) continue;
            auto loaded = load_input(candidate);
            if (!loaded || loaded->kind == InputKind::Recording) continue;
            // A bare OCI profile named after the base is the base.
            if (loaded->kind == InputKind::OciProfile) loaded->profiles[0].name = name;
            extra.push_back(std::move(*loaded));
            return find(name, where);
        }
        return nullptr;
    }
};

Status resolve_one(SeccompProfileDoc& doc, BaseFinder& finder, int depth) {
    if (doc.base_profile_name.empty()) return Ok{};
    if (depth > 8)
        return make_error(fmt::format("baseProfileName chain deeper than 8 at \"{}\" (a loop?)", doc.name));
    std::string where;
    const SeccompProfileDoc* base = finder.find(doc.base_profile_name, where);
    if (!base)
        return make_error(
            fmt::format("SeccompProfile \"{}\": its baseProfileName \"{}\" was not found (in this file, "
                        "or as {}.yaml beside it): pass the base with --base-profile FILE",
                        doc.name, doc.base_profile_name, doc.base_profile_name));
    SeccompProfileDoc resolved_base = *base;
    if (auto st = resolve_one(resolved_base, finder, depth + 1); !st) return st;
    // SPO: the base's syscalls are unioned into the profile; the profile's own settings stay.
    Profile own = doc.profile;
    std::vector<Profile> both{own, resolved_base.profile};
    both[1].default_action = own.default_action;
    both[1].default_errno_ret = own.default_errno_ret;
    std::vector<std::string> labels{doc.name, fmt::format("{} ({})", resolved_base.name, where)};
    doc.profile = merge_profiles(both, labels, nullptr);
    doc.base_profile_name.clear();
    return Ok{};
}

}  // namespace

Status resolve_base_profiles(LoadedInput& input, std::span<const std::string> base_files) {
    BaseFinder finder{input, {}};
    for (const auto& f : base_files) {
        auto loaded = load_input(f);
        if (!loaded) return loaded.error();
        if (loaded->kind == InputKind::Recording)
            return make_error(fmt::format("{}: a recording cannot be a base profile", f));
        finder.extra.push_back(std::move(*loaded));
    }
    for (auto& doc : input.profiles)
        if (auto st = resolve_one(doc, finder, 0); !st)
            return make_error(in_file(input.path, st.error().message));
    return Ok{};
}

}  // namespace ksc
