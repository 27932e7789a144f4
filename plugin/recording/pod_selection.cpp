#include "pod_selection.h"

#include <algorithm>

#include <fmt/core.h>

#include "common_flags.h"
#include "user_error.h"

namespace ksc::cli {
namespace {

// Only one tracer can trace a process: an earlier recorder still running would refuse ours. One
// that ended may hold a recording whose client lost it: recover reads it (the newest only: older
// ones were most likely recorded to the end).
void check_earlier_recorders(const Target& t, const std::string& pod_json, const rec::PodFacts& pod,
                             const std::vector<const rec::ContainerFacts*>& containers) {
    std::string ended;
    for (std::size_t i = 0; i < pod.ephemeral_names.size(); ++i) {
        const auto& name = pod.ephemeral_names[i];
        if (name.rfind("seccomp-recorder-", 0) != 0) continue;
        bool ours = std::any_of(containers.begin(), containers.end(), [&](const rec::ContainerFacts* c) {
            return i < pod.ephemeral_targets.size() && pod.ephemeral_targets[i] == c->name;
        });
        auto state = rec::recorder_state(pod_json, name);
        if (state.kind == rec::RecorderState::Terminated) ended = name;
        if (state.kind == rec::RecorderState::Running && ours)
            throw UserError("pod " + t.pod + " already has a running recorder, " + name +
                            " (another kubectl seccomp record, or one whose client left: it stops by itself "
                            "within its idle timeout, 60s): wait for it to end, then try again");
    }
    if (!ended.empty())
        note("pod " + t.pod + " has an earlier recorder, " + ended +
             ", that ended: if its recording was lost, kubectl seccomp recover " + t.pod + " --recorder " +
             ended + " -n " + t.ns + " writes its profile");
}

}  // namespace

std::string strip_pod_prefix(std::string name) {
    if (name.rfind("pod/", 0) == 0 || name.rfind("pods/", 0) == 0) name = name.substr(name.find('/') + 1);
    return name;
}

std::vector<std::string> choose_pods(kube::ApiClient& client, const std::string& ns,
                                     const std::string& target, const std::string& selector_flag,
                                     std::optional<std::size_t> replicas) {
    std::string selector = selector_flag, what, owner_uid;
    if (!target.empty()) {
        auto slash = target.find('/');
        if (slash == std::string::npos) return {target};
        std::string kind = target.substr(0, slash), name = target.substr(slash + 1);
        if (kind == "pod" || kind == "pods") return {name};
        if (kind != "deploy" && kind != "deployment" && kind != "deployments")
            throw UserError("\"" + target + "\": record takes POD, deploy/NAME or -l SELECTOR");
        auto got = client.get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
        if (!got) throw UserError(got.error().message);
        auto sel = rec::deployment_selector(*got);
        if (!sel) throw UserError("deployment " + name + ": " + sel.error().message);
        selector = *sel;
        auto sets = client.get("/apis/apps/v1/namespaces/" + ns +
                               "/replicasets?labelSelector=" + kube::url_encode(selector));
        if (!sets) throw UserError(sets.error().message);
        auto uid = rec::newest_replicaset_uid(*sets);
        if (!uid) throw UserError("deployment " + name + ": " + uid.error().message);
        owner_uid = *uid;
        what = "deployment " + name;
    } else {
        what = "selector " + selector;
    }
    // In pages (limit=500 and continue), each read as it comes: a namespace of 50,000 pods stays
    // within the per-answer cap and in memory.
    std::vector<rec::ListedPod> pods;
    auto listed =
        client.list("/api/v1/namespaces/" + ns + "/pods?labelSelector=" + kube::url_encode(selector),
                    [&](const std::string& page) -> Status {
                        auto some = rec::parse_pod_list(page);
                        if (!some) return some.error();
                        pods.insert(pods.end(), some->begin(), some->end());
                        return Ok{};
                    });
    if (!listed) throw UserError(listed.error().message);
    std::vector<std::string> ready, not_ready;
    for (const auto& p : pods) {
        if (!owner_uid.empty() &&
            std::find(p.owner_uids.begin(), p.owner_uids.end(), owner_uid) == p.owner_uids.end())
            continue;
        (p.ready ? ready : not_ready).push_back(p.name);
    }
    std::sort(ready.begin(), ready.end());
    if (ready.empty())
        throw UserError(
            what + " has no Ready pod in namespace " + ns +
            (not_ready.empty() ? std::string() : fmt::format(" ({} not ready)", not_ready.size())));
    if (replicas && ready.size() > *replicas) ready.resize(*replicas);
    if (replicas && ready.size() < *replicas)
        warn(fmt::format("{} has {} Ready pods: recording those, not {}", what, ready.size(), *replicas));
    return ready;
}

std::vector<std::pair<Target, rec::ContainerFacts>> choose_targets(kube::ApiClient& client,
                                                                   const std::string& ns,
                                                                   const TargetChoice& choice) {
    std::vector<std::pair<Target, rec::ContainerFacts>> chosen;
    for (const auto& pod_name : choose_pods(client, ns, choice.target, choice.selector, choice.replicas)) {
        Target t{ns, pod_name, ""};
        auto pod_json = client.get(t.pod_path());
        if (!pod_json) throw UserError(pod_json.error().message);
        auto pod = rec::parse_pod(*pod_json);
        if (!pod) throw UserError(pod.error().message);
        std::vector<const rec::ContainerFacts*> containers;
        if (choice.all_containers) {
            for (const auto& c : pod->containers) containers.push_back(&c);
        } else {
            auto c = rec::choose_container(*pod, choice.container);
            if (!c)
                throw UserError(c.error().message +
                                (choice.target.find('/') == std::string::npos && choice.selector.empty()
                                     ? std::string()
                                     : " (or --all-containers)"));
            containers.push_back(*c);
        }
        for (const auto* c : containers)
            if (auto ok = rec::check_recordable(*pod, *c); !ok) throw UserError(ok.error().message);
        check_earlier_recorders(t, *pod_json, *pod, containers);
        for (const auto* c : containers) {
            Target tc = t;
            tc.container = c->name;
            chosen.emplace_back(tc, *c);
        }
    }
    return chosen;
}

}  // namespace ksc::cli
