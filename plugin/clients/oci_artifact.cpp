#include "oci_artifact.h"

#include "bounded_json.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

namespace ksc::oci {
namespace {

std::string string_member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return "";
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::string hex_digest(std::string_view data, const EVP_MD* md) {
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), sum, &len, md, nullptr) != 1) return "";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", sum[i]);
    return hex;
}

Result<Descriptor> read_descriptor(const rapidjson::Value& v, std::string_view where) {
    if (!v.IsObject()) return make_error(fmt::format("the manifest's {} is not an object", where));
    Descriptor d;
    d.media_type = string_member(v, "mediaType");
    d.digest = string_member(v, "digest");
    if (!is_valid_digest(d.digest))
        return make_error(fmt::format("the manifest's {} has no valid digest (\"{}\")", where, d.digest));
    if (auto it = v.FindMember("size"); it != v.MemberEnd()) {
        if (!it->value.IsInt64() || it->value.GetInt64() < 0)
            return make_error(fmt::format("the manifest's {} has an invalid size", where));
        d.size = it->value.GetInt64();
    }
    if (auto it = v.FindMember("annotations"); it != v.MemberEnd() && it->value.IsObject())
        d.title = string_member(it->value, std::string(kTitleAnnotation).c_str());
    if (auto it = v.FindMember("platform"); it != v.MemberEnd() && it->value.IsObject()) {
        std::string os = string_member(it->value, "os"), arch = string_member(it->value, "architecture");
        std::string variant = string_member(it->value, "variant");
        if (!os.empty() || !arch.empty())
            d.platform = os + "/" + arch + (variant.empty() ? "" : "/" + variant);
    }
    return d;
}

bool is_index_type(std::string_view t) {
    return t == "application/vnd.oci.image.index.v1+json" ||
           t == "application/vnd.docker.distribution.manifest.list.v2+json";
}

}  // namespace

std::string sha256_digest(std::string_view data) {
    return "sha256:" + hex_digest(data, EVP_sha256());
}

bool is_valid_digest(std::string_view d) {
    std::size_t hex_len = d.rfind("sha256:", 0) == 0 ? 64 : d.rfind("sha512:", 0) == 0 ? 128 : 0;
    if (hex_len == 0 || d.size() != 7 + hex_len) return false;
    return std::all_of(d.begin() + 7, d.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
    });
}

Status verify_digest(std::string_view data, std::string_view digest, std::string_view what) {
    if (!is_valid_digest(digest))
        return make_error(
            fmt::format("the {} has the digest \"{}\", which this plugin cannot check "
                        "(sha256 and sha512 only)",
                        what, digest));
    const EVP_MD* md = digest.rfind("sha256:", 0) == 0 ? EVP_sha256() : EVP_sha512();
    if (digest.substr(7) != hex_digest(data, md))
        return make_error(
            fmt::format("the {} does not match its digest {}: the registry or something between it and here "
                        "altered or swapped it; refusing to use it",
                        what, digest));
    return Ok{};
}

bool Manifest::is_index() const {
    return is_index_type(media_type) || (!manifests.empty() && config.digest.empty());
}

Result<Manifest> parse_manifest(std::string_view json) {
    if (json.size() > kMaxManifestBytes)
        return make_error(fmt::format("the manifest is larger than {} bytes", kMaxManifestBytes));
    rapidjson::Document doc;
    // Bounded (src/bounded_json): a hostile registry's deeply nested manifest cannot exhaust the stack.
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, json));
    if (!doc_parsed || !doc.IsObject()) return make_error("the manifest is not a JSON object");
    Manifest m;
    m.media_type = string_member(doc, "mediaType");
    m.artifact_type = string_member(doc, "artifactType");
    if (auto it = doc.FindMember("schemaVersion");
        it == doc.MemberEnd() || !it->value.IsInt() || it->value.GetInt() != 2)
        return make_error("the manifest is not schemaVersion 2");
    if (auto it = doc.FindMember("manifests"); it != doc.MemberEnd()) {
        if (!it->value.IsArray()) return make_error("the index's manifests is not an array");
        if (it->value.Size() > kMaxLayers)
            return make_error(fmt::format("the index has more than {} manifests", kMaxLayers));
        for (const auto& e : it->value.GetArray()) {
            auto d = read_descriptor(e, "index entry");
            if (!d) return d.error();
            m.manifests.push_back(std::move(*d));
        }
        if (is_index_type(m.media_type) || !doc.HasMember("config")) return m;
    }
    auto config = doc.FindMember("config");
    if (config == doc.MemberEnd()) return make_error("the manifest has no config descriptor");
    auto c = read_descriptor(config->value, "config");
    if (!c) return c.error();
    m.config = std::move(*c);
    auto layers = doc.FindMember("layers");
    if (layers == doc.MemberEnd() || !layers->value.IsArray())
        return make_error("the manifest has no layers array");
    if (layers->value.Size() > kMaxLayers)
        return make_error(fmt::format("the manifest has more than {} layers", kMaxLayers));
    for (const auto& l : layers->value.GetArray()) {
        auto d = read_descriptor(l, "layer");
        if (!d) return d.error();
        m.layers.push_back(std::move(*d));
    }
    return m;
}

