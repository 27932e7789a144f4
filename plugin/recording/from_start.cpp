#include "from_start.h"

#include "bounded_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/random.h>

#include <cctype>
#include <cstdlib>
#include <utility>

#include <fmt/core.h>

#include "kubeconfig.h"

namespace ksc::fromstart {
namespace {

using rapidjson::Value;

std::optional<std::vector<std::string>> string_array(const Value& obj, const char* key) {
    if (!obj.IsObject()) return std::nullopt;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsArray()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : it->value.GetArray())
        if (v.IsString()) out.emplace_back(v.GetString());
    return out;
}

Value* find_container(Value& spec, const std::string& name) {
    Value* containers = json_array(spec, "containers");
    if (!containers) return nullptr;
    for (auto& c : containers->GetArray())
        if (c.IsObject() && json_string(c, "name") == name) return &c;
    return nullptr;
}

Value string_array_value(const std::vector<std::string>& items, rapidjson::Document::AllocatorType& a) {
    Value arr(rapidjson::kArrayType);
    for (const auto& s : items)
        arr.PushBack(Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a), a);
    return arr;
}

void set(Value& obj, const char* key, Value&& value, rapidjson::Document::AllocatorType& a) {
    if (obj.HasMember(key))
        obj[key] = value;
    else
        obj.AddMember(Value(key, a), value, a);
}

Value object_of(Value& obj, const char* key, rapidjson::Document::AllocatorType& a) {
    (void)a;
    if (obj.HasMember(key) && obj[key].IsObject()) return Value(obj[key], a);
    return Value(rapidjson::kObjectType);
}

std::string to_json(const Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return buf.GetString();
}

Value runtime_default_security(rapidjson::Document::AllocatorType& a) {
    Value sc(rapidjson::kObjectType);
    Value caps(rapidjson::kObjectType);
    caps.AddMember("drop", string_array_value({"ALL"}, a), a);
    sc.AddMember("capabilities", caps, a);
    sc.AddMember("allowPrivilegeEscalation", false, a);
    sc.AddMember("readOnlyRootFilesystem", true, a);
    // Not root, so that the init container passes Pod Security's restricted level; the emptyDir is
    // writable by any uid and what it writes is executable by any.
    sc.AddMember("runAsNonRoot", true, a);
    sc.AddMember("runAsUser", 65532, a);
    sc.AddMember("runAsGroup", 65532, a);
    Value profile(rapidjson::kObjectType);
    profile.AddMember("type", "RuntimeDefault", a);
    sc.AddMember("seccompProfile", profile, a);
    return sc;
}

}  // namespace

