#include "recorder.h"
#include "live_view.h"

#include "version.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

namespace ksc::rec {
namespace {

const char* kPod = R"({
  "metadata": {"name": "web-0", "namespace": "shop", "resourceVersion": "77",
               "annotations": {"kubectl.kubernetes.io/default-container": "app"}},
  "spec": {"nodeName": "n1", "securityContext": {"runAsUser": 1000},
           "containers": [{"name": "app", "securityContext": {"runAsGroup": 3000}}, {"name": "sidecar"}],
           "ephemeralContainers": [{"name": "debugger"}]},
  "status": {"phase": "Running",
             "containerStatuses": [
               {"name": "app", "containerID": "containerd://abc123", "restartCount": 2, "state": {"running": {}}},
               {"name": "sidecar", "containerID": "containerd://def", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
             "ephemeralContainerStatuses": [
               {"name": "rec-run", "state": {"running": {"startedAt": "x"}}},
               {"name": "rec-pull", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}},
               {"name": "rec-done", "state": {"terminated": {"exitCode": 0, "reason": "Completed", "message": "ksc1 X"}}}]}
})";

}  // namespace

TEST_CASE("a pod's containers, their state, ids and uids are read") {
    auto pod = parse_pod(kPod);
    REQUIRE(pod.ok());
    CHECK(pod->name == "web-0");
    CHECK(pod->resource_version == "77");
    REQUIRE(pod->containers.size() == 2);
    const auto& app = pod->containers[0];
    CHECK(app.running);
    CHECK(app.container_id == "containerd://abc123");
    CHECK(app.restart_count == 2);
    CHECK(app.run_as_user == 1000);   // from the pod
    CHECK(app.run_as_group == 3000);  // from the container
    CHECK(pod->containers[1].waiting_reason == "CrashLoopBackOff");
    CHECK(pod->ephemeral_names == std::vector<std::string>{"debugger"});
}

TEST_CASE("recover reads the newest recorder, of the container when given, or the one named") {
    PodFacts pod;
    pod.name = "web-0";
    pod.ephemeral_names = {"seccomp-recorder-aaaaa", "debugger", "seccomp-recorder-bbbbb",
                           "seccomp-recorder-ccccc"};
    pod.ephemeral_targets = {"app", "app", "side", "app"};
    CHECK(*choose_recorder(pod, "", "") == "seccomp-recorder-ccccc");
    CHECK(*choose_recorder(pod, "", "side") == "seccomp-recorder-bbbbb");
    CHECK(*choose_recorder(pod, "seccomp-recorder-aaaaa", "") == "seccomp-recorder-aaaaa");
    auto missing = choose_recorder(pod, "seccomp-recorder-zzzzz", "");
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find("its recorders are seccomp-recorder-aaaaa, seccomp-recorder-bbbbb") !=
          std::string::npos);
    auto none = choose_recorder(pod, "", "db");
    REQUIRE(!none.ok());
    CHECK(none.error().message.find("no seccomp-recorder-* container for container db") != std::string::npos);
}

TEST_CASE("a Deployment's pods: its selector, its newest ReplicaSet, the Ready ones") {
    CHECK(
        *deployment_selector(R"({"spec": {"selector": {"matchLabels": {"app": "web", "tier": "front"}}}})") ==
        "app=web,tier=front");
    CHECK(!deployment_selector(R"({"spec": {"selector": {"matchExpressions": [{"key": "app"}]}}})").ok());
    CHECK(*newest_replicaset_uid(R"({"items": [
        {"metadata": {"uid": "u2", "annotations": {"deployment.kubernetes.io/revision": "2"}}},
        {"metadata": {"uid": "u10", "annotations": {"deployment.kubernetes.io/revision": "10"}}},
        {"metadata": {"uid": "u1", "annotations": {"deployment.kubernetes.io/revision": "1"}}}]})") == "u10");
    CHECK(!newest_replicaset_uid(R"({"items": []})").ok());
    auto pods = parse_pod_list(R"({"items": [
        {"metadata": {"name": "a", "ownerReferences": [{"uid": "u10"}]},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        {"metadata": {"name": "b"}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}},
        {"metadata": {"name": "c", "deletionTimestamp": "x"},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}]})");
    REQUIRE(pods.ok());
    REQUIRE(pods->size() == 3);
    CHECK((*pods)[0].ready);
    CHECK((*pods)[0].owner_uids == std::vector<std::string>{"u10"});
    CHECK(!(*pods)[1].ready);
    CHECK(!(*pods)[2].ready);  // going away
    CHECK(**parse_replicas("3") == 3);
    CHECK(!parse_replicas("all")->has_value());
    CHECK(!parse_replicas("0").ok());
    CHECK(!parse_replicas("x").ok());
}