std::string_view format_description(Format format) {
    switch (format) {
        case Format::Runtime:
            return "the runtimes' format (application/vnd.cncf.seccomp-profile.config.v1+json, one OCI "
                   "seccomp JSON layer)";
        case Format::SpoArtifactType:
            return "the Security Profiles Operator's older format (artifactType "
                   "application/vnd.unknown.config.v1+json, SeccompProfile YAML layers)";
        case Format::SpoConfigType:
            return "the Security Profiles Operator's older format (config media type "
                   "application/vnd.unknown.config.v1+json, SeccompProfile YAML layers)";
    }
    return "";
}

Result<Format> classify(const Manifest& m) {
    if (m.config.media_type == kSeccompProfileType || m.artifact_type == kSeccompProfileType) {
        if (m.layers.size() != 1)
            return make_error(
                fmt::format("the artifact is in the runtimes' format but has {} layers; "
                            "that format has exactly one",
                            m.layers.size()));
        return Format::Runtime;
    }
    if (m.artifact_type == kSpoUnknownType) return Format::SpoArtifactType;
    if (m.config.media_type == kSpoUnknownType) return Format::SpoConfigType;
    return make_error(fmt::format(
        "the artifact is not a seccomp profile: its artifactType is \"{}\" and its config media type "
        "\"{}\"; expected {} or {}",
        m.artifact_type, m.config.media_type, kSeccompProfileType, kSpoUnknownType));
}

std::string runtime_manifest(std::string_view layer_digest, std::size_t layer_size) {
    // Written by hand: a fixed key order is part of what makes the digest reproducible.
    return fmt::format(
        "{{\n"
        "  \"schemaVersion\": 2,\n"
        "  \"mediaType\": \"{}\",\n"
        "  \"artifactType\": \"{}\",\n"
        "  \"config\": {{\n"
        "    \"mediaType\": \"{}\",\n"
        "    \"digest\": \"{}\",\n"
        "    \"size\": {}\n"
        "  }},\n"
        "  \"layers\": [\n"
        "    {{\n"
        "      \"mediaType\": \"{}\",\n"
        "      \"digest\": \"{}\",\n"
        "      \"size\": {},\n"
        "      \"annotations\": {{\n"
        "        \"{}\": \"{}\"\n"
        "      }}\n"
        "    }}\n"
        "  ]\n"
        "}}\n",
        kImageManifestType, kSeccompProfileType, kSeccompProfileType, sha256_digest(kEmptyConfig),
        kEmptyConfig.size(), kLayerJsonType, layer_digest, layer_size, kTitleAnnotation, kRuntimeLayerTitle);
}

std::string normalize_platform(std::string_view platform) {
    std::string p(platform);
    std::replace(p.begin(), p.end(), '-', '/');
    if (p.size() > 3 && p.compare(p.size() - 3, 3, "/v8") == 0 && p.find("/arm64/") != std::string::npos)
        p.resize(p.size() - 3);
    if (p.size() > 4 && p.compare(p.size() - 4, 4, "/arm") == 0) p += "/v7";
    return p;
}

std::string spo_layer_title(std::string_view platform) {
    std::string t = "profile-" + std::string(platform) + ".yaml";
    std::replace(t.begin(), t.end(), '/', '-');
    return t;
}

std::string layer_platform(const Descriptor& layer) {
    if (!layer.platform.empty()) return layer.platform;
    const std::string& t = layer.title;
    constexpr std::string_view prefix = "profile-", suffix = ".yaml";
    if (t.size() > prefix.size() + suffix.size() && t.rfind(prefix, 0) == 0 &&
        t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) {
        std::string p = t.substr(prefix.size(), t.size() - prefix.size() - suffix.size());
        std::replace(p.begin(), p.end(), '-', '/');
        return p;
    }
    return "";
}

Result<std::vector<Descriptor>> select_spo_layers(const Manifest& m, std::string_view platform) {
    std::vector<Descriptor> profiles;
    for (const auto& l : m.layers)
        if (l.title == "profile.yaml" || l.title == "profile.json" || !layer_platform(l).empty())
            profiles.push_back(l);
    // An artifact packed without titles: its only layer is the profile.
    if (profiles.empty() && m.layers.size() == 1) profiles = m.layers;
    if (profiles.empty())
        return make_error(
            fmt::format("the artifact has {} layers, none titled profile.yaml or "
                        "profile-<platform>.yaml",
                        m.layers.size()));
    if (platform.empty()) return profiles;
    const std::string want = normalize_platform(platform);
    for (const auto& l : profiles)
        if (!layer_platform(l).empty() && normalize_platform(layer_platform(l)) == want)
            return std::vector<Descriptor>{l};
    for (const auto& l : profiles)
        if (layer_platform(l).empty()) return std::vector<Descriptor>{l};
    std::string have;
    for (const auto& l : profiles) have += (have.empty() ? "" : ", ") + layer_platform(l);
    return make_error(fmt::format("the artifact has no profile for {} (it has: {})", platform, have));
}

}  // namespace ksc::oci
