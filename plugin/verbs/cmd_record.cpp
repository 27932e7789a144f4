// `kubectl seccomp record POD [-c CONTAINER]`: add a recorder (ephemeral container running
// seccomp-tracer in attach mode) to a running pod, read its stream over pods/attach, and write the
// profile when the user stops (Ctrl-C once), --duration passes, or the app's container ends.
// The flow is docs/design.md's: version, pod, PATCH ephemeralcontainers, watch, attach, stop. The
// pods come from pod_selection.h, each recorder is a RecorderRun (recorder_run.h), --from-start is
// record_from_start.h's.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "api_client.h"
#include "check_program.h"
#include "cluster.h"
#include "common_flags.h"
#include "exit_status.h"
#include "interrupts.h"
#include "live_view.h"
#include "pod_selection.h"
#include "profile_inputs.h"
#include "profile_output.h"
#include "record_from_start.h"
#include "recorder_flags.h"
#include "recorder_run.h"
#include "recording.h"
#include "user_error.h"
#include "verbs.h"
#include "version.h"

namespace ksc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using Runs = std::vector<std::unique_ptr<RecorderRun>>;

void declare_flags(VerbFlags& flags) {
    flags.add_options()("c,container",
                        "The container to record (default: the pod's only or default container)",
                        cxxopts::value<std::string>())("duration", "Stop after this long (e.g. 5m)",
                                                       cxxopts::value<std::string>())(
        "image", "The recorder image", cxxopts::value<std::string>()->default_value(kDefaultTracerImage))(
        "image-pull-policy", "Always|IfNotPresent|Never (default: the cluster's)",
        cxxopts::value<std::string>())("privileges", "How the recorder may trace: auto|same-user|ptrace",
                                       cxxopts::value<std::string>()->default_value("auto"))(
        "timeout", "How long to wait for the recorder to start",
        cxxopts::value<std::string>()->default_value("2m"))(
        "from-start", "Record a copy of the pod from its first syscall (docs/from-start.md)")(
        "keep", "--from-start: leave the copy of the pod when done")(
        "command",
        "--from-start: the command the container runs, when neither the pod spec nor the registry says",
        cxxopts::value<std::string>())(
        "no-filter",
        "--from-start: trace without the tracer's seccomp filter (two stops per syscall; setuid works)")(
        "registry-ca-file", "--from-start: a CA bundle for the image's registry",
        cxxopts::value<std::string>())(
        "baseline",
        "--from-start: record only what this profile lacks (its filter in complain mode); the result is the "
        "baseline plus what is new (docs/check.md)",
        cxxopts::value<std::string>())(
        "l,selector", "Record the Ready pods matching this label selector (one, or --replicas)",
        cxxopts::value<std::string>())(
        "replicas", "deploy/NAME or -l: how many Ready pods to record, a count or all (default 1); merged",
        cxxopts::value<std::string>())("all-containers",
                                       "Record every app container of each pod (one recorder each); merged");
    add_profile_flags(flags);
    flags.set_positional("pod", "POD | deploy/NAME",
                         "The pod (POD), a Deployment (deploy/NAME), or none with -l", 0, 1,
                         "one pod (POD or deploy/NAME), or none with -l SELECTOR");
    flags.set_examples(
        "  # Record the app container of pod web-0 until Ctrl-C, write OCI seccomp JSON\n"
        "  kubectl seccomp record web-0 -c app --output-file web.json\n"
        "  # Five minutes, as a Security Profiles Operator SeccompProfile\n"
        "  kubectl seccomp record web-0 -n shop --duration 5m -o yaml > web.yaml\n"
        "  # Two Ready replicas of a Deployment at once, merged into one profile\n"
        "  kubectl seccomp record deploy/web --replicas 2 --duration 5m --output-file web.json\n"
        "  # Every container of the pods labelled app=web\n"
        "  kubectl seccomp record -l app=web --replicas all --all-containers --output-file web.json\n"
        "  # A copy of the pod recorded from its first syscall (its start-up included)\n"
        "  kubectl seccomp record web-0 -c app --from-start --duration 1m --output-file web.json\n"
        "  # A new release re-recorded cheaply: only what v1.json lacks stops the app\n"
        "  kubectl seccomp record web-0 -c app --from-start --baseline v1.json --output-file v2.json\n");
}

