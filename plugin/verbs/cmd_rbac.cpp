// `kubectl seccomp rbac [--user NAME] VERB [FLAGS...]`: the Role (and ClusterRole) that exactly
// that invocation of VERB needs, as YAML for `kubectl apply -f -`. The verb's own flag definition
// reads FLAGS (the completion's collecting mode, common_flags.h), so that they mean what they mean
// to the verb; rbac_rules.h knows which requests each code path makes.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "cli.h"
#include "cluster.h"
#include "collect_flags.h"
#include "common_flags.h"
#include "exit_status.h"
#include "rbac_rules.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

// rbac's own flags come before the verb; these take a value.
bool own_flag_takes_value(std::string_view arg) {
    return arg == "--user" || arg == "--group" || arg == "--serviceaccount" || arg == "--name";
}

// The namespace the verb would use: -n, else the kubeconfig context's, else default.
std::string namespace_for(const CommonFlags& common) {
    if (!common.namespace_name.empty()) return common.namespace_name;
    // -n is empty here: the context's namespace, or "default".
    auto rc = rest_config_for(common);
    if (!rc) {
        warn("the namespace is not given (-n) and the kubeconfig cannot be read (" + rc.error().message +
             "): namespace \"default\"");
        return "default";
    }
    return rc->namespace_name;
}

CollectedFlags collect_flags(const Verb& verb, std::vector<std::string> words) {
    // A UserError (the verb refused its flags) goes on to say so.
    if (auto collected = collect_verb_flags(verb, std::move(words))) return *collected;
    throw UserError("internal error: " + std::string(verb.name) +
                    " did not give its flags: please report it");
}

RbacInvocation invocation_from(const std::string& verb, const CollectedFlags& c) {
    RbacInvocation in;
    in.verb = verb;
    if (!c.positionals.empty()) in.target = c.positionals.front();
    for (const auto& [name, value] : c.given) {
        if (name == "selector") in.selector = true;
        if (name == "from-start") in.from_start = value == "true";
        if (name == "keep") in.keep = value == "true";
        if (name == "command") in.command = true;
        if (name == "baseline") in.baseline = true;
        if (name == "privileges") in.privileges = value;
    }
    return in;
}

std::vector<RbacSubject> subjects_from(const cxxopts::ParseResult& r) {
    std::vector<RbacSubject> out;
    auto each = [&](const char* flag, auto&& add) {
        if (r.count(flag))
            for (const auto& v : r[flag].as<std::vector<std::string>>()) add(v);
    };
    each("user", [&](const std::string& v) { out.push_back({"User", v, ""}); });
    each("group", [&](const std::string& v) { out.push_back({"Group", v, ""}); });
    each("serviceaccount", [&](const std::string& v) {
        auto colon = v.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
            throw UserError("--serviceaccount \"" + v +
                            "\": give NAMESPACE:NAME, as kubectl create rolebinding");
        out.push_back({"ServiceAccount", v.substr(colon + 1), v.substr(0, colon)});
    });
    for (const auto& s : out)
        if (s.name.empty())
            throw UserError("--" + std::string(s.kind == "User" ? "user" : "group") + ": an empty name");
    return out;
}

}  // namespace

int cmd_rbac(int argc, char** argv) {
    int verb_at = 1;
    while (verb_at < argc && argv[verb_at][0] == '-') verb_at += own_flag_takes_value(argv[verb_at]) ? 2 : 1;
    verb_at = std::min(verb_at, argc);  // a value flag last: cxxopts says its value is missing
    VerbFlags flags(
        "rbac",
        "Print the Role (and the ClusterRole, for nodes) that exactly this invocation of VERB needs, "
        "as YAML for kubectl apply -f -: required rules, and optional ones with what is lost "
        "without them. Its own flags come before VERB; VERB's flags follow it, as you would run it.",
        0);
    flags.add_options()("user", "Bind the roles to this user (RoleBinding, ClusterRoleBinding)",
                        cxxopts::value<std::vector<std::string>>())(
        "group", "Bind the roles to this group", cxxopts::value<std::vector<std::string>>())(
        "serviceaccount", "Bind the roles to this service account (NAMESPACE:NAME)",
        cxxopts::value<std::vector<std::string>>())(
        "name", "The name of the roles and bindings (default: kubectl-seccomp-VERB...)",
        cxxopts::value<std::string>())("required-only", "Leave out the optional rules");
    flags.set_positional("verb", "VERB [FLAGS...]", "The verb and its flags, as you would run it", 0, 0,
                         "a verb and its flags");
    flags.set_examples(
        "  # What recording web-0 in namespace shop needs, applied for user alice\n"
        "  kubectl seccomp rbac --user alice record web-0 -n shop | kubectl apply -f -\n"
        "  # --from-start of a Deployment's pod, the required rules only\n"
        "  kubectl seccomp rbac --required-only record deploy/web --from-start -n shop\n"
        "  # check of a copy of web-0 from its start\n"
        "  kubectl seccomp rbac check web-0 -n shop --profile web.json --from-start\n");
    if (!flags.parse_or_help(verb_at, argv)) return kExitSuccess;
    if (verb_at >= argc)
        throw UserError("name the verb: e.g. kubectl seccomp rbac record POD -n NAMESPACE (see --help)");
    const std::string verb = argv[verb_at];
    const std::vector<std::string> args(argv + verb_at + 1, argv + argc);
    const Verb* target = find_verb(verb);
    if (target == nullptr)
        throw UserError("unknown verb \"" + verb + "\": run 'kubectl seccomp --help' for the list");
    if (std::string why = no_api_reason(verb); !why.empty()) {
        fmt::print("# kubectl seccomp {} {}: it needs no RBAC.\n", verb, why);
        return kExitSuccess;
    }
    std::vector<std::string> words{verb};
    words.insert(words.end(), args.begin(), args.end());
    const CollectedFlags collected = collect_flags(*target, words);
    const RbacInvocation in = invocation_from(verb, collected);
    auto rules = rbac_rules(in);
    if (!rules) throw UserError(rules.error().message);

    RbacOutput out;
    const auto& r = flags.result();
    out.name = r.count("name") ? r["name"].as<std::string>() : rbac_role_name(in);
    out.namespace_name = namespace_for(collected.common);
    out.subjects = subjects_from(r);
    out.required_only = r.count("required-only") > 0;
    out.command_line = rbac_command(verb, args);
    out.command_line.replace(0, std::strlen("kubectl seccomp rbac"), "kubectl seccomp");
    fmt::print("{}", render_rbac_yaml(*rules, out));
    return kExitSuccess;
}

}  // namespace ksc::cli