CopyState copy_state(const std::string& pod_json, const std::string& container) {
    CopyState st;
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, pod_json));
    const Value* status = doc_parsed ? json_object(doc, "status") : nullptr;
    if (!status) return st;
    std::string started_at;
    auto check = [&](const char* field, bool init) {
        const Value* statuses = json_array(*status, field);
        if (!statuses) return;
        for (const auto& cs : statuses->GetArray()) {
            std::string name = json_string(cs, "name");
            if (!init && name != container) continue;
            const Value* state = json_object(cs, "state");
            if (!state) continue;
            if (const Value* waiting = json_member(*state, "waiting")) {
                std::string reason = json_string(*waiting, "reason");
                if (reason == "ErrImagePull" || reason == "ImagePullBackOff" ||
                    reason == "ErrImageNeverPull" || reason == "InvalidImageName" ||
                    reason == "CreateContainerConfigError" || reason == "CreateContainerError" ||
                    reason == "CrashLoopBackOff") {
                    st.kind = CopyState::Failed;
                    st.why =
                        fmt::format("container {}: {}: {}", name, reason, json_string(*waiting, "message"));
                }
            } else if (const Value* terminated = json_member(*state, "terminated")) {
                const Value& t = *terminated;
                const Value* exit_code = json_member(t, "exitCode");
                int code = exit_code && exit_code->IsInt() ? exit_code->GetInt() : -1;
                if (init && code != 0) {
                    st.kind = CopyState::Failed;
                    st.why = fmt::format("init container {} failed (exit code {}, {}): {}", name, code,
                                         json_string(t, "reason"), json_string(t, "message"));
                } else if (!init) {
                    st.kind = CopyState::Ended;
                    st.why = fmt::format("the app exited (exit code {}, {})", code, json_string(t, "reason"));
                    st.termination_message = json_string(t, "message");
                    if (code >= 0) st.exit_code = code;
                    const Value* signal = json_member(t, "signal");
                    if (signal && signal->IsInt() && signal->GetInt() > 0) st.signal = signal->GetInt();
                    st.reason = json_string(t, "reason");
                }
                if (!init) started_at = json_string(t, "startedAt");
            } else if (const Value* running = json_member(*state, "running"); running && !init) {
                started_at = json_string(*running, "startedAt");
                if (st.kind == CopyState::Starting) st.kind = CopyState::Running;
            }
        }
    };
    check("initContainerStatuses", true);
    if (st.kind == CopyState::Failed) return st;
    check("containerStatuses", false);
    // Ready: the pod's condition, after the app container started (a pod without a readiness probe
    // is Ready as soon as it runs: no start-up then).
    const Value* conditions = json_array(*status, "conditions");
    auto started = started_at.empty() ? std::nullopt : kube::parse_rfc3339(started_at);
    if (conditions && started)
        for (const auto& c : conditions->GetArray()) {
            if (json_string(c, "type") != "Ready" || json_string(c, "status") != "True") continue;
            if (auto ready = kube::parse_rfc3339(json_string(c, "lastTransitionTime")))
                st.ready_after = std::max(0.0, std::chrono::duration<double>(*ready - *started).count());
        }
    return st;
}

Result<SpecCommand> container_command(const std::string& pod_json, const std::string& container) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, pod_json));
    Value* spec_value = doc_parsed ? json_object(doc, "spec") : nullptr;
    if (!spec_value) return make_error("the pod is not a JSON object with a spec");
    Value& spec = *spec_value;
    Value* c = find_container(spec, container);
    if (!c) return make_error("the pod has no container \"" + container + "\"");
    SpecCommand out;
    out.command = string_array(*c, "command");
    out.args = string_array(*c, "args");
    if (out.command && out.command->empty()) out.command.reset();  // [] means "not set", as in the API
    if (out.args && out.args->empty()) out.args.reset();
    out.image = json_string(*c, "image");
    out.node = json_string(spec, "nodeName");
    if (spec.HasMember("imagePullSecrets") && spec["imagePullSecrets"].IsArray())
        for (const auto& s : spec["imagePullSecrets"].GetArray())
            if (!json_string(s, "name").empty()) out.image_pull_secrets.push_back(json_string(s, "name"));
    return out;
}

Result<std::vector<std::string>> effective_command(const SpecCommand& spec,
                                                   const registry::ImageConfig* image) {
    std::vector<std::string> argv;
    if (spec.command) {
        argv = *spec.command;
        if (spec.args) argv.insert(argv.end(), spec.args->begin(), spec.args->end());
    } else {
        if (image) argv = image->entrypoint;
        if (spec.args)
            argv.insert(argv.end(), spec.args->begin(), spec.args->end());
        else if (image)
            argv.insert(argv.end(), image->cmd.begin(), image->cmd.end());
    }
    if (argv.empty())
        return make_error(
            "neither the pod spec nor the image says what the container runs: give it with --command");
    return argv;
}

Result<std::vector<std::string>> parse_command_flag(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '[') {
        rapidjson::Document doc;
        const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, text));
        if (!doc_parsed || !doc.IsArray()) return make_error("--command: not a JSON array of strings");
        for (const auto& v : doc.GetArray()) {
            if (!v.IsString()) return make_error("--command: not a JSON array of strings");
            out.emplace_back(v.GetString());
        }
    } else {
        std::string word;
        bool in_word = false;
        char quote = 0;
        for (char ch : text) {
            if (quote) {
                if (ch == quote)
                    quote = 0;
                else
                    word += ch;
            } else if (ch == '\'' || ch == '"') {
                quote = ch;
                in_word = true;
            } else if (ch == ' ' || ch == '\t' || ch == '\n') {
                if (in_word) out.push_back(word);
                word.clear();
                in_word = false;
            } else {
                word += ch;
                in_word = true;
            }
        }
        if (quote) return make_error("--command: an unclosed quote");
        if (in_word) out.push_back(word);
    }
    if (out.empty()) return make_error("--command: empty");
    return out;
}

