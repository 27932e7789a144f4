// The RBAC each invocation of the plugin needs: the requests its code paths make to the
// Kubernetes API (plugin/recording and plugin/verbs), as the rules of a Role (and a ClusterRole for
// cluster-scoped resources such as nodes), each required or optional with what is lost without it.
// `kubectl seccomp rbac VERB [FLAGS...]` (cmd_rbac.cpp) prints them as YAML for kubectl apply.
// When a request is refused by RBAC, main adds rbac_hint's pointer to the error line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace ksc::cli {

// What of an invocation decides its requests; cmd_rbac.cpp reads it from the verb's own flags.
struct RbacInvocation {
    std::string verb;         // record, recover, check, trace ...
    std::string target;       // record/recover/check's positional argument (POD, pod/POD, deploy/NAME)
    bool selector = false;    // record -l SELECTOR
    bool from_start = false;  // record --from-start
    bool keep = false;        // --from-start --keep: the copy is not deleted
    bool command = false;     // --from-start --command: the image's config is never read
    bool baseline = false;    // record --from-start --baseline: a checked copy, as check --from-start's
    std::string privileges = "auto";
};

struct RbacRule {
    std::string api_group;  // "" (core) or "apps"
    std::vector<std::string> resources;
    std::vector<std::string> verbs;
    bool cluster_scoped = false;  // goes in the ClusterRole (nodes)
    bool required = true;
    std::string why;  // required: what the plugin does with it; optional: what is lost without it
};

// The rules, required ones first. Empty for a verb that makes no request to the Kubernetes API
// (no_api_reason then says why). An error for an unknown verb or an invocation the verb refuses.
Result<std::vector<RbacRule>> rbac_rules(const RbacInvocation& invocation);
std::string no_api_reason(std::string_view verb);

struct RbacSubject {
    std::string kind;  // User, Group, ServiceAccount
    std::string name;
    std::string namespace_name;  // ServiceAccount only
};

struct RbacOutput {
    std::string name;                   // of the Role and ClusterRole (and their bindings)
    std::string namespace_name;         // of the Role
    std::string command_line;           // the invocation, for the header comment
    std::vector<RbacSubject> subjects;  // none: no bindings, a comment says how to bind
    bool required_only = false;
};

// The default name of the Role: kubectl-seccomp-VERB, with -from-start, -deploy or -selector.
std::string rbac_role_name(const RbacInvocation& invocation);

// The YAML documents (Role, RoleBinding, ClusterRole, ClusterRoleBinding) for `kubectl apply -f -`:
// each rule under a comment saying whether it is required and why.
std::string render_rbac_yaml(const std::vector<RbacRule>& rules, const RbacOutput& out);

// "kubectl seccomp rbac VERB ARGS": the command that prints what `kubectl seccomp VERB ARGS` needs,
// without the credentials among ARGS (--token, --password), shell-quoted where needed.
std::string rbac_command(std::string_view verb, const std::vector<std::string>& args);

// An RBAC refusal's message ('... is forbidden: User "u" cannot ...') gets the pointer to
// rbac_command; any other message is returned as it is.
std::string with_rbac_hint(const std::string& message, std::string_view verb,
                           const std::vector<std::string>& args);

}  // namespace ksc::cli
