#include "cluster.h"

#include "kubeconfig.h"
#include "user_error.h"

namespace ksc::cli {

Result<kube::RestConfig> rest_config_for(const CommonFlags& common) {
    kube::LoadOptions lo;
    lo.kubeconfig = common.kubeconfig;
    lo.context = common.context;
    lo.namespace_name = common.namespace_name;
    lo.overrides = common.connection;
    return kube::load_rest_config(lo);
}

Result<Cluster> open_cluster(const CommonFlags& common, kube::ClientOptions options) {
    auto config = rest_config_for(common);
    if (!config) return config.error();
    options.request_timeout = common.request_timeout;
    options.verbosity = common.verbosity;
    options.disable_compression = common.disable_compression;
    options.warnings_as_errors = common.warnings_as_errors;
    auto client = kube::ApiClient::create(*config, options);
    if (!client) return client.error();
    return Cluster{std::move(*client), config->namespace_name, config->warnings};
}

Cluster connect_for_recording(const CommonFlags& common) {
    auto cluster = open_cluster(common);
    if (!cluster) throw UserError(cluster.error().message);
    for (const auto& w : cluster->warnings) warn(w);
    if (auto v = cluster->client->check_server_version(25); !v) throw UserError(v.error().message);
    return std::move(*cluster);
}

}  // namespace ksc::cli
