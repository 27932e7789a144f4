// kubectl seccomp explain PROFILE [-o text|json]
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <map>
#include <set>

#include "common_flags.h"
#include "exit_status.h"
#include "profile_args.h"
#include "profile_diff.h"
#include "profile_eval.h"
#include "profile_inputs.h"
#include "profile_merge.h"
#include "runtime_default.h"
#include "syscall_areas.h"
#include "syscall_table.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # What a recorded profile lets the app do, and what it needs beyond the runtime's default
  kubectl seccomp explain web.json

  # The same for a SeccompProfile, compared with the default for a container with CAP_NET_ADMIN
  kubectl seccomp explain web.yaml --caps NET_ADMIN,NET_BIND_SERVICE

  # For machines
  kubectl seccomp explain web.json -o json
)";

bool lets_through(Action a) {
    return a == Action::Allow || a == Action::Log;
}

struct Evaluation {
    std::vector<std::string> arches;
    std::map<std::string, Verdict> verdicts;  // every syscall of the profile's arches we have tables for
};

Evaluation evaluate(const Profile& p) {
    Evaluation e;
    e.arches = p.architectures.empty() ? std::vector<std::string>{std::string(arch_name(native_arch()))}
                                       : p.architectures;
    std::map<std::string, Verdict> plain;
    for (const auto& r : p.syscalls) {
        if (!r.args.empty() || !r.includes.empty() || !r.excludes.empty()) continue;
        for (const auto& n : r.names) {
            auto [it, fresh] = plain.try_emplace(n, rule_verdict(r));
            if (!fresh) it->second = more_permissive(it->second, rule_verdict(r));
        }
    }
    Verdict def = default_verdict(p);
    for (const auto& arch : e.arches) {
        auto a = arch_from_name(arch);
        if (!a) continue;
        for (const auto& sc : syscalls(*a)) {
            std::string name(sc.name);
            auto it = plain.find(name);
            e.verdicts.emplace(name, it != plain.end() ? it->second : def);
        }
    }
    return e;
}

}  // namespace

