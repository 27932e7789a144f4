// The requests of `record --from-start`, in order: the pod (or a Deployment's template), what its
// container runs (pod spec, registry, --command), the copy, its start, the exec that carries the
// tracer's socket, the recording, the profile, the copy's deletion. The pod copy itself is
// from_start.cpp's, unit-tested there.
#include "record_from_start.h"

#include "bounded_json.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <thread>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "api_client.h"
#include "base64.h"
#include "check_report.h"
#include "cluster.h"
#include "exit_status.h"
#include "from_start.h"
#include "interrupts.h"
#include "kubeconfig.h"
#include "live_view.h"
#include "profile_fix.h"
#include "profile_json.h"
#include "profile_output.h"
#include "profile_spo.h"
#include "recording.h"
#include "recording_session.h"
#include "registry_client.h"
#include "stream.h"
#include "tracer_channels.h"
#include "user_error.h"
#include "version.h"
#include "websocket.h"

namespace ksc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string quote_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t'\"\\$") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

// The container to record: -c, else the default-container annotation, else the only one.
std::string choose_container(const rapidjson::Document& pod, const std::string& flag) {
    std::vector<std::string> names;
    for (const auto& c : pod["spec"]["containers"].GetArray()) names.push_back(json_string(c, "name"));
    if (!flag.empty()) {
        for (const auto& n : names)
            if (n == flag) return n;
        throw UserError(
            fmt::format("the pod has no container \"{}\" (it has: {})", flag, fmt::join(names, ", ")));
    }
    const rapidjson::Value* meta = json_object(pod, "metadata");
    if (const rapidjson::Value* annotations = meta ? json_object(*meta, "annotations") : nullptr) {
        std::string def = json_string(*annotations, "kubectl.kubernetes.io/default-container");
        if (!def.empty()) return def;
    }
    if (names.size() == 1) return names.front();
    throw UserError(fmt::format("the pod has {} containers: choose one with -c ({})", names.size(),
                                fmt::join(names, ", ")));
}

// The node's platform from its labels; this machine's when the node cannot be read.
registry::Platform node_platform(kube::ApiClient& client, const std::string& node, int verbosity) {
    registry::Platform p = registry::host_platform();
    if (node.empty()) return p;
    auto json = client.get("/api/v1/nodes/" + node);
    if (!json) {
        if (verbosity > 0)
            warn("cannot read node " + node + " (" + json.error().message + "): assuming " + p.str());
        return p;
    }
    rapidjson::Document doc;
    if (!parse_bounded_json(doc, *json) || !doc.IsObject() || !doc.HasMember("metadata") ||
        !doc["metadata"].IsObject() || !doc["metadata"].HasMember("labels"))
        return p;
    const auto& labels = doc["metadata"]["labels"];
    if (auto os = json_string(labels, "kubernetes.io/os"); !os.empty()) p.os = os;
    if (auto arch = json_string(labels, "kubernetes.io/arch"); !arch.empty() && arch != p.architecture) {
        p.architecture = arch;
        p.variant.clear();
    }
    return p;
}

// The pod's imagePullSecrets as one keyring; a secret we may not read is a warning.
registry::Keyring pull_secrets(kube::ApiClient& client, const std::string& ns,
                               const std::vector<std::string>& names) {
    registry::Keyring ring;
    for (const auto& name : names) {
        auto json = client.get("/api/v1/namespaces/" + ns + "/secrets/" + name);
        if (!json) {
            warn("cannot read the image pull secret " + name + ": " + json.error().message +
                 " (trying without it)");
            continue;
        }
        rapidjson::Document doc;
        if (!parse_bounded_json(doc, *json) || !doc.IsObject() || !doc.HasMember("data") ||
            !doc["data"].IsObject())
            continue;
        std::string encoded = json_string(doc["data"], ".dockerconfigjson");
        if (encoded.empty()) encoded = json_string(doc["data"], ".dockercfg");
        auto decoded = base64_decode(encoded);
        if (!decoded) continue;
        auto parsed = registry::parse_docker_config(*decoded);
        if (!parsed) {
            warn("image pull secret " + name + ": " + parsed.error().message);
            continue;
        }
        for (auto& [k, v] : *parsed) ring.emplace(k, v);
    }
    return ring;
}

