#include "rbac_rules.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace ksc::cli {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// A target's kind: "pod" or "deployment" (record, check and --from-start take those two).
Result<std::string> target_kind(const std::string& target, std::string_view verb = "record") {
    auto slash = target.find('/');
    if (slash == std::string::npos) return std::string("pod");
    std::string kind = target.substr(0, slash);
    if (kind == "pod" || kind == "pods" || kind == "po") return std::string("pod");
    if (kind == "deploy" || kind == "deployment" || kind == "deployments") return std::string("deployment");
    return make_error(
        "\"" + target + "\": " + std::string(verb) +
        (verb == "record" ? " takes POD, deploy/NAME or -l SELECTOR" : " takes POD or deploy/NAME"));
}

RbacRule rule(std::string group, std::vector<std::string> resources, std::vector<std::string> verbs,
              std::string why) {
    return RbacRule{std::move(group), std::move(resources), std::move(verbs), false, true, std::move(why)};
}

RbacRule optional(RbacRule r) {
    r.required = false;
    return r;
}

// The WebSocket upgrade of attach and exec is a GET (verb get); API servers with the
// AuthorizePodWebsocketUpgradeCreatePermission feature also ask for create, as SPDY's POST did.
constexpr const char* kUpgradeVerbs =
    "the connection is a WebSocket upgrade, a GET: get, and create where the API server asks for it "
    "(AuthorizePodWebsocketUpgradeCreatePermission)";

// The node's architecture, read for a POD whose profile is compiled for it (check, --baseline),
// and its platform, read for the image's config (--from-start without --command): one rule.
void add_nodes_rule(std::vector<RbacRule>& rules, bool for_profile, bool for_image) {
    if (!for_profile && !for_image) return;
    std::string why = "read only ";
    if (for_profile)
        why +=
            "to compile the profile for the architecture of the pod's node (without it, this machine's "
            "is assumed)";
    if (for_profile && for_image) why += ", and ";
    if (for_image)
        why +=
            "when the image's config must say what runs: the node's os and architecture, to choose the "
            "image's platform; without it this machine's platform is assumed";
    RbacRule nodes = optional(rule("", {"nodes"}, {"get"}, why));
    nodes.cluster_scoped = true;
    rules.push_back(nodes);
}

Result<std::vector<RbacRule>> record_rules(const RbacInvocation& in) {
    const bool check = in.verb == "check";
    if (check ? in.target.empty() : in.target.empty() == !in.selector)
        return make_error(
            check ? "name the pod: kubectl seccomp rbac check POD | deploy/NAME --profile FILE"
                  : "name one target: kubectl seccomp rbac record POD | deploy/NAME | -l SELECTOR");
    if (in.baseline && !in.from_start) return make_error("--baseline goes with --from-start");
    std::string kind = "pod";
    if (!in.target.empty()) {
        auto k = target_kind(in.target, in.verb);
        if (!k) return k.error();
        kind = *k;
    }
    // check and --baseline compile a profile, for the node of a POD (check_program.cpp's
    // node_goarch: the pod, then its node); deploy/NAME's pods are not read for it.
    const bool compiles_for_node = (check || in.baseline) && kind == "pod";
    std::vector<RbacRule> rules;
    if (in.from_start) {
        if (in.selector)
            return make_error("--from-start records one copy of one pod: -l does not go with it");
        std::vector<std::string> pod_verbs{"create", "get", "watch"};
        std::string why = "create the copy of the pod, read it";
        if (kind == "pod") why = "read the pod, create its copy, read it";
        why += " and watch it until it runs";
        if (!in.keep) {
            pod_verbs.insert(pod_verbs.begin() + 1, "delete");
            why += ", delete it at the end (not with --keep)";
        }
        rules.push_back(rule("", {"pods"}, pod_verbs, why));
        if (kind == "deployment")
            rules.push_back(rule("apps", {"deployments"}, {"get"}, "read deploy/NAME's pod template"));
        rules.push_back(rule("", {"pods/exec"}, {"create", "get"},
                             std::string("reach the tracer in the copy over an exec; ") + kUpgradeVerbs));
        if (!in.command)
            rules.push_back(optional(
                rule("", {"secrets"}, {"get"},
                     "read only when the pod spec has no command and the image's config must say what runs: "
                     "the pod's imagePullSecrets; without it the registry is asked with your own Docker "
                     "logins, else anonymously (a private image's config then cannot be read: give "
                     "--command)")));
        add_nodes_rule(rules, compiles_for_node, !in.command);
        if (check || in.baseline) {
            // Namespaces are cluster-scoped: a ClusterRole.
            RbacRule ns = optional(rule(
                "", {"namespaces"}, {"get"},
                "read the namespace's Pod Security level (its pod-security.kubernetes.io/enforce label), to "
                "give the checked copy an Unconfined profile and CAP_SYS_ADMIN where it admits them; without "
                "it the copy runs under RuntimeDefault and the tracer sets no_new_privs, as the report "
                "says"));
            ns.cluster_scoped = true;
            rules.push_back(ns);
        }
        return rules;
    }
    std::vector<std::string> pod_verbs{"get", "watch"};
    std::string why = "read the pod (its containers, earlier recorders) and watch it until the recorder runs";
    if (kind == "deployment" || in.selector) {
        pod_verbs = {"get", "list", "watch"};
        why = std::string("list the pods of ") + (in.selector ? "-l SELECTOR" : "deploy/NAME") +
              " (the Ready ones are recorded), read them and watch them until the recorders run";
    }
    rules.push_back(rule("", {"pods"}, pod_verbs, why));
    if (kind == "deployment") {
        rules.push_back(rule("apps", {"deployments"}, {"get"}, "read deploy/NAME's selector"));
        rules.push_back(rule("apps", {"replicasets"}, {"list"}, "find deploy/NAME's newest ReplicaSet"));
    }
    rules.push_back(rule("", {"pods/ephemeralcontainers"}, {"patch"},
                         "add the recorder, an ephemeral container, to the pod"));
    rules.push_back(
        rule("", {"pods/attach"}, {"create", "get"},
             std::string("stream the recording from the recorder, and stop it; ") + kUpgradeVerbs));
    std::string lost =
        "without it the recorder's protocol is not checked before attaching, what it wrote before the "
        "attach is not replayed (which process made each syscall first)";
    if (in.privileges == "auto")
        lost +=
            ", a same-user recorder refused ptrace (--privileges auto) is not replaced by one with "
            "SYS_PTRACE";
    if (check)
        // The hello that says the tracer checks (protocol 1.2) was written before the attach: without
        // the log check cannot tell that the profile was checked, and fails.
        rules.push_back(rule("", {"pods/log"}, {"get"},
                             "read the recorder's stream from its start: its hello says that the profile is "
                             "checked (check fails without it), and the denials it wrote before the attach"));
    else
        rules.push_back(optional(rule("", {"pods/log"}, {"get"}, lost)));
    add_nodes_rule(rules, compiles_for_node, false);
    return rules;
}

