// `kubectl seccomp rbac` through the verb table: the verb's own flags read as the verb reads them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"

namespace ksc::cli {
namespace {

struct Run {
    int status;
    std::string out;
};

// main() with stdout caught in a file.
Run run(std::vector<std::string> args) {
    args.insert(args.begin(), "kubectl-seccomp");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char path[] = "/tmp/ksc-rbac-out-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    std::fflush(stdout);
    int saved = ::dup(1);
    ::dup2(fd, 1);
    int status = ksc::cli::main(static_cast<int>(args.size()), argv.data());
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
    ::close(fd);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    ::unlink(path);
    return {status, ss.str()};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("rbac reads the verb's flags as the verb does: values are not taken for the pod") {
    auto r = run({"rbac", "record", "-c", "app", "web-0", "-n", "shop", "--from-start", "--keep", "--command",
                  "sleep 1", "--image", "img:1"});
    REQUIRE(r.status == 0);
    CHECK(has(r.out,
              "# The RBAC of `kubectl seccomp record -c app web-0 -n shop --from-start --keep --command "
              "'sleep 1' --image img:1`."));
    CHECK(has(r.out, "  name: \"kubectl-seccomp-record-from-start\"\n  namespace: \"shop\"\n"));
    CHECK(has(r.out, "verbs: [\"create\", \"get\", \"watch\"]"));  // --keep: no delete
    CHECK(!has(r.out, "nodes"));                                   // --command: no image config
    CHECK(!has(r.out, "kind: RoleBinding"));
}

TEST_CASE("rbac's own flags come before the verb: bindings, the name, required rules only") {
    auto r = run({"rbac", "--user", "alice", "--serviceaccount", "ci:bot", "--name", "rec", "--required-only",
                  "record", "deploy/web", "-n", "shop", "--replicas", "2"});
    REQUIRE(r.status == 0);
    CHECK(has(r.out, "kind: RoleBinding"));
    CHECK(has(r.out, "- kind: User\n  name: \"alice\""));
    CHECK(has(r.out, "- kind: ServiceAccount\n  name: \"bot\"\n  namespace: \"ci\""));
    CHECK(has(r.out, "  name: \"rec\"\n"));
    CHECK(has(r.out, "resources: [\"replicasets\"]"));
    CHECK(!has(r.out, "pods/log"));
}

TEST_CASE("rbac takes the namespace from the kubeconfig's context without -n") {
    char dir[] = "/tmp/ksc-rbac-kc-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    std::string kc = std::string(dir) + "/config";
    std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                         "contexts: [{name: c, context: {cluster: k, user: u, namespace: team}}]\n"
                         "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
                         "users: [{name: u, user: {token: t}}]\n";
    auto r = run({"rbac", "recover", "web-0", "--kubeconfig", kc});
    CHECK(r.status == 0);
    CHECK(has(r.out, "  namespace: \"team\"\n"));
    std::system(("rm -rf " + std::string(dir)).c_str());
}

TEST_CASE("rbac refuses what the verb refuses, and says when a verb needs no RBAC") {
    CHECK(run({"rbac", "record", "--bogus", "web-0"}).status == 1);
    CHECK(run({"rbac", "record", "-l", "app=web", "--from-start"}).status == 1);
    CHECK(run({"rbac", "recover", "web-0", "-n", "x"}).status == 0);  // after refusals, still itself
    CHECK(run({"rbac", "record"}).status == 1);
    CHECK(run({"rbac", "--serviceaccount", "nonamespace", "record", "web-0"}).status == 1);
    CHECK(run({"rbac", "frobnicate"}).status == 1);
    CHECK(run({"rbac"}).status == 1);
    CHECK(run({"rbac", "--user"}).status == 1);  // its value missing
    auto r = run({"rbac", "push", "x.json", "reg/repo:1"});
    CHECK(r.status == 0);
    CHECK(has(r.out, "# kubectl seccomp push talks to an OCI registry only"));
}

}  // namespace ksc::cli
