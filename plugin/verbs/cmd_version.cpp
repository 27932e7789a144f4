#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "api_client.h"
#include "cluster.h"
#include "common_flags.h"
#include "exit_status.h"
#include "kubeconfig.h"
#include "user_error.h"
#include "verbs.h"
#include "version.h"

namespace ksc::cli {
namespace {

// The keys are kept stable for scripts (and the packaging test reads "version" to check the krew
// manifest against the binary).
std::string version_json(const std::optional<std::string>& server) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("version");
    w.String(kVersion);
    w.Key("tracerImage");
    w.String(kDefaultTracerImage);
    // null in a developer build: no pushed image is pinned.
    w.Key("tracerImageDigest");
    if (*kTracerImageDigest)
        w.String(kTracerImageDigest);
    else
        w.Null();
    w.Key("protocol");
    w.String(kProtocolVersion);
    if (server) {
        w.Key("serverVersion");
        w.String(server->c_str());
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

// Whether there is a cluster to ask at all: like kubectl, `version` with no kubeconfig anywhere
// just prints the client's version, while a kubeconfig that is there but broken is an error; a
// --server flag names a cluster with no kubeconfig at all.
bool cluster_configured(const CommonFlags& common) {
    if (!common.kubeconfig.empty() || !common.context.empty() || !common.connection.server.empty())
        return true;
    kube::LoadOptions lo;
    for (const auto& path : kube::kubeconfig_paths(lo))
        if (access(path.c_str(), R_OK) == 0) return true;
    return std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
}

Result<std::string> server_version(const CommonFlags& common) {
    kube::ClientOptions options;
    auto cluster = open_cluster(common, options);
    if (!cluster) return cluster.error();
    auto body = cluster->client->get("/version");
    if (!body) return body.error();
    auto version = kube::parse_server_version(*body);
    if (!version) return version.error();
    return version->git_version;
}

}  // namespace

int cmd_version(int argc, char** argv) {
    VerbFlags flags("version",
                    "Print the plugin's version, the tracer image it uses, the protocol version and, when a "
                    "kubeconfig is found, the API server's version.",
                    kClusterFlags | kOutputFlags, {"text", {"text", "json"}});
    flags.add_options()("client", "Print the plugin's version only; do not ask the API server");
    flags.set_examples(
        "  kubectl seccomp version\n"
        "  kubectl seccomp version --client -o json\n");
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    if (!flags.result().unmatched().empty())
        throw UserError("version takes no arguments: run 'kubectl seccomp version --help'");
    const CommonFlags& common = flags.common();

    std::optional<std::string> server;
    std::string server_error;
    if (!flags.result().count("client") && cluster_configured(common)) {
        auto v = server_version(common);
        if (v)
            server = *v;
        else
            server_error = v.error().message;
    }
    std::string text;
    if (common.output_format == "json") {
        text = version_json(server);
    } else {
        text = fmt::format("kubectl-seccomp {}\ntracer image: {}{}\nprotocol: {}\n", kVersion,
                           kDefaultTracerImage,
                           *kTracerImageDigest ? ""
                                               : " (a developer build: no pushed image is pinned by digest, "
                                                 "so the tag is taken as the registry has it now)",
                           kProtocolVersion);
        if (server) text += fmt::format("server: {}\n", *server);
    }
    if (auto written = write_output(common, text); !written) throw UserError(written.error().message);
    // As kubectl version: the client's part is printed, and a server that cannot be asked fails.
    if (!server_error.empty()) throw UserError("cannot get the API server's version: " + server_error);
    return kExitSuccess;
}

}  // namespace ksc::cli