Result<std::vector<RbacRule>> recover_rules(const RbacInvocation& in) {
    if (in.target.empty()) return make_error("name the pod: kubectl seccomp rbac recover POD");
    return std::vector<RbacRule>{
        rule("", {"pods"}, {"get"}, "read the pod: its recorders and their termination messages"),
        optional(rule("", {"pods/log"}, {"get"},
                      "without it only the termination message is read: the compact summary, syscall "
                      "names without counts or errno")),
    };
}

// YAML's double-quoted scalar: JSON's escapes are YAML's.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string quoted_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
    return out + "]";
}

// A comment stays one line whatever the invocation held.
std::string comment_text(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

// The comment over a rule, wrapped at about 100 columns.
std::string rule_comment(const RbacRule& r) {
    std::string text = (r.required ? "required: " : "optional: ") + r.why;
    std::string out, line = "#";
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        std::string word = comment_text(text.substr(start, end - start));
        if (line.size() > 1 && line.size() + 1 + word.size() > 100) {
            out += line + "\n";
            line = "#";
        }
        line += " " + word;
        start = end + 1;
    }
    return out + line + "\n";
}

std::string role_document(std::string_view kind, const RbacOutput& out, const std::vector<RbacRule>& rules) {
    std::string y = fmt::format("apiVersion: rbac.authorization.k8s.io/v1\nkind: {}\nmetadata:\n  name: {}\n",
                                kind, quoted(out.name));
    if (kind == "Role") y += "  namespace: " + quoted(out.namespace_name) + "\n";
    y += "rules:\n";
    for (const auto& r : rules) {
        y += rule_comment(r);
        y += "- apiGroups: " + quoted_list({r.api_group}) + "\n";
        y += "  resources: " + quoted_list(r.resources) + "\n";
        y += "  verbs: " + quoted_list(r.verbs) + "\n";
    }
    return y;
}

std::string binding_document(std::string_view kind, std::string_view role_kind, const RbacOutput& out) {
    std::string y = fmt::format("apiVersion: rbac.authorization.k8s.io/v1\nkind: {}\nmetadata:\n  name: {}\n",
                                kind, quoted(out.name));
    if (kind == "RoleBinding") y += "  namespace: " + quoted(out.namespace_name) + "\n";
    y += fmt::format("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {}\n  name: {}\nsubjects:\n",
                     role_kind, quoted(out.name));
    for (const auto& s : out.subjects) {
        y += "- kind: " + s.kind + "\n  name: " + quoted(s.name) + "\n";
        if (s.kind == "ServiceAccount")
            y += "  namespace: " + quoted(s.namespace_name) + "\n";
        else
            y += "  apiGroup: rbac.authorization.k8s.io\n";
    }
    return y;
}

