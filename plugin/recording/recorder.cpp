#include "recorder.h"

#include "bounded_json.h"

#include <sys/random.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/core.h>

namespace ksc::rec {
namespace {

using rapidjson::Value;

const Value* member(const Value& obj, const char* key) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(key);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string str(const Value& obj, const char* key) {
    const Value* v = member(obj, key);
    return v && v->IsString() ? v->GetString() : "";
}

bool boolean(const Value& obj, const char* key) {
    const Value* v = member(obj, key);
    return v && v->IsBool() && v->GetBool();
}

std::optional<std::int64_t> int64(const Value& obj, const char* key) {
    const Value* v = member(obj, key);
    if (v && v->IsInt64()) return v->GetInt64();
    return std::nullopt;
}

const Value& object_or_empty(const Value* v) {
    static const Value empty(rapidjson::kObjectType);
    return v && v->IsObject() ? *v : empty;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

Result<PodFacts> parse_pod(const std::string& pod_json) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, pod_json); !parsed)
        return make_error("the API server's pod is not JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("the API server's pod is not a JSON object");
    PodFacts pod;
    const Value& md = object_or_empty(member(doc, "metadata"));
    const Value& spec = object_or_empty(member(doc, "spec"));
    const Value& status = object_or_empty(member(doc, "status"));
    pod.name = str(md, "name");
    pod.namespace_name = str(md, "namespace");
    pod.resource_version = str(md, "resourceVersion");
    pod.default_container =
        str(object_or_empty(member(md, "annotations")), "kubectl.kubernetes.io/default-container");
    pod.phase = str(status, "phase");
    pod.node = str(spec, "nodeName");
    pod.os = str(object_or_empty(member(spec, "os")), "name");
    pod.host_pid = boolean(spec, "hostPID");
    pod.share_process_namespace = boolean(spec, "shareProcessNamespace");
    const Value& pod_sc = object_or_empty(member(spec, "securityContext"));
    if (const Value* cs = member(spec, "containers"); cs && cs->IsArray()) {
        for (const auto& c : cs->GetArray()) {
            ContainerFacts f;
            f.name = str(c, "name");
            const Value& sc = object_or_empty(member(c, "securityContext"));
            f.run_as_user = int64(sc, "runAsUser");
            if (!f.run_as_user) f.run_as_user = int64(pod_sc, "runAsUser");
            f.run_as_group = int64(sc, "runAsGroup");
            if (!f.run_as_group) f.run_as_group = int64(pod_sc, "runAsGroup");
            pod.containers.push_back(f);
        }
    }
    if (const Value* es = member(spec, "ephemeralContainers"); es && es->IsArray())
        for (const auto& c : es->GetArray()) {
            pod.ephemeral_names.push_back(str(c, "name"));
            pod.ephemeral_targets.push_back(str(c, "targetContainerName"));
        }
    if (const Value* ss = member(status, "containerStatuses"); ss && ss->IsArray()) {
        for (const auto& s : ss->GetArray()) {
            for (auto& f : pod.containers) {
                if (f.name != str(s, "name")) continue;
                f.container_id = str(s, "containerID");
                if (auto rc = int64(s, "restartCount")) f.restart_count = static_cast<int>(*rc);
                const Value& state = object_or_empty(member(s, "state"));
                f.running = member(state, "running") != nullptr;
                f.waiting_reason = str(object_or_empty(member(state, "waiting")), "reason");
                f.terminated_reason = str(object_or_empty(member(state, "terminated")), "reason");
            }
        }
    }
    return pod;
}

Result<const ContainerFacts*> choose_container(const PodFacts& pod, const std::string& flag) {
    std::string names;
    for (const auto& c : pod.containers) names += (names.empty() ? "" : ", ") + c.name;
    auto find = [&](const std::string& name) -> const ContainerFacts* {
        for (const auto& c : pod.containers)
            if (c.name == name) return &c;
        return nullptr;
    };
    if (!flag.empty()) {
        if (const auto* c = find(flag)) return c;
        for (const auto& e : pod.ephemeral_names)
            if (e == flag)
                return make_error("\"" + flag + "\" is an ephemeral container: record one of the app's (" +
                                  names + ")");
        return make_error("pod " + pod.name + " has no container \"" + flag + "\": its containers are " +
                          names);
    }
    if (!pod.default_container.empty())
        if (const auto* c = find(pod.default_container)) return c;
    if (pod.containers.size() == 1) return &pod.containers.front();
    if (pod.containers.empty()) return make_error("pod " + pod.name + " has no containers");
    return make_error("pod " + pod.name + " has several containers (" + names + "): choose one with -c NAME");
}

Status check_recordable(const PodFacts& pod, const ContainerFacts& c) {
    if (pod.os == "windows")
        return make_error("pod " + pod.name + " runs on Windows: seccomp and ptrace are Linux only");
    if (pod.host_pid)
        return make_error("pod " + pod.name +
                          " uses hostPID: a recorder there would see (and could trace) every "
                          "process of node " +
                          pod.node + "; record a copy of the pod without hostPID");
    if (pod.phase != "Running")
        return make_error("pod " + pod.name + " is " + (pod.phase.empty() ? "not running" : pod.phase) +
                          ": recording needs it Running");
    if (!c.running) {
        std::string why = !c.waiting_reason.empty()      ? "waiting (" + c.waiting_reason + ")"
                          : !c.terminated_reason.empty() ? "terminated (" + c.terminated_reason + ")"
                                                         : "not running";
        return make_error("container " + c.name + " of pod " + pod.name + " is " + why +
                          ": recording needs it running (see kubectl describe pod " + pod.name + ")");
    }
    if (c.container_id.empty())
        return make_error("container " + c.name + " of pod " + pod.name +
                          " has no containerID yet: try again in a moment");
    return Ok{};
}

Result<std::string> choose_recorder(const PodFacts& pod, const std::string& name,
                                    const std::string& container) {
    std::vector<std::string> recorders;
    for (std::size_t i = 0; i < pod.ephemeral_names.size(); ++i)
        if (pod.ephemeral_names[i].rfind("seccomp-recorder-", 0) == 0 &&
            (container.empty() ||
             (i < pod.ephemeral_targets.size() && pod.ephemeral_targets[i] == container)))
            recorders.push_back(pod.ephemeral_names[i]);
    std::string listed;
    for (const auto& r : recorders) listed += (listed.empty() ? "" : ", ") + r;
    if (!name.empty()) {
        for (const auto& e : pod.ephemeral_names)
            if (e == name) return name;
        return make_error(
            "pod " + pod.name + " has no ephemeral container \"" + name + "\"" +
            (recorders.empty() ? std::string(": it has no recorder") : ": its recorders are " + listed));
    }
    if (recorders.empty())
        return make_error("pod " + pod.name + " has no seccomp-recorder-* container" +
                          (container.empty() ? std::string() : " for container " + container) +
                          ": nothing to recover (kubectl seccomp record adds one)");
    return recorders.back();  // ephemeral containers are only ever appended
}

Result<std::vector<ListedPod>> parse_pod_list(const std::string& list_json) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, list_json); !parsed)
        return make_error("the API server's pod list is not JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("the API server's pod list is not a JSON object");
    std::vector<ListedPod> pods;
    const Value* items = member(doc, "items");
    if (!items || !items->IsArray()) return pods;
    for (const auto& item : items->GetArray()) {
        ListedPod p;
        const Value& md = object_or_empty(member(item, "metadata"));
        const Value& status = object_or_empty(member(item, "status"));
        p.name = str(md, "name");
        if (const Value* owners = member(md, "ownerReferences"); owners && owners->IsArray())
            for (const auto& o : owners->GetArray()) p.owner_uids.push_back(str(o, "uid"));
        bool ready = false;
        if (const Value* cs = member(status, "conditions"); cs && cs->IsArray())
            for (const auto& c : cs->GetArray())
                if (str(c, "type") == "Ready" && str(c, "status") == "True") ready = true;
        p.ready = ready && str(status, "phase") == "Running" && !member(md, "deletionTimestamp");
        pods.push_back(std::move(p));
    }
    return pods;
}

