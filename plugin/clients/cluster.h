// The cluster that the common flags name (--kubeconfig, --context, -n, --request-timeout, -v):
// one place that turns them into an API client, for every verb that talks to the API server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api_client.h"
#include "common_flags.h"
#include "kubeconfig.h"
#include "result.h"

namespace ksc::cli {

struct Cluster {
    std::unique_ptr<kube::ApiClient> client;
    std::string namespace_name;         // -n, else the context's, else "default"
    std::vector<std::string> warnings;  // the kubeconfig's (e.g. insecure-skip-tls-verify)
};

// The kubeconfig read as kubectl reads it and a client for its cluster. `options` holds what the
// verb sets itself (retries, ...); the request timeout and verbosity come from `common`.
Result<Cluster> open_cluster(const CommonFlags& common, kube::ClientOptions options = {});

// The kubeconfig read as kubectl reads it (--kubeconfig, --context, -n, the connection flags),
// without a client: e.g. for the namespace a verb would use.
Result<kube::RestConfig> rest_config_for(const CommonFlags& common);

// For the verbs that add recorders: open_cluster, its warnings printed, and a server with
// ephemeral containers (1.25 or newer). Throws UserError.
Cluster connect_for_recording(const CommonFlags& common);

}  // namespace ksc::cli
