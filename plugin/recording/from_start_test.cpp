#include "from_start.h"

#include <doctest/doctest.h>

#include <rapidjson/document.h>
#include <algorithm>

namespace ksc::fromstart {
namespace {

const char* kPod = R"({"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"web-7d9f","namespace":"shop","uid":"u1","resourceVersion":"42",
   "labels":{"app":"web"},"annotations":{"team":"a","kubectl.kubernetes.io/last-applied-configuration":"{}"},
   "ownerReferences":[{"kind":"ReplicaSet","name":"web-7d"}]},
 "spec":{"nodeName":"node-1","imagePullSecrets":[{"name":"regcred"}],
   "securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"web.json"}},
   "volumes":[{"name":"data","emptyDir":{}}],
   "initContainers":[{"name":"migrate","image":"web:1","command":["migrate"]}],
   "containers":[
     {"name":"app","image":"registry.example.com/web:1","args":["--port","80"],
      "livenessProbe":{"httpGet":{"path":"/","port":80}},"readinessProbe":{"httpGet":{"path":"/","port":80}},
      "securityContext":{"runAsUser":1000,"seccompProfile":{"type":"Localhost","localhostProfile":"web.json"}},
      "volumeMounts":[{"name":"data","mountPath":"/data"}]},
     {"name":"sidecar","image":"busybox","command":["sleep","1d"]}],
   "ephemeralContainers":[{"name":"seccomp-recorder-abcde","image":"t"}]},
 "status":{"phase":"Running"}})";

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

const rapidjson::Value& container(const rapidjson::Value& list, const char* name) {
    for (const auto& c : list.GetArray())
        if (std::string(c["name"].GetString()) == name) return c;
    FAIL("no container " << name);
    return list;
}

std::vector<std::string> strings(const rapidjson::Value& arr) {
    std::vector<std::string> out;
    for (const auto& v : arr.GetArray()) out.emplace_back(v.GetString());
    return out;
}

CopySpec spec_for_tests() {
    CopySpec cs;
    cs.name = "web-7d9f-seccomp-bcdfg";
    cs.container = "app";
    cs.tracer_image = "ghcr.io/kubectl-seccomp/seccomp-tracer:v0.1.0";
    cs.launch = {"/usr/sbin/nginx", "--port", "80"};
    return cs;
}

}  // namespace

TEST_CASE("the pod spec's command and args, with Kubernetes' rules over the image's") {
    registry::ImageConfig image;
    image.entrypoint = {"/entry"};
    image.cmd = {"default", "args"};
    SpecCommand s;
    CHECK(*effective_command(s, &image) == std::vector<std::string>{"/entry", "default", "args"});
    s.args = std::vector<std::string>{"mine"};
    CHECK(*effective_command(s, &image) == std::vector<std::string>{"/entry", "mine"});
    s.command = std::vector<std::string>{"/bin/app"};
    CHECK(*effective_command(s, &image) == std::vector<std::string>{"/bin/app", "mine"});
    s.args.reset();
    CHECK(*effective_command(s, &image) ==
          std::vector<std::string>{"/bin/app"});  // the image's Cmd is dropped
    CHECK_FALSE(effective_command(SpecCommand{}, nullptr).ok());
}

TEST_CASE(
    "container_command reads command, args, image, pull secrets; only a command makes the image unneeded") {
    auto s = container_command(kPod, "app");
    REQUIRE(s.ok());
    CHECK_FALSE(s->command.has_value());
    CHECK(*s->args == std::vector<std::string>{"--port", "80"});
    CHECK(s->image == "registry.example.com/web:1");
    CHECK(s->image_pull_secrets == std::vector<std::string>{"regcred"});
    CHECK(s->needs_image_config());
    auto side = container_command(kPod, "sidecar");
    REQUIRE(side.ok());
    CHECK_FALSE(side->needs_image_config());
    CHECK_FALSE(container_command(kPod, "nope").ok());
}