Result<std::string> pod_from_template(const std::string& workload_json) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, workload_json));
    Value* spec = doc_parsed ? json_object(doc, "spec") : nullptr;
    Value* tmpl_value = spec ? json_object(*spec, "template") : nullptr;
    Value* tmpl_spec = tmpl_value ? json_object(*tmpl_value, "spec") : nullptr;
    if (!tmpl_spec) return make_error("the workload has no pod template (spec.template.spec)");
    auto& a = doc.GetAllocator();
    Value& tmpl = *tmpl_value;
    Value pod(rapidjson::kObjectType);
    pod.AddMember("apiVersion", "v1", a);
    pod.AddMember("kind", "Pod", a);
    Value meta = object_of(tmpl, "metadata", a);
    std::string name = doc.HasMember("metadata") ? json_string(doc["metadata"], "name") : "";
    std::string ns = doc.HasMember("metadata") ? json_string(doc["metadata"], "namespace") : "";
    set(meta, "name", Value(name.c_str(), a), a);
    if (!ns.empty()) set(meta, "namespace", Value(ns.c_str(), a), a);
    pod.AddMember("metadata", meta, a);
    pod.AddMember("spec", Value(*tmpl_spec, a), a);
    return to_json(pod);
}

std::string copy_name(const std::string& pod) {
    static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";  // as Kubernetes' generateName
    unsigned char bytes[5];
    if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
        for (auto& b : bytes) b = static_cast<unsigned char>(std::rand());
    std::string base = pod.substr(0, 63 - 14);
    while (!base.empty() && (base.back() == '-' || base.back() == '.')) base.pop_back();
    std::string name = base + "-seccomp-";
    for (unsigned char b : bytes) name += alphabet[b % 27];
    return name;
}

std::vector<std::string> connect_command() {
    return {std::string(kTracerPath), "--connect", std::string(kSocketSpec)};
}

