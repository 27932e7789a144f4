// `kubectl seccomp recover POD`: the profile of a recorder whose client lost the stream (killed,
// network gone), from what the kubelet kept: the recorder's log (every stream line, the final
// summary when it got to stop), else its termination message (the compact summary: names only).
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cluster.h"
#include "common_flags.h"
#include "exit_status.h"
#include "pod_selection.h"
#include "profile_output.h"
#include "recorder.h"
#include "recorder_run.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {

int cmd_recover(int argc, char** argv) {
    VerbFlags flags("recover",
                    "Write the profile of a recorder whose stream was lost (kubectl seccomp record killed or "
                    "disconnected), from the recorder's log, else from its termination message.",
                    kClusterFlags | kOutputFlags, {"json", {"json", "yaml", "report"}});
    flags.add_options()("c,container", "The recorded container: its newest recorder",
                        cxxopts::value<std::string>())(
        "recorder", "The recorder (seccomp-recorder-XXXXX) to read (default: the pod's newest)",
        cxxopts::value<std::string>());
    add_profile_flags(flags);
    flags.set_positional("pod", "POD", "The pod whose recorder to read", 1, 1,
                         "one pod: kubectl seccomp recover POD [-c CONTAINER | --recorder NAME]");
    flags.set_examples(
        "  # The profile of web-0's newest recorder, as OCI seccomp JSON\n"
        "  kubectl seccomp recover web-0 --output-file web.json\n"
        "  # A given recorder, as a report\n"
        "  kubectl seccomp recover web-0 --recorder seccomp-recorder-x7k2p -o report\n");
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const std::vector<std::string> pods = flags.positionals();
    const RecordOptions record_options = profile_options_from(result);
    Cluster cluster = connect_for_recording(common);
    kube::ApiClient& client = *cluster.client;
    const std::string& namespace_name = cluster.namespace_name;

    Target t{namespace_name, strip_pod_prefix(pods.front()), ""};
    auto pod_json = client.get(t.pod_path());
    if (!pod_json) throw UserError(pod_json.error().message);
    auto pod = rec::parse_pod(*pod_json);
    if (!pod) throw UserError(pod.error().message);
    auto name =
        rec::choose_recorder(*pod, result.count("recorder") ? result["recorder"].as<std::string>() : "",
                             result.count("container") ? result["container"].as<std::string>() : "");
    if (!name) throw UserError(name.error().message);
    for (std::size_t i = 0; i < pod->ephemeral_names.size(); ++i)
        if (pod->ephemeral_names[i] == *name && i < pod->ephemeral_targets.size())
            t.container = pod->ephemeral_targets[i];
    if (t.container.empty()) t.container = "app";
    const std::string what = t.pod + "/" + t.container;

    LiveView view(false, what);
    rec::RecordingSession session = recorder_session(view);
    auto found = recover_from_kubelet(client, t, *name, session, view);
    if (session.fatal()) throw UserError(*session.fatal());
    const Recording& recording = session.recording();
    if (recording.syscalls.empty())
        throw UserError(
            fmt::format("recorder {} left nothing to recover: {}{}", *name,
                        found.log_read ? "its log has no syscall events" : "its log cannot be read",
                        found.state.kind == rec::RecorderState::Terminated
                            ? " and its termination message no summary"
                            : " and it has not ended (no termination message yet)"));
    write_recording_profile(common, recording, record_options, t.pod + "-" + t.container);

    // Where the profile came from, and what it may lack.
    std::string source = found.from_log > 0 ? "its log" : "its termination message (the compact summary)";
    if (found.from_log > 0 && found.from_termination_message > 0) source += " and its termination message";
    note(fmt::format("recovered {} syscalls of {} from recorder {}: {}{}", recording.syscalls.size(), what,
                     *name, source,
                     common.output_file.empty() ? "" : "; profile written to " + common.output_file));
    if (found.state.kind == rec::RecorderState::Running)
        warn("recorder " + *name +
             " is still running: this is what it logged so far; its recording goes on until it "
             "is stopped or its idle timeout (60s without a client) ends it");
    else if (found.from_log > 0 && !recording.final_summary)
        warn(
            "the log has no final summary (the recorder did not get to stop cleanly): syscalls it saw after "
            "its last "
            "logged event may be missing" +
            std::string(found.termination_message ? "; its termination message was merged in"
                                                  : ", and it left no termination message to check against"));
    if (found.from_log == 0)
        warn(
            "only the termination message was usable: the profile has the syscall names, but no counts, no "
            "first "
            "process, and no errno seen, so failed-only syscalls are allowed rather than refused");
    if (!found.log_read)
        warn(
            "the recorder's log could not be read (rotated away, or the node gone): an app whose recorder "
            "ended long "
            "ago may have lost it");
    note(
        "a recorder sees only what the app did while it was recorded: merge a start-up recording (kubectl "
        "seccomp "
        "trace, or record --from-start) with kubectl seccomp merge");
    return kExitSuccess;
}

}  // namespace ksc::cli
