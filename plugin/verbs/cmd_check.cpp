// `kubectl seccomp check POD|deploy/NAME -c C --profile FILE`: run the app under a profile it is not
// enforced with yet and report every call the profile would refuse (docs/check.md). The profile is
// compiled here, as runc compiles it (profile_compile.h), and the program goes to the tracer in
// its arguments. Attached (the default), the recorder runs the program over each syscall it stops
// at and nothing about the app changes; --from-start, a copy of the pod runs under the tracer,
// which installs the program with every refusal turned into a stop (complain: the call goes on;
// enforce: it fails as the profile says). Exit status as diff's: 0 no denial, 1 denials, 2 error.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "check_program.h"
#include "check_report.h"
#include "cluster.h"
#include "common_flags.h"
#include "exit_status.h"
#include "interrupts.h"
#include "output_file.h"
#include "pod_selection.h"
#include "profile_compile.h"
#include "profile_fix.h"
#include "profile_inputs.h"
#include "profile_json.h"
#include "profile_spo.h"
#include "record_from_start.h"
#include "recorder_flags.h"
#include "recorder_run.h"
#include "recording.h"
#include "seccomp_bpf.h"
#include "user_error.h"
#include "verbs.h"
#include "version.h"

namespace ksc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kExamples =
    R"(  # Attach to the running app and report live what web.json would refuse, until Ctrl-C
  kubectl seccomp check web-0 -c app --profile web.json

  # A copy of the pod, from its first syscall (its start-up included), for one minute
  kubectl seccomp check web-0 -c app --profile web.json --from-start --duration 1m

  # Enforce it in the copy: refused calls fail as the kernel would make them fail; see what the app does
  kubectl seccomp check deploy/web --profile web.yaml --from-start --mode enforce --duration 10m

  # Write the profile plus what was refused (errno-faithful, as record writes it), then check again
  kubectl seccomp check web-0 -c app --profile web.json --from-start --output-file web-fixed.json

  # For machines
  kubectl seccomp check web-0 -c app --profile web.json --duration 5m -o json

Exit status: 0 nothing was refused, 1 the profile refused calls (listed), 2 error. Calls refused by the
profile's own errno rules (convert's clone3 ENOSYS) are listed apart and do not count, unless --strict
or the profile's default action is SCMP_ACT_ALLOW or SCMP_ACT_LOG (its errno rules are its policy).
)";

struct CheckFlags {
    std::string target, container, profile_path, mode;
    bool from_start = false;
    std::optional<std::chrono::milliseconds> duration;
};

void declare_flags(VerbFlags& flags) {
    // clang-format off
    flags.add_options()
        ("c,container", "The container to check (default: the pod's only or default container)",
            cxxopts::value<std::string>())
        ("profile", "The profile to check: OCI JSON, a SeccompProfile (YAML) or runtime/default",
            cxxopts::value<std::string>())
        ("from-start", "Check a copy of the pod from its first syscall (docs/check.md)")
        ("mode", "--from-start: complain (refused calls go on) or enforce (they fail as the profile says)",
            cxxopts::value<std::string>())
        ("duration", "Stop after this long (e.g. 5m); default: Ctrl-C, or the app's exit",
            cxxopts::value<std::string>())
        ("image", "The tracer image", cxxopts::value<std::string>()->default_value(kDefaultTracerImage))
        ("image-pull-policy", "Always|IfNotPresent|Never (default: the cluster's)", cxxopts::value<std::string>())
        ("privileges", "Attach: how the recorder may trace: auto|same-user|ptrace",
            cxxopts::value<std::string>()->default_value("auto"))
        ("timeout", "How long to wait for the tracer to start", cxxopts::value<std::string>()->default_value("2m"))
        ("keep", "--from-start: leave the copy of the pod when done")
        ("command", "--from-start: the command the container runs, when neither the pod spec nor the registry says",
            cxxopts::value<std::string>())
        ("registry-ca-file", "--from-start: a CA bundle for the image's registry", cxxopts::value<std::string>())
        ("strict", "Count calls refused by the profile's own errno rules too (default: listed apart, exit 0); a "
            "default-allow (or LOG) profile's errno rules always count: they are its policy");
    // clang-format on
    flags.set_positional("pod", "POD | deploy/NAME", "The pod (POD) or a Deployment (deploy/NAME)", 1, 1,
                         "one pod (POD or deploy/NAME)");
    flags.set_examples(std::string(kExamples));
}

