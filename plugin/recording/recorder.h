// The Kubernetes side of `kubectl seccomp record`, as pure functions over the API's JSON: what a
// pod says about its containers, the choice of the container to record, the recorder's ephemeral
// container (docs/design.md, "The contract between tracer and plugin"), its state while it starts,
// and the words for the API's refusals. recorder_run.cpp and pod_selection.cpp do the requests;
// everything here is unit-tested.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api_client.h"
#include "result.h"

namespace ksc::rec {

struct ContainerFacts {
    std::string name;
    bool running = false;
    std::string waiting_reason;     // e.g. "CrashLoopBackOff"
    std::string terminated_reason;  // e.g. "Completed"
    std::string container_id;       // "containerd://abc..."
    int restart_count = 0;
    std::optional<std::int64_t> run_as_user;  // container's, else the pod's
    std::optional<std::int64_t> run_as_group;
};

struct PodFacts {
    std::string name;
    std::string namespace_name;
    std::string phase;
    std::string node;
    std::string os;  // spec.os.name, when set
    bool host_pid = false;
    bool share_process_namespace = false;
    std::string default_container;               // kubectl.kubernetes.io/default-container
    std::vector<ContainerFacts> containers;      // spec order
    std::vector<std::string> ephemeral_names;    // spec order: the order they were added
    std::vector<std::string> ephemeral_targets;  // each one's targetContainerName (may be empty)
    std::string resource_version;
};

Result<PodFacts> parse_pod(const std::string& pod_json);

// -c NAME, else the default-container annotation, else the only container; the error lists the
// containers there are.
Result<const ContainerFacts*> choose_container(const PodFacts& pod, const std::string& flag);

// Refuses what cannot be recorded, saying why: not running, no containerID yet, hostPID,
// Windows.
Status check_recordable(const PodFacts& pod, const ContainerFacts& container);

// The recorder `recover` reads: `name` when given (it must be one of the pod's ephemeral
// containers), else the newest seccomp-recorder-* (targeting `container` when that is not empty).
// The error says which recorders the pod has.
Result<std::string> choose_recorder(const PodFacts& pod, const std::string& name,
                                    const std::string& container);

// The pods a multi-pod record may pick from (a PodList's items): each one's name, whether it is
// Running and Ready, and the uids of its owners (to keep a Deployment's newest ReplicaSet's).
struct ListedPod {
    std::string name;
    bool ready = false;
    std::vector<std::string> owner_uids;
};
Result<std::vector<ListedPod>> parse_pod_list(const std::string& list_json);

// A Deployment's spec.selector as a label selector ("app=web,tier=front"); matchExpressions are
// refused (name the pods with -l instead).
Result<std::string> deployment_selector(const std::string& deployment_json);

// The uid of the newest ReplicaSet of a ReplicaSetList: the highest deployment.kubernetes.io/revision,
// else the latest creationTimestamp.
Result<std::string> newest_replicaset_uid(const std::string& list_json);

// --replicas: "all", or a count >= 1.
Result<std::optional<std::size_t>> parse_replicas(const std::string& text);

// "containerd://abc" -> "abc" (the id in /proc/PID/cgroup).
std::string bare_container_id(const std::string& container_id);

enum class Privileges { Ptrace, SameUser };

struct RecorderSpec {
    std::string name;  // seccomp-recorder-<random>
    std::string image;
    std::string image_pull_policy;  // empty: the cluster's default
    std::string target;
    std::string container_id;
    Privileges privileges = Privileges::Ptrace;
    std::optional<std::int64_t> uid, gid;  // SameUser
    std::string idle_timeout = "60s";
    std::string duration;  // empty: until stopped
    // The tracer's flags for `check` (--check-program, --check-mode), after the others.
    std::vector<std::string> extra_args;
};

// "seccomp-recorder-" + 5 random lowercase letters and digits.
std::string recorder_name();

// The ephemeral container as JSON, and the strategic-merge patch that adds it.
std::string recorder_container_json(const RecorderSpec& spec);
std::string recorder_patch(const RecorderSpec& spec);

struct RecorderState {
    enum Kind { Absent, Waiting, Running, Terminated } kind = Absent;
    std::string reason;   // waiting/terminated reason
    std::string message;  // waiting/terminated message (image pull errors, termination message)
    std::optional<int> exit_code;
};
RecorderState recorder_state(const std::string& pod_json, const std::string& name);
// Waiting reasons that will not resolve by waiting longer.
bool is_fatal_waiting_reason(const std::string& reason);

// The API's refusal of the ephemeral-container PATCH, with what to do: RBAC (the verbs needed),
// Pod Security admission (the namespace label, and --privileges same-user), no such subresource
// (a server without ephemeral containers).
std::string explain_patch_refusal(const kube::ApiStatus& status, const std::string& namespace_name,
                                  Privileges privileges);
bool is_pod_security_refusal(const kube::ApiStatus& status);

}  // namespace ksc::rec
