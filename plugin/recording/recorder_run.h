// One recorder of `record`: its pod and container, the ephemeral container (added with the
// privileges --privileges asks for), and its stream over pods/attach, read by a RecordingSession.
// Several run side by side (deploy/NAME, -l, --all-containers): each has its own connection, and
// the caller's loop steps them in turn, so that Ctrl-C and --duration stop them together. When the
// stream is lost for good, what the kubelet kept (the recorder's log, its termination message)
// completes the recording; `recover` reads the same after the fact.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "api_client.h"
#include "live_view.h"
#include "pod_selection.h"
#include "recorder.h"
#include "recording_session.h"
#include "websocket.h"

namespace ksc::cli {

// Waits until the recorder container runs; an Error says why it will not.
Status wait_for_recorder(kube::ApiClient& client, const Target& t, const std::string& name,
                         std::chrono::milliseconds timeout, std::string resource_version);

// A recording session as `record` and `recover` read a recorder: protocol errors name --image,
// the tracer's lines go to `view`.
rec::RecordingSession recorder_session(LiveView& view);

// What recover_from_kubelet() found, so that its caller can say where the profile came from.
struct Recovered {
    bool log_read = false;
    std::size_t from_log = 0;  // syscalls the log added
    rec::RecorderState state;  // the recorder's, when the pod could be read
    bool termination_message = false;
    std::size_t from_termination_message = 0;  // syscalls only the termination message had
};

// After the stream is lost for good: what the kubelet kept. The recorder's log holds every line it
// wrote; its termination message the compact summary.
Recovered recover_from_kubelet(kube::ApiClient& client, const Target& t, const std::string& name,
                               rec::RecordingSession& session, LiveView& view);

struct RecordSettings {
    std::string image, image_pull_policy, privileges;
    std::chrono::milliseconds start_timeout{};
    bool terminal = false;                 // one updating line: only when there is one recorder
    std::vector<std::string> tracer_args;  // check: --check-program and --check-mode
};

class RecorderRun {
  public:
    using Clock = std::chrono::steady_clock;
    RecorderRun(kube::ApiClient& client, Target t, rec::ContainerFacts container,
                const RecordSettings& settings);

    std::string what() const { return t_.pod + "/" + t_.container; }
    const Target& target() const { return t_; }
    bool finished() const { return finished_; }

    // 3. The recorder: PATCH it in, with the privileges --privileges asks for. auto: the app's own
    // uid and no capability where its securityContext gives a non-root uid (what Pod Security's
    // restricted level allows), else SYS_PTRACE. Throws UserError with the API's refusal explained.
    void add();
    // 4. Wait until it runs, check its protocol (the hello in its log), attach, snapshot. False
    // when interrupted; throws UserError when it will not run.
    bool begin();
    // One round: stop when asked (`stop_reason` not empty), ping, read for up to `wait`, and deal
    // with a lost connection (re-attach, or what the kubelet kept).
    void step(const std::string& stop_reason, std::chrono::milliseconds wait);
    // Ctrl-C twice: leave without a profile.
    void clear_view() { view_.clear(); }
    // 5. The recording (throws UserError when the recorder sent nothing).
    const Recording& recording();
    Clock::duration elapsed() const { return Clock::now() - started_; }
    // Why the recording is cut short though nobody asked it to stop: the recorder was signalled
    // (its "signal" warning), stopped answering (SIGSTOP), or was killed while the app ran on. Its
    // profile would look whole and is not: record writes none.
    std::optional<std::string> cut_short() const;
    // Record failed elsewhere: stop this recorder now rather than at its idle timeout. An attached
    // one is told over its stream; one added but not attached yet is attached to for that, once it
    // runs (within 10 s: one still pulling its image is left to its idle timeout). True when it was
    // told to stop.
    bool abandon();
    bool added() const { return added_ && !finished_; }

  private:
    void patch_in();
    bool wait_until_running();
    void check_protocol_in_log();
    void stop_refused_recorder();
    std::optional<std::string> same_user_refusal();
    void finish_stream();
    void on_lost();
    bool reattach();
    bool app_container_ended(Result<std::string> pod);

    kube::ApiClient& client_;
    Target t_;
    rec::ContainerFacts container_;
    const RecordSettings& settings_;
    LiveView view_;
    rec::RecorderSpec spec_;
    std::string resource_version_, log_path_;
    rec::RecordingSession session_;
    bool finished_ = false, lost_ = false;
    Clock::time_point started_ = Clock::now();
    std::string end_reason_;
    std::optional<std::string> cut_short_;
    int reattaches_ = 0;
    bool probing_ = false;           // auto chose same-user: fall back to SYS_PTRACE on EPERM
    std::string same_user_refused_;  // why the same-user recorder could not trace
    bool added_ = false;             // spec_.name is in the pod (the API took the PATCH)
};

// Attaches to a recorder's stream (pods/attach, v5 then v4 channel protocol).
Result<std::unique_ptr<kube::WebSocket>> attach(kube::ApiClient& client, const Target& t,
                                                const std::string& name);

}  // namespace ksc::cli