CheckFlags check_flags(const VerbFlags& flags) {
    const auto& result = flags.result();
    CheckFlags c;
    c.target = strip_pod_prefix(flags.positionals().front());
    if (result.count("container")) c.container = result["container"].as<std::string>();
    if (!result.count("profile"))
        throw UserError(
            "--profile FILE is required: the profile to check (OCI JSON, YAML or runtime/default)");
    c.profile_path = result["profile"].as<std::string>();
    c.from_start = result.count("from-start") > 0;
    if (result.count("mode")) {
        if (!c.from_start)
            throw UserError(
                "--mode goes with --from-start: attached to a running app, check only evaluates (the app "
                "is not changed)");
        c.mode = result["mode"].as<std::string>();
        if (c.mode != "complain" && c.mode != "enforce")
            throw UserError("unknown --mode \"" + c.mode + "\": use complain or enforce");
    } else {
        c.mode = c.from_start ? "complain" : "eval";
    }
    if (!c.from_start)
        for (const char* only : {"keep", "command", "registry-ca-file"})
            if (result.count(only)) throw UserError(std::string("--") + only + " goes with --from-start");
    if (result.count("duration")) c.duration = duration_flag(result, "duration");
    return c;
}

// A tracer that ignored --check-program (an image before stream protocol 1.2) checked nothing.
void require_check(const Recording& rec) {
    if (!rec.check)
        throw UserError(fmt::format(
            "the tracer did not check the profile (its image speaks stream protocol before 1.2): use --image "
            "{}",
            kDefaultTracerImage));
}

// Attached: one recorder, as record adds it, evaluating the program over each stop.
std::optional<CheckResult> check_attached(const CommonFlags& common, const cxxopts::ParseResult& result,
                                          const CheckFlags& c, const bpf::Program& program) {
    RecordSettings settings = record_settings(result);
    settings.tracer_args = tracer_check_args(program, "eval");
    settings.terminal = common.stderr_is_terminal;

    install_interrupt_handlers();
    Cluster cluster = connect_for_recording(common);
    TargetChoice choice;
    choice.target = c.target;
    choice.replicas = 1;
    choice.container = c.container;
    auto chosen = choose_targets(*cluster.client, cluster.namespace_name, choice);
    RecorderRun run(*cluster.client, chosen.front().first, chosen.front().second, settings);
    try {
        run.add();
        if (!run.begin()) {
            run.abandon();
            return std::nullopt;
        }
    } catch (const UserError&) {
        run.abandon();
        throw;
    }
    note(common.stderr_is_terminal ? "checking: press Ctrl-C to stop and report" : "checking");
    const auto started = Clock::now();
    while (!run.finished()) {
        if (interrupts() >= 2) {
            run.clear_view();
            return std::nullopt;
        }
        std::string stop = interrupts() == 1                                     ? "stopped"
                           : c.duration && Clock::now() - started >= *c.duration ? "--duration reached"
                                                                                 : "";
        run.step(stop, 200ms);
    }
    if (auto why = run.cut_short()) throw UserError("the check is incomplete (" + *why + "): check again");
    const Recording& rec = run.recording();
    require_check(rec);
    CheckResult r;
    r.target = run.what();
    r.mode = "eval";
    r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    r.complete = rec.final_summary;
    r.denials = check_denials(rec, std::nullopt, false);
    r.caveats.push_back(
        "attached to the running app: its start-up was not checked (check --from-start runs a copy from its "
        "first syscall)");
    return r;
}