FromStartOptions from_start_options(const CommonFlags& common, const cxxopts::ParseResult& result,
                                    const std::string& target, const std::string& selector) {
    if (!selector.empty() || result.count("replicas") || result.count("all-containers"))
        throw UserError(
            "--from-start records one copy of one pod: -l, --replicas and --all-containers do not go "
            "with it");
    FromStartOptions fs;
    fs.target = target;
    if (result.count("container")) fs.container = result["container"].as<std::string>();
    fs.no_filter = result.count("no-filter") > 0;
    if (result.count("duration")) fs.duration = duration_flag(result, "duration");
    read_from_start_flags(result, fs);
    fs.record_options = profile_options_from(result);
    if (result.count("baseline")) {
        if (fs.no_filter)
            throw UserError(
                "--baseline and --no-filter: the baseline's filter is what keeps the app fast; drop "
                "--no-filter");
        // The baseline's filter in complain mode: only calls it would refuse stop the app.
        fs.baseline_path = result["baseline"].as<std::string>();
        ProfileInputOptions inputs;
        fs.baseline = effective_profile(load_profiles(fs.baseline_path, inputs, true), "", inputs);
        fs.tracer_args = tracer_check_args(
            compile_for_check(*fs.baseline, fs.baseline_path, node_goarch(common, target)), "complain");
        fs.check_copy = true;
    }
    return fs;
}

TargetChoice target_choice(const cxxopts::ParseResult& result, const std::string& target,
                           const std::string& selector) {
    TargetChoice choice;
    choice.target = target;
    choice.selector = selector;
    if (result.count("replicas")) {
        auto r = rec::parse_replicas(result["replicas"].as<std::string>());
        if (!r) throw UserError(r.error().message);
        choice.replicas = *r;
    } else {
        choice.replicas = 1;
    }
    choice.all_containers = result.count("all-containers") > 0;
    if (choice.all_containers && result.count("container"))
        throw UserError("-c and --all-containers: give one of them");
    if (result.count("container")) choice.container = result["container"].as<std::string>();
    return choice;
}

// On a failure or Ctrl-C before all are attached, the recorders already added stop now instead of
// tracing on until their idle timeout.
void abandon_added(Runs& runs, std::string_view why) {
    std::size_t stopped = 0, left = 0;
    for (auto& r : runs) {
        if (!r->added()) continue;
        if (r->abandon())
            ++stopped;
        else
            ++left;
    }
    if (stopped + left > 0)
        note(fmt::format("{}: stopped {} recorder(s) already added{}", why, stopped,
                         left ? fmt::format("; {} not running yet stop(s) by itself after its idle timeout "
                                            "(60s)",
                                            left)
                              : ""));
}

// 3, 4. All recorders are added first, so they start together; then each is attached. False
// when interrupted before recording began.
bool start_recorders(Runs& runs) {
    try {
        for (auto& r : runs) r->add();
        for (auto& r : runs)
            if (!r->begin()) {
                abandon_added(runs, "interrupted before recording began");
                return false;
            }
    } catch (const UserError&) {
        abandon_added(runs, "record failed");
        throw;
    }
    return true;
}

// Until every recorder has finished: Ctrl-C or --duration stops them all. False on a second Ctrl-C.
bool record_until_stopped(Runs& runs, std::optional<std::chrono::milliseconds> duration,
                          Clock::time_point started) {
    const auto wait = std::max<std::chrono::milliseconds>(20ms, 200ms / static_cast<int>(runs.size()));
    while (!std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r->finished(); })) {
        if (interrupts() >= 2) {
            for (auto& r : runs) r->clear_view();
            fmt::print(stderr,
                       "interrupted: no profile written (the recorders detach by themselves after their idle "
                       "timeout)\n");
            return false;
        }
        std::string stop = interrupts() == 1                                 ? "stopped"
                           : duration && Clock::now() - started >= *duration ? "--duration reached"
                                                                             : "";
        for (auto& r : runs) r->step(stop, wait);
    }
    return true;
}

