#include "rbac_rules.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "yaml_doc.h"

namespace ksc::cli {
namespace {

// "apps deployments get" for each rule, sorted: what a test compares.
std::vector<std::string> summary(const std::vector<RbacRule>& rules, bool required) {
    std::vector<std::string> out;
    for (const auto& r : rules) {
        if (r.required != required) continue;
        std::string s = r.api_group.empty() ? "core" : r.api_group;
        for (const auto& res : r.resources) s += " " + res;
        for (const auto& v : r.verbs) s += " " + v;
        if (r.cluster_scoped) s += " (cluster)";
        out.push_back(s);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<RbacRule> rules_of(RbacInvocation in) {
    auto r = rbac_rules(in);
    REQUIRE(r.ok());
    return *r;
}

RbacInvocation record(std::string target) {
    RbacInvocation in;
    in.verb = "record";
    in.target = std::move(target);
    return in;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("record POD needs the pod, the ephemeral container and attach; the log is optional") {
    auto rules = rules_of(record("web-0"));
    CHECK(summary(rules, true) ==
          V{"core pods get watch", "core pods/attach create get", "core pods/ephemeralcontainers patch"});
    CHECK(summary(rules, false) == V{"core pods/log get"});
    CHECK(rules.back().why.find("--privileges auto") != std::string::npos);
    auto ptrace = record("pod/web-0");
    ptrace.privileges = "ptrace";
    CHECK(rules_of(ptrace).back().why.find("--privileges auto") == std::string::npos);
}

TEST_CASE("record deploy/NAME also reads the Deployment, lists its ReplicaSets and pods") {
    CHECK(summary(rules_of(record("deploy/web")), true) ==
          V{"apps deployments get", "apps replicasets list", "core pods get list watch",
            "core pods/attach create get", "core pods/ephemeralcontainers patch"});
}

TEST_CASE("record -l lists pods and reads no apps resource") {
    auto in = record("");
    in.selector = true;
    CHECK(summary(rules_of(in), true) == V{"core pods get list watch", "core pods/attach create get",
                                           "core pods/ephemeralcontainers patch"});
}

TEST_CASE("record --from-start creates, watches and deletes a copy and execs into it") {
    auto in = record("web-0");
    in.from_start = true;
    auto rules = rules_of(in);
    CHECK(summary(rules, true) == V{"core pods create delete get watch", "core pods/exec create get"});
    CHECK(summary(rules, false) == V{"core nodes get (cluster)", "core secrets get"});
    in.keep = true;
    CHECK(summary(rules_of(in), true) == V{"core pods create get watch", "core pods/exec create get"});
    in.command = true;  // the image's config is never read: no node, no pull secret
    CHECK(summary(rules_of(in), false).empty());
    auto deploy = record("deployment/web");
    deploy.from_start = true;
    CHECK(summary(rules_of(deploy), true) ==
          V{"apps deployments get", "core pods create delete get watch", "core pods/exec create get"});
}

TEST_CASE("record --from-start --baseline also reads the namespace (Pod Security) and, for a POD, its node") {
    auto in = record("web-0");
    in.from_start = true;
    in.baseline = true;
    in.command = true;
    auto rules = rules_of(in);
    CHECK(summary(rules, true) == V{"core pods create delete get watch", "core pods/exec create get"});
    CHECK(summary(rules, false) == V{"core namespaces get (cluster)", "core nodes get (cluster)"});
    in.command = false;  // one nodes rule for both of its reasons
    rules = rules_of(in);
    CHECK(summary(rules, false) ==
          V{"core namespaces get (cluster)", "core nodes get (cluster)", "core secrets get"});
    for (const auto& r : rules)
        if (r.resources == V{"nodes"}) {
            CHECK(r.why.find("compile the profile") != std::string::npos);
            CHECK(r.why.find("image's platform") != std::string::npos);
        }
    auto deploy = record("deploy/web");
    deploy.from_start = true;
    deploy.baseline = true;
    deploy.command = true;  // deploy/NAME: no node read to compile
    CHECK(summary(rules_of(deploy), false) == V{"core namespaces get (cluster)"});
    auto attached = record("web-0");
    attached.baseline = true;
    CHECK(rbac_rules(attached).error().message.find("--from-start") != std::string::npos);
}

TEST_CASE("check attached needs what record attached needs and the log; the node is optional") {
    auto in = record("web-0");
    in.verb = "check";
    auto rules = rules_of(in);
    // The log is required: the stream's hello, written before the attach, says the profile is checked.
    CHECK(summary(rules, true) == V{"core pods get watch", "core pods/attach create get",
                                    "core pods/ephemeralcontainers patch", "core pods/log get"});
    CHECK(summary(rules, false) == V{"core nodes get (cluster)"});
    auto deploy = record("deploy/web");
    deploy.verb = "check";
    CHECK(summary(rules_of(deploy), true) == V{"apps deployments get", "apps replicasets list",
                                               "core pods get list watch", "core pods/attach create get",
                                               "core pods/ephemeralcontainers patch", "core pods/log get"});
    CHECK(summary(rules_of(deploy), false).empty());
    CHECK(rbac_role_name(in) == "kubectl-seccomp-check");
}

TEST_CASE("check --from-start needs record --from-start's copy; the namespace and node are optional") {
    auto in = record("web-0");
    in.verb = "check";
    in.from_start = true;
    auto rules = rules_of(in);
    CHECK(summary(rules, true) == V{"core pods create delete get watch", "core pods/exec create get"});
    CHECK(summary(rules, false) ==
          V{"core namespaces get (cluster)", "core nodes get (cluster)", "core secrets get"});
    in.command = true;
    in.keep = true;
    CHECK(summary(rules_of(in), true) == V{"core pods create get watch", "core pods/exec create get"});
    CHECK(summary(rules_of(in), false) == V{"core namespaces get (cluster)", "core nodes get (cluster)"});
    CHECK(rbac_role_name(in) == "kubectl-seccomp-check-from-start");
    auto none = record("");
    none.verb = "check";
    CHECK(rbac_rules(none).error().message.find("check POD | deploy/NAME") != std::string::npos);
    auto sts = record("statefulset/db");
    sts.verb = "check";
    CHECK(rbac_rules(sts).error().message == "\"statefulset/db\": check takes POD or deploy/NAME");
}

TEST_CASE("record invocations the verb refuses are refused") {
    auto both = record("web-0");
    both.selector = true;
    CHECK(!rbac_rules(both).ok());
    CHECK(!rbac_rules(record("")).ok());
    auto sel = record("");
    sel.selector = true;
    sel.from_start = true;
    CHECK(rbac_rules(sel).error().message.find("-l does not go with it") != std::string::npos);
    CHECK(rbac_rules(record("statefulset/db")).error().message.find("deploy/NAME") != std::string::npos);
}

TEST_CASE("recover reads the pod, and its log if it may") {
    RbacInvocation in;
    in.verb = "recover";
    in.target = "web-0";
    auto rules = rules_of(in);
    CHECK(summary(rules, true) == V{"core pods get"});
    CHECK(summary(rules, false) == V{"core pods/log get"});
}

TEST_CASE("verbs that never call the Kubernetes API need no rules; an unknown verb is refused") {
    for (const char* verb : {"trace", "convert", "merge", "diff", "explain", "push", "pull", "version"}) {
        RbacInvocation in;
        in.verb = verb;
        CHECK(rules_of(in).empty());
        CHECK(!no_api_reason(verb).empty());
    }
    CHECK(no_api_reason("pull").find("registry") != std::string::npos);
    RbacInvocation bogus;
    bogus.verb = "recrod";
    CHECK(!rbac_rules(bogus).ok());
}

TEST_CASE("the role's name says which invocation it serves") {
    CHECK(rbac_role_name(record("web-0")) == "kubectl-seccomp-record");
    auto in = record("deploy/web");
    in.from_start = true;
    CHECK(rbac_role_name(in) == "kubectl-seccomp-record-from-start-deploy");
    auto sel = record("");
    sel.selector = true;
    CHECK(rbac_role_name(sel) == "kubectl-seccomp-record-selector");
}

TEST_CASE("the YAML is a Role with each rule under its comment, a ClusterRole only for nodes") {
    RbacOutput out;
    out.name = "kubectl-seccomp-record";
    out.namespace_name = "shop";
    out.command_line = "kubectl seccomp record web-0 -n shop";
    std::string y = render_rbac_yaml(rules_of(record("web-0")), out);
    CHECK(y.find("kind: Role\n") != std::string::npos);
    CHECK(y.find("kind: ClusterRole") == std::string::npos);
    CHECK(y.find("kind: RoleBinding") == std::string::npos);  // no subject: no binding
    CHECK(y.find("# Apply it with: kubectl seccomp rbac record web-0 -n shop | kubectl apply -f -\n") !=
          std::string::npos);
    CHECK(y.find("# required: add the recorder") != std::string::npos);
    CHECK(y.find("# optional: without it") != std::string::npos);
    CHECK(y.find("  resources: [\"pods/ephemeralcontainers\"]\n  verbs: [\"patch\"]") != std::string::npos);
    auto docs = parse_yaml_docs(y);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    const DocNode& role = docs->front();
    CHECK(role.get("metadata")->get("namespace")->text == "shop");
    CHECK(role.get("rules")->items.size() == 4);
    CHECK(role.get("rules")->items[0].get("apiGroups")->items[0].text.empty());

    out.required_only = true;
    docs = parse_yaml_docs(render_rbac_yaml(rules_of(record("web-0")), out));
    REQUIRE(docs.ok());
    CHECK(docs->front().get("rules")->items.size() == 3);
}

TEST_CASE("subjects get a RoleBinding and, with nodes, a ClusterRole and ClusterRoleBinding") {
    auto in = record("web-0");
    in.from_start = true;
    RbacOutput out;
    out.name = "rec";
    out.namespace_name = "shop";
    out.command_line = "kubectl seccomp record web-0 --from-start\n# injected";
    out.subjects = {{"User", "alice@example.com", ""}, {"ServiceAccount", "ci", "tools"}};
    std::string y = render_rbac_yaml(rules_of(in), out);
    CHECK(y.find("\n# injected") == std::string::npos);  // the invocation stays on its comment line
    auto docs = parse_yaml_docs(y);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 4);
    CHECK((*docs)[1].get("kind")->text == "RoleBinding");
    CHECK((*docs)[1].get("roleRef")->get("kind")->text == "Role");
    CHECK((*docs)[1].get("subjects")->items[0].get("name")->text == "alice@example.com");
    CHECK((*docs)[1].get("subjects")->items[1].get("namespace")->text == "tools");
    CHECK((*docs)[1].get("subjects")->items[1].get("apiGroup") == nullptr);
    CHECK((*docs)[2].get("kind")->text == "ClusterRole");
    CHECK((*docs)[2].get("metadata")->get("namespace") == nullptr);
    CHECK((*docs)[2].get("rules")->items[0].get("resources")->items[0].text == "nodes");
    CHECK((*docs)[3].get("kind")->text == "ClusterRoleBinding");
    out.required_only = true;  // the node rule is optional: no ClusterRole at all
    docs = parse_yaml_docs(render_rbac_yaml(rules_of(in), out));
    REQUIRE(docs.ok());
    CHECK(docs->size() == 2);
}

TEST_CASE("names that YAML would misread are quoted") {
    RbacOutput out;
    out.name = "rec";
    out.namespace_name = "shop";
    out.subjects = {{"User", "yes", ""}, {"Group", "a\"b: c", ""}};
    auto docs = parse_yaml_docs(render_rbac_yaml(rules_of(record("web-0")), out));
    REQUIRE(docs.ok());
    const DocNode& subjects = *(*docs)[1].get("subjects");
    CHECK(subjects.items[0].get("name")->kind == DocNode::Kind::String);
    CHECK(subjects.items[1].get("name")->text == "a\"b: c");
}

TEST_CASE("the hint names the rbac command without the credentials, and only on RBAC refusals") {
    CHECK(rbac_command("record", {"web-0", "-n", "shop", "--token", "s3cret", "--password=pw", "-l",
                                  "a b"}) == "kubectl seccomp rbac record web-0 -n shop -l 'a b'");
    const std::string refusal =
        R"(pods "web-0" is forbidden: User "bob" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "shop")";
    CHECK(with_rbac_hint(refusal, "record", {"web-0", "-n", "shop"}) ==
          refusal + "; `kubectl seccomp rbac record web-0 -n shop` prints the RBAC it needs");
    const std::string psa = R"(pods "web-0" is forbidden: violates PodSecurity "baseline:latest": ...)";
    CHECK(with_rbac_hint(psa, "record", {"web-0"}) == psa);
}

}  // namespace ksc::cli
