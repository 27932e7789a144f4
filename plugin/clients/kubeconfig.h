// kubeconfig, read as kubectl (client-go's clientcmd) reads it, down to what one connection to one
// API server needs (RestConfig).
//
// Which files: --kubeconfig alone if given (it must exist); else every file in $KUBECONFIG (a
// ':'-separated list; missing files skipped) merged so that the FIRST file to define a cluster,
// user, context or current-context wins; else ~/.kube/config. Relative paths in a file are
// relative to that file's directory (an exec command only when it contains a '/', as kubectl).
// With no kubeconfig at all, inside a pod: the service account (in-cluster config).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oidc_auth.h"
#include "result.h"

namespace ksc::kube {

// users[].user.exec: a client.authentication.k8s.io credential plugin.
struct ExecConfig {
    std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string interactive_mode;  // Never | IfAvailable | Always (v1 requires it; v1beta1: IfAvailable)
    bool provide_cluster_info = false;
    std::string install_hint;
};

// Whom the requests act as (Impersonate-User, -Uid, -Group, -Extra-KEY headers on every request).
struct Impersonation {
    std::string user, uid;
    std::vector<std::string> groups;
    std::map<std::string, std::vector<std::string>> extra;  // as-user-extra (kubeconfig only)
};

// kubectl's connection flags (`kubectl options`), over the kubeconfig's values as client-go's
// ConfigOverrides are: empty means "not given".
struct Overrides {
    std::string cluster;  // --cluster: the kubeconfig cluster to use instead of the context's
    std::string user;     // --user: the kubeconfig user to use instead of the context's
    std::string server;   // -s/--server
    std::string certificate_authority, client_certificate, client_key;  // file paths
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name;
    std::string token, username, password;
    std::string impersonate_user, impersonate_uid;  // --as, --as-uid
    std::vector<std::string> impersonate_groups;    // --as-group, repeatable
};

// Everything needed to talk to one API server as one user.
struct RestConfig {
    std::string context_name;  // empty for in-cluster
    std::string cluster_name;
    std::string user_name;
    std::string server;  // https://host:port[/path]
    std::string namespace_name = "default";

    // TLS. The *_pem fields hold PEM text (from *-data, already base64-decoded); the *_file fields
    // a path. At most one of each pair is set.
    std::string ca_file, ca_pem;
    std::string client_cert_file, client_cert_pem;
    std::string client_key_file, client_key_pem;
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name;
    std::string proxy_url;

    // Credentials, in the order client-go prefers them: token / tokenFile, then exec, then the
    // oidc auth-provider, then basic.
    std::string token;
    std::string token_file;  // wins over `token`; re-read each minute and after a 401 (rotation)
    std::optional<ExecConfig> exec;
    std::optional<OidcConfig> oidc;  // auth-provider: {name: oidc}
    std::string username, password;
    Impersonation impersonate;
    // For exec plugins that set provideClusterInfo.
    std::string cluster_extension_json;

    // Warnings to show the user once (insecure-skip-tls-verify, ...).
    std::vector<std::string> warnings;
};

struct LoadOptions {
    std::string kubeconfig;      // --kubeconfig
    std::string context;         // --context
    std::string namespace_name;  // -n
    Overrides overrides;         // the other connection flags
    // Asks the user for a value (kubectl's "Please enter Username: "), when the kubeconfig has no
    // credentials at all; none (the default off a terminal): such a kubeconfig is refused.
    std::function<Result<std::string>(const std::string& what, bool secret)> prompt;
    // For tests: stand-ins for the environment and the filesystem's fixed places.
    std::optional<std::string> kubeconfig_env;  // default: getenv("KUBECONFIG")
    std::optional<std::string> home;            // default: getenv("HOME")
    std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    std::optional<std::string> service_host;   // default: getenv("KUBERNETES_SERVICE_HOST")
    std::optional<std::string> service_port;   // default: getenv("KUBERNETES_SERVICE_PORT")
    std::optional<std::string> pod_namespace;  // default: getenv("POD_NAMESPACE")
};

// The context names of the merged kubeconfig (for completion); none when it cannot be read.
std::vector<std::string> context_names(const LoadOptions& options);

// The files that would be read, in order (for messages and tests).
std::vector<std::string> kubeconfig_paths(const LoadOptions& options);

// Loads and merges, picks the context, resolves the cluster and user. Errors name the file and
// what to do (e.g. the contexts that exist).
Result<RestConfig> load_rest_config(const LoadOptions& options);

// Parses one kubeconfig document (YAML or JSON) as if read from `path` (for relative paths).
// Exposed for tests; load_rest_config is what verbs use.
Result<RestConfig> rest_config_from_text(const std::string& text, const std::string& path,
                                         const std::string& context, const std::string& namespace_name,
                                         const Overrides& overrides = {});

// An exec credential plugin's answer.
struct ExecCredential {
    std::string token;
    std::string client_cert_pem;
    std::string client_key_pem;
    std::optional<std::chrono::system_clock::time_point> expires;  // none: valid for this run
};

// Runs the plugin (its env added to ours, KUBERNETES_EXEC_INFO set; its stdin ours only when
// interactive, its stderr ours) and parses its ExecCredential. Cached per plugin until the
// expirationTimestamp; `force` runs it again (after a 401).
Result<ExecCredential> exec_credential(const ExecConfig& exec, const RestConfig& cluster, bool force = false);

// Parses an ExecCredential document; exposed for tests.
Result<ExecCredential> parse_exec_credential(const std::string& json,
                                             const std::string& expected_api_version);

// RFC 3339 ("2026-11-23T07:00:00Z", with fractions and offsets), as Kubernetes writes times.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

// A file of at most 8 MiB and a byte (kubeconfigs, tokens, CA files are a few KiB): a larger one
// is cut there, so that its reader refuses it instead of filling memory. nullopt: cannot open.
std::optional<std::string> read_file(const std::string& path);

}  // namespace ksc::kube