Result<std::string> deployment_selector(const std::string& deployment_json) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, deployment_json); !parsed)
        return make_error("the API server's deployment is not JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("the API server's deployment is not a JSON object");
    const Value& selector = object_or_empty(member(object_or_empty(member(doc, "spec")), "selector"));
    if (const Value* e = member(selector, "matchExpressions"); e && e->IsArray() && !e->Empty())
        return make_error(
            "its selector has matchExpressions, which record does not evaluate: name its pods with -l");
    std::string out;
    if (const Value* m = member(selector, "matchLabels"); m && m->IsObject())
        for (const auto& kv : m->GetObject())
            if (kv.value.IsString())
                out +=
                    (out.empty() ? "" : ",") + std::string(kv.name.GetString()) + "=" + kv.value.GetString();
    if (out.empty()) return make_error("it has no spec.selector.matchLabels");
    return out;
}

Result<std::string> newest_replicaset_uid(const std::string& list_json) {
    rapidjson::Document doc;
    if (auto parsed = parse_bounded_json(doc, list_json); !parsed)
        return make_error("the API server's ReplicaSet list is not JSON (" + parsed.error().message + ")");
    if (!doc.IsObject()) return make_error("the API server's ReplicaSet list is not a JSON object");
    const Value* items = member(doc, "items");
    std::string best_uid, best_time;
    long long best_revision = -1;
    if (items && items->IsArray())
        for (const auto& rs : items->GetArray()) {
            const Value& md = object_or_empty(member(rs, "metadata"));
            std::string rev =
                str(object_or_empty(member(md, "annotations")), "deployment.kubernetes.io/revision");
            long long revision = 0;
            try {
                revision = rev.empty() ? 0 : std::stoll(rev);
            } catch (...) {
            }
            std::string created = str(md, "creationTimestamp");  // RFC 3339 UTC: compares as text
            if (revision > best_revision || (revision == best_revision && created > best_time)) {
                best_revision = revision;
                best_time = created;
                best_uid = str(md, "uid");
            }
        }
    if (best_uid.empty()) return make_error("it has no ReplicaSet yet");
    return best_uid;
}

