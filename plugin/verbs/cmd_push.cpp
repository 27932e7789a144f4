// kubectl seccomp push REF PROFILE: the profile as an OCI artifact in the runtimes' format.
#include <fmt/core.h>

#include "common_flags.h"
#include "exit_status.h"
#include "oci_artifact.h"
#include "profile_inputs.h"
#include "profile_json.h"
#include "profile_limits.h"
#include "registry_flags.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # A recorded profile next to the image it is for
  kubectl seccomp push registry.example.com/team/myapp-seccomp:v1.4 myapp.json

  # A SeccompProfile (written as the OCI JSON the runtimes read) to a local registry without TLS
  kubectl seccomp push localhost:5000/profiles/myapp:v1 myapp.yaml --insecure-registry

  # Pin what was pushed: the digest reference is printed on stdout
  REF=$(kubectl seccomp push registry.example.com/team/myapp-seccomp:v1.4 myapp.json)
)";

}  // namespace

int cmd_push(int argc, char** argv) {
    VerbFlags flags("push",
                    "Push a seccomp profile to an OCI registry as an artifact in the runtimes' format "
                    "(artifactType application/vnd.cncf.seccomp-profile.config.v1+json, one OCI seccomp "
                    "JSON layer), after checking it against the limits runtimes apply to pulled profiles. "
                    "Credentials come from the Docker config files (docker login, podman login, oras login).",
                    0);
    // clang-format off
    flags.add_options()
        ("profile", "Of an input holding several SeccompProfiles, the one to push", cxxopts::value<std::string>())
        ("chunk-size", "Upload blobs in chunks of this many bytes (for proxies that cap request sizes; "
            "default: whole)", cxxopts::value<std::size_t>()->default_value("0"));
    // clang-format on
    add_registry_flags(flags);
    add_profile_input_flags(flags);
    flags.set_positional(
        "operands", "REF PROFILE",
        "The artifact reference (REGISTRY/REPOSITORY[:TAG]) and the profile: a recording, an "
        "OCI profile, a SeccompProfile, runtime/default",
        2, 2, "a reference and a profile");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const auto positionals = flags.positionals();
    const auto ref = parse_artifact_reference(positionals[0]);
    const std::string& path = positionals[1];
    if (!ref.digest.empty())
        throw UserError(
            fmt::format("cannot push to {}: a digest names content already there; push to a tag "
                        "(REGISTRY/REPOSITORY:TAG)",
                        positionals[0]));
    const std::string pick = args.count("profile") ? args["profile"].as<std::string>() : "";

    // The runtimes read OCI JSON with no baseProfileName: bases are resolved into it, as `convert`.
    LoadedProfiles loaded = load_profiles(path, profile_input_options(flags), true);
    const Profile& profile = pick_profile(loaded, pick).profile;
    if (auto st = check_runtime_limits(profile); !st)
        throw UserError(
            fmt::format("{} would be refused by the runtimes that pull it, so it is not pushed: {}", path,
                        st.error().message));
    const std::string layer = write_profile_json(profile);
    if (layer.size() > kProfileWarnBytes)
        warn(
            fmt::format("the profile is {} bytes, above 1 MiB: runtimes may be configured to refuse profiles "
                        "that large",
                        layer.size()));
    const std::string layer_digest = oci::sha256_digest(layer);
    const std::string config(oci::kEmptyConfig);
    const std::string manifest = oci::runtime_manifest(layer_digest, layer.size());

    auto session = open_registry_session(flags, ref, true, args["chunk-size"].as<std::size_t>());
    if (auto st =
            session.upload_blob(config, oci::sha256_digest(config), std::string(oci::kSeccompProfileType));
        !st)
        throw UserError(st.error().message);
    if (auto st = session.upload_blob(layer, layer_digest, std::string(oci::kLayerJsonType)); !st)
        throw UserError(st.error().message);
    auto digest = session.put_manifest(ref.tag, manifest, std::string(oci::kImageManifestType));
    if (!digest) throw UserError(digest.error().message);
    note(fmt::format("pushed {} ({} bytes of profile) in the runtimes' format", ref.str(), layer.size()));
    registry::ImageReference pinned = ref;
    pinned.tag.clear();
    pinned.digest = *digest;
    fmt::print("{}\n", pinned.str());
    return kExitSuccess;
}

}  // namespace ksc::cli