TEST_CASE("--command takes a JSON array or quoted words") {
    CHECK(*parse_command_flag(R"(["nginx","-g","daemon off;"])") ==
          std::vector<std::string>{"nginx", "-g", "daemon off;"});
    CHECK(*parse_command_flag("nginx -g 'daemon off;'") ==
          std::vector<std::string>{"nginx", "-g", "daemon off;"});
    CHECK(*parse_command_flag(R"(sh -c "echo ''")") == std::vector<std::string>{"sh", "-c", "echo ''"});
    CHECK(*parse_command_flag("a '' b") == std::vector<std::string>{"a", "", "b"});
    CHECK_FALSE(parse_command_flag("'open").ok());
    CHECK_FALSE(parse_command_flag("  ").ok());
    CHECK_FALSE(parse_command_flag("[1]").ok());
}

TEST_CASE("the copy has a new name, no labels or owners, and says whose copy it is") {
    auto json = copy_pod_json(kPod, spec_for_tests());
    REQUIRE(json.ok());
    auto d = parse(*json);
    CHECK(std::string(d["metadata"]["name"].GetString()) == "web-7d9f-seccomp-bcdfg");
    CHECK(std::string(d["metadata"]["namespace"].GetString()) == "shop");
    CHECK_FALSE(d["metadata"].HasMember("labels"));
    CHECK_FALSE(d["metadata"].HasMember("ownerReferences"));
    CHECK_FALSE(d["metadata"].HasMember("uid"));
    CHECK_FALSE(d["metadata"].HasMember("resourceVersion"));
    CHECK(std::string(d["metadata"]["annotations"]["kubectl-seccomp.io/copy-of"].GetString()) == "web-7d9f");
    CHECK(std::string(d["metadata"]["annotations"]["team"].GetString()) == "a");
    CHECK_FALSE(d["metadata"]["annotations"].HasMember("kubectl.kubernetes.io/last-applied-configuration"));
    CHECK_FALSE(d.HasMember("status"));
    CHECK_FALSE(d["spec"].HasMember("nodeName"));
    CHECK_FALSE(d["spec"].HasMember("ephemeralContainers"));
    CHECK(std::string(d["spec"]["restartPolicy"].GetString()) == "Never");
}

TEST_CASE("the copy's init container installs the tracer into an emptyDir, first, with no privilege") {
    auto d = parse(*copy_pod_json(kPod, spec_for_tests()));
    const auto& inits = d["spec"]["initContainers"];
    REQUIRE(inits.Size() == 2);
    CHECK(std::string(inits[0]["name"].GetString()) == "seccomp-tracer-install");
    CHECK(std::string(inits[1]["name"].GetString()) == "migrate");
    const auto& init = inits[0];
    CHECK(std::string(init["image"].GetString()) == "ghcr.io/kubectl-seccomp/seccomp-tracer:v0.1.0");
    CHECK(strings(init["args"]) == std::vector<std::string>{"--install", "/.seccomp-tracer"});
    CHECK(init["securityContext"]["allowPrivilegeEscalation"].IsFalse());
    CHECK(strings(init["securityContext"]["capabilities"]["drop"]) == std::vector<std::string>{"ALL"});
    CHECK(std::string(init["securityContext"]["seccompProfile"]["type"].GetString()) == "RuntimeDefault");
    CHECK(init["securityContext"]["runAsNonRoot"].IsTrue());
    bool volume = false;
    for (const auto& v : d["spec"]["volumes"].GetArray())
        if (std::string(v["name"].GetString()) == "seccomp-tracer") volume = v.HasMember("emptyDir");
    CHECK(volume);
}

