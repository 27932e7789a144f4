#include "check_report.h"

#include <fmt/core.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

#include "errno_names.h"
#include "printable.h"
#include "profile_eval.h"

namespace ksc {
namespace {

std::string errno_text(int err) {
    if (auto n = errno_name(err)) return std::string(*n);
    return fmt::format("errno {}", err);
}

std::string verdict_of(const CheckDenial& d) {
    if (d.errno_value) return fmt::format("{}({})", d.action, errno_text(*d.errno_value));
    return d.action;
}

std::string name_of(const CheckDenial& d) {
    return d.name.empty() ? fmt::format("#{}", d.nr) : printable(d.name);
}

std::string when_of(const CheckDenial& d) {
    if (!d.startup) return "-";
    return *d.startup ? "start-up" : "after Ready";
}

// The denials (counted, or the by-rule ones not counted) in the order a reader wants them: by
// first time.
std::vector<const CheckDenial*> ordered(const CheckResult& r, bool counted = true) {
    std::vector<const CheckDenial*> out;
    for (const auto& d : r.denials)
        if (d.counted == counted) out.push_back(&d);
    std::stable_sort(out.begin(), out.end(),
                     [](const CheckDenial* a, const CheckDenial* b) { return a->first_t < b->first_t; });
    return out;
}

std::string signal_text(int sig) {
    static constexpr const char* names[] = {
        "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
    if (sig > 0 && sig < static_cast<int>(std::size(names))) return names[sig];
    return fmt::format("signal {}", sig);
}

}  // namespace

std::vector<CheckDenial> check_denials(const Recording& rec, std::optional<double> ready_after,
                                       bool startup_when_unknown) {
    std::vector<CheckDenial> out;
    for (const auto& [key, d] : rec.denials) {
        CheckDenial c;
        c.arch = d.arch;
        c.nr = d.nr;
        c.name = d.name;
        c.action = d.action;
        c.errno_value = d.errno_value;
        c.args = d.args;
        c.comm = d.comm;
        c.exe = d.exe;
        c.count = std::max<std::uint64_t>(d.count, 1);
        c.first_t = d.first_t;
        if (ready_after)
            c.startup = d.first_t < *ready_after;
        else if (startup_when_unknown)
            c.startup = true;
        for (const auto& [err, n] : d.seen_errors) {
            auto name = errno_name(err);
            c.seen_errors[name ? std::string(*name) : std::to_string(err)] += n;
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::uint32_t> deciding_args(const Profile& profile, std::string_view name) {
    std::vector<std::uint32_t> out;
    for (const auto& rule : profile.syscalls) {
        if (rule.args.empty() || std::find(rule.names.begin(), rule.names.end(), name) == rule.names.end())
            continue;
        for (const auto& a : rule.args)
            if (a.index < 6 && std::find(out.begin(), out.end(), a.index) == out.end())
                out.push_back(a.index);
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// Whether a rule of `rules` (conditions evaluated) with the denial's verdict names its syscall.
bool refused_by_own_rule(const CheckDenial& d, const Profile& rules) {
    if (d.action != action_name(Action::Errno) || !d.errno_value || d.name.empty()) return false;
    const auto err = static_cast<std::uint32_t>(*d.errno_value);
    const bool default_says_so =
        rules.default_action == Action::Errno && rules.default_errno_ret.value_or(kDefaultErrno) == err;
    for (const auto& rule : rules.syscalls) {
        if (rule.action != Action::Errno || rule.errno_ret.value_or(kDefaultErrno) != err) continue;
        if (std::find(rule.names.begin(), rule.names.end(), d.name) == rule.names.end()) continue;
        // Conditions met or not, the same answer: the default action may have given it.
        if (!rule.args.empty() && default_says_so) continue;
        return true;
    }
    return false;
}

}  // namespace

void classify_denials(std::vector<CheckDenial>& denials, const Profile& profile, bool strict) {
    const bool denylist = profile.default_action == Action::Allow || profile.default_action == Action::Log;
    std::map<Arch, Profile> evaluated;  // Docker's conditions, per architecture
    for (auto& d : denials) {
        const Profile* rules = &profile;
        if (has_docker_conditions(profile)) {
            auto it = evaluated.find(d.arch);
            if (it == evaluated.end()) {
                DockerContext ctx;
                ctx.goarch = goarch_of(d.arch);
                ctx.caps = default_container_caps();
                auto e = evaluate_docker_conditions(profile, ctx);
                it = evaluated.emplace(d.arch, e ? *e : profile).first;
            }
            rules = &it->second;
        }
        d.by_rule = refused_by_own_rule(d, *rules);
        d.counted = !d.by_rule || strict || denylist;
    }
}

int check_exit_status(const CheckResult& result) {
    return std::any_of(result.denials.begin(), result.denials.end(),
                       [](const CheckDenial& d) { return d.counted; })
               ? 1
               : 0;
}

std::string write_check_report(const CheckResult& r, const Profile& profile) {
    std::string out;
    auto line = [&]<typename... T>(fmt::format_string<T...> f, T&&... args) {
        out += fmt::format(f, std::forward<T>(args)...);
        out += '\n';
    };
    line("kubectl-seccomp check report");
    line("target:     {}", printable(r.target));
    line("profile:    {} ({} BPF instructions)", printable(r.profile_path), r.instructions);
    line("mode:       {}{}", r.mode,
         r.mode == "eval"      ? " (attached: the program ran in the tracer; the app was not changed)"
         : r.mode == "enforce" ? " (refused calls failed as the profile says)"
                               : " (refused calls went on; the app saw what it would without the profile)");
    line("ran:        {:.0f}s{}", r.seconds,
         r.complete ? "" : " (no final summary from the tracer: counts are at least these)");
    line("");
    const auto counted = ordered(r, true);
    const auto by_rule = ordered(r, false);
    auto table = [&](const std::vector<const CheckDenial*>& rows) {
        line("  {:<8} {:<18} {:<30} {:>8}  {:<11} {:>8}  {}", "ARCH", "SYSCALL", "VERDICT", "CALLS", "WHEN",
             "FIRST", "PROCESS");
        for (const CheckDenial* d : rows) {
            std::string arch(arch_name(d->arch));
            if (arch.rfind("SCMP_ARCH_", 0) == 0) arch = arch.substr(10);
            std::string process = printable(d->comm);
            if (!d->exe.empty()) process += " (" + printable(d->exe) + ")";
            std::string first = d->first_t < 0 ? "-" : fmt::format("{:.2f}s", d->first_t);
            line("  {:<8} {:<18} {:<30} {:>8}  {:<11} {:>8}  {}", arch, name_of(*d), verdict_of(*d), d->count,
                 when_of(*d), first, process.empty() ? "-" : process);
            std::string args;
            for (std::uint32_t i : deciding_args(profile, d->name))
                args += fmt::format("{}arg{}={:#x}", args.empty() ? "" : " ", i, d->args[i]);
            if (!args.empty()) line("           deciding arguments: {}", args);
            if (!d->seen_errors.empty()) {
                std::string seen;
                for (const auto& [e, n] : d->seen_errors)
                    seen += fmt::format("{}{} x{}", seen.empty() ? "" : ", ", printable(e), n);
                line("           the app got: {}", seen);
            }
            if (d->by_rule && d->counted) line("           refused by the profile's own rule (counted)");
        }
    };
    if (counted.empty()) {
        line("No call was refused{}: the profile let through everything the app did while checked.",
             by_rule.empty() ? "" : " other than as the profile's own rules say (below)");
    } else {
        line("{} distinct call{} the profile would refuse:", counted.size(), counted.size() == 1 ? "" : "s");
        table(counted);
    }
    if (!by_rule.empty()) {
        line("");
        line(
            "{} distinct call{} refused as the profile's own rules say (an errno rule names {}; not "
            "counted, --strict counts them):",
            by_rule.size(), by_rule.size() == 1 ? "" : "s", by_rule.size() == 1 ? "it" : "each");
        table(by_rule);
    }
    if (r.app_end) {
        line("");
        std::string how = r.app_end->signal      ? "killed by " + signal_text(*r.app_end->signal)
                          : r.app_end->exit_code ? fmt::format("exited with code {}", *r.app_end->exit_code)
                                                 : std::string("ended");
        line("The app {}{}.", how,
             r.app_end->reason.empty() ? "" : " (" + printable(r.app_end->reason) + ")");
    }
    if (!r.caveats.empty()) {
        line("");
        line("Caveats:");
        for (const auto& c : r.caveats) line("  - {}", printable(c));
    }
    return out;
}

namespace {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void key_string(JsonWriter& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value);
}

// One denial: which syscall, the verdict, the arguments the profile's rules look at (and all six),
// who made it, how often and when.
void write_denial_json(JsonWriter& w, const CheckDenial& d, const Profile& profile) {
    w.StartObject();
    w.Key("architecture");
    w.String(std::string(arch_name(d.arch)));
    w.Key("nr");
    w.Uint(d.nr);
    if (!d.name.empty()) {
        w.Key("name");
        w.String(d.name);
    }
    key_string(w, "action", d.action);
    if (d.errno_value) {
        w.Key("errno");
        w.Int(*d.errno_value);
        if (auto n = errno_name(*d.errno_value)) {
            w.Key("errnoName");
            w.String(std::string(*n));
        }
    }
    w.Key("args");
    w.StartObject();
    for (std::uint32_t i : deciding_args(profile, d.name)) {
        w.Key(fmt::format("arg{}", i));
        w.Uint64(d.args[i]);
    }
    w.EndObject();
    w.Key("allArgs");
    w.StartArray();
    for (auto a : d.args) w.Uint64(a);
    w.EndArray();
    key_string(w, "comm", d.comm);
    key_string(w, "exe", d.exe);
    w.Key("count");
    w.Uint64(d.count);
    if (d.first_t >= 0) {
        w.Key("firstSeconds");
        w.Double(d.first_t);
    }
    w.Key("when");
    w.String(!d.startup ? "unknown" : *d.startup ? "start-up" : "after-ready");
    if (d.by_rule) {
        w.Key("byRule");
        w.Bool(true);
    }
    if (!d.seen_errors.empty()) {
        w.Key("seenErrors");
        w.StartObject();
        for (const auto& [e, n] : d.seen_errors) {
            w.Key(e);
            w.Uint64(n);
        }
        w.EndObject();
    }
    w.EndObject();
}

}  // namespace

std::string write_check_json(const CheckResult& r, const Profile& profile) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    key_string(w, "target", r.target);
    key_string(w, "profile", r.profile_path);
    key_string(w, "mode", r.mode);
    w.Key("instructions");
    w.Uint64(r.instructions);
    w.Key("seconds");
    w.Double(r.seconds);
    w.Key("complete");
    w.Bool(r.complete);
    w.Key("denials");
    w.StartArray();
    for (const CheckDenial* d : ordered(r, true)) write_denial_json(w, *d, profile);
    w.EndArray();
    w.Key("refusedByRule");
    w.StartArray();
    for (const CheckDenial* d : ordered(r, false)) write_denial_json(w, *d, profile);
    w.EndArray();
    w.Key("caveats");
    w.StartArray();
    for (const auto& c : r.caveats) w.String(c);
    w.EndArray();
    if (r.app_end) {
        w.Key("app");
        w.StartObject();
        if (r.app_end->exit_code) {
            w.Key("exitCode");
            w.Int(*r.app_end->exit_code);
        }
        if (r.app_end->signal) {
            w.Key("signal");
            w.String(signal_text(*r.app_end->signal));
        }
        w.Key("reason");
        w.String(r.app_end->reason);
        w.EndObject();
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace ksc
