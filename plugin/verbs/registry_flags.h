// The registry flags `push` and `pull` share, and the session they open: credentials from the
// Docker config files (docker_credentials.h), the CA, plain HTTP only when asked.
#pragma once

#include <string>

#include "common_flags.h"
#include "registry_client.h"
#include "registry_session.h"

namespace ksc::cli {

// --registry-config, --registry-ca-file, --insecure-registry, --registry-timeout.
void add_registry_flags(VerbFlags& flags);

// REF parsed (throws UserError naming the flag-free fix), the credential found for its registry
// (-v=2 says where from), and a session for it. `push`: ask for push access.
registry::RegistrySession open_registry_session(const VerbFlags& flags, const registry::ImageReference& ref,
                                                bool push, std::size_t upload_chunk_bytes = 0);

registry::ImageReference parse_artifact_reference(const std::string& text);

}  // namespace ksc::cli
