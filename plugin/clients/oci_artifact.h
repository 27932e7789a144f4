// Seccomp profiles as OCI artifacts (docs/oci-artifacts.md): the manifest `push` writes, and what
// `pull` makes of the manifests it meets.
//
// - The runtimes' format (CRI-O, the Kubernetes enhancement for profiles by OCI reference): an OCI
//   image manifest whose artifactType and config media type are both
//   application/vnd.cncf.seccomp-profile.config.v1+json, the empty config `{}`, and exactly one
//   layer holding OCI seccomp JSON for every platform. Writers differ on the layer's media type
//   (application/json, application/vnd.oci.image.layer.v1.tar), so it is not looked at.
// - The Security Profiles Operator's older format: application/vnd.unknown.config.v1+json as the
//   artifactType (with an empty config) or as the config media type (older ORAS packing); layers
//   are SeccompProfile YAML titled profile.yaml, or profile-<os>-<arch>[-<variant>].yaml per
//   platform.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace ksc::oci {

inline constexpr std::string_view kSeccompProfileType = "application/vnd.cncf.seccomp-profile.config.v1+json";
inline constexpr std::string_view kSpoUnknownType = "application/vnd.unknown.config.v1+json";
inline constexpr std::string_view kImageManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kEmptyConfigType = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kLayerJsonType = "application/json";
inline constexpr std::string_view kTitleAnnotation = "org.opencontainers.image.title";
inline constexpr std::string_view kEmptyConfig = "{}";
inline constexpr std::string_view kRuntimeLayerTitle = "profile.json";
// What pull reads at most: a manifest (registries cap theirs at 4 MiB) and one profile layer.
inline constexpr std::size_t kMaxManifestBytes = 4 << 20;
inline constexpr std::size_t kMaxLayerBytes = 8 << 20;
// More layers than this is not a profile artifact (the operator's own limit is of this order).
inline constexpr std::size_t kMaxLayers = 64;

// "sha256:<64 hex>" of the bytes.
std::string sha256_digest(std::string_view data);
// Ok when `data` is what `digest` (sha256 or sha512) names; otherwise an error naming `what`.
Status verify_digest(std::string_view data, std::string_view digest, std::string_view what);
bool is_valid_digest(std::string_view digest);

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::int64_t size = -1;
    std::string title;     // the org.opencontainers.image.title annotation
    std::string platform;  // "os/arch[/variant]" from the descriptor's platform, or empty
};

struct Manifest {
    std::string media_type;     // the manifest's own, or empty when it says none
    std::string artifact_type;  // empty when absent
    Descriptor config;
    std::vector<Descriptor> layers;
    std::vector<Descriptor> manifests;  // an index's entries (then config and layers are empty)
    bool is_index() const;
};

// An image manifest or an index, its fields checked (digests valid, sizes not negative, at most
// kMaxLayers layers). Errors say what is wrong.
Result<Manifest> parse_manifest(std::string_view json);

enum class Format {
    Runtime,          // the runtimes' format
    SpoArtifactType,  // the operator's older format, application/vnd.unknown.config.v1+json as artifactType
    SpoConfigType,    // the same as the config media type (older ORAS packing)
};
std::string_view format_description(Format format);
// Which format a manifest is in, or an error saying what it holds instead.
Result<Format> classify(const Manifest& manifest);

// The manifest `push` writes for a profile layer: the runtimes' format, keys in a fixed order and
// no time stamps, so the same profile always makes the same manifest (and digest).
std::string runtime_manifest(std::string_view layer_digest, std::size_t layer_size);

// "linux/arm64/v8" -> "profile-linux-arm64-v8.yaml" (the operator's layer title for a platform).
std::string spo_layer_title(std::string_view platform);
// The platform a layer is for: its descriptor's platform, else the one its title names, else
// empty (a platform-independent profile.yaml).
std::string layer_platform(const Descriptor& layer);

// The older format's layers to read: with `platform`, the one for it (variants compared as
// runtimes do: arm64 and arm64/v8 alike), else the platform-independent profile.yaml (or
// profile.json); without, every profile layer (merged by the caller); an untitled single layer. An error
// lists the platforms the artifact has.
Result<std::vector<Descriptor>> select_spo_layers(const Manifest& manifest, std::string_view platform);

// "linux/arm64/v8" and "linux/arm64" alike, "linux/arm" as "linux/arm/v7": for comparing platforms.
std::string normalize_platform(std::string_view platform);

}  // namespace ksc::oci