Result<std::string> copy_pod_json(const std::string& pod_json, const CopySpec& cs) {
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, pod_json));
    if (!doc_parsed || !doc.IsObject() || !doc.HasMember("spec") || !doc["spec"].IsObject())
        return make_error("the pod is not a JSON object with a spec");
    if (cs.launch.empty()) return make_error("no command to launch");
    auto& a = doc.GetAllocator();
    Value spec(doc["spec"], a);
    Value* app = find_container(spec, cs.container);
    if (!app) return make_error("the pod has no container \"" + cs.container + "\"");

    // metadata: a new name, the namespace; labels and ownership dropped; an annotation says whence.
    Value meta(rapidjson::kObjectType);
    std::string original = doc.HasMember("metadata") ? json_string(doc["metadata"], "name") : "";
    std::string ns = doc.HasMember("metadata") ? json_string(doc["metadata"], "namespace") : "";
    meta.AddMember("name", Value(cs.name.c_str(), a), a);
    if (!ns.empty()) meta.AddMember("namespace", Value(ns.c_str(), a), a);
    Value annotations(rapidjson::kObjectType);
    if (doc.HasMember("metadata") && doc["metadata"].IsObject() && doc["metadata"].HasMember("annotations") &&
        doc["metadata"]["annotations"].IsObject())
        for (auto& m : doc["metadata"]["annotations"].GetObject()) {
            std::string key = m.name.GetString();
            if (key == "kubectl.kubernetes.io/last-applied-configuration") continue;
            annotations.AddMember(Value(m.name, a), Value(m.value, a), a);
        }
    set(annotations, std::string(kCopyOfAnnotation).c_str(), Value(original.c_str(), a), a);
    meta.AddMember("annotations", annotations, a);

    // spec: left to the scheduler, without the original's recorders, ending with the app.
    spec.RemoveMember("nodeName");
    spec.RemoveMember("ephemeralContainers");
    set(spec, "restartPolicy", Value("Never", a), a);

    Value volume(rapidjson::kObjectType);
    volume.AddMember("name", Value(std::string(kToolsVolume).c_str(), a), a);
    volume.AddMember("emptyDir", Value(rapidjson::kObjectType), a);
    if (!spec.HasMember("volumes") || !spec["volumes"].IsArray())
        set(spec, "volumes", Value(rapidjson::kArrayType), a);
    spec["volumes"].PushBack(volume, a);

    auto mount = [&]() {
        Value m(rapidjson::kObjectType);
        m.AddMember("name", Value(std::string(kToolsVolume).c_str(), a), a);
        m.AddMember("mountPath", Value(std::string(kToolsDir).c_str(), a), a);
        return m;
    };

    Value init(rapidjson::kObjectType);
    init.AddMember("name", Value(std::string(kInstallContainer).c_str(), a), a);
    init.AddMember("image", Value(cs.tracer_image.c_str(), a), a);
    if (!cs.image_pull_policy.empty())
        init.AddMember("imagePullPolicy", Value(cs.image_pull_policy.c_str(), a), a);
    init.AddMember("args", string_array_value({"--install", std::string(kToolsDir)}, a), a);
    Value init_mounts(rapidjson::kArrayType);
    init_mounts.PushBack(mount(), a);
    init.AddMember("volumeMounts", init_mounts, a);
    init.AddMember("securityContext", runtime_default_security(a), a);
    Value inits(rapidjson::kArrayType);
    inits.PushBack(init, a);  // first: the original's init containers may be slow, ours is not
    if (spec.HasMember("initContainers") && spec["initContainers"].IsArray())
        for (auto& c : spec["initContainers"].GetArray()) inits.PushBack(Value(c, a), a);
    set(spec, "initContainers", std::move(inits), a);

    // The app container: the tracer around the original command.
    app = find_container(spec, cs.container);
    std::string summary_file = json_string(*app, "terminationMessagePath");
    if (summary_file.empty()) summary_file = "/dev/termination-log";
    std::vector<std::string> args{"--output",      std::string(kSocketSpec), "--idle-timeout",
                                  cs.idle_timeout, "--summary-file",         summary_file};
    if (cs.no_filter) args.push_back("--no-filter");
    args.insert(args.end(), cs.tracer_args.begin(), cs.tracer_args.end());
    // Added for the tracer's filter only: the app runs without it, as in the pod.
    if (cs.add_sys_admin) args.push_back("--drop-cap-sys-admin");
    args.push_back("--");
    args.insert(args.end(), cs.launch.begin(), cs.launch.end());
    set(*app, "command", string_array_value({std::string(kTracerPath)}, a), a);
    set(*app, "args", string_array_value(args, a), a);
    if (!app->HasMember("volumeMounts") || !(*app)["volumeMounts"].IsArray())
        set(*app, "volumeMounts", Value(rapidjson::kArrayType), a);
    (*app)["volumeMounts"].PushBack(mount(), a);
    app->RemoveMember("livenessProbe");
    app->RemoveMember("startupProbe");
    Value sc = object_of(*app, "securityContext", a);
    Value profile(rapidjson::kObjectType);
    profile.AddMember("type", rapidjson::StringRef(cs.unconfined ? "Unconfined" : "RuntimeDefault"), a);
    set(sc, "seccompProfile", std::move(profile), a);
    if (cs.add_sys_admin) {
        Value caps = object_of(sc, "capabilities", a);
        if (!caps.HasMember("add") || !caps["add"].IsArray())
            set(caps, "add", Value(rapidjson::kArrayType), a);
        caps["add"].PushBack(Value("SYS_ADMIN"), a);
        set(sc, "capabilities", std::move(caps), a);
    }
    set(*app, "securityContext", std::move(sc), a);

    Value pod(rapidjson::kObjectType);
    pod.AddMember("apiVersion", "v1", a);
    pod.AddMember("kind", "Pod", a);
    pod.AddMember("metadata", meta, a);
    pod.AddMember("spec", spec, a);
    return to_json(pod);
}

