#include "options.h"

#include <cerrno>
#include <cstdlib>

#include "base64.h"

namespace ksc::tracer {

namespace {

enum class FlagId {
    Pid,
    All,
    ContainerId,
    Output,
    Control,
    Connect,
    SummaryFile,
    IdleTimeout,
    Duration,
    NoFilter,
    CheckProgram,
    CheckMode,
    CheckOnly,
    DropCapSysAdmin,
    Install,
    Version,
    Help
};

struct Flag {
    FlagId id;
    std::string_view name;
    std::string_view arg;  // empty: takes no value
    std::string_view help;
};

// The one flag table: parsing and --help both read it.
constexpr Flag kFlags[] = {
    {FlagId::Pid, "--pid", "PID...", "attach to these processes (all their threads and descendants)"},
    {FlagId::All, "--all", "",
     "attach to every process of this PID namespace but the tracer, and pick "
     "up new ones (re-scanning /proc every 50ms)"},
    {FlagId::ContainerId, "--container-id", "ID",
     "like --all, only processes whose /proc/PID/cgroup names ID"},
    {FlagId::Output, "--output", "PATH|fd:N|unix:PATH",
     "where the stream goes (default stdout; required in launch mode); unix: serves stream and "
     "commands on a socket"},
    {FlagId::Control, "--control", "PATH|fd:N", "where commands come from (default stdin in attach mode)"},
    {FlagId::Connect, "--connect", "unix:PATH",
     "client: carry a socket's stream to stdout and commands from stdin (for kubectl exec)"},
    {FlagId::SummaryFile, "--summary-file", "PATH",
     "compact summary written on a clean stop (default /dev/termination-log)"},
    {FlagId::IdleTimeout, "--idle-timeout", "DUR",
     "stop when no command came for DUR (default 60s; 0 disables)"},
    {FlagId::Duration, "--duration", "DUR", "stop recording after DUR"},
    {FlagId::NoFilter, "--no-filter", "",
     "launch mode: no seccomp filter (two stops per syscall, returns seen, setuid programs work)"},
    {FlagId::CheckProgram, "--check-program", "BASE64",
     "check a profile: its compiled classic-BPF program (base64 of the raw instructions, at most "
     "4096): would-be denials become `denial` lines"},
    {FlagId::CheckMode, "--check-mode", "eval|complain|enforce",
     "attach mode: eval (the default; the app is untouched); launch mode: complain (the default; "
     "refused calls run) or enforce (refused as the kernel would)"},
    {FlagId::CheckOnly, "--check-only", "",
     "launch mode with --check-program: no recording filter; only the calls the profile refuses "
     "stop the app (and are recorded)"},
    {FlagId::DropCapSysAdmin, "--drop-cap-sys-admin", "",
     "launch mode: the command runs without CAP_SYS_ADMIN (bounding, ambient, inheritable sets; the "
     "tracer keeps it to install --check-program's filter)"},
    {FlagId::Install, "--install", "DIR",
     "copy this binary to DIR/seccomp-tracer and exit (an init container's job: the image has no cp)"},
    {FlagId::Version, "--version", "", "print the version and exit"},
    {FlagId::Help, "--help", "", "print this help and exit"},
};

bool parse_pid(std::string_view text, pid_t& pid) {
    if (text.empty() || text.size() > 10) return false;
    long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    if (value <= 0 || value > 0x3fffffff) return false;
    pid = static_cast<pid_t>(value);
    return true;
}

// "1,2,3" or "1".
bool parse_pid_list(std::string_view text, std::vector<pid_t>& out) {
    while (!text.empty()) {
        auto comma = text.find(',');
        pid_t pid;
        if (!parse_pid(text.substr(0, comma), pid)) return false;
        out.push_back(pid);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return true;
}

Error usage(std::string message) {
    return make_error(message + " (see seccomp-tracer --help)");
}

// base64 of bpf::pack(program): decoded, bounded, validated as the kernel would, and refused if
// the tracer could not install it for a from-start check (a TRACE or USER_NOTIF return).
Result<bpf::Program> parse_check_program(std::string_view text) {
    // 4096 instructions of 8 bytes are 43,692 base64 characters; anything much longer is no program.
    if (text.size() > 64 * 1024)
        return make_error("--check-program is " + std::to_string(text.size()) +
                          " characters, far more than a program of 4096 instructions: pass the compiled "
                          "profile's program");
    auto bytes = base64_decode(text);
    if (!bytes) return make_error("--check-program is not base64: " + bytes.error().message);
    if (bytes->size() % sizeof(bpf::Instruction) != 0 || bytes->empty())
        return make_error("--check-program holds " + std::to_string(bytes->size()) +
                          " bytes, not a whole number of 8-byte BPF instructions");
    std::size_t count = bytes->size() / sizeof(bpf::Instruction);
    if (count > bpf::kMaxInstructions)
        return make_error("the profile's compiled program has " + std::to_string(count) +
                          " instructions, more than the kernel's 4096 (BPF_MAXINSNS): runc could not load "
                          "it either; shorten the profile (fewer argument rules or architectures)");
    auto program = bpf::unpack(*bytes);
    if (!program) return make_error("--check-program is refused: " + program.error().message);
    if (auto traced = bpf::transform_for_trace(*program); !traced)
        return make_error("--check-program cannot be checked: " + traced.error().message);
    return program;
}

}  // namespace

std::string_view check_mode_name(CheckMode mode) {
    switch (mode) {
        case CheckMode::Eval:
            return "eval";
        case CheckMode::Complain:
            return "complain";
        case CheckMode::Enforce:
            return "enforce";
        case CheckMode::None:
            break;
    }
    return "none";
}

Result<std::int64_t> parse_duration_ms(std::string_view text) {
    std::size_t i = 0;
    std::int64_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + (text[i] - '0');
        if (value > 1'000'000'000) return make_error("duration too long: " + std::string(text));
        ++i;
    }
    if (i == 0) return make_error("bad duration '" + std::string(text) + "': use e.g. 500ms, 30s, 5m, 1h");
    auto unit = text.substr(i);
    if (unit == "ms") return value;
    if (unit == "s" || unit.empty()) return value * 1000;
    if (unit == "m") return value * 60'000;
    if (unit == "h") return value * 3'600'000;
    return make_error("bad duration '" + std::string(text) + "': use e.g. 500ms, 30s, 5m, 1h");
}

std::string format_duration(std::int64_t ms) {
    if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

namespace {

// One argument of argv: the flag it names and its value (--flag=VALUE, or the next argument).
struct FlagArg {
    const Flag* flag = nullptr;
    std::string_view value;
    bool has_inline_value = false;
};

Result<FlagArg> read_flag(int argc, char** argv, int& i) {
    FlagArg out;
    std::string_view arg = argv[i];
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
        out.value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        out.has_inline_value = true;
    }
    for (const auto& f : kFlags)
        if (f.name == arg) out.flag = &f;
    const Flag* flag = out.flag;
    if (!flag) return usage("unknown argument '" + std::string(argv[i]) + "'");
    if (flag->arg.empty() && out.has_inline_value) return usage(std::string(flag->name) + " takes no value");
    if (!flag->arg.empty() && !out.has_inline_value) {
        if (i + 1 >= argc)
            return usage(std::string(flag->name) + " needs a value: " + std::string(flag->arg));
        out.value = argv[++i];
    }
    return out;
}

// --check-program and --check-mode.
Status apply_check_flag(FlagId id, std::string_view value, Options& opts) {
    if (id == FlagId::CheckProgram) {
        auto program = parse_check_program(value);
        if (!program) return make_error(program.error().message);
        opts.check_program = std::move(*program);
        return Ok{};
    }
    if (value == "eval")
        opts.check_mode = CheckMode::Eval;
    else if (value == "complain")
        opts.check_mode = CheckMode::Complain;
    else if (value == "enforce")
        opts.check_mode = CheckMode::Enforce;
    else
        return usage("--check-mode wants eval, complain or enforce, not '" + std::string(value) + "'");
    return Ok{};
}

// Stores one flag's value in opts; --pid may take the plain numbers that follow it (moving i on).
Status apply_flag(const FlagArg& a, int argc, char** argv, int& i, Options& opts) {
    std::string_view value = a.value;
    switch (a.flag->id) {
        case FlagId::Pid:
            if (!parse_pid_list(value, opts.pids))
                return usage("--pid wants process ids, got '" + std::string(value) + "'");
            // --pid 1 2 3: take the following plain numbers too.
            while (!a.has_inline_value && i + 1 < argc) {
                pid_t pid;
                if (!parse_pid(argv[i + 1], pid)) break;
                opts.pids.push_back(pid);
                ++i;
            }
            break;
        case FlagId::All:
            opts.all = true;
            break;
        case FlagId::ContainerId:
            if (value.empty()) return usage("--container-id needs an id");
            opts.container_id = value;
            break;
        case FlagId::Output:
            opts.output = value;
            break;
        case FlagId::Control:
            opts.control = value;
            break;
        case FlagId::Connect:
            opts.connect = value;
            break;
        case FlagId::SummaryFile:
            opts.summary_file = value;
            opts.summary_file_given = true;
            break;
        case FlagId::IdleTimeout: {
            auto ms = parse_duration_ms(value);
            if (!ms) return usage("--idle-timeout: " + ms.error().message);
            opts.idle_timeout_ms = *ms;
            break;
        }
        case FlagId::Duration: {
            auto ms = parse_duration_ms(value);
            if (!ms) return usage("--duration: " + ms.error().message);
            opts.duration_ms = *ms;
            break;
        }
        case FlagId::NoFilter:
            opts.no_filter = true;
            break;
        case FlagId::CheckProgram:
        case FlagId::CheckMode:
            return apply_check_flag(a.flag->id, value, opts);
        case FlagId::CheckOnly:
            opts.check_only = true;
            break;
        case FlagId::DropCapSysAdmin:
            opts.drop_cap_sys_admin = true;
            break;
        case FlagId::Install:
            if (value.empty()) return usage("--install needs a directory");
            opts.install_dir = value;
            break;
        case FlagId::Version:
            opts.version = true;
            break;
        case FlagId::Help:
            opts.help = true;
            break;
    }
    return Ok{};
}

// One mode (attach, launch, connect, install), and the flags that only some modes take.
Status check_mode_flags(const Options& opts) {
    int targets = (!opts.pids.empty()) + (opts.all || !opts.container_id.empty()) + opts.launch() +
                  !opts.connect.empty() + !opts.install_dir.empty();
    if (targets == 0)
        return usage("nothing to trace: give --pid PID, --all, --container-id ID, or -- CMD ARGS...");
    if (targets > 1)
        return usage(
            "choose one of --pid, --all/--container-id, --connect, --install, or -- CMD (launch mode)");
    if (!opts.connect.empty() && !opts.connect.starts_with("unix:"))
        return usage("--connect wants unix:PATH");
    if (opts.launch() && opts.output.empty())
        return usage("launch mode needs --output PATH|fd:N|unix:PATH, so that the program keeps its stdout");
    if (opts.no_filter && !opts.launch()) return usage("--no-filter only applies to launch mode (-- CMD)");
    if (opts.output.starts_with("unix:") && !opts.control.empty())
        return usage("--output unix:PATH already carries the commands; drop --control");
    return Ok{};
}

// The check flags together, and --check-mode's default (complain in launch mode, else eval).
Status check_check_flags(Options& opts) {
    if (opts.check_only && (opts.check_program.empty() || !opts.launch()))
        return usage("--check-only needs launch mode (-- CMD) and --check-program");
    if (opts.drop_cap_sys_admin && !opts.launch())
        return usage("--drop-cap-sys-admin only applies to launch mode (-- CMD)");
    if (opts.check_only && opts.no_filter)
        return usage(
            "--check-only and --no-filter exclude each other: --check-only has no recording filter "
            "and stops only at refused calls");
    if (opts.check_program.empty() && opts.check_mode != CheckMode::None)
        return usage("--check-mode needs --check-program, the program to check");
    if (!opts.check_program.empty()) {
        if (!opts.connect.empty() || !opts.install_dir.empty())
            return usage("--check-program applies to attach and launch mode only");
        if (opts.check_mode == CheckMode::None)
            opts.check_mode = opts.launch() ? CheckMode::Complain : CheckMode::Eval;
        if (!opts.launch() && opts.check_mode != CheckMode::Eval)
            return usage("--check-mode " + std::string(check_mode_name(opts.check_mode)) +
                         " needs launch mode (-- CMD): an attached app's calls can only be evaluated (eval)");
        if (opts.launch() && opts.check_mode == CheckMode::Eval)
            return usage("launch mode checks with --check-mode complain or enforce, not eval");
    }
    return Ok{};
}

}  // namespace

Result<Options> parse_options(int argc, char** argv) {
    Options opts;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            for (int j = i + 1; j < argc; ++j) opts.command.emplace_back(argv[j]);
            if (opts.command.empty()) return usage("'--' needs a command to run");
            break;
        }
        auto flag = read_flag(argc, argv, i);
        if (!flag) return flag.error();
        if (auto applied = apply_flag(*flag, argc, argv, i, opts); !applied) return applied.error();
    }
    if (opts.help || opts.version) return opts;
    if (auto modes = check_mode_flags(opts); !modes) return modes.error();
    if (auto checks = check_check_flags(opts); !checks) return checks.error();
    return opts;
}

