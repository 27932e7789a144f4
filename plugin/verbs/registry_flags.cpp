#include "registry_flags.h"

#include <fmt/core.h>

#include <filesystem>

#include "docker_credentials.h"
#include "user_error.h"

namespace ksc::cli {

void add_registry_flags(VerbFlags& flags) {
    // clang-format off
    flags.add_options("Registry")
        ("registry-config", "The Docker config file with the registry's credentials (default: "
            "$REGISTRY_AUTH_FILE, podman's auth.json, then $DOCKER_CONFIG/config.json or ~/.docker/config.json)", cxxopts::value<std::string>())
        ("registry-ca-file", "Trust this PEM CA bundle for the registry, besides the system's",
            cxxopts::value<std::string>())
        ("insecure-registry", "Talk plain HTTP to the registry (a local registry without TLS); "
            "credentials travel in the clear")
        ("registry-timeout", "How long one registry request may take (e.g. 30s, 2m)",
            cxxopts::value<std::string>()->default_value("60s"));
    // clang-format on
}

registry::ImageReference parse_artifact_reference(const std::string& text) {
    auto ref = registry::parse_image_reference(text);
    if (!ref) throw UserError(ref.error().message + ": write REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]");
    return *ref;
}

registry::RegistrySession open_registry_session(const VerbFlags& flags, const registry::ImageReference& ref,
                                                bool push, std::size_t upload_chunk_bytes) {
    const auto& r = flags.result();
    registry::SessionOptions options;
    options.verbosity = flags.common().verbosity;
    options.plain_http = r.count("insecure-registry") > 0;
    options.upload_chunk_bytes = upload_chunk_bytes;
    if (r.count("registry-ca-file")) {
        options.ca_file = r["registry-ca-file"].as<std::string>();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(options.ca_file, ec))
            throw UserError(fmt::format("--registry-ca-file {}: no such file", options.ca_file));
    }
    auto timeout = parse_duration(r["registry-timeout"].as<std::string>());
    if (!timeout || timeout->count() <= 0)
        throw UserError("--registry-timeout must be a positive duration such as 30s or 2m");
    options.timeout = *timeout;
    const std::string config = r.count("registry-config") ? r["registry-config"].as<std::string>() : "";
    std::string source;
    auto credential =
        registry::find_registry_credential(config, registry::normalize_registry_key(ref.registry), &source);
    if (!credential) throw UserError(credential.error().message);
    if (*credential)
        verbose(2, fmt::format("registry: credentials for {} from {}", ref.registry, source));
    else
        verbose(2, fmt::format("registry: no credentials for {}: anonymous", ref.registry));
    return registry::RegistrySession(ref, *credential, options, push);
}

}  // namespace ksc::cli