std::optional<std::string> pod_security_level(const std::string& namespace_json) {
    rapidjson::Document doc;
    if (!static_cast<bool>(parse_bounded_json(doc, namespace_json)) || !doc.IsObject()) return std::nullopt;
    const Value* meta = json_object(doc, "metadata");
    if (!meta) return std::nullopt;
    const Value* labels = json_object(*meta, "labels");
    return labels ? json_string(*labels, "pod-security.kubernetes.io/enforce") : std::string();
}

namespace {

// Whether a container's capabilities.add or .drop (`list`) names `cap` ("SYS_ADMIN"): the runtime
// takes "CAP_SYS_ADMIN" and any case too, and "ALL".
bool names_capability(const Value* caps, const char* list, std::string_view cap) {
    const Value* names = caps ? json_array(*caps, list) : nullptr;
    if (!names) return false;
    for (const auto& n : names->GetArray()) {
        if (!n.IsString()) continue;
        std::string name(n.GetString(), n.GetStringLength());
        for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (name.starts_with("CAP_")) name.erase(0, 4);
        if (name == "ALL" || name == cap) return true;
    }
    return false;
}

}  // namespace

CheckCopyPlan plan_check_copy(const std::string& pod_json, const std::string& container,
                              const std::optional<std::string>& level) {
    CheckCopyPlan plan;
    rapidjson::Document doc;
    const bool parsed = static_cast<bool>(parse_bounded_json(doc, pod_json)) && doc.IsObject();
    Value* spec = parsed ? json_object(doc, "spec") : nullptr;
    Value* app = spec ? find_container(*spec, container) : nullptr;
    const Value* sc = app ? json_object(*app, "securityContext") : nullptr;
    const Value* escalation = sc ? json_member(*sc, "allowPrivilegeEscalation") : nullptr;
    const bool no_new_privs = escalation && escalation->IsBool() && !escalation->GetBool();
    const Value* privileged_field = sc ? json_member(*sc, "privileged") : nullptr;
    const Value* caps = sc ? json_object(*sc, "capabilities") : nullptr;
    // The pod's own CAP_SYS_ADMIN: the tracer installs the filter with it, and the app keeps it.
    const bool has_sys_admin =
        (privileged_field && privileged_field->IsBool() && privileged_field->GetBool()) ||
        names_capability(caps, "add", "SYS_ADMIN");
    // An absent label means the cluster's default, which is privileged unless an admission
    // configuration says otherwise (then the copy is refused, and says so).
    const bool privileged = level && (level->empty() || *level == "privileged");
    const std::string where =
        !level ? "the namespace could not be read (get on namespaces), so its Pod Security level is unknown"
               : fmt::format("the namespace's Pod Security level is {}", *level);
    if (!no_new_privs && !has_sys_admin) {
        if (privileged) {
            // Added for the tracer, which removes it before the app's exec (--drop-cap-sys-admin);
            // from the bounding set only with CAP_SETPCAP, which a root app would otherwise regain.
            plan.add_sys_admin = true;
            if (names_capability(caps, "drop", "SETPCAP") && !names_capability(caps, "add", "SETPCAP"))
                plan.caveats.push_back(
                    "the copy's container had CAP_SYS_ADMIN added so that the profile's filter could be "
                    "installed without no_new_privs, and the pod drops CAP_SETPCAP, without which the "
                    "tracer could not remove it from the bounding set: an app running as root had it, "
                    "unlike in the pod");
        } else
            plan.caveats.push_back(
                "the tracer ran the app with no_new_privs (its filter needs it or CAP_SYS_ADMIN, and " +
                where + "): setuid and file-capability programs behaved differently than in the pod");
    }
    if (privileged) {
        plan.unconfined = true;
    } else {
        plan.caveats.push_back("the copy ran under RuntimeDefault (" + where +
                               "): calls RuntimeDefault refuses were not checked (refused before the profile "
                               "under test saw them)");
    }
    return plan;
}

}  // namespace ksc::fromstart