Result<std::optional<std::size_t>> parse_replicas(const std::string& text) {
    if (text == "all") return std::optional<std::size_t>();
    std::size_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || n > 10000)
            return make_error("--replicas takes a count or all, not \"" + text + "\"");
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (text.empty() || n == 0)
        return make_error("--replicas takes a count (1 or more) or all, not \"" + text + "\"");
    return std::optional<std::size_t>(n);
}

std::string bare_container_id(const std::string& container_id) {
    auto sep = container_id.find("://");
    return sep == std::string::npos ? container_id : container_id.substr(sep + 3);
}

std::string recorder_name() {
    static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";  // as Kubernetes' generateName
    unsigned char bytes[5];
    if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
        for (auto& b : bytes) b = static_cast<unsigned char>(std::rand());
    std::string name = "seccomp-recorder-";
    for (unsigned char b : bytes) name += alphabet[b % 27];
    return name;
}

std::string recorder_container_json(const RecorderSpec& spec) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    write_string(w, "name", spec.name);
    write_string(w, "image", spec.image);
    if (!spec.image_pull_policy.empty()) write_string(w, "imagePullPolicy", spec.image_pull_policy);
    write_string(w, "targetContainerName", spec.target);
    w.Key("args");
    w.StartArray();
    std::vector<std::string> args{"--container-id", spec.container_id, "--idle-timeout", spec.idle_timeout};
    if (!spec.duration.empty()) {
        args.push_back("--duration");
        args.push_back(spec.duration);
    }
    args.insert(args.end(), spec.extra_args.begin(), spec.extra_args.end());
    for (const auto& a : args) w.String(a.c_str());
    w.EndArray();
    w.Key("stdin");
    w.Bool(true);
    w.Key("stdinOnce");
    w.Bool(false);
    w.Key("tty");
    w.Bool(false);
    write_string(w, "terminationMessagePolicy", "File");
    w.Key("securityContext");
    w.StartObject();
    w.Key("capabilities");
    w.StartObject();
    w.Key("drop");
    w.StartArray();
    w.String("ALL");
    w.EndArray();
    if (spec.privileges == Privileges::Ptrace) {
        w.Key("add");
        w.StartArray();
        w.String("SYS_PTRACE");
        w.EndArray();
    }
    w.EndObject();
    w.Key("allowPrivilegeEscalation");
    w.Bool(false);
    w.Key("readOnlyRootFilesystem");
    w.Bool(true);
    if (spec.privileges == Privileges::SameUser) {
        if (spec.uid) {
            w.Key("runAsUser");
            w.Int64(*spec.uid);
        }
        if (spec.gid) {
            w.Key("runAsGroup");
            w.Int64(*spec.gid);
        }
        w.Key("runAsNonRoot");
        w.Bool(spec.uid.value_or(0) != 0);
    }
    // Its own profile: a pod-level Localhost profile would otherwise apply to the recorder too.
    w.Key("seccompProfile");
    w.StartObject();
    write_string(w, "type", "RuntimeDefault");
    w.EndObject();
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