TEST_CASE("the app container runs the tracer around its original command under RuntimeDefault") {
    auto cs = spec_for_tests();
    cs.no_filter = true;
    auto d = parse(*copy_pod_json(kPod, cs));
    const auto& app = container(d["spec"]["containers"], "app");
    CHECK(strings(app["command"]) == std::vector<std::string>{"/.seccomp-tracer/seccomp-tracer"});
    CHECK(strings(app["args"]) == std::vector<std::string>{"--output", "unix:/.seccomp-tracer/stream.sock",
                                                           "--idle-timeout", "5m", "--summary-file",
                                                           "/dev/termination-log", "--no-filter", "--",
                                                           "/usr/sbin/nginx", "--port", "80"});
    CHECK(std::string(app["securityContext"]["seccompProfile"]["type"].GetString()) == "RuntimeDefault");
    CHECK(app["securityContext"]["runAsUser"].GetInt() == 1000);  // the rest of it is kept
    CHECK_FALSE(app.HasMember("livenessProbe"));
    CHECK(app.HasMember("readinessProbe"));
    CHECK(app["volumeMounts"].Size() == 2);
    const auto& side = container(d["spec"]["containers"], "sidecar");
    CHECK(strings(side["command"]) == std::vector<std::string>{"sleep", "1d"});
    CHECK_FALSE(side.HasMember("volumeMounts"));
}

TEST_CASE("copy names fit a hostname; a Deployment's template becomes a pod") {
    std::string name = copy_name(std::string(80, 'a'));
    CHECK(name.size() <= 63);
    CHECK(name.find("-seccomp-") != std::string::npos);
    auto pod = pod_from_template(
        R"({"kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"web:1"}]}}}})");
    REQUIRE(pod.ok());
    auto d = parse(*pod);
    CHECK(std::string(d["metadata"]["name"].GetString()) == "web");
    CHECK(std::string(d["metadata"]["namespace"].GetString()) == "shop");
    CHECK(std::string(d["spec"]["containers"][0]["image"].GetString()) == "web:1");
    CHECK_FALSE(pod_from_template(R"({"kind":"Deployment"})").ok());
}

TEST_CASE("the copy's state: starting, running, failed with the kubelet's reason, ended with its message") {
    auto pod = [](const std::string& init, const std::string& app) {
        return R"({"status":{"initContainerStatuses":[{"name":"seccomp-tracer-install","state":)" + init +
               R"(}],"containerStatuses":[{"name":"app","state":)" + app + "}]}}";
    };
    const std::string waiting_init = R"({"waiting":{"reason":"PodInitializing"}})";
    const std::string done_init = R"({"terminated":{"exitCode":0,"reason":"Completed"}})";
    CHECK(copy_state(pod(waiting_init, waiting_init), "app").kind == CopyState::Starting);
    CHECK(copy_state(pod(done_init, R"({"running":{}})"), "app").kind == CopyState::Running);
    auto pull = copy_state(
        pod(R"({"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"t\""}})",
            waiting_init),
        "app");
    CHECK(pull.kind == CopyState::Failed);
    CHECK(pull.why.find("seccomp-tracer-install: ImagePullBackOff") != std::string::npos);
    auto init_failed = copy_state(
        pod(R"({"terminated":{"exitCode":1,"reason":"Error","message":"no space"}})", waiting_init), "app");
    CHECK(init_failed.kind == CopyState::Failed);
    CHECK(init_failed.why.find("exit code 1") != std::string::npos);
    auto ended = copy_state(
        pod(done_init, R"({"terminated":{"exitCode":3,"reason":"Error","message":"ksc1 X=AA"}})"), "app");
    CHECK(ended.kind == CopyState::Ended);
    CHECK(ended.termination_message == "ksc1 X=AA");
    CHECK(ended.why.find("exit code 3") != std::string::npos);
    CHECK(copy_state("{}", "app").kind == CopyState::Starting);
}

