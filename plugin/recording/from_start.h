// `record --from-start`, the pure part: which command the app container runs (pod spec, image
// config, or --command), and the copy of the pod that runs it under seccomp-tracer from its first
// syscall (docs/from-start.md). cmd_record_from_start.cpp does the requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry_client.h"
#include "result.h"

namespace ksc::fromstart {

// Where the init container leaves the tracer, and where the tracer serves its stream.
inline constexpr std::string_view kToolsVolume = "seccomp-tracer";
inline constexpr std::string_view kToolsDir = "/.seccomp-tracer";
inline constexpr std::string_view kTracerPath = "/.seccomp-tracer/seccomp-tracer";
inline constexpr std::string_view kSocketSpec = "unix:/.seccomp-tracer/stream.sock";
inline constexpr std::string_view kInstallContainer = "seccomp-tracer-install";
inline constexpr std::string_view kCopyOfAnnotation = "kubectl-seccomp.io/copy-of";

// What the pod spec says the container runs.
struct SpecCommand {
    std::optional<std::vector<std::string>> command;  // spec.containers[].command
    std::optional<std::vector<std::string>> args;     // spec.containers[].args
    std::string image;
    std::vector<std::string> image_pull_secrets;  // spec.imagePullSecrets[].name
    std::string node;                             // spec.nodeName
    bool needs_image_config() const { return !command; }
};
Result<SpecCommand> container_command(const std::string& pod_json, const std::string& container);

// Kubernetes' rule: command replaces the image's Entrypoint (and drops its Cmd); args replace Cmd.
// An error when nothing at all would run.
Result<std::vector<std::string>> effective_command(const SpecCommand& spec,
                                                   const registry::ImageConfig* image);

// --command: a JSON array (["nginx","-g","daemon off;"]) or words split on blanks, with '...' and
// "..." quoting.
Result<std::vector<std::string>> parse_command_flag(std::string_view text);

// A Deployment's pod template as a pod (what its pods would be), for `record deploy/NAME --from-start`.
Result<std::string> pod_from_template(const std::string& workload_json);

struct CopySpec {
    std::string name;       // the copy's name (copy_name)
    std::string container;  // the app container
    std::string tracer_image;
    std::string image_pull_policy;    // empty: the cluster's default
    std::vector<std::string> launch;  // the original entrypoint and arguments
    bool no_filter = false;
    std::string idle_timeout = "5m";
    // check --from-start and record --baseline (docs/check.md): the tracer's own flags
    // (--check-program, --check-mode), placed before "--".
    std::vector<std::string> tracer_args;
    bool unconfined = false;  // the app container's seccompProfile Unconfined, not RuntimeDefault
    // CAP_SYS_ADMIN added: the tracer installs its filter without no_new_privs, and is passed
    // --drop-cap-sys-admin so that the app runs without it.
    bool add_sys_admin = false;
};

// How the copy of a checked pod is set (docs/check.md), from the pod and its namespace's Pod
// Security level (the pod-security.kubernetes.io/enforce label: "privileged", "baseline",
// "restricted", "" when the label is absent; nullopt when the namespace could not be read).
// The tracer's filter needs no_new_privs or CAP_SYS_ADMIN: where the container sets
// allowPrivilegeEscalation: false it has no_new_privs already, and where it is privileged or adds
// SYS_ADMIN it has CAP_SYS_ADMIN; elsewhere CAP_SYS_ADMIN is added where the level admits it
// (privileged; the tracer removes it before the app's exec), else the tracer sets no_new_privs and setuid and
// file-capability programs behave differently (a caveat). The copy's own seccomp profile: Unconfined where
// the level admits it, else RuntimeDefault, and calls RuntimeDefault refuses are not checked (a caveat).
struct CheckCopyPlan {
    bool unconfined = false;
    bool add_sys_admin = false;
    std::vector<std::string> caveats;  // one sentence each, for the report
};
CheckCopyPlan plan_check_copy(const std::string& pod_json, const std::string& container,
                              const std::optional<std::string>& pod_security_level);
// The namespace's enforced Pod Security level from its JSON: the label's value, "" when absent.
std::optional<std::string> pod_security_level(const std::string& namespace_json);

// "<pod>-seccomp-<5 random>", at most 63 characters (a pod's hostname is its name).
std::string copy_name(const std::string& pod);

// The copy as JSON: a new name, no labels (Services and controllers leave it alone), the same spec
// otherwise, except: no nodeName and no ephemeral containers; restartPolicy Never (the recording
// ends with the app); an emptyDir and an init container from the tracer image that installs the
// tracer there; the app container runs the tracer in launch mode around its original command,
// with seccompProfile RuntimeDefault, and without liveness and startup probes (tracing slows it).
Result<std::string> copy_pod_json(const std::string& pod_json, const CopySpec& spec);

// The copy while it starts and runs, from its pod JSON: an image pull error, a configuration error
// or a failed init container is Failed (with the kubelet's reason); the app's exit is Ended (with
// its termination message: the tracer's compact summary).
struct CopyState {
    enum Kind { Starting, Running, Failed, Ended } kind = Starting;
    std::string why;
    std::string termination_message;
    // Ended: the app container's end as the kubelet reports it.
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::string reason;  // "Error", "Completed", "OOMKilled", ...
    // Seconds from the app container's start to the pod's Ready condition, once it is Ready (what
    // `check` calls start-up).
    std::optional<double> ready_after;
};
CopyState copy_state(const std::string& pod_json, const std::string& container);

// What `kubectl exec` runs in the app container to carry the stream and commands.
std::vector<std::string> connect_command();

}  // namespace ksc::fromstart
