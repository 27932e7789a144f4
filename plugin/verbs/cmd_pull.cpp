// kubectl seccomp pull REF: a seccomp profile from an OCI registry, in the runtimes' format or the
// Security Profiles Operator's older one, checked against its digests.
#include <fmt/core.h>

#include <algorithm>

#include "common_flags.h"
#include "exit_status.h"
#include "oci_artifact.h"
#include "profile_io.h"
#include "profile_json.h"
#include "profile_merge.h"
#include "profile_spo.h"
#include "registry_flags.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # The profile as the OCI JSON the kubelet and the runtimes read
  kubectl seccomp pull registry.example.com/team/myapp-seccomp:v1.4 --output-file myapp.json

  # Pinned: the manifest must hash to the digest, and each blob to its own
  kubectl seccomp pull registry.example.com/team/myapp-seccomp@sha256:3b5e...

  # An artifact the Security Profiles Operator pushed, its arm64 profile only, as a SeccompProfile
  kubectl seccomp pull ghcr.io/security-profiles/runc:v1.1.5 --platform linux/arm64 -o yaml
)";

// "linux/arm64/v8" -> {linux, arm64, v8}; "" -> all empty.
registry::Platform parse_platform(const std::string& text) {
    registry::Platform p;
    p.os.clear();
    auto first = text.find('/');
    if (first == std::string::npos) return p;
    p.os = text.substr(0, first);
    auto second = text.find('/', first + 1);
    p.architecture =
        text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    if (second != std::string::npos) p.variant = text.substr(second + 1);
    return p;
}

std::string name_from_reference(const registry::ImageReference& ref) {
    std::string last = ref.repository.substr(ref.repository.rfind('/') + 1);
    return to_object_name(last);
}

// The artifact's manifest: REF's, or, for an index of per-platform artifacts, the entry for
// --platform (else for this machine). Its digest in `digest`.
oci::Manifest resolve_manifest(registry::RegistrySession& session, const registry::ImageReference& ref,
                               const std::string& platform, std::string& digest) {
    auto fetched = session.get_manifest(ref.manifest_ref());
    if (!fetched) throw UserError(fetched.error().message);
    auto manifest = oci::parse_manifest(fetched->body);
    if (!manifest) throw UserError(fmt::format("{}: {}", ref.str(), manifest.error().message));
    digest = fetched->digest;
    if (!manifest->is_index()) return std::move(*manifest);
    std::vector<registry::Descriptor> entries;
    for (const auto& m : manifest->manifests) {
        registry::Descriptor d;
        d.digest = m.digest;
        d.media_type = m.media_type;
        d.platform = parse_platform(m.platform);
        entries.push_back(std::move(d));
    }
    const registry::Platform want = platform.empty() ? registry::host_platform() : parse_platform(platform);
    const registry::Descriptor* pick = nullptr;
    if (entries.size() == 1 && entries[0].platform.architecture.empty()) pick = &entries[0];
    auto chosen = pick ? Result<registry::Descriptor>(*pick) : registry::select_platform(entries, want);
    if (!chosen) throw UserError(fmt::format("{}: {}", ref.str(), chosen.error().message));
    fetched = session.get_manifest(chosen->digest);
    if (!fetched) throw UserError(fetched.error().message);
    manifest = oci::parse_manifest(fetched->body);
    if (!manifest) throw UserError(fmt::format("{}: {}", ref.str(), manifest.error().message));
    if (manifest->is_index()) throw UserError(fmt::format("{}: an index inside an index", ref.str()));
    digest = fetched->digest;
    return std::move(*manifest);
}

// The runtimes' format: one OCI seccomp JSON layer, for every platform.
std::string pull_runtime_format(registry::RegistrySession& session, const registry::ImageReference& ref,
                                const oci::Manifest& manifest, const std::string& platform,
                                const std::string& name, const CommonFlags& common,
                                std::vector<std::string>& warnings) {
    std::string out;
    if (!platform.empty())
        note(
            "this format holds one profile for every platform (its architectures say which); --platform "
            "chose nothing");
    const auto& layer = manifest.layers[0];
    auto blob = session.get_blob(layer.digest, oci::kMaxLayerBytes);
    if (!blob) throw UserError(blob.error().message);
    auto profile = read_profile_json(*blob, &warnings);
    if (!profile)
        throw UserError(fmt::format("{}: the profile layer is not an OCI seccomp profile: {}", ref.str(),
                                    profile.error().message));
    if (common.output_format == "json") {
        out = std::move(*blob);  // as pushed, byte for byte
    } else {
        SeccompProfileDoc doc;
        doc.name = to_object_name(name.empty() ? name_from_reference(ref) : name);
        doc.profile = std::move(*profile);
        auto yaml = write_seccomp_profiles_yaml({doc}, &warnings);
        if (!yaml) throw UserError(fmt::format("{}: {}", ref.str(), yaml.error().message));
        out = std::move(*yaml);
    }
    return out;
}