std::string help_text() {
    std::string text =
        "Usage: seccomp-tracer [options] --pid PID... | --all | --container-id ID\n"
        "       seccomp-tracer [options] --output PATH|fd:N -- CMD ARGS...\n"
        "       seccomp-tracer --connect unix:PATH\n"
        "       seccomp-tracer --install DIR\n"
        "\n"
        "Records which syscalls a process tree makes, with ptrace, and streams them as NDJSON\n"
        "(docs/stream.md). Commands, one per line on the control channel: stop, snapshot, ping.\n"
        "End of input on the control channel is not a stop (kubectl attach may reconnect): with no\n"
        "command for --idle-timeout the tracer stops by itself.\n"
        "\n"
        "Options:\n";
    for (const auto& f : kFlags) {
        std::string left = "  " + std::string(f.name);
        if (!f.arg.empty()) left += " " + std::string(f.arg);
        if (left.size() < 30)
            left.resize(30, ' ');
        else
            left += "\n" + std::string(30, ' ');
        text += left + std::string(f.help) + "\n";
    }
    text +=
        "\n"
        "DUR: 500ms, 30s, 5m, 1h. Exit status: attach mode 0 after a clean stop, 1 on error; launch\n"
        "mode the command's own (125 the tracer failed, 126 cannot run, 127 not found).\n"
        "\n"
        "Examples:\n"
        "  seccomp-tracer --pid 1234                      # stop with Ctrl-C or the 'stop' command\n"
        "  seccomp-tracer --all --idle-timeout 5m         # in an ephemeral container\n"
        "  seccomp-tracer --output rec.ndjson -- ls -l /  # launch mode\n";
    return text;
}

}  // namespace ksc::tracer