// The pod to copy: a pod, or what a Deployment's pods are made from. Its name, and its JSON.
std::pair<std::string, std::string> pod_to_copy(kube::ApiClient& client, const std::string& ns,
                                                const std::string& target) {
    auto slash = target.find('/');
    std::string kind = slash == std::string::npos ? "pod" : target.substr(0, slash);
    std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
    if (kind == "pod" || kind == "pods" || kind == "po") {
        auto got = client.get("/api/v1/namespaces/" + ns + "/pods/" + name);
        if (!got) throw UserError(got.error().message);
        return {name, *got};
    }
    if (kind == "deploy" || kind == "deployment" || kind == "deployments") {
        auto got = client.get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
        if (!got) throw UserError(got.error().message);
        auto pod = fromstart::pod_from_template(*got);
        if (!pod) throw UserError("deployment " + name + ": " + pod.error().message);
        return {name, *pod};
    }
    throw UserError("\"" + target +
                    "\": --from-start copies a pod (POD) or a Deployment's pods (deploy/NAME)");
}

// What the container runs: the pod spec's command, else --command, else the image's config.
std::vector<std::string> launch_command(kube::ApiClient& client, const std::string& ns,
                                        const std::string& pod_json, const std::string& container,
                                        const CommonFlags& common, const FromStartOptions& o) {
    auto spec_command = fromstart::container_command(pod_json, container);
    if (!spec_command) throw UserError(spec_command.error().message);
    std::vector<std::string> launch;
    std::string source;
    if (!spec_command->needs_image_config()) {
        launch = *fromstart::effective_command(*spec_command, nullptr);
        source = "the pod spec's command and args";
        if (!o.command.empty()) warn("--command is not used: the pod spec says what " + container + " runs");
    } else if (!o.command.empty()) {
        auto parsed = fromstart::parse_command_flag(o.command);
        if (!parsed) throw UserError(parsed.error().message);
        launch = *parsed;
        source = "--command";
    } else {
        auto ref = registry::parse_image_reference(spec_command->image);
        if (!ref) throw UserError(ref.error().message + ": give the command with --command");
        auto platform = node_platform(client, spec_command->node, common.verbosity);
        auto ring = pull_secrets(client, ns, spec_command->image_pull_secrets);
        registry::RegistryOptions ro;
        ro.ca_file = o.registry_ca_file;
        ro.verbosity = common.verbosity;
        registry::RegistryClient registry_client(ro);
        auto image = registry_client.image_config(*ref, platform, registry::find_credential(ring, *ref));
        if (!image)
            throw UserError("cannot read what " + container + " runs from its image's config: " +
                            image.error().message + ". Give the command with --command");
        auto argv = fromstart::effective_command(*spec_command, &*image);
        if (!argv) throw UserError(argv.error().message);
        launch = *argv;
        source = fmt::format("the image's config ({}{}{})", ref->str(), image->platform.empty() ? "" : ", ",
                             image->platform) +
                 (spec_command->args ? " and the pod spec's args" : "");
    }
    note(fmt::format("{} runs: {} (from {})", container, quote_argv(launch), source));
    return launch;
}

// The copy of the pod, created; deleted when this goes out of scope unless --keep.
class PodCopy {
  public:
    PodCopy(kube::ApiClient& client, std::string ns, fromstart::CopySpec spec, bool keep)
        : client_(client), ns_(std::move(ns)), spec_(std::move(spec)), keep_(keep) {}
    PodCopy(const PodCopy&) = delete;
    PodCopy& operator=(const PodCopy&) = delete;
    ~PodCopy() { remove(); }

