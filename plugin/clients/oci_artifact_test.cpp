#include "oci_artifact.h"

#include <doctest/doctest.h>

#include <fmt/core.h>

namespace ksc::oci {
namespace {

std::string layer_json(std::string_view media_type, std::string_view data, std::string_view title,
                       std::string_view platform = "") {
    std::string d = fmt::format(R"({{"mediaType":"{}","digest":"{}","size":{})", media_type,
                                sha256_digest(data), data.size());
    if (!title.empty())
        d += fmt::format(R"(,"annotations":{{"org.opencontainers.image.title":"{}"}})", title);
    if (!platform.empty()) {
        auto slash = platform.find('/');
        d += fmt::format(R"(,"platform":{{"os":"{}","architecture":"{}"}})", platform.substr(0, slash),
                         platform.substr(slash + 1));
    }
    return d + "}";
}

std::string manifest_json(std::string_view artifact_type, std::string_view config_type,
                          const std::vector<std::string>& layers) {
    std::string l;
    for (const auto& x : layers) l += (l.empty() ? "" : ",") + x;
    std::string at = artifact_type.empty() ? "" : fmt::format(R"("artifactType":"{}",)", artifact_type);
    return fmt::format(
        R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",{}"config":{{"mediaType":"{}","digest":"{}","size":2}},"layers":[{}]}})",
        at, config_type, sha256_digest("{}"), l);
}

}  // namespace

TEST_CASE("oci artifact: the manifest push writes is the runtimes' format, and reads back so") {
    const std::string layer = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n";
    const std::string text = runtime_manifest(sha256_digest(layer), layer.size());
    auto m = parse_manifest(text);
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    CHECK(m->artifact_type == kSeccompProfileType);
    CHECK(m->config.media_type == kSeccompProfileType);
    // The empty config {} has a well-known digest: the same in every artifact of this format.
    CHECK(m->config.digest == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK(m->config.size == 2);
    REQUIRE(m->layers.size() == 1);
    CHECK(m->layers[0].digest == sha256_digest(layer));
    CHECK(m->layers[0].size == static_cast<std::int64_t>(layer.size()));
    CHECK(m->layers[0].title == "profile.json");
    auto f = classify(*m);
    REQUIRE(f.ok());
    CHECK(*f == Format::Runtime);
    // The same profile makes the same manifest: pushing twice gives one digest.
    CHECK(runtime_manifest(sha256_digest(layer), layer.size()) == text);
}

TEST_CASE("oci artifact: the runtimes' format is told by its types, not by the layer's media type") {
    for (const char* layer_type :
         {"application/json", "application/vnd.oci.image.layer.v1.tar", "text/plain"}) {
        CAPTURE(layer_type);
        auto m = parse_manifest(
            manifest_json("", std::string(kSeccompProfileType), {layer_json(layer_type, "{}", "")}));
        REQUIRE(m.ok());
        CHECK(*classify(*m) == Format::Runtime);
        // artifactType alone (the empty OCI config type) says it too.
        m = parse_manifest(manifest_json(std::string(kSeccompProfileType), std::string(kEmptyConfigType),
                                         {layer_json(layer_type, "{}", "")}));
        REQUIRE(m.ok());
        CHECK(*classify(*m) == Format::Runtime);
    }
    auto two = parse_manifest(
        manifest_json("", std::string(kSeccompProfileType),
                      {layer_json("application/json", "{}", ""), layer_json("application/json", "[]", "")}));
    REQUIRE(two.ok());
    auto f = classify(*two);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().message.find("has 2 layers; that format has exactly one") != std::string::npos);
}

TEST_CASE("oci artifact: the operator's older format in both packings, and what is neither") {
    auto by_artifact_type = parse_manifest(manifest_json(
        std::string(kSpoUnknownType), std::string(kEmptyConfigType),
        {layer_json("application/vnd.oci.image.layer.v1.tar", "kind: SeccompProfile", "profile.yaml")}));
    REQUIRE(by_artifact_type.ok());
    CHECK(*classify(*by_artifact_type) == Format::SpoArtifactType);
    auto by_config = parse_manifest(
        manifest_json("", std::string(kSpoUnknownType),
                      {layer_json("application/vnd.oci.image.layer.v1.tar", "x", "profile.yaml")}));
    REQUIRE(by_config.ok());
    CHECK(*classify(*by_config) == Format::SpoConfigType);
    auto image = parse_manifest(manifest_json("", "application/vnd.oci.image.config.v1+json", {}));
    REQUIRE(image.ok());
    auto f = classify(*image);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().message.find("not a seccomp profile") != std::string::npos);
}

