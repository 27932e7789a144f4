// Registry credentials as `docker login`, `podman login` and `oras login` leave them: Docker
// config files (`auths`, `credHelpers`, `credsStore`) and the credential helpers they name
// (`docker-credential-NAME get`, the registry on stdin, {"Username","Secret"} on stdout).
// For `kubectl seccomp push` and `pull`, which run where a person or a CI job logged in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "registry_client.h"
#include "result.h"

namespace ksc::registry {

// The files looked at, first match wins: `explicit_file` (--registry-config) alone when given;
// else $REGISTRY_AUTH_FILE; podman's $XDG_RUNTIME_DIR/containers/auth.json (or
// /run/containers/UID/auth.json) and $XDG_CONFIG_HOME/containers/auth.json (or
// ~/.config/containers/auth.json); then $DOCKER_CONFIG/config.json or ~/.docker/config.json. Only
// the files that exist.
std::vector<std::string> docker_config_files(const std::string& explicit_file);

// What one config file says for `registry` ("docker.io", "host:5000"): a credHelpers entry for
// it runs that helper; else an auths entry (auth, username/password, identitytoken, registrytoken);
// else credsStore's helper. nullopt: the file has nothing for it. `source` is set to where the
// credential came from, for -v. Errors: a file or helper that cannot be read.
Result<std::optional<Credential>> credential_from_config(const std::string& json, const std::string& registry,
                                                         std::string* source);

// The credential for `registry` from the first file that has one (anonymous: nullopt).
Result<std::optional<Credential>> find_registry_credential(const std::string& explicit_file,
                                                           const std::string& registry, std::string* source);

// Runs `docker-credential-HELPER get` for `registry`. nullopt when the helper has none for it.
Result<std::optional<Credential>> run_credential_helper(const std::string& helper,
                                                        const std::string& registry);

}  // namespace ksc::registry