    const std::string& name() const { return spec_.name; }
    // Another spec, before create() succeeded.
    void reset(fromstart::CopySpec spec) { spec_ = std::move(spec); }
    const std::string& container() const { return spec_.container; }
    std::string path() const { return "/api/v1/namespaces/" + ns_ + "/pods/" + spec_.name; }

    void create(const std::string& pod_json, const std::string& target) {
        auto copy = fromstart::copy_pod_json(pod_json, spec_);
        if (!copy) throw UserError(copy.error().message);
        auto created =
            client_.request("POST", "/api/v1/namespaces/" + ns_ + "/pods", *copy, "application/json");
        if (!created) throw UserError(created.error().message);
        if (!created->ok()) {
            auto st = kube::api_status(*created);
            std::string msg = st.message.empty() ? fmt::format("HTTP {}", st.code) : st.message;
            throw UserError("cannot create the copy of " + target + ": " + msg);
        }
        created_ = true;
        note(fmt::format("created pod {} (a copy of {}, without its labels){}", spec_.name, target,
                         keep_ ? "" : "; it is deleted at the end (--keep leaves it)"));
    }

  private:
    void remove() {
        if (keep_ || !created_) return;
        created_ = false;
        auto r = client_.request("DELETE", path() + "?gracePeriodSeconds=1");
        if (!r || (!r->ok() && r->status != 404))
            warn(fmt::format("could not delete pod {}: {}: delete it with kubectl delete pod {} -n {}",
                             spec_.name, r ? kube::api_status(*r).message : r.error().message, spec_.name,
                             ns_));
    }

    kube::ApiClient& client_;
    std::string ns_;
    fromstart::CopySpec spec_;
    bool keep_;
    bool created_ = false;
};

// Until the app container runs under the tracer. False when interrupted; throws when it will not.
bool wait_for_copy(kube::ApiClient& client, const std::string& ns, const PodCopy& copy,
                   std::chrono::milliseconds timeout) {
    std::optional<std::string> failure;
    fromstart::CopyState started;
    auto watched = client.watch(
        "/api/v1/namespaces/" + ns +
            "/pods?fieldSelector=" + kube::url_encode("metadata.name=" + copy.name()),
        "",
        [&](const kube::WatchEvent& ev) {
            if (ev.type == "DELETED") {
                failure = "pod " + copy.name() + " was deleted";
                return false;
            }
            started = fromstart::copy_state(ev.object_json, copy.container());
            if (started.kind == fromstart::CopyState::Failed) failure = started.why;
            return started.kind == fromstart::CopyState::Starting && interrupts() == 0;
        },
        timeout);
    if (interrupts()) return false;
    if (failure) {
        std::string hint = failure->find("Image") != std::string::npos
                               ? ". Is the tracer image reachable from the node? Give another with --image"
                               : "";
        throw UserError("the copy " + copy.name() + " cannot start: " + *failure + hint);
    }
    if (started.kind == fromstart::CopyState::Starting)
        throw UserError(fmt::format(
            "the copy {} did not start within {}s{}: see kubectl describe pod {} -n {}", copy.name(),
            timeout.count() / 1000, watched ? "" : " (" + watched.error().message + ")", copy.name(), ns));
    return true;
}

// The recording, over an exec in the app container that carries the tracer's socket
// (docs/from-start.md says why): connects (the first exec can come before the tracer made its
// socket), reconnects when only the connection broke, and ends with the app.
class CopyRecording {
  public:
    CopyRecording(kube::ApiClient& client, const PodCopy& copy, const CommonFlags& common)
        : client_(client), copy_(copy), session_(make_session(common)) {
        exec_path_ = copy.path() + "/exec?container=" + kube::url_encode(copy.container());
        for (const auto& arg : fromstart::connect_command())
            exec_path_ += "&command=" + kube::url_encode(arg);
        exec_path_ += "&stdin=true&stdout=true&stderr=true";
    }

