#include "options.h"

#include <cerrno>
#include <cstdlib>

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

}  // namespace

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

Result<Options> parse_options(int argc, char** argv) {
    Options opts;
    for (int i = 0; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--") {
            for (int j = i + 1; j < argc; ++j) opts.command.emplace_back(argv[j]);
            if (opts.command.empty()) return usage("'--' needs a command to run");
            break;
        }
        std::string_view value;
        bool has_inline_value = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline_value = true;
        }
        const Flag* flag = nullptr;
        for (const auto& f : kFlags)
            if (f.name == arg) flag = &f;
        if (!flag) return usage("unknown argument '" + std::string(argv[i]) + "'");
        if (flag->arg.empty() && has_inline_value) return usage(std::string(flag->name) + " takes no value");
        if (!flag->arg.empty() && !has_inline_value) {
            if (i + 1 >= argc)
                return usage(std::string(flag->name) + " needs a value: " + std::string(flag->arg));
            value = argv[++i];
        }
        switch (flag->id) {
            case FlagId::Pid:
                if (!parse_pid_list(value, opts.pids))
                    return usage("--pid wants process ids, got '" + std::string(value) + "'");
                // --pid 1 2 3: take the following plain numbers too.
                while (!has_inline_value && i + 1 < argc) {
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
    }
    if (opts.help || opts.version) return opts;

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
