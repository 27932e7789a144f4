#include "report.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "errno_names.h"
#include "printable.h"
#include "profile_eval.h"
#include "profile_merge.h"
#include "runtime_default.h"
#include "syscall_args.h"

namespace ksc {
namespace {

std::string errno_text(int err) {
    if (auto n = errno_name(err)) return std::string(*n);
    return fmt::format("errno {}", err);
}

// The report's lines: line("{} ...", args) appends one.
struct Lines {
    std::string& out;
    template <typename... T>
    void operator()(fmt::format_string<T...> f, T&&... args) {
        out += fmt::format(f, std::forward<T>(args)...);
        out += '\n';
    }
};

// Who traced, how, and how much was seen.
void write_header(Lines& line, const Recording& rec) {
    line("kubectl-seccomp recording report");
    if (rec.native_arch)
        line("tracer:     {} on kernel {}, native {}", rec.tracer_version, rec.kernel,
             arch_name(*rec.native_arch));
    if (rec.mode && rec.method)
        line("mode:       {}, method {}{}", stream::mode_name(*rec.mode), stream::method_name(*rec.method),
             rec.returns_seen ? "" : " (returns not seen: refused calls and errno values are not recorded)");
    line("seen:       {} processes, {} threads, {} distinct syscalls{}", rec.processes_seen, rec.threads_seen,
         rec.syscalls.size(),
         rec.have_summary ? (rec.final_summary ? "" : " (last summary was a snapshot)")
                          : " (no summary: the stream ended early; counts unknown)");
}

// One table per architecture: each syscall's calls, first caller and errors.
void write_syscall_tables(Lines& line, const Recording& rec) {
    for (Arch arch : rec.arches()) {
        line("");
        line("{}:", arch_name(arch));
        line("  {:<24} {:>10}  {:<24} {}", "SYSCALL", "CALLS", "FIRST (PID COMM)", "ERRORS");
        for (const auto& [key, sc] : rec.syscalls) {
            if (key.first != arch) continue;
            std::string name = sc.name.empty() ? fmt::format("#{} (unknown)", sc.nr) : sc.name;
            std::string first =
                sc.first_pid ? fmt::format("{} {}", sc.first_pid, printable(sc.first_comm)) : "-";
            std::string errors;
            for (const auto& [err, n] : sc.errors) {
                if (!errors.empty()) errors += ", ";
                errors += fmt::format("{} x{}", errno_text(err), n);
            }
            if (sc.late_only) errors += errors.empty() ? "late processes only" : "; late processes only";
            std::string count = rec.have_summary ? std::to_string(sc.count) : "?";
            line("  {:<24} {:>10}  {:<24} {}", name, count, first, errors);
        }
    }
}

void write_unknown_numbers(Lines& line, const Recording& rec) {
    auto unknown = rec.unknown_numbers();
    if (!unknown.empty()) {
        line("");
        line("Numbers our syscall table does not know (left out of the profile; a newer kernel?):");
        for (const auto* sc : unknown) line("  {} #{}", arch_name(sc->arch), sc->nr);
    }
}

void write_only_failing(Lines& line, const Recording& rec, const RecordOptions& options) {
    if (rec.returns_seen) {
        bool header = false;
        for (const auto& [key, sc] : rec.syscalls) {
            auto err = sc.only_errno();
            if (!err || sc.name.empty()) continue;
            if (!header) {
                line("");
                line("{}",
                     options.include_denied
                         ? "Seen only failing (allowed anyway, --include-denied):"
                         : "Seen only failing (refused the same way in the profile when EPERM or ENOSYS):");
                header = true;
            }
            line("  {} {}: {}", arch_name(sc.arch), sc.name, errno_text(*err));
        }
    }
}

void write_runtime_default(Lines& line, const Recording& rec) {
    // What the app needs that Kubernetes' RuntimeDefault (moby's profile, default capabilities)
    // refuses: these are why RuntimeDefault would break it.
    DockerContext ctx;
    ctx.goarch = goarch_of(rec.native_arch.value_or(native_arch()));
    ctx.caps = default_container_caps();
    Profile rd = runtime_default_profile(ctx);
    std::map<std::string, Verdict> plain;
    for (const auto& r : rd.syscalls)
        if (r.args.empty())
            for (const auto& n : r.names) plain.emplace(n, rule_verdict(r));
    std::vector<std::string> refused;
    for (const auto& [key, sc] : rec.syscalls) {
        if (sc.name.empty() || sc.only_errno()) continue;
        auto it = plain.find(sc.name);
        bool allowed =
            it != plain.end() && (it->second.action == Action::Allow || it->second.action == Action::Log);
        if (!allowed && std::find(refused.begin(), refused.end(), sc.name) == refused.end())
            refused.push_back(sc.name);
    }
    line("");
    if (refused.empty())
        line("runtime/default ({}, default capabilities) allows every syscall seen working.", ctx.goarch);
    else
        line("runtime/default ({}, default capabilities) would refuse {} seen working: {}", ctx.goarch,
             refused.size(), fmt::join(refused, ", "));
}

void write_argument_values(Lines& line, const Recording& rec, const RecordOptions& options) {
    // Argument values, and (with --args curated) what became whole-syscall rules and why.
    bool header = false;
    for (const auto& [key, sc] : rec.syscalls) {
        if (sc.arg_values.empty() && !sc.arg_overflow) continue;
        const ArgSpec* spec = arg_spec(sc.arch, sc.name);
        if (!spec) continue;
        if (!header) {
            line("");
            line("Argument values seen (argument rules with --args curated):");
            header = true;
        }
        std::vector<std::string> names;
        for (auto v : sc.arg_values) names.push_back(arg_value_name(*spec, v));
        if (sc.arg_overflow) names.push_back(fmt::format("more than {} values", kMaxArgValues));
        line("  {} {}: {}", arch_name(sc.arch), sc.name, fmt::join(names, ", "));
    }
    if (options.args == ArgsMode::Curated) {
        std::vector<std::string> notes;
        Profile p = profile_from_recording(rec, options, &notes);
        std::size_t rules = 0;
        for (const auto& r : p.syscalls) rules += !r.args.empty();
        line("");
        line("--args curated: {} argument rules; clone3 refused with ENOSYS (libc falls back to clone).",
             rules);
        for (const auto& n : notes) line("  {}", n);
    }
}

// What the stream says was not captured, and the tracer's own errors and warnings.
void write_lost_and_messages(Lines& line, const Recording& rec) {
    if (!rec.lost.empty()) {
        line("");
        line("Not captured:");
        for (const auto& l : rec.lost) line("  {}: {}", l.reason, l.count);
    }
    if (!rec.warnings.empty() || !rec.errors.empty()) {
        line("");
        line("Tracer messages:");
        for (const auto& e : rec.errors) line("  error: {}", printable(e));
        for (const auto& w : rec.warnings) line("  warning: {}", printable(w));
    }
}

}  // namespace

std::string write_report(const Recording& rec, const RecordOptions& options) {
    std::string out;
    Lines line{out};
    write_header(line, rec);
    write_syscall_tables(line, rec);
    write_unknown_numbers(line, rec);
    write_only_failing(line, rec, options);
    write_runtime_default(line, rec);
    write_argument_values(line, rec, options);
    write_lost_and_messages(line, rec);
    return out;
}

}  // namespace ksc