    // False on a second Ctrl-C.
    bool run(std::optional<std::chrono::milliseconds> duration) {
        using State = rec::RecordingSession::State;
        for (;;) {
            if (interrupts() >= 2) return false;
            if (!session_.connected() && !connect()) {
                // The app may have ended before any exec reached the tracer (an app that fails at
                // once under an enforced check): then only its termination message is left.
                if (connects_ % 4 == 0 && app_ended()) return true;
                continue;
            }
            auto now = Clock::now();
            if (!session_.stopping() && (interrupts() == 1 || (duration && now - started_ >= *duration))) {
                note(interrupts() ? "stopping: waiting for the tracer's summary"
                                  : "--duration reached: stopping");
                session_.request_stop();
            }
            if (session_.hello_seen() && now - last_view_ > 10s) {
                last_view_ = now;
                note(fmt::format("recording {}/{} from its start: {}s, {} syscalls", copy_.name(),
                                 copy_.container(),
                                 std::chrono::duration_cast<std::chrono::seconds>(now - started_).count(),
                                 session_.recording().syscalls.size()));
            }
            switch (session_.step(200ms)) {
                case State::Recording:
                    continue;
                case State::Done:
                    // A final summary unasked for: the app exited and the tracer is done.
                    if (!session_.stopping()) {
                        note("the app exited: the recording ends there");
                        app_exited_ = true;
                    }
                    return true;
                case State::StopTimedOut:
                    warn("the tracer sent no final summary in 30s: writing what was streamed");
                    return true;
                case State::Failed:
                    throw UserError(*session_.fatal());
                case State::Lost:
                case State::Ended:
                    if (!on_lost()) return true;
            }
        }
    }

    const rec::RecordingSession& session() const { return session_; }
    std::string end_reason() const { return stderr_.empty() ? session_.end_reason() : stderr_; }
    Clock::time_point started() const { return started_; }
    // The app exited by itself (not stopped by Ctrl-C or --duration).
    bool app_exited() const { return app_exited_; }

  private:
    rec::RecordingSession make_session(const CommonFlags& common) {
        rec::SessionPolicy policy;
        policy.protocol_remedy = "use --image " + std::string(kDefaultTracerImage);
        rec::SessionEvents events;
        events.message = [](const stream::Message& m) {
            warn(std::string(m.is_error ? "tracer error: " : "tracer warning: ") + m.message);
        };
        if (common.verbosity > 0)
            events.syscall = [](const stream::Syscall& sc, bool) {
                note("new syscall: " + (sc.name.empty() ? std::to_string(sc.nr) : sc.name));
            };
        events.denial = [](const stream::Denial& d, bool first) {
            if (first) note(denial_line(d));
        };
        events.diagnostics = [this](const std::string& text) {
            stderr_ = text;
            if (session_.hello_seen()) warn("tracer: " + text);
        };
        return rec::RecordingSession(std::move(policy), std::move(events));
    }

    // One exec; false (after a pause) when it failed. Throws after 20 attempts.
    bool connect() {
        if (++connects_ > 20)
            throw UserError("cannot reach the tracer in " + copy_.name() + ": " + end_reason());
        auto ws = kube::open_websocket(client_, exec_path_, {kube::kChannelV5, kube::kChannelV4}, 30s);
        if (!ws) ws = make_error("cannot exec into the copy: " + ws.error().message);
        Status connected =
            ws ? session_.connect(std::make_unique<rec::WebSocketChannel>(std::move(*ws))) : ws.error();
        if (connected) return true;
        session_.disconnect();
        stderr_ = connected.error().message;
        std::this_thread::sleep_for(500ms);
        return false;
    }

    // Whether the app ended; its termination message (the compact summary) then joins the recording.
    bool app_ended() {
        auto p = client_.get(copy_.path());
        auto st = p ? fromstart::copy_state(*p, copy_.container()) : fromstart::CopyState{};
        if (st.kind != fromstart::CopyState::Ended) return false;
        app_exited_ = true;
        note(st.why + ": the recording ends there");
        (void)session_.add_compact_summary(st.termination_message);
        return true;
    }

