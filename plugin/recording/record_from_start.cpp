// The requests of `record --from-start`, in order: the pod (or a Deployment's template), what its
// container runs (pod spec, registry, --command), the copy, its start, the exec that carries the
// tracer's socket, the recording, the profile, the copy's deletion. The pod copy itself is
// from_start.cpp's, unit-tested there.
#include "record_from_start.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <thread>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "api_client.h"
#include "cluster.h"
#include "compact_summary.h"
#include "exit_status.h"
#include "from_start.h"
#include "interrupts.h"
#include "kubeconfig.h"
#include "profile_output.h"
#include "recording.h"
#include "registry_client.h"
#include "stream.h"
#include "syscall_table.h"
#include "user_error.h"
#include "version.h"
#include "websocket.h"

namespace ksc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string json_string(const rapidjson::Value& v, const char* key) {
    if (!v.IsObject()) return "";
    auto it = v.FindMember(key);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

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
    if (pod.HasMember("metadata") && pod["metadata"].HasMember("annotations")) {
        std::string def =
            json_string(pod["metadata"]["annotations"], "kubectl.kubernetes.io/default-container");
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
    doc.Parse(json->c_str());
    if (doc.HasParseError() || !doc.HasMember("metadata") || !doc["metadata"].HasMember("labels")) return p;
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
        doc.Parse(json->c_str());
        if (doc.HasParseError() || !doc.HasMember("data") || !doc["data"].IsObject()) continue;
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

// The compact summary the tracer leaves as the container's termination message.
void add_compact_summary(RecordingBuilder& builder, const std::string& message) {
    builder.add_compact_summary(message);
}

Status send_command(kube::WebSocket& ws, stream::Command c) {
    return ws.send(kube::Opcode::Binary,
                   kube::channel_message(kube::kStdin, std::string(stream::command_text(c)) + "\n"));
}

}  // namespace

int record_from_start(const CommonFlags& common, const FromStartOptions& o) {
    // 1. The cluster.
    install_interrupt_handlers();
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;
    const std::string ns = cluster.namespace_name;
    const std::string pods_path = "/api/v1/namespaces/" + ns + "/pods";

    // 2. The pod to copy: a pod, or what a Deployment's pods are made from.
    std::string target = o.target, pod_json;
    auto slash = target.find('/');
    std::string kind = slash == std::string::npos ? "pod" : target.substr(0, slash);
    std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
    if (kind == "pod" || kind == "pods" || kind == "po") {
        auto got = client.get(pods_path + "/" + name);
        if (!got) throw UserError(got.error().message);
        pod_json = *got;
    } else if (kind == "deploy" || kind == "deployment" || kind == "deployments") {
        auto got = client.get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
        if (!got) throw UserError(got.error().message);
        auto pod = fromstart::pod_from_template(*got);
        if (!pod) throw UserError("deployment " + name + ": " + pod.error().message);
        pod_json = *pod;
    } else {
        throw UserError("\"" + target +
                        "\": --from-start copies a pod (POD) or a Deployment's pods (deploy/NAME)");
    }
    rapidjson::Document pod;
    pod.Parse(pod_json.c_str());
    if (pod.HasParseError() || !pod.HasMember("spec") || !pod["spec"].HasMember("containers"))
        throw UserError("the API server's answer for " + target + " is not a pod");
    const std::string container = choose_container(pod, o.container);
    auto spec_command = fromstart::container_command(pod_json, container);
    if (!spec_command) throw UserError(spec_command.error().message);

    // 3. What the container runs: the pod spec's command, else --command, else the image's config.
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

    // 4. The copy.
    fromstart::CopySpec cs;
    cs.name = fromstart::copy_name(name);
    cs.container = container;
    cs.tracer_image = o.image;
    cs.image_pull_policy = o.image_pull_policy;
    cs.launch = launch;
    cs.no_filter = o.no_filter;
    auto copy = fromstart::copy_pod_json(pod_json, cs);
    if (!copy) throw UserError(copy.error().message);
    auto created = client.request("POST", pods_path, *copy, "application/json");
    if (!created) throw UserError(created.error().message);
    if (!created->ok()) {
        auto st = kube::api_status(*created);
        std::string msg = st.message.empty() ? fmt::format("HTTP {}", st.code) : st.message;
        if (st.code == 403 && st.message.find("violates PodSecurity") == std::string::npos)
            msg += " (--from-start needs `create` and `delete` on pods and `create` on pods/exec)";
        throw UserError("cannot create the copy of " + target + ": " + msg);
    }
    const std::string copy_path = pods_path + "/" + cs.name;
    note(fmt::format("created pod {} (a copy of {}, without its labels){}", cs.name, target,
                     o.keep ? "" : "; it is deleted at the end (--keep leaves it)"));
    bool deleted = false;
    auto delete_copy = [&]() {
        if (o.keep || deleted) return;
        deleted = true;
        auto r = client.request("DELETE", copy_path + "?gracePeriodSeconds=1");
        if (!r || (!r->ok() && r->status != 404))
            warn(fmt::format("could not delete pod {}: {}: delete it with kubectl delete pod {} -n {}",
                             cs.name, r ? kube::api_status(*r).message : r.error().message, cs.name, ns));
    };
    struct Cleanup {
        std::function<void()> f;
        ~Cleanup() { f(); }
    } cleanup{delete_copy};

    // 5. Until the app container runs under the tracer.
    std::optional<std::string> failure;
    fromstart::CopyState started;
    auto watched = client.watch(
        pods_path + "?fieldSelector=" + kube::url_encode("metadata.name=" + cs.name), "",
        [&](const kube::WatchEvent& ev) {
            if (ev.type == "DELETED") {
                failure = "pod " + cs.name + " was deleted";
                return false;
            }
            started = fromstart::copy_state(ev.object_json, container);
            if (started.kind == fromstart::CopyState::Failed) failure = started.why;
            return started.kind == fromstart::CopyState::Starting && interrupts() == 0;
        },
        o.start_timeout);
    if (interrupts()) return kExitInterrupted;
    if (failure) {
        std::string hint = failure->find("Image") != std::string::npos
                               ? ". Is the tracer image reachable from the node? Give another with --image"
                               : "";
        throw UserError("the copy " + cs.name + " cannot start: " + *failure + hint);
    }
    if (started.kind == fromstart::CopyState::Starting)
        throw UserError(
            fmt::format("the copy {} did not start within {}s{}: see kubectl describe pod {} -n {}", cs.name,
                        o.start_timeout.count() / 1000, watched ? "" : " (" + watched.error().message + ")",
                        cs.name, ns));

    // 6. Carry the tracer's socket over an exec in the app container (docs/from-start.md says why).
    RecordingBuilder builder;
    stream::LineSplitter splitter;
    bool hello = false;
    std::string exec_path = copy_path + "/exec?container=" + kube::url_encode(container);
    for (const auto& arg : fromstart::connect_command()) exec_path += "&command=" + kube::url_encode(arg);
    exec_path += "&stdin=true&stdout=true&stderr=true";
    auto exec = [&]() -> Result<std::unique_ptr<kube::WebSocket>> {
        std::vector<std::string> headers;
        auto stream = client.connect_raw(headers);
        if (!stream) return stream.error();
        auto ws = kube::WebSocket::connect(std::move(*stream), client.host_header(), exec_path,
                                           {kube::kChannelV5, kube::kChannelV4}, headers, 30s);
        if (!ws) return make_error("cannot exec into the copy: " + ws.error().message);
        if (auto s = send_command(**ws, stream::Command::Snapshot); !s) return s.error();
        return ws;
    };
    std::unique_ptr<kube::WebSocket> ws;
    std::string end_reason;
    const auto started_at = Clock::now();
    bool stopping = false, finished = false, app_ended = false;
    Clock::time_point stop_deadline{}, last_ping = Clock::now(), last_view = Clock::now();
    int connects = 0;
    while (!finished) {
        if (interrupts() >= 2) {
            fmt::print(stderr, "interrupted: no profile written\n");
            return kExitInterrupted;
        }
        if (!ws) {
            // The tracer makes its socket as it starts: the first exec can come before it.
            if (++connects > 20) throw UserError("cannot reach the tracer in " + cs.name + ": " + end_reason);
            auto again = exec();
            if (!again) {
                end_reason = again.error().message;
                std::this_thread::sleep_for(500ms);
                continue;
            }
            ws = std::move(*again);
            splitter = stream::LineSplitter();
        }
        auto now = Clock::now();
        if (!stopping && (interrupts() == 1 || (o.duration && now - started_at >= *o.duration))) {
            stopping = true;
            stop_deadline = now + 30s;
            note(interrupts() ? "stopping: waiting for the tracer's summary"
                              : "--duration reached: stopping");
            (void)send_command(*ws, stream::Command::Stop);
        }
        if (stopping && now > stop_deadline) {
            warn("the tracer sent no final summary in 30s: writing what was streamed");
            break;
        }
        if (now - last_ping > 5s) {
            last_ping = now;
            (void)send_command(*ws, stream::Command::Ping);
        }
        if (hello && now - last_view > 10s) {
            last_view = now;
            note(fmt::format("recording {}/{} from its start: {}s, {} syscalls", cs.name, container,
                             std::chrono::duration_cast<std::chrono::seconds>(now - started_at).count(),
                             builder.peek().syscalls.size()));
        }
        auto msg = ws->receive(200ms);
        bool lost = !msg;
        if (msg && *msg) {
            auto data = kube::parse_channel_message((**msg).payload);
            if (data && data->channel == kube::kStdout) {
                for (const auto& line : splitter.feed(data->data)) {
                    if (line.empty()) continue;
                    auto event = stream::decode(line);
                    if (!event) continue;
                    if (const auto* h = std::get_if<stream::Hello>(&*event)) {
                        if (h->protocol_major != stream::kProtocolMajor)
                            throw UserError(
                                fmt::format("the tracer speaks stream protocol {}.{}, this kubectl-seccomp "
                                            "{}.{}: use --image {}",
                                            h->protocol_major, h->protocol_minor, stream::kProtocolMajor,
                                            stream::kProtocolMinor, kDefaultTracerImage));
                        hello = true;
                    } else if (const auto* m = std::get_if<stream::Message>(&*event)) {
                        warn(std::string(m->is_error ? "tracer error: " : "tracer warning: ") + m->message);
                    } else if (const auto* sc = std::get_if<stream::Syscall>(&*event);
                               sc && common.verbosity > 0) {
                        note("new syscall: " + (sc->name.empty() ? std::to_string(sc->nr) : sc->name));
                    }
                    builder.add(*event);
                }
                // A final summary unasked for: the app exited and the tracer is done.
                if (builder.peek().final_summary) {
                    finished = true;
                    if (!stopping) note("the app exited: the recording ends there");
                }
            } else if (data && data->channel == kube::kStderr && !data->data.empty()) {
                end_reason = data->data.substr(0, data->data.find_last_not_of('\n') + 1);
                if (hello) warn("tracer: " + end_reason);
            } else if (data && data->channel == kube::kStatus && !data->data.empty()) {
                kube::Response r;
                r.body = data->data;
                if (auto st = kube::api_status(r); !st.message.empty()) end_reason = st.message;
            }
        } else if (!msg) {
            end_reason = end_reason.empty() ? msg.error().message : end_reason;
        }
        if (ws->closed()) lost = true;
        if (lost && !finished) {
            ws.reset();
            // The app ended (the tracer with it, as PID 1), or only the connection did.
            auto p = client.get(copy_path);
            auto st = p ? fromstart::copy_state(*p, container) : fromstart::CopyState{};
            if (st.kind == fromstart::CopyState::Ended) {
                app_ended = true;
                note(st.why + ": the recording ends there");
                add_compact_summary(builder, st.termination_message);
                break;
            }
            if (!hello) continue;  // not connected yet: try again (bounded above)
            if (connects > 20) break;
            warn("the exec connection broke (" + end_reason + "): connecting again");
        }
    }
    if (ws && !ws->closed()) (void)ws->close();
    (void)app_ended;

    // 7. The profile, then the copy goes (Cleanup).
    const Recording& recording = builder.peek();
    if (recording.syscalls.empty())
        throw UserError("the tracer sent nothing" + (end_reason.empty() ? std::string() : ": " + end_reason) +
                        fmt::format(": see kubectl logs {} -c {} -n {} (run with --keep to look)", cs.name,
                                    container, ns));
    auto output = render_recording(recording, common.output_format, o.record_options, name + "-" + container);
    if (!output) throw UserError(output.error().message);
    if (auto w = write_output(common, *output); !w) throw UserError(w.error().message);
    note(fmt::format("recorded {} syscalls of {} from its first one, in {}s{}", recording.syscalls.size(),
                     container,
                     std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_at).count(),
                     common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    return kExitSuccess;
}

}  // namespace ksc::cli