TEST_CASE("the container is -c, else the default-container annotation, else the only one") {
    auto pod = parse_pod(kPod);
    REQUIRE(pod.ok());
    CHECK((*choose_container(*pod, ""))->name == "app");
    CHECK((*choose_container(*pod, "sidecar"))->name == "sidecar");
    auto missing = choose_container(*pod, "db");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "pod web-0 has no container \"db\": its containers are app, sidecar");
    CHECK_FALSE(choose_container(*pod, "debugger").ok());
    pod->default_container.clear();
    auto several = choose_container(*pod, "");
    REQUIRE_FALSE(several.ok());
    CHECK(several.error().message.find("-c NAME") != std::string::npos);
}

TEST_CASE("what cannot be recorded is refused, saying why") {
    auto pod = parse_pod(kPod);
    REQUIRE(pod.ok());
    CHECK(check_recordable(*pod, pod->containers[0]).ok());
    auto waiting = check_recordable(*pod, pod->containers[1]);
    REQUIRE_FALSE(waiting.ok());
    CHECK(waiting.error().message.find("CrashLoopBackOff") != std::string::npos);
    pod->host_pid = true;
    CHECK(check_recordable(*pod, pod->containers[0]).error().message.find("hostPID") != std::string::npos);
    pod->host_pid = false;
    pod->os = "windows";
    CHECK(check_recordable(*pod, pod->containers[0]).error().message.find("Windows") != std::string::npos);
    pod->os.clear();
    pod->phase = "Pending";
    CHECK(check_recordable(*pod, pod->containers[0]).error().message.find("Pending") != std::string::npos);
}

TEST_CASE("the recorder's ephemeral container follows docs/design.md") {
    RecorderSpec spec;
    spec.name = "seccomp-recorder-abcde";
    spec.image = "img:1";
    spec.target = "app";
    spec.container_id = bare_container_id("containerd://abc123");
    rapidjson::Document d;
    d.Parse(recorder_container_json(spec).c_str());
    REQUIRE(d.IsObject());
    CHECK(std::string(d["targetContainerName"].GetString()) == "app");
    CHECK(d["stdin"].GetBool());
    CHECK_FALSE(d["stdinOnce"].GetBool());
    CHECK_FALSE(d["tty"].GetBool());
    CHECK(std::string(d["args"][1].GetString()) == "abc123");
    const auto& sc = d["securityContext"];
    CHECK(std::string(sc["capabilities"]["drop"][0].GetString()) == "ALL");
    CHECK(std::string(sc["capabilities"]["add"][0].GetString()) == "SYS_PTRACE");
    CHECK_FALSE(sc["allowPrivilegeEscalation"].GetBool());
    CHECK(sc["readOnlyRootFilesystem"].GetBool());
    CHECK(std::string(sc["seccompProfile"]["type"].GetString()) == "RuntimeDefault");
    CHECK_FALSE(sc.HasMember("privileged"));

    spec.privileges = Privileges::SameUser;
    spec.uid = 1000;
    spec.gid = 3000;
    d.Parse(recorder_container_json(spec).c_str());
    const auto& same = d["securityContext"];
    CHECK_FALSE(same["capabilities"].HasMember("add"));
    CHECK(same["runAsUser"].GetInt64() == 1000);
    CHECK(same["runAsGroup"].GetInt64() == 3000);
    CHECK(same["runAsNonRoot"].GetBool());
    CHECK(recorder_patch(spec).rfind(R"({"spec":{"ephemeralContainers":[{)", 0) == 0);
}