TEST_CASE("pods of the wrong shape are refused or read as empty, never walked as objects") {
    // Found by the fuzz stage: a "spec" that is a string was asked for its members.
    for (const char* json : {R"({"spec":"Pod"})", R"({"spec":[1]})", R"({"spec":{"containers":"x"}})",
                             R"({"spec":{"containers":[1,"a",null]}})"})
        CHECK_FALSE(container_command(json, "app").ok());
    for (const char* json :
         {R"({"status":"x"})", R"({"status":{"containerStatuses":"x"}})",
          R"({"status":{"containerStatuses":[1,{"name":"app","state":"x"}]}})",
          R"({"status":{"containerStatuses":[{"name":"app","state":{"terminated":"x"}}]}})",
          R"({"status":{"initContainerStatuses":[{"name":"i","state":{"waiting":7}}]}})"})
        CHECK(copy_state(json, "app").kind != CopyState::Running);
    CHECK(copy_state(R"({"status":{"containerStatuses":[{"name":"app","state":{"terminated":"x"}}]}})", "app")
              .why == "the app exited (exit code -1, )");
    CHECK_FALSE(pod_from_template(R"({"spec":{"template":{"metadata":{}}}})").ok());
    CHECK_FALSE(pod_from_template(R"({"spec":{"template":{"spec":"x"}}})").ok());
}

TEST_CASE("check: the copy passes the tracer's check flags, Unconfined and SYS_ADMIN when asked") {
    auto cs = spec_for_tests();
    cs.tracer_args = {"--check-program", "AAAA", "--check-mode", "enforce"};
    cs.unconfined = true;
    cs.add_sys_admin = true;
    auto d = parse(*copy_pod_json(kPod, cs));
    const auto& app = container(d["spec"]["containers"], "app");
    auto args = strings(app["args"]);
    auto dashdash = std::find(args.begin(), args.end(), "--");
    REQUIRE(dashdash != args.end());
    CHECK(std::vector<std::string>(dashdash - 5, dashdash) ==
          std::vector<std::string>{"--check-program", "AAAA", "--check-mode", "enforce",
                                   "--drop-cap-sys-admin"});
    CHECK(std::string(app["securityContext"]["seccompProfile"]["type"].GetString()) == "Unconfined");
    CHECK(strings(app["securityContext"]["capabilities"]["add"]) == std::vector<std::string>{"SYS_ADMIN"});
    // Without the added capability, the tracer is not asked to drop it.
    cs.add_sys_admin = false;
    auto plain = parse(*copy_pod_json(kPod, cs));
    auto plain_args = strings(container(plain["spec"]["containers"], "app")["args"]);
    CHECK(std::find(plain_args.begin(), plain_args.end(), "--drop-cap-sys-admin") == plain_args.end());
    CHECK_FALSE(container(plain["spec"]["containers"], "app")["securityContext"].HasMember("capabilities"));
    // The init container stays unprivileged.
    const auto& init = container(d["spec"]["initContainers"], "seccomp-tracer-install");
    CHECK(std::string(init["securityContext"]["seccompProfile"]["type"].GetString()) == "RuntimeDefault");
}

