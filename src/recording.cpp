#include "recording.h"

#include <fmt/core.h>

#include <algorithm>
#include <type_traits>

#include "syscall_table.h"

namespace ksc {

std::optional<int> RecordedSyscall::only_errno() const {
    if (count == 0 || errors.size() != 1) return std::nullopt;
    const auto& [err, n] = *errors.begin();
    if (n < count) return std::nullopt;
    return err;
}

std::vector<Arch> Recording::arches() const {
    std::vector<Arch> out;
    for (Arch a : all_arches())
        for (const auto& [key, sc] : syscalls)
            if (key.first == a) {
                out.push_back(a);
                break;
            }
    return out;
}

std::vector<const RecordedSyscall*> Recording::unknown_numbers() const {
    std::vector<const RecordedSyscall*> out;
    for (const auto& [key, sc] : syscalls)
        if (sc.name.empty()) out.push_back(&sc);
    return out;
}

namespace {

RecordedSyscall& entry(Recording& rec, Arch arch, std::uint32_t nr) {
    auto [it, inserted] = rec.syscalls.try_emplace({arch, nr});
    if (inserted) {
        it->second.arch = arch;
        it->second.nr = nr;
        // Our table, not the stream's name: a tracer built with another table could disagree,
        // and a number our table does not know must never become a name in a profile.
        if (auto name = syscall_name(arch, nr)) it->second.name = std::string(*name);
    }
    return it->second;
}

}  // namespace

void RecordingBuilder::add(const stream::Event& event) {
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, stream::Hello>) {
                rec_.native_arch = e.native_arch;
                rec_.mode = e.mode;
                rec_.method = e.method;
                rec_.tracer_version = e.tracer_version;
                rec_.kernel = e.kernel;
                if (e.method == stream::Method::Ptrace) rec_.returns_seen = true;
                rec_.args_recorded = e.protocol_major > 1 || (e.protocol_major == 1 && e.protocol_minor >= 1);
                if (e.check) rec_.check = e.check;
            } else if constexpr (std::is_same_v<T, stream::Denial>) {
                Recording::DenialKey key{e.arch, e.nr, e.action, e.errno_value.value_or(-1), e.exe};
                if (!rec_.denials.contains(key)) {
                    stream::DenialCount& d = rec_.denials[key];
                    d.arch = e.arch;
                    d.nr = e.nr;
                    d.name = e.name;
                    d.action = e.action;
                    d.errno_value = e.errno_value;
                    d.count = 1;
                    d.first_t = e.t;
                    d.comm = e.comm;
                    d.exe = e.exe;
                    d.args = e.args;
                }
            } else if constexpr (std::is_same_v<T, stream::Attached>) {
                pids_.insert(e.pid);
                tids_.insert(e.tid);
                rec_.processes_seen = std::max<std::uint64_t>(rec_.processes_seen, pids_.size());
                rec_.threads_seen = std::max<std::uint64_t>(rec_.threads_seen, tids_.size());
            } else if constexpr (std::is_same_v<T, stream::Syscall>) {
                bool fresh = !rec_.syscalls.contains({e.arch, e.nr});
                auto& sc = entry(rec_, e.arch, e.nr);
                if (fresh || sc.first_pid == 0) {
                    sc.first_pid = e.pid;
                    sc.first_comm = e.comm;
                    if (fresh) sc.late_only = e.late;
                }
            } else if constexpr (std::is_same_v<T, stream::Argument>) {
                auto& sc = entry(rec_, e.arch, e.nr);
                if (e.overflow) {
                    sc.arg_overflow = true;
                    sc.arg_values.clear();
                } else if (!sc.arg_overflow) {
                    sc.arg_values.insert(e.value);
                }
            } else if constexpr (std::is_same_v<T, stream::Summary>) {
                // Each summary is complete so far: it replaces counts, errors and losses.
                rec_.have_summary = true;
                rec_.final_summary = rec_.final_summary || e.final;
                rec_.returns_seen = e.returns_seen;
                for (const auto& c : e.syscalls) {
                    auto& sc = entry(rec_, c.arch, c.nr);
                    sc.count = c.count;
                    sc.errors = c.errors;
                    sc.late_only = c.late_only;
                    // Values only grow: a summary adds those whose `argument` line was lost.
                    if (c.values_overflow) {
                        sc.arg_overflow = true;
                        sc.arg_values.clear();
                    } else if (!sc.arg_overflow) {
                        sc.arg_values.insert(c.values.begin(), c.values.end());
                    }
                }
                rec_.lost = e.lost;
                if (rec_.check || !e.denials.empty()) {
                    rec_.denials.clear();
                    for (const auto& d : e.denials)
                        rec_.denials[{d.arch, d.nr, d.action, d.errno_value.value_or(-1), d.exe}] = d;
                }
                rec_.processes_seen = std::max(rec_.processes_seen, e.processes_seen);
                rec_.threads_seen = std::max(rec_.threads_seen, e.threads_seen);
            } else if constexpr (std::is_same_v<T, stream::Message>) {
                (e.is_error ? rec_.errors : rec_.warnings).push_back(e.message);
            }
            // Exited, Progress and unknown types add nothing the profile needs.
        },
        event);
}

bool RecordingBuilder::add_compact_summary(std::string_view text) {
    auto compact = decode_compact_summary(text);
    if (!compact) return false;
    for (const auto& [arch, nrs] : *compact)
        for (auto nr : nrs) {
            stream::Syscall sc;
            sc.arch = arch;
            sc.nr = nr;
            if (auto n = syscall_name(arch, nr)) sc.name = std::string(*n);
            add(sc);
        }
    auto values = decode_compact_arg_values(text);
    if (values && !values->empty()) {
        rec_.args_recorded = true;  // only a 1.1 tracer writes them
        for (const auto& [key, set] : *values)
            for (auto v : set) {
                stream::Argument a;
                a.arch = key.first;
                a.nr = key.second;
                a.value = v;
                add(a);
            }
    }
    return true;
}

Result<Recording> read_recording(std::string_view text) {
    RecordingBuilder builder;
    std::size_t line_no = 0;
    std::size_t events = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto event = stream::decode(line);
        if (!event) return make_error(fmt::format("line {}: {}", line_no, event.error().message));
        if (const auto* hello = std::get_if<stream::Hello>(&*event))
            if (auto ok = stream::check_protocol(*hello); !ok)
                return make_error(fmt::format(
                    "line {}: the recording {}: read it with the kubectl-seccomp of its tracer's release",
                    line_no, ok.error().message));
        builder.add(*event);
        ++events;
    }
    if (events == 0) return make_error("the recording is empty: expected NDJSON lines from seccomp-tracer");
    return builder.take();
}

bool looks_like_stream(std::string_view text) {
    auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || text[start] != '{') return false;
    auto nl = text.find('\n', start);
    std::string_view first =
        text.substr(start, nl == std::string_view::npos ? text.size() - start : nl - start);
    // A profile's first line is "{" alone or starts with "defaultAction"; a stream line is one
    // object that carries "type".
    return first.find("\"type\"") != std::string_view::npos;
}

}  // namespace ksc
