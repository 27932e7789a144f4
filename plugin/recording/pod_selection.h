// Which pods and containers `record` records: POD, deploy/NAME (its newest ReplicaSet's Ready
// pods) or -l SELECTOR, --replicas of them, and -c or --all-containers in each; a pod whose
// recorder still runs is refused, one whose recorder ended is pointed at `recover`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api_client.h"
#include "recorder.h"

namespace ksc::cli {

// One recorded container.
struct Target {
    std::string ns, pod, container;
    std::string pod_path() const { return "/api/v1/namespaces/" + ns + "/pods/" + pod; }
};

// "pod/NAME" and "pods/NAME" name the pod NAME.
std::string strip_pod_prefix(std::string name);

// The pods to record: POD, deploy/NAME (its newest ReplicaSet's Ready pods), or -l SELECTOR (the
// Ready pods matching). `replicas` empty: all of them. Throws UserError.
std::vector<std::string> choose_pods(kube::ApiClient& client, const std::string& ns,
                                     const std::string& target, const std::string& selector_flag,
                                     std::optional<std::size_t> replicas);

struct TargetChoice {
    std::string target;    // POD or deploy/NAME (empty with a selector)
    std::string selector;  // -l
    std::optional<std::size_t> replicas;
    std::string container;  // -c; empty: the pod's only or default container
    bool all_containers = false;
};

// Every (pod, container) to record, with the container's facts. Throws UserError.
std::vector<std::pair<Target, rec::ContainerFacts>> choose_targets(kube::ApiClient& client,
                                                                   const std::string& ns,
                                                                   const TargetChoice& choice);

}  // namespace ksc::cli