bool needs_quotes(std::string_view arg) {
    if (arg.empty()) return true;
    return std::any_of(arg.begin(), arg.end(), [](unsigned char c) {
        return !(std::isalnum(c) ||
                 std::string_view("-_./=:,@+%").find(static_cast<char>(c)) != std::string_view::npos);
    });
}

std::string shell_quoted(std::string_view arg) {
    if (!needs_quotes(arg)) return std::string(arg);
    std::string out = "'";
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

Result<std::vector<RbacRule>> rbac_rules(const RbacInvocation& invocation) {
    // check attaches as record does, or makes record --from-start's copy.
    if (invocation.verb == "record" || invocation.verb == "check") return record_rules(invocation);
    if (invocation.verb == "recover") return recover_rules(invocation);
    if (!no_api_reason(invocation.verb).empty()) return std::vector<RbacRule>{};
    return make_error("unknown verb \"" + invocation.verb + "\": run 'kubectl seccomp --help' for the list");
}

std::string no_api_reason(std::string_view verb) {
    if (verb == "trace" || verb == "convert" || verb == "merge" || verb == "diff" || verb == "explain")
        return "works on this machine only: it makes no request to the Kubernetes API";
    if (verb == "push" || verb == "pull")
        return "talks to an OCI registry only (your Docker logins), never to the Kubernetes API";
    if (verb == "version")
        return "reads only /version, which every user may read (ClusterRole system:public-info-viewer)";
    if (verb == "rbac" || verb == "completion")
        return "makes no request to the Kubernetes API (Tab completion's lists of pods and namespaces "
               "use what your RBAC already allows, and stay empty otherwise)";
    return "";
}

std::string rbac_role_name(const RbacInvocation& in) {
    std::string name = "kubectl-seccomp-" + in.verb;
    if (in.from_start) name += "-from-start";
    auto slash = in.target.find('/');
    if (slash != std::string::npos) {
        auto kind = target_kind(in.target);
        if (kind && *kind == "deployment") name += "-deploy";
    }
    if (in.selector) name += "-selector";
    return name;
}

std::string render_rbac_yaml(const std::vector<RbacRule>& all, const RbacOutput& out) {
    std::vector<RbacRule> namespaced, cluster;
    for (const auto& r : all) {
        if (out.required_only && !r.required) continue;
        (r.cluster_scoped ? cluster : namespaced).push_back(r);
    }
    std::string y = "# The RBAC of `" + comment_text(out.command_line) + "`" +
                    (out.required_only ? " (required rules only)" : "") + ".\n";
    std::string rbac_line = comment_text(out.command_line);
    if (starts_with(rbac_line, "kubectl seccomp ")) rbac_line.insert(16, "rbac ");
    y += "# Apply it with: " + rbac_line + " | kubectl apply -f -\n";
    if (out.subjects.empty()) {
        y += "# It binds no one: add --user NAME, --group NAME or --serviceaccount NS:NAME before the verb,\n"
             "# or bind it with: kubectl create rolebinding " +
             comment_text(out.name) + " --role=" + comment_text(out.name) + " --user=NAME -n " +
             comment_text(out.namespace_name) + "\n";
        if (!cluster.empty())
            y += "#   and: kubectl create clusterrolebinding " + comment_text(out.name) +
                 " --clusterrole=" + comment_text(out.name) + " --user=NAME\n";
    }
    if (!out.required_only &&
        std::any_of(all.begin(), all.end(), [](const RbacRule& r) { return !r.required; }))
        y += "# The optional rules can be left out (--required-only prints the required ones alone).\n";
    y += role_document("Role", out, namespaced);
    if (!out.subjects.empty()) y += "---\n" + binding_document("RoleBinding", "Role", out);
    if (!cluster.empty()) {
        y += "---\n# Cluster-scoped resources: a ClusterRole.\n" + role_document("ClusterRole", out, cluster);
        if (!out.subjects.empty()) y += "---\n" + binding_document("ClusterRoleBinding", "ClusterRole", out);
    }
    return y;
}

std::string rbac_command(std::string_view verb, const std::vector<std::string>& args) {
    std::string out = "kubectl seccomp rbac " + shell_quoted(verb);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--token" || a == "--password") {
            ++i;
            continue;
        }
        if (starts_with(a, "--token=") || starts_with(a, "--password=")) continue;
        out += " " + shell_quoted(a);
    }
    return out;
}

std::string with_rbac_hint(const std::string& message, std::string_view verb,
                           const std::vector<std::string>& args) {
    if (message.find(" is forbidden: User \"") == std::string::npos) return message;
    return message + "; `" + rbac_command(verb, args) + "` prints the RBAC it needs";
}

}  // namespace ksc::cli