// From the start: the copy record --from-start makes, the program installed in it.
std::optional<CheckResult> check_from_start(const CommonFlags& common, const cxxopts::ParseResult& result,
                                            const CheckFlags& c, const bpf::Program& program) {
    FromStartOptions fs;
    fs.target = c.target;
    fs.container = c.container;
    fs.duration = c.duration;
    read_from_start_flags(result, fs);
    fs.tracer_args = tracer_check_args(program, c.mode);
    fs.check_copy = true;
    auto run = run_from_start(common, fs);
    if (!run) return std::nullopt;
    const bool only_termination_message = !run->stream_read && run->end.kind == fromstart::CopyState::Ended;
    if (!only_termination_message) require_check(run->recording);
    CheckResult r;
    r.target = fmt::format("{}/{} (a copy of {})", run->copy, run->container, run->pod);
    r.mode = c.mode;
    r.seconds = run->seconds;
    r.complete = run->recording.final_summary;
    // Never Ready while checked: every denial came during its start-up.
    r.denials = only_termination_message ? denials_from_syscalls(run->recording, program)
                                         : check_denials(run->recording, run->end.ready_after, true);
    // An app that ended before its stream was read and never became Ready failed in its start-up.
    if (only_termination_message && !run->end.ready_after)
        for (auto& d : r.denials) d.startup = true;
    r.caveats = run->caveats;
    if (only_termination_message)
        r.caveats.push_back(
            "the app ended before its tracer's stream could be read: the refused calls come from the "
            "tracer's "
            "termination message (no process, count, time or arguments; verdicts for zero arguments)");
    r.caveats.push_back(
        "the tracer's filter cannot be removed: had the tracer died, the app's refused calls would have "
        "failed with ENOSYS");
    if (c.mode == "enforce")
        for (const auto& d : r.denials)
            if (d.action == "SCMP_ACT_KILL_THREAD") {
                r.caveats.push_back(
                    "SCMP_ACT_KILL_THREAD was enforced by killing the whole process: a tracer cannot kill "
                    "one "
                    "thread alone");
                break;
            }
    if (run->end.kind == fromstart::CopyState::Ended)
        r.app_end = AppEnd{run->end.exit_code, run->end.signal, run->end.reason};
    return r;
}

// --output-file: the profile plus what was refused, in the format its name says.
void write_fixed_profile(const CommonFlags& common, const Profile& profile, const CheckResult& result) {
    FixedProfile fixed = fix_profile(profile, result.denials);
    for (const auto& n : fixed.notes) note("fixed profile: " + n);
    const std::string& path = common.output_file;
    const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    std::string text;
    if (yaml) {
        SeccompProfileDoc doc;
        doc.name = to_object_name(name_from_path(path));
        doc.profile = fixed.profile;
        auto y = write_seccomp_profiles_yaml({doc});
        if (!y) throw UserError(y.error().message);
        text = *y;
    } else {
        text = write_profile_json(fixed.profile);
    }
    if (auto st = replace_file(path, text); !st) throw UserError(st.error().message);
    note(fmt::format("fixed profile written to {} ({} call{} added)", path, fixed.added,
                     fixed.added == 1 ? "" : "s"));
}

}  // namespace

int cmd_check(int argc, char** argv) {
    VerbFlags flags(
        "check",
        "Run the app under a profile it is not enforced with yet and report every call the profile "
        "would refuse: attached to the running app (nothing changes for it), or in a copy of the "
        "pod from its first syscall (--from-start). --output-file writes the profile plus what "
        "was refused.",
        kClusterFlags | kOutputFlags, {"report", {"report", "json"}});
    declare_flags(flags);
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const CommonFlags& common = flags.common();
    const auto& result = flags.result();
    const CheckFlags c = check_flags(flags);

    // 1. The profile, as the runtime would load it, and its program.
    ProfileInputOptions inputs;
    Profile profile = effective_profile(load_profiles(c.profile_path, inputs, true), "", inputs);
    const std::string goarch = node_goarch(common, c.target);
    const bpf::Program program = compile_for_check(profile, c.profile_path, goarch);
    verbose(1, fmt::format("{}: {} BPF instructions for {} nodes", c.profile_path, program.size(),
                           goarch.empty() ? "this machine's architecture" : goarch));

    // 2. The check.
    auto checked = c.from_start ? check_from_start(common, result, c, program)
                                : check_attached(common, result, c, program);
    if (!checked) {
        fmt::print(stderr, "interrupted: no report\n");
        return kExitInterrupted;
    }
    CheckResult& r = *checked;
    // The profile's own errno rules (convert's clone3 ENOSYS) state their answer: apart, not counted.
    classify_denials(r.denials, profile, result.count("strict") > 0);
    r.profile_path = c.profile_path;
    r.instructions = program.size();

    // 3. The report on stdout, the fixed profile in --output-file.
    CommonFlags to_stdout = common;
    to_stdout.output_file.clear();
    std::string out =
        common.output_format == "json" ? write_check_json(r, profile) : write_check_report(r, profile);
    if (auto st = write_output(to_stdout, out); !st) throw UserError(st.error().message);
    if (!common.output_file.empty()) write_fixed_profile(common, profile, r);
    return check_exit_status(r);
}

}  // namespace ksc::cli
