// What a registry named by any pod's image sends: manifests, manifest lists and OCI indexes, the
// image config blob, WWW-Authenticate challenges; and the pull secrets' docker config and image
// references from the pod spec. Never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace r = ksc::registry;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto m = r::parse_manifest(text, "application/vnd.oci.image.index.v1+json"); m && m->is_index) {
        r::Platform p;
        p.architecture = "amd64";
        (void)r::select_platform(m->manifests, p);
    }
    (void)r::parse_image_config(text);
    (void)r::parse_docker_config(text);
    (void)r::parse_challenge(text);
    (void)r::parse_image_reference(text);
    return 0;
}