    // The app ended (the tracer with it, as PID 1), or only the connection did. False: the
    // recording is over.
    bool on_lost() {
        session_.disconnect();
        if (app_ended()) return false;
        if (!session_.hello_seen()) return true;  // not connected yet: try again (bounded in connect)
        if (connects_ > 20) return false;
        warn("the exec connection broke (" + end_reason() + "): connecting again");
        return true;
    }

    kube::ApiClient& client_;
    const PodCopy& copy_;
    rec::RecordingSession session_;
    std::string exec_path_;
    std::string stderr_;  // the last the tracer or the exec said
    int connects_ = 0;
    bool app_exited_ = false;
    const Clock::time_point started_ = Clock::now();
    Clock::time_point last_view_ = Clock::now();
};

// record --baseline: the baseline plus what it refused, in -o's format (report: the check's report).
int write_grown_baseline(const CommonFlags& common, const FromStartOptions& o, const FromStartRun& run) {
    if (!run.recording.check)
        throw UserError(
            fmt::format("the tracer did not run the baseline's filter (its image speaks stream "
                        "protocol before 1.2): use --image {}",
                        kDefaultTracerImage));
    CheckResult r;
    r.target = fmt::format("{}/{} (a copy of {})", run.copy, run.container, run.pod);
    r.profile_path = o.baseline_path;
    r.mode = "complain";
    r.seconds = run.seconds;
    r.complete = run.recording.final_summary;
    r.instructions = run.recording.check->instructions;
    r.denials = check_denials(run.recording, run.end.ready_after, true);
    // Refused by the baseline's own errno rules (clone3's ENOSYS): its answer stays, nothing added.
    classify_denials(r.denials, *o.baseline, false);
    r.caveats = run.caveats;
    r.caveats.push_back(
        "calls inside the baseline are never seen (its filter lets them through without a "
        "stop): the result can only grow");
    FixedProfile grown = fix_profile(*o.baseline, r.denials);
    for (const auto& n : grown.notes) note(n);
    std::string out;
    if (common.output_format == "report") {
        out = write_check_report(r, *o.baseline);
    } else if (common.output_format == "yaml") {
        SeccompProfileDoc doc;
        doc.name = to_object_name(run.pod + "-" + run.container);
        doc.profile = grown.profile;
        auto y = write_seccomp_profiles_yaml({doc});
        if (!y) throw UserError(y.error().message);
        out = *y;
    } else {
        out = write_profile_json(grown.profile);
    }
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    note(
        fmt::format("the baseline {} plus {} new call{}{}; calls inside the baseline are never seen, so the "
                    "profile only grows",
                    o.baseline_path, grown.added, grown.added == 1 ? "" : "s",
                    common.output_file.empty() ? "" : ", written to " + common.output_file));
    for (const auto& c : run.caveats) note(c);
    return kExitSuccess;
}

}  // namespace

