// The API server's JSON answers as the plugin reads them: Status objects, /version, pods, pod
// lists, Deployments, ReplicaSet lists, pod templates. Nesting, size and types are the server's
// choice: never a crash (3,000,000 nested brackets once overflowed the stack) or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api_client.h"
#include "from_start.h"
#include "recorder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    ksc::kube::Response response;
    response.status = 403;
    response.body = text;
    (void)ksc::kube::api_status(response);
    (void)ksc::kube::parse_server_version(text);
    if (auto pod = ksc::rec::parse_pod(text); pod) (void)ksc::rec::choose_container(*pod, "");
    (void)ksc::rec::parse_pod_list(text);
    (void)ksc::rec::deployment_selector(text);
    (void)ksc::rec::newest_replicaset_uid(text);
    (void)ksc::rec::recorder_state(text, "seccomp-recorder-1");
    (void)ksc::fromstart::container_command(text, "app");
    (void)ksc::fromstart::pod_from_template(text);
    (void)ksc::fromstart::copy_state(text, "app");
    return 0;
}