std::string recorder_patch(const RecorderSpec& spec) {
    return R"({"spec":{"ephemeralContainers":[)" + recorder_container_json(spec) + "]}}";
}

RecorderState recorder_state(const std::string& pod_json, const std::string& name) {
    RecorderState st;
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, pod_json));
    if (!doc_parsed || !doc.IsObject()) return st;
    const Value* ss = member(object_or_empty(member(doc, "status")), "ephemeralContainerStatuses");
    if (!ss || !ss->IsArray()) return st;
    for (const auto& s : ss->GetArray()) {
        if (str(s, "name") != name) continue;
        const Value& state = object_or_empty(member(s, "state"));
        if (member(state, "running")) {
            st.kind = RecorderState::Running;
        } else if (const Value* t = member(state, "terminated")) {
            st.kind = RecorderState::Terminated;
            st.reason = str(*t, "reason");
            st.message = str(*t, "message");
            if (auto code = int64(*t, "exitCode")) st.exit_code = static_cast<int>(*code);
        } else {
            st.kind = RecorderState::Waiting;
            const Value& waiting = object_or_empty(member(state, "waiting"));
            st.reason = str(waiting, "reason");
            st.message = str(waiting, "message");
        }
    }
    return st;
}

bool is_fatal_waiting_reason(const std::string& reason) {
    return reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "ErrImageNeverPull" ||
           reason == "InvalidImageName" || reason == "CreateContainerConfigError" ||
           reason == "CreateContainerError" || reason == "RunContainerError";
}

bool is_pod_security_refusal(const kube::ApiStatus& status) {
    return status.message.find("violates PodSecurity") != std::string::npos;
}

std::string explain_patch_refusal(const kube::ApiStatus& status, const std::string& ns,
                                  Privileges privileges) {
    std::string msg = status.message.empty() ? fmt::format("HTTP {}", status.code) : status.message;
    for (const auto& c : status.causes)
        if (msg.find(c) == std::string::npos) msg += "; " + c;
    if (is_pod_security_refusal(status)) {
        msg += fmt::format(". Namespace {} enforces Pod Security (label pod-security.kubernetes.io/enforce)",
                           ns);
        if (privileges == Privileges::Ptrace)
            msg +=
                ": try --privileges same-user (no added capability; needs the app's runAsUser), or record in "
                "a "
                "namespace that allows SYS_PTRACE (baseline and restricted do not)";
        return msg;
    }
    // An RBAC refusal is the server's message alone: main adds `kubectl seccomp rbac record ...`.
    if (status.code == 403) return msg;
    if (status.code == 404)
        return msg + ". The API server has no pods/ephemeralcontainers: it needs Kubernetes 1.25 or newer";
    return msg;
}

}  // namespace ksc::rec
