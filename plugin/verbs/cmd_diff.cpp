// kubectl seccomp diff OLD NEW [-o text|json] [--fail-on added|removed|any]
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "common_flags.h"
#include "exit_status.h"
#include "profile_diff.h"
#include "profile_eval.h"
#include "profile_inputs.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::string_view kExamples =
    R"(  # What the new release's recording needs that the old profile did not allow; fail CI only then
  kubectl seccomp diff web-v1.json web-v2.ndjson --fail-on added

  # How a profile compares with the runtime's default for arm64 nodes and default capabilities
  kubectl seccomp diff runtime/default web.yaml --arch arm64

  # For machines
  kubectl seccomp diff old.json new.json -o json

Exit status: 0 the profiles are the same, 1 they differ (as --fail-on counts it), 2 error.
)";

struct Colors {
    bool on = false;
    std::string_view add() const { return on ? "\033[32m" : ""; }
    std::string_view del() const { return on ? "\033[31m" : ""; }
    std::string_view chg() const { return on ? "\033[33m" : ""; }
    std::string_view bold() const { return on ? "\033[1m" : ""; }
    std::string_view off() const { return on ? "\033[0m" : ""; }
};

std::string text_report(const ProfileDiff& d, const std::string& old_name, const std::string& new_name,
                        Colors c) {
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

std::string json_report(const ProfileDiff& d, const std::string& old_name, const std::string& new_name) {
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

// Compared as the kernel would get it: Docker's conditions evaluated for --arch and --caps.
Profile load_one(const std::string& path, const ProfileInputOptions& options, const std::string& pick) {
    return effective_profile(load_profiles(path, options, true), pick, options);
}

}  // namespace

int cmd_diff(int argc, char** argv) {
    VerbFlags flags(
        "diff",
        "Compare two profiles (or recordings) per architecture and action: syscalls added and removed, "
        "changed actions and errno values, argument rules, the default action.",
        kOutputFlags, {"text", {"text", "json"}});
    // clang-format off
    flags.add_options()
        ("fail-on", "Exit 1 only for: added (NEW lets more through), removed (NEW lets less through), or any",
            cxxopts::value<std::string>()->default_value("any"))
        ("profile", "Of an input holding several SeccompProfiles, the one to compare", cxxopts::value<std::string>());
    // clang-format on
    add_profile_input_flags(flags);
    flags.set_positional("files", "OLD NEW",
                         "OLD and NEW: recordings, OCI profiles, SeccompProfiles or runtime/default", 2, 2,
                         "two inputs, OLD and NEW");
    flags.set_examples(std::string(kExamples));
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const auto& args = flags.result();
    const CommonFlags& common = flags.common();
    const auto files = flags.positionals();
    const std::string fail_on = args["fail-on"].as<std::string>();
    if (fail_on != "added" && fail_on != "removed" && fail_on != "any")
        throw UserError(fmt::format("unknown --fail-on \"{}\": use added, removed or any", fail_on));
    const std::string pick = args.count("profile") ? args["profile"].as<std::string>() : "";
    ProfileInputOptions options = profile_input_options(flags);

    Profile old_profile = load_one(files[0], options, pick);
    Profile new_profile = load_one(files[1], options, pick);
    ProfileDiff d = diff_profiles(old_profile, new_profile);

    Colors colors{common.color_stdout && common.output_file.empty()};
    std::string out = common.output_format == "json" ? json_report(d, files[0], files[1])
                                                     : text_report(d, files[0], files[1], colors);
    if (auto st = write_output(common, out); !st) throw UserError(st.error().message);

    bool fail = fail_on == "added"     ? d.lets_more_through()
                : fail_on == "removed" ? d.lets_less_through()
                                       : !d.same();
    return fail ? kExitFailure : kExitSuccess;
}

}  // namespace ksc::cli
