#include "explain_report.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "arch.h"
#include "profile_args.h"
#include "profile_diff.h"
#include "syscall_areas.h"
#include "syscall_table.h"

namespace ksc {
namespace {

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

ProfileExplanation explain_profile(const Profile& p, const std::string& path, const Profile& runtime_default,
                                   const std::string& runtime_default_context) {
    Evaluation mine = evaluate(p);
    Evaluation theirs = evaluate(runtime_default);
    ProfileExplanation e;
    e.path = path;
    e.default_verdict = default_verdict(p);
    e.arches = mine.arches;
    e.known = mine.verdicts.size();
    e.runtime_default_context = runtime_default_context;
    for (const auto& [name, v] : mine.verdicts) {
        if (lets_through(v.action)) {
            ++e.allowed;
            e.allowed_by_area[syscall_area(name)].push_back(name);
        } else if (!(v == e.default_verdict)) {
            e.refused_by_verdict[verdict_text(v)].push_back(name);
        }
        auto t = theirs.verdicts.find(name);
        bool rd_allows = t != theirs.verdicts.end() && lets_through(t->second.action);
        if (lets_through(v.action) && !rd_allows) e.allowed_only_here.push_back(name);
        if (!lets_through(v.action) && rd_allows) e.refused_only_here.push_back(name);
    }
    // Argument rules of ours (profile_args.h), one line per syscall: what it allows and keeps out.
    ArgumentView arg_rules = argument_view(p);
    for (const auto& [name, values] : arg_rules.values) {
        const ArgSpec& spec = *arg_spec_any(name);
        std::vector<std::string> shown;
        for (auto v : values) shown.push_back(arg_value_name(spec, v));
        e.argument_rules.push_back(fmt::format("{}: {} only for {}; keeps out {}", name,
                                               verdict_text(Verdict{arg_rules.action.at(name), 0}),
                                               fmt::join(shown, ", "), spec.keeps_out));
    }
    for (const auto& r : p.syscalls) {
        if (r.args.empty()) continue;
        const ArgSpec* spec = r.names.size() == 1 ? arg_spec_any(r.names[0]) : nullptr;
        if (spec && argument_rule_value(*spec, r)) continue;
        for (const auto& n : r.names) e.argument_rules.push_back(rule_text(r, n));
    }
    return e;
}

std::string write_explanation_json(const ProfileExplanation& e) {
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
    w.String(e.path);
    w.Key("defaultAction");
    w.String(verdict_text(e.default_verdict));
    w.Key("architectures");
    strings(e.arches);
    w.Key("allowed");
    w.StartObject();
    for (auto area : syscall_area_names()) {
        auto it = e.allowed_by_area.find(area);
        if (it == e.allowed_by_area.end()) continue;
        w.Key(std::string(area));
        strings(it->second);
    }
    w.EndObject();
    w.Key("refused");
    w.StartObject();
    for (const auto& [v, names] : e.refused_by_verdict) {
        w.Key(v);
        strings(names);
    }
    w.EndObject();
    w.Key("argumentRules");
    strings(e.argument_rules);
    w.Key("runtimeDefault");
    w.StartObject();
    w.Key("evaluatedFor");
    w.String(e.runtime_default_context);
    w.Key("allowedOnlyHere");
    strings(e.allowed_only_here);
    w.Key("refusedOnlyHere");
    strings(e.refused_only_here);
    w.EndObject();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string write_explanation_text(const ProfileExplanation& e) {
    std::string out = fmt::format("{}\n", e.path);
    out += fmt::format("  default: {} for every syscall not named below\n", verdict_text(e.default_verdict));
    out += fmt::format("  architectures: {}\n\n", fmt::join(e.arches, ", "));
    if (lets_through(e.default_verdict.action)) {
        out += fmt::format("Lets through every syscall ({} of {} known) except those refused below.\n\n",
                           e.allowed, e.known);
    } else {
        out += fmt::format("Allows {} syscalls:\n", e.allowed);
        for (auto area : syscall_area_names()) {
            auto it = e.allowed_by_area.find(area);
            if (it == e.allowed_by_area.end()) continue;
            out += fmt::format("  {} ({}): {}\n", area, it->second.size(), fmt::join(it->second, ", "));
        }
        out += "\n";
    }
    if (!e.refused_by_verdict.empty()) {
        out += "Refuses with their own answer (not the default):\n";
        for (const auto& [v, names] : e.refused_by_verdict)
            out += fmt::format("  {} ({}): {}\n", v, names.size(), fmt::join(names, ", "));
        out += "\n";
    }
    if (!e.argument_rules.empty()) {
        out += "Argument rules:\n";
        for (const auto& c : e.argument_rules) out += fmt::format("  {}\n", c);
        out += "\n";
    }
    out += fmt::format("Compared with runtime/default ({}):\n", e.runtime_default_context);
    if (e.allowed_only_here.empty())
        out += "  allows nothing the runtime's default refuses\n";
    else
        out += fmt::format("  allows {} that runtime/default refuses: {}\n", e.allowed_only_here.size(),
                           fmt::join(e.allowed_only_here, ", "));
    out += fmt::format("  refuses {} that runtime/default allows\n", e.refused_only_here.size());
    return out;
}

}  // namespace ksc