TEST_CASE("check: the copy's settings follow no_new_privs and the namespace's Pod Security level") {
    const std::string nnp =
        R"({"spec":{"containers":[{"name":"app","securityContext":{"allowPrivilegeEscalation":false}}]}})";
    const std::string plain = R"({"spec":{"containers":[{"name":"app"}]}})";
    // privileged (or no label): Unconfined, SYS_ADMIN unless the pod has no_new_privs already.
    for (std::string level : {"privileged", ""}) {
        auto p = plan_check_copy(plain, "app", level);
        CHECK(p.unconfined);
        CHECK(p.add_sys_admin);
        CHECK(p.caveats.empty());  // the tracer drops it before the app's exec
        auto q = plan_check_copy(nnp, "app", level);
        CHECK(q.unconfined);
        CHECK_FALSE(q.add_sys_admin);
        CHECK(q.caveats.empty());
    }
    // The pod's own CAP_SYS_ADMIN (added, in any spelling, or privileged): nothing added, nothing dropped.
    for (std::string sc :
         {R"({"capabilities":{"add":["SYS_ADMIN"]}})", R"({"capabilities":{"add":["cap_sys_admin"]}})",
          R"({"capabilities":{"add":["ALL"]}})", R"({"privileged":true})"}) {
        auto p = plan_check_copy(R"({"spec":{"containers":[{"name":"app","securityContext":)" + sc + "}]}}",
                                 "app", std::string("privileged"));
        CHECK_MESSAGE(!p.add_sys_admin, sc);
        CHECK(p.caveats.empty());
    }
    // Other capabilities, or privileged: false, change nothing.
    auto other = plan_check_copy(
        R"({"spec":{"containers":[{"name":"app","securityContext":{"privileged":false,"capabilities":{"add":["NET_ADMIN"]}}}]}})",
        "app", std::string("privileged"));
    CHECK(other.add_sys_admin);
    // A pod that drops CAP_SETPCAP: the tracer cannot empty the bounding set, and the report says so.
    for (std::string drop : {R"(["ALL"])", R"(["SETPCAP"])"}) {
        auto p = plan_check_copy(
            R"({"spec":{"containers":[{"name":"app","securityContext":{"capabilities":{"drop":)" + drop +
                "}}}]}}",
            "app", std::string("privileged"));
        CHECK(p.add_sys_admin);
        REQUIRE(p.caveats.size() == 1);
        CHECK(p.caveats[0].find("CAP_SETPCAP") != std::string::npos);
    }
    auto readded = plan_check_copy(
        R"({"spec":{"containers":[{"name":"app","securityContext":{"capabilities":{"drop":["ALL"],"add":["SETPCAP"]}}}]}})",
        "app", std::string("privileged"));
    CHECK(readded.caveats.empty());
    // baseline, restricted or unknown: RuntimeDefault and no capability, each said.
    for (std::optional<std::string> level :
         {std::optional<std::string>("baseline"), std::optional<std::string>("restricted"),
          std::optional<std::string>()}) {
        auto p = plan_check_copy(plain, "app", level);
        CHECK_FALSE(p.unconfined);
        CHECK_FALSE(p.add_sys_admin);
        REQUIRE(p.caveats.size() == 2);
        CHECK(p.caveats[0].find("setuid and file-capability programs") != std::string::npos);
        CHECK(p.caveats[1].find("calls RuntimeDefault refuses") != std::string::npos);
        auto q = plan_check_copy(nnp, "app", level);
        CHECK(q.caveats.size() == 1);  // no_new_privs is the pod's own: nothing differs there
    }
    CHECK(pod_security_level(
              R"({"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}})") == "baseline");
    CHECK(pod_security_level(R"({"metadata":{"name":"x"}})") == "");
    CHECK_FALSE(pod_security_level("[]"));
}

TEST_CASE("check: an ended copy gives the app's exit code, signal and reason; Ready gives start-up's end") {
    auto ended = copy_state(
        R"({"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T10:00:07Z"}],
            "containerStatuses":[{"name":"app","state":{"terminated":{"exitCode":159,"signal":31,
            "reason":"Error","startedAt":"2026-01-01T10:00:02Z"}}}]}})",
        "app");
    CHECK(ended.kind == CopyState::Ended);
    CHECK(ended.exit_code == 159);
    CHECK(ended.signal == 31);
    CHECK(ended.reason == "Error");
    REQUIRE(ended.ready_after);
    CHECK(*ended.ready_after == doctest::Approx(5.0));
    auto running = copy_state(
        R"({"status":{"conditions":[{"type":"Ready","status":"False"}],
            "containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2026-01-01T10:00:02Z"}}}]}})",
        "app");
    CHECK(running.kind == CopyState::Running);
    CHECK_FALSE(running.ready_after);
}

}  // namespace ksc::fromstart
