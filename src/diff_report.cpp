#include "diff_report.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "profile_merge.h"

namespace ksc {
namespace {

struct DiffColors {
    bool on = false;
    std::string_view add() const { return on ? "\033[32m" : ""; }
    std::string_view del() const { return on ? "\033[31m" : ""; }
    std::string_view chg() const { return on ? "\033[33m" : ""; }
    std::string_view bold() const { return on ? "\033[1m" : ""; }
    std::string_view off() const { return on ? "\033[0m" : ""; }
};

}  // namespace

std::string write_diff_text(const ProfileDiff& d, const std::string& old_name, const std::string& new_name,
                            bool colored) {
    const DiffColors c{colored};
    std::string out = fmt::format("{}--- {}\n+++ {}{}\n", c.bold(), old_name, new_name, c.off());
    if (d.same()) return out + "same\n";
    if (!(d.old_default == d.new_default))
        out += fmt::format("{}~ default action: {} -> {}{}\n", c.chg(), verdict_text(d.old_default),
                           verdict_text(d.new_default), c.off());
    for (const auto& a : d.arches_added) out += fmt::format("{}+ architecture {}{}\n", c.add(), a, c.off());
    for (const auto& a : d.arches_removed) out += fmt::format("{}- architecture {}{}\n", c.del(), a, c.off());
    for (const auto& s : d.settings) out += fmt::format("{}~ {}{}\n", c.chg(), s, c.off());
    for (const auto& ad : d.arches) {
        out += fmt::format("{}{}:{}\n", c.bold(), fmt::join(ad.arches, ", "), c.off());
        for (const auto& ch : ad.changes) {
            auto [mark, color] = ch.kind == ChangeKind::Added     ? std::pair{'+', c.add()}
                                 : ch.kind == ChangeKind::Removed ? std::pair{'-', c.del()}
                                                                  : std::pair{'~', c.chg()};
            out += fmt::format("{}  {} {:<24} {} -> {}{}\n", color, mark, ch.name,
                               verdict_text(ch.old_verdict), verdict_text(ch.new_verdict), c.off());
        }
    }
    if (!d.rules.empty()) {
        out += fmt::format("{}argument and condition rules:{}\n", c.bold(), c.off());
        for (const auto& r : d.rules)
            out += fmt::format("{}  {} {}{}\n", r.added ? c.add() : c.del(), r.added ? '+' : '-', r.text,
                               c.off());
    }
    return out;
}

namespace {

void write_verdict(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, const Verdict& v) {
    w.StartObject();
    w.Key("action");
    w.String(std::string(action_name(v.action)));
    if (action_takes_errno(v.action)) {
        w.Key("errnoRet");
        w.Uint(v.errno_ret);
    }
    w.EndObject();
}

}  // namespace

std::string write_diff_json(const ProfileDiff& d, const std::string& old_name, const std::string& new_name) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    auto strings = [&](const std::vector<std::string>& v) {
        w.StartArray();
        for (const auto& s : v) w.String(s);
        w.EndArray();
    };
    w.StartObject();
    w.Key("old");
    w.String(old_name);
    w.Key("new");
    w.String(new_name);
    w.Key("same");
    w.Bool(d.same());
    w.Key("letsMoreThrough");
    w.Bool(d.lets_more_through());
    w.Key("letsLessThrough");
    w.Bool(d.lets_less_through());
    w.Key("defaultAction");
    w.StartObject();
    w.Key("old");
    write_verdict(w, d.old_default);
    w.Key("new");
    write_verdict(w, d.new_default);
    w.EndObject();
    w.Key("architectures");
    w.StartObject();
    w.Key("added");
    strings(d.arches_added);
    w.Key("removed");
    strings(d.arches_removed);
    w.EndObject();
    w.Key("syscalls");
    w.StartArray();
    for (const auto& ad : d.arches)
        for (const auto& arch : ad.arches)
            for (const auto& ch : ad.changes) {
                w.StartObject();
                w.Key("architecture");
                w.String(arch);
                w.Key("name");
                w.String(ch.name);
                w.Key("change");
                w.String(ch.kind == ChangeKind::Added     ? "added"
                         : ch.kind == ChangeKind::Removed ? "removed"
                                                          : "changed");
                w.Key("old");
                write_verdict(w, ch.old_verdict);
                w.Key("new");
                write_verdict(w, ch.new_verdict);
                w.EndObject();
            }
    w.EndArray();
    w.Key("rules");
    w.StartObject();
    w.Key("added");
    w.StartArray();
    for (const auto& r : d.rules)
        if (r.added) w.String(r.text);
    w.EndArray();
    w.Key("removed");
    w.StartArray();
    for (const auto& r : d.rules)
        if (!r.added) w.String(r.text);
    w.EndArray();
    w.EndObject();
    w.Key("settings");
    strings(d.settings);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace ksc