TEST_CASE("oci artifact: manifests with bad digests, sizes or too many layers are refused") {
    CHECK_FALSE(parse_manifest("[]").ok());
    CHECK_FALSE(parse_manifest(R"({"schemaVersion":1})").ok());
    std::string bad_digest =
        R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"md5:abc","size":2},"layers":[]})";
    auto m = parse_manifest(bad_digest);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find("no valid digest") != std::string::npos);
    std::vector<std::string> many(kMaxLayers + 1, layer_json("application/json", "{}", ""));
    auto big = parse_manifest(manifest_json("", std::string(kSeccompProfileType), many));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message.find("more than 64 layers") != std::string::npos);
    // Deep nesting is parsed iteratively (no stack exhaustion) and refused as not a manifest.
    std::string deep =
        R"({"schemaVersion":2,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK_FALSE(parse_manifest(deep).ok());
}

TEST_CASE("oci artifact: a digest is checked against the bytes") {
    CHECK(verify_digest("abc", sha256_digest("abc"), "layer"));
    auto swapped = verify_digest("abd", sha256_digest("abc"), "layer");
    REQUIRE_FALSE(swapped.ok());
    CHECK(swapped.error().message.find("does not match its digest") != std::string::npos);
    CHECK_FALSE(verify_digest("abc", "md5:900150983cd24fb0d6963f7d28e17f72", "layer").ok());
    CHECK(is_valid_digest(sha256_digest("")));
    CHECK_FALSE(is_valid_digest("sha256:ABC"));
}

TEST_CASE("oci artifact: the operator's layers by platform, merged when none is asked for") {
    auto m = parse_manifest(
        manifest_json(std::string(kSpoUnknownType), std::string(kEmptyConfigType),
                      {layer_json("application/vnd.oci.image.layer.v1.tar", "a", "profile-linux-amd64.yaml"),
                       layer_json("application/vnd.oci.image.layer.v1.tar", "b", "profile-linux-arm64.yaml"),
                       layer_json("application/vnd.oci.image.layer.v1.tar", "c", "profile-linux-arm-v7.yaml"),
                       layer_json("application/vnd.oci.image.layer.v1.tar", "d", "README.md")}));
    REQUIRE(m.ok());
    auto all = select_spo_layers(*m, "");
    REQUIRE(all.ok());
    CHECK(all->size() == 3);
    auto arm64 = select_spo_layers(*m, "linux/arm64/v8");
    REQUIRE(arm64.ok());
    REQUIRE(arm64->size() == 1);
    CHECK((*arm64)[0].title == "profile-linux-arm64.yaml");
    auto arm = select_spo_layers(*m, "linux/arm");
    REQUIRE(arm.ok());
    CHECK((*arm)[0].title == "profile-linux-arm-v7.yaml");
    auto none = select_spo_layers(*m, "linux/s390x");
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message ==
          "the artifact has no profile for linux/s390x (it has: linux/amd64, linux/arm64, linux/arm/v7)");
    // A platform-independent profile.yaml serves any platform not named.
    auto generic = parse_manifest(
        manifest_json(std::string(kSpoUnknownType), std::string(kEmptyConfigType),
                      {layer_json("application/vnd.oci.image.layer.v1.tar", "a", "profile-linux-amd64.yaml"),
                       layer_json("application/vnd.oci.image.layer.v1.tar", "g", "profile.yaml")}));
    REQUIRE(generic.ok());
    auto s390 = select_spo_layers(*generic, "linux/s390x");
    REQUIRE(s390.ok());
    CHECK((*s390)[0].title == "profile.yaml");
    // A descriptor's own platform counts as much as its title.
    auto by_desc = parse_manifest(manifest_json(
        std::string(kSpoUnknownType), std::string(kEmptyConfigType),
        {layer_json("application/vnd.oci.image.layer.v1.tar", "a", "amd.yaml", "linux/amd64")}));
    REQUIRE(by_desc.ok());
    CHECK(select_spo_layers(*by_desc, "linux/amd64")->at(0).title == "amd.yaml");
    CHECK(spo_layer_title("linux/arm64/v8") == "profile-linux-arm64-v8.yaml");
}

}  // namespace ksc::oci