// The Security Profiles Operator's format: SeccompProfile YAML layers, per platform or not, merged.
std::string pull_spo_format(registry::RegistrySession& session, const registry::ImageReference& ref,
                            const oci::Manifest& manifest, const std::string& platform,
                            const std::string& name, const CommonFlags& common,
                            std::vector<std::string>& warnings) {
    std::string out;
    auto layers = oci::select_spo_layers(manifest, platform);
    if (!layers) throw UserError(fmt::format("{}: {}", ref.str(), layers.error().message));
    std::vector<SeccompProfileDoc> docs;
    std::vector<std::string> labels;
    for (const auto& layer : *layers) {
        auto blob = session.get_blob(layer.digest, oci::kMaxLayerBytes);
        if (!blob) throw UserError(blob.error().message);
        const std::string label = layer.title.empty() ? layer.digest : layer.title;
        // Told by content, as `convert` reads a file: SeccompProfile YAML, or OCI JSON (a
        // profile.json layer some packers add).
        auto read = load_input_text(label, *blob);
        if (!read || read->kind == InputKind::Recording)
            throw UserError(fmt::format("{}: the layer {} is not a SeccompProfile or an OCI profile{}",
                                        ref.str(), label, read ? "" : ": " + read.error().message));
        if (read->profiles.empty())
            throw UserError(fmt::format("{}: the layer {} holds no SeccompProfile", ref.str(), label));
        warnings.insert(warnings.end(), read->warnings.begin(), read->warnings.end());
        for (auto& d : read->profiles) {
            if (!d.base_profile_name.empty())
                warn(
                    fmt::format("{} names the base profile \"{}\", which is not merged in: pull it too and "
                                "`kubectl seccomp merge` them",
                                label, d.base_profile_name));
            labels.push_back(label);
            docs.push_back(std::move(d));
        }
    }
    if (layers->size() > 1)
        note(fmt::format("merged the profiles of {} platforms; --platform picks one", layers->size()));
    SeccompProfileDoc doc = docs.front();
    doc.base_profile_name.clear();
    if (docs.size() > 1) {
        std::vector<Profile> profiles;
        for (const auto& d : docs) profiles.push_back(d.profile);
        doc.profile = merge_profiles(profiles, labels, &warnings);
    }
    if (!name.empty()) doc.name = to_object_name(name);
    if (doc.name.empty()) doc.name = name_from_reference(ref);
    if (common.output_format == "json") {
        out = write_profile_json(doc.profile);
    } else {
        auto yaml = write_seccomp_profiles_yaml({doc}, &warnings);
        if (!yaml) throw UserError(fmt::format("{}: {}", ref.str(), yaml.error().message));
        out = std::move(*yaml);
    }
    return out;
}

}  // namespace

int cmd_pull(int argc, char** argv) {
    VerbFlags flags("pull",
                    "Pull a seccomp profile from an OCI registry: the runtimes' format (one OCI seccomp JSON "
                    "layer) or the Security Profiles Operator's older one (SeccompProfile YAML layers, per "
                    "platform or not). Says which it found. Every manifest and blob is checked against its "
                    "digest.",
                    kOutputFlags, {"json", {"json", "yaml"}});
    // clang-format off
    flags.add_options()
        ("platform", "The platform's profile (os/arch[/variant], e.g. linux/arm64) of an artifact that has "
            "one per platform (default: all merged; for an index: this machine's)", cxxopts::value<std::string>())
        ("name", "metadata.name of the SeccompProfile written (-o yaml; default: the repository's last part "
            "or the artifact's own name)", cxxopts::value<std::string>());
    // clang-format on
    add_registry_flags(flags);
    flags.set_positional("ref", "REF", "The artifact: REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]", 1, 1,
                         "one artifact reference");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const auto ref = parse_artifact_reference(flags.positionals()[0]);
    const std::string platform = args.count("platform") ? args["platform"].as<std::string>() : "";
    if (!platform.empty() && std::count(platform.begin(), platform.end(), '/') < 1)
        throw UserError(fmt::format("--platform {}: write OS/ARCH[/VARIANT], e.g. linux/amd64", platform));

    auto session = open_registry_session(flags, ref, false);
    std::string digest;
    const oci::Manifest manifest = resolve_manifest(session, ref, platform, digest);
    auto format = oci::classify(manifest);
    if (!format) throw UserError(fmt::format("{}: {}", ref.str(), format.error().message));
    note(fmt::format("{}@{}: {}", ref.str().substr(0, ref.str().find('@')), digest,
                     oci::format_description(*format)));

    std::vector<std::string> warnings;
    const std::string name = args.count("name") ? args["name"].as<std::string>() : "";
    const std::string out =
        *format == oci::Format::Runtime
            ? pull_runtime_format(session, ref, manifest, platform, name, common, warnings)
            : pull_spo_format(session, ref, manifest, platform, name, common, warnings);
    for (const auto& w : warnings) warn(w);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    return kExitSuccess;
}

}  // namespace ksc::cli