TEST_CASE("a check's recorder passes the check flags after its own") {
    RecorderSpec spec;
    spec.name = "seccomp-recorder-abcde";
    spec.target = "app";
    spec.container_id = "abc";
    spec.extra_args = {"--check-program", "AAAA", "--check-mode", "eval"};
    rapidjson::Document d;
    d.Parse(recorder_container_json(spec).c_str());
    REQUIRE(d["args"].Size() == 8);
    CHECK(std::string(d["args"][0].GetString()) == "--container-id");
    CHECK(std::string(d["args"][4].GetString()) == "--check-program");
    CHECK(std::string(d["args"][7].GetString()) == "eval");
}

TEST_CASE("the recorder's image is used as given, tag, digest or both") {
    RecorderSpec spec;
    spec.name = "seccomp-recorder-abcde";
    spec.target = "app";
    const std::string digest = "sha256:" + std::string(64, 'a');
    for (const std::string& image : {std::string("reg.example/t:v1"), "reg.example/t@" + digest,
                                     "reg.example/t:v1@" + digest, std::string(kDefaultTracerImage)}) {
        spec.image = image;
        rapidjson::Document d;
        d.Parse(recorder_container_json(spec).c_str());
        REQUIRE(d.IsObject());
        CHECK(std::string(d["image"].GetString()) == image);
    }
    // A release's default carries the digest it was built with; a developer build's has none.
    const std::string def = kDefaultTracerImage;
    if (*kTracerImageDigest)
        CHECK(def.substr(def.size() - 71) == kTracerImageDigest);
    else
        CHECK(def.find('@') == std::string::npos);
}

TEST_CASE("recorder names are seccomp-recorder- and five random characters") {
    std::string a = recorder_name(), b = recorder_name();
    CHECK(a.size() == std::string("seccomp-recorder-").size() + 5);
    CHECK(a.rfind("seccomp-recorder-", 0) == 0);
    CHECK(a != b);
}

TEST_CASE("the recorder's state is read from ephemeralContainerStatuses") {
    CHECK(recorder_state(kPod, "rec-run").kind == RecorderState::Running);
    auto pull = recorder_state(kPod, "rec-pull");
    CHECK(pull.kind == RecorderState::Waiting);
    CHECK(is_fatal_waiting_reason(pull.reason));
    auto done = recorder_state(kPod, "rec-done");
    CHECK(done.kind == RecorderState::Terminated);
    CHECK(done.exit_code == 0);
    CHECK(done.message == "ksc1 X");
    CHECK(recorder_state(kPod, "nope").kind == RecorderState::Absent);
    CHECK_FALSE(is_fatal_waiting_reason("ContainerCreating"));
}

TEST_CASE("refusals of the PATCH say what to do") {
    kube::ApiStatus psa;
    psa.code = 403;
    psa.message =
        R"(pods "web-0" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities)";
    auto m = explain_patch_refusal(psa, "shop", Privileges::Ptrace);
    CHECK(m.find("pod-security.kubernetes.io/enforce") != std::string::npos);
    CHECK(m.find("--privileges same-user") != std::string::npos);
    kube::ApiStatus rbac;
    rbac.code = 403;
    rbac.message =
        R"(pods "web-0" is forbidden: User "bob" cannot patch resource "pods/ephemeralcontainers")";
    m = explain_patch_refusal(rbac, "shop", Privileges::Ptrace);
    CHECK(m == rbac.message);  // main adds the pointer to kubectl seccomp rbac (rbac_rules.h)
}

}  // namespace ksc::rec

namespace ksc {
TEST_CASE("a check's live line names the call, its verdict and the process") {
    stream::Denial d;
    d.nr = 41;
    d.name = "socket";
    d.action = "SCMP_ACT_ERRNO";
    d.errno_value = 1;
    d.comm = "curl";
    d.exe = "/usr/bin/curl";
    d.pid = 12;
    d.arch = native_arch();
    CHECK(denial_line(d) == "would refuse socket with SCMP_ACT_ERRNO(EPERM): curl (/usr/bin/curl) [pid 12]");
    d.enforced = true;
    d.name.clear();
    d.action = "SCMP_ACT_KILL_PROCESS";
    d.errno_value.reset();
    d.exe.clear();
    CHECK(denial_line(d) == "refused #41 with SCMP_ACT_KILL_PROCESS: curl [pid 12]");
}
}  // namespace ksc