std::optional<FromStartRun> run_from_start(const CommonFlags& common, const FromStartOptions& o) {
    // 1. The cluster.
    install_interrupt_handlers();
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;
    const std::string ns = cluster.namespace_name;

    // 2. The pod to copy, and its container.
    auto [name, pod_json] = pod_to_copy(client, ns, o.target);
    rapidjson::Document pod;
    if (!parse_bounded_json(pod, pod_json) || !pod.IsObject() || !json_object(pod, "spec") ||
        !json_array(pod["spec"], "containers"))
        throw UserError("the API server's answer for " + o.target + " is not a pod");
    const std::string container = choose_container(pod, o.container);

    // 3. What the container runs.
    fromstart::CopySpec cs;
    cs.launch = launch_command(client, ns, pod_json, container, common, o);

    // 4. The copy (deleted when this function leaves, unless --keep). A check's copy is as close
    // to the pod as the namespace's Pod Security level lets it be (docs/check.md).
    FromStartRun run;
    run.pod = name;
    run.container = container;
    cs.name = fromstart::copy_name(name);
    cs.container = container;
    cs.tracer_image = o.image;
    cs.image_pull_policy = o.image_pull_policy;
    cs.no_filter = o.no_filter;
    cs.tracer_args = o.tracer_args;
    std::optional<std::string> level;
    if (o.check_copy) {
        auto ns_json = client.get("/api/v1/namespaces/" + ns);
        if (ns_json) level = fromstart::pod_security_level(*ns_json);
        auto plan = fromstart::plan_check_copy(pod_json, container, level);
        cs.unconfined = plan.unconfined;
        cs.add_sys_admin = plan.add_sys_admin;
        run.caveats = plan.caveats;
    }
    run.copy = cs.name;
    PodCopy copy(client, ns, cs, o.keep);
    try {
        copy.create(pod_json, o.target);
    } catch (const UserError& e) {
        // No label, and an admission configuration whose default level is stricter: once more as
        // the restricted level allows.
        if (!o.check_copy || !level || !level->empty() ||
            std::string(e.what()).find("violates PodSecurity") == std::string::npos)
            throw;
        auto plan = fromstart::plan_check_copy(pod_json, container, std::string("restricted"));
        cs.unconfined = plan.unconfined;
        cs.add_sys_admin = plan.add_sys_admin;
        run.caveats = plan.caveats;
        warn("Pod Security refused the copy's Unconfined profile or CAP_SYS_ADMIN: trying without them");
        copy.reset(cs);
        copy.create(pod_json, o.target);
    }

    // 5. Until the app container runs under the tracer.
    if (!wait_for_copy(client, ns, copy, o.start_timeout)) return std::nullopt;

    // 6. The recording.
    CopyRecording recording(client, copy, common);
    if (!recording.run(o.duration)) return std::nullopt;

    // 7. The copy's end (the app's exit, when it exited), read before the copy goes.
    run.recording = recording.session().recording();
    // The kubelet reports the container's end a moment after the tracer's last line: wait for it
    // (up to 10 s) when the app exited by itself.
    for (auto deadline = Clock::now() + 10s;;) {
        if (auto p = client.get(copy.path())) run.end = fromstart::copy_state(*p, container);
        if (!recording.app_exited() || run.end.kind == fromstart::CopyState::Ended ||
            Clock::now() > deadline || interrupts())
            break;
        std::this_thread::sleep_for(300ms);
    }
    run.seconds = std::chrono::duration<double>(Clock::now() - recording.started()).count();
    const std::string why = recording.end_reason();
    run.stream_read = recording.session().hello_seen();
    // With a check filter the tracer stops only at refused calls: an empty recording is normal then;
    // and an app that ended before its stream was read left its termination message.
    const bool app_ended = run.end.kind == fromstart::CopyState::Ended;
    if (run.recording.syscalls.empty() && (o.tracer_args.empty() || (!run.stream_read && !app_ended)))
        throw UserError("the tracer sent nothing" + (why.empty() ? std::string() : ": " + why) +
                        fmt::format(": see kubectl logs {} -c {} -n {} (run with --keep to look)",
                                    copy.name(), container, ns));
    return run;
}

int record_from_start(const CommonFlags& common, const FromStartOptions& o) {
    auto run = run_from_start(common, o);
    if (!run) {
        fmt::print(stderr, "interrupted: no profile written\n");
        return kExitInterrupted;
    }
    if (o.baseline) return write_grown_baseline(common, o, *run);
    write_recording_profile(common, run->recording, o.record_options, run->pod + "-" + run->container);
    note(fmt::format("recorded {} syscalls of {} from its first one, in {:.0f}s{}",
                     run->recording.syscalls.size(), run->container, run->seconds,
                     common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    return kExitSuccess;
}

}  // namespace ksc::cli