void write_profile(const CommonFlags& common, Runs& runs, const RecordOptions& record_options,
                   const std::string& target, Clock::time_point started) {
    // 5. The profile: one recording, or the union of several (each rendered, then merged). None
    // from a recording cut short: it would look whole. The app can do that to a same-user recorder
    // (docs/kubernetes.md); a pod deleted meanwhile does it too.
    std::string cut;
    for (auto& r : runs)
        if (auto why = r->cut_short()) cut += (cut.empty() ? "" : "; ") + r->what() + ": " + *why;
    if (!cut.empty())
        throw UserError("the recording is incomplete (" + cut +
                        "): no profile written; a same-user recorder can be signalled by the app: record "
                        "again, with --privileges ptrace where Pod Security allows SYS_PTRACE");
    std::vector<const Recording*> recordings;
    std::vector<std::string> labels;
    std::size_t total = 0;
    for (auto& r : runs) {
        recordings.push_back(&r->recording());
        labels.push_back(r->what());
        total += recordings.back()->syscalls.size();
    }
    const Target& first = runs.front()->target();
    std::string name = runs.size() == 1                        ? first.pod + "-" + first.container
                       : target.find('/') != std::string::npos ? target.substr(target.find('/') + 1)
                                                               : first.pod + "-merged";
    auto output = render_recordings(recordings, labels, common.output_format, record_options, name);
    if (!output) throw UserError(output.error().message);
    if (auto w = write_output(common, *output); !w) throw UserError(w.error().message);
    if (runs.size() == 1)
        note(fmt::format("recorded {} syscalls of {} in {}{}", total, first.pod + "/" + first.container,
                         format_elapsed(Clock::now() - started),
                         common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    else
        note(fmt::format("recorded {} containers in {}, merged into one profile{}", runs.size(),
                         format_elapsed(Clock::now() - started),
                         common.output_file.empty() ? "" : ", written to " + common.output_file));
    note(
        "attach mode sees only what the app does while recorded: its start-up is not in this profile. "
        "Exercise "
        "the app while recording, and merge a start-up recording (kubectl seccomp trace, or --from-start) "
        "with "
        "kubectl seccomp merge");
}

}  // namespace

int cmd_record(int argc, char** argv) {
    VerbFlags flags(
        "record",
        "Record the syscalls of a running pod's container with a recorder (an ephemeral container "
        "running seccomp-tracer) and write its seccomp profile. Ctrl-C stops and writes the profile; "
        "a second Ctrl-C leaves at once.",
        kClusterFlags | kOutputFlags, {"json", {"json", "yaml", "report"}});
    declare_flags(flags);
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const std::vector<std::string> pods = flags.positionals();
    const std::string selector = result.count("selector") ? result["selector"].as<std::string>() : "";
    if ((pods.empty() && selector.empty()) || (!pods.empty() && !selector.empty()))
        throw UserError(
            "name one target: kubectl seccomp record POD [-c CONTAINER] | deploy/NAME | -l SELECTOR");
    const std::string target = pods.empty() ? "" : strip_pod_prefix(pods.front());
    if (result.count("from-start"))
        return record_from_start(common, from_start_options(common, result, target, selector));
    for (const char* only : {"keep", "command", "no-filter", "registry-ca-file", "baseline"})
        if (result.count(only)) throw UserError(std::string("--") + only + " goes with --from-start");
    const RecordOptions record_options = profile_options_from(result);
    RecordSettings settings = record_settings(result);
    std::optional<std::chrono::milliseconds> duration;
    if (result.count("duration")) duration = duration_flag(result, "duration");
    const TargetChoice choice = target_choice(result, target, selector);

    // 1. The cluster, and a server that has ephemeral containers.
    install_interrupt_handlers();
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;

    // 2. The pods and containers: one recorder for each (pod, container).
    auto chosen = choose_targets(client, cluster.namespace_name, choice);
    settings.terminal = common.stderr_is_terminal && chosen.size() == 1;
    Runs runs;
    for (const auto& [tc, c] : chosen) runs.push_back(std::make_unique<RecorderRun>(client, tc, c, settings));
    if (runs.size() > 1) {
        std::string names;
        for (const auto& r : runs) names += (names.empty() ? "" : ", ") + r->what();
        note(fmt::format("recording {} containers at once: {}", runs.size(), names));
    }

    // 3, 4. The recorders, then the recording.
    if (!start_recorders(runs)) return kExitInterrupted;
    note(common.stderr_is_terminal ? "recording: press Ctrl-C to stop and write the profile" : "recording");
    const auto started = Clock::now();
    if (!record_until_stopped(runs, duration, started)) return kExitInterrupted;

    // 5. The profile.
    write_profile(common, runs, record_options, target, started);
    return kExitSuccess;
}

}  // namespace ksc::cli