int cmd_explain(int argc, char** argv) {
    VerbFlags flags(
        "explain",
        "Explain a profile: what it allows, grouped by area (files, network, processes, memory, ...), what "
        "it refuses with its own errno, and how it compares with the runtime's default (runtime/default).",
        kOutputFlags, {"text", {"text", "json"}});
    // clang-format off
    flags.add_options()
        ("profile", "Of an input holding several SeccompProfiles, the one to explain", cxxopts::value<std::string>());
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional("input", "PROFILE",
                         "A profile (OCI JSON or SeccompProfile), a recording, or runtime/default", 1, 1,
                         "one profile");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const std::string path = flags.positionals()[0];
    ProfileInputOptions options = profile_input_options(flags);
    LoadedProfiles loaded = load_profiles(path, options, true);
    Profile p =
        effective_profile(loaded, args.count("profile") ? args["profile"].as<std::string>() : "", options);
    Profile rd = runtime_default_profile(options.docker);

    Evaluation mine = evaluate(p);
    Evaluation theirs = evaluate(rd);
    Verdict def = default_verdict(p);
    bool default_lets_through = lets_through(def.action);

    std::map<std::string_view, std::vector<std::string>> allowed_by_area;
    std::map<std::string, std::vector<std::string>> refused_by_verdict;  // other than the default
    std::vector<std::string> beyond_default, tighter_than_default;
    std::size_t allowed = 0;
    for (const auto& [name, v] : mine.verdicts) {
        if (lets_through(v.action)) {
            ++allowed;
            allowed_by_area[syscall_area(name)].push_back(name);
        } else if (!(v == def)) {
            refused_by_verdict[verdict_text(v)].push_back(name);
        }
        auto t = theirs.verdicts.find(name);
        bool rd_allows = t != theirs.verdicts.end() && lets_through(t->second.action);
        if (lets_through(v.action) && !rd_allows) beyond_default.push_back(name);
        if (!lets_through(v.action) && rd_allows) tighter_than_default.push_back(name);
    }
    // Argument rules of ours (profile_args.h), one line per syscall: what it allows and keeps out.
    std::vector<std::string> conditional;
    ArgumentView arg_rules = argument_view(p);
    for (const auto& [name, values] : arg_rules.values) {
        const ArgSpec& spec = *arg_spec_any(name);
        std::vector<std::string> shown;
        for (auto v : values) shown.push_back(arg_value_name(spec, v));
        conditional.push_back(fmt::format("{}: {} only for {}; keeps out {}", name,
                                          verdict_text(Verdict{arg_rules.action.at(name), 0}),
                                          fmt::join(shown, ", "), spec.keeps_out));
    }
    for (const auto& r : p.syscalls) {
        if (r.args.empty()) continue;
        const ArgSpec* spec = r.names.size() == 1 ? arg_spec_any(r.names[0]) : nullptr;
        if (spec && argument_rule_value(*spec, r)) continue;
        for (const auto& n : r.names) conditional.push_back(rule_text(r, n));
    }
    std::string rd_context = fmt::format("{}, capabilities {}", options.docker.goarch,
                                         options.docker.caps == default_container_caps()
                                             ? std::string("the runtime's default set")
                                             : fmt::format("{}", fmt::join(options.docker.caps, ",")));

    std::string out;
    if (common.output_format == "json") {
        rapidjson::StringBuffer buf;
        rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
        w.SetIndent(' ', 2);
        auto strings = [&](const std::vector<std::string>& v) {
            w.StartArray();
            for (const auto& s : v) w.String(s);
            w.EndArray();
        };
        w.StartObject();
        w.Key("profile");
        w.String(loaded.path);
        w.Key("defaultAction");
        w.String(verdict_text(def));
        w.Key("architectures");
        strings(mine.arches);
        w.Key("allowed");
        w.StartObject();
        for (auto area : syscall_area_names()) {
            auto it = allowed_by_area.find(area);
            if (it == allowed_by_area.end()) continue;
            w.Key(std::string(area));
            strings(it->second);
        }
        w.EndObject();
        w.Key("refused");
        w.StartObject();
        for (const auto& [v, names] : refused_by_verdict) {
            w.Key(v);
            strings(names);
        }
        w.EndObject();
        w.Key("argumentRules");
        strings(conditional);
        w.Key("runtimeDefault");
        w.StartObject();
        w.Key("evaluatedFor");
        w.String(rd_context);
        w.Key("allowedOnlyHere");
        strings(beyond_default);
        w.Key("refusedOnlyHere");
        strings(tighter_than_default);
        w.EndObject();
        w.EndObject();
        out = std::string(buf.GetString(), buf.GetSize()) + "\n";
    } else {
        out += fmt::format("{}\n", loaded.path);
        out += fmt::format("  default: {} for every syscall not named below\n", verdict_text(def));
        out += fmt::format("  architectures: {}\n\n", fmt::join(mine.arches, ", "));
        if (default_lets_through) {
            out += fmt::format("Lets through every syscall ({} of {} known) except those refused below.\n\n",
                               allowed, mine.verdicts.size());
        } else {
            out += fmt::format("Allows {} syscalls:\n", allowed);
            for (auto area : syscall_area_names()) {
                auto it = allowed_by_area.find(area);
                if (it == allowed_by_area.end()) continue;
                out += fmt::format("  {} ({}): {}\n", area, it->second.size(), fmt::join(it->second, ", "));
            }
            out += "\n";
        }
        if (!refused_by_verdict.empty()) {
            out += "Refuses with their own answer (not the default):\n";
            for (const auto& [v, names] : refused_by_verdict)
                out += fmt::format("  {} ({}): {}\n", v, names.size(), fmt::join(names, ", "));
            out += "\n";
        }
        if (!conditional.empty()) {
            out += "Argument rules:\n";
            for (const auto& c : conditional) out += fmt::format("  {}\n", c);
            out += "\n";
        }
        out += fmt::format("Compared with runtime/default ({}):\n", rd_context);
        if (beyond_default.empty())
            out += "  allows nothing the runtime's default refuses\n";
        else
            out += fmt::format("  allows {} that runtime/default refuses: {}\n", beyond_default.size(),
                               fmt::join(beyond_default, ", "));
        out += fmt::format("  refuses {} that runtime/default allows\n", tighter_than_default.size());
    }
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);
    return kExitSuccess;
}

}  // namespace ksc::cli
