#include "kubeconfig.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base64.h"

namespace ksc::kube {
namespace {

namespace fs = std::filesystem;

// A temporary directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/ksc-kubeconfig-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text, bool executable = false) const {
        fs::path p = path / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        if (executable) ::chmod(p.c_str(), 0755);
        return p.string();
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path / name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

LoadOptions isolated(const TempDir& dir) {
    LoadOptions o;
    o.kubeconfig_env = "";
    o.home = (dir.path / "home").string();
    o.service_account_dir = (dir.path / "no-sa").string();
    o.service_host = "";
    o.service_port = "";
    return o;
}

const char* kFirst = R"(
apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster:
    server: https://first.example:6443
    certificate-authority: ca.crt
- name: shared
  cluster:
    server: https://shared-from-first:6443
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: team-a}
- name: two
  context: {cluster: shared, user: u1}
users:
- name: u1
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
)";

const char* kSecond = R"(
current-context: two
clusters:
- name: shared
  cluster:
    server: https://shared-from-second:6443
- name: c3
  cluster: {server: "https://third.example"}
contexts:
- name: three
  context: {cluster: c3, user: u3}
users:
- name: u3
  user: {token: abc}
)";

}  // namespace

TEST_CASE("KUBECONFIG lists are merged with the first file winning, as kubectl does") {
    TempDir dir;
    std::string a = dir.write("a/config", kFirst);
    std::string b = dir.write("b/config", kSecond);
    LoadOptions o = isolated(dir);
    o.kubeconfig_env = a + ":" + (dir.path / "missing").string() + "::" + b;
    CHECK(kubeconfig_paths(o).size() == 3);

    auto rc = load_rest_config(o);
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    CHECK(rc->context_name == "one");  // the first file's current-context
    CHECK(rc->server == "https://first.example:6443");
    CHECK(rc->namespace_name == "team-a");
    // Relative paths are relative to the file that names them.
    CHECK(rc->ca_file == (dir.path / "a/ca.crt").string());
    CHECK(rc->client_cert_file == (dir.path / "a/certs/client.crt").string());

    o.context = "two";
    rc = load_rest_config(o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://shared-from-first:6443");  // the first definition of "shared"
    CHECK(rc->namespace_name == "default");

    o.context = "three";  // defined only in the second file
    rc = load_rest_config(o);
    REQUIRE(rc.ok());
    CHECK(rc->server == "https://third.example");
    CHECK(rc->token == "abc");
}

TEST_CASE("-n wins over the context's namespace") {
    TempDir dir;
    LoadOptions o = isolated(dir);
    o.kubeconfig = dir.write("config", kFirst);
    o.namespace_name = "mine";
    auto rc = load_rest_config(o);
    REQUIRE(rc.ok());
    CHECK(rc->namespace_name == "mine");
}

TEST_CASE("--kubeconfig alone is read, and must exist") {
    TempDir dir;
    LoadOptions o = isolated(dir);
    o.kubeconfig_env = dir.write("ignored", kSecond);
    o.kubeconfig = (dir.path / "nope").string();
    auto rc = load_rest_config(o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("--kubeconfig") != std::string::npos);
}

TEST_CASE("~/.kube/config is the default") {
    TempDir dir;
    LoadOptions o = isolated(dir);
    dir.write("home/.kube/config", kFirst);
    auto rc = load_rest_config(o);
    REQUIRE(rc.ok());
    CHECK(rc->context_name == "one");
}

TEST_CASE("an unknown context is refused, naming the ones that exist") {
    TempDir dir;
    LoadOptions o = isolated(dir);
    o.kubeconfig = dir.write("config", kFirst);
    o.context = "prod";
    auto rc = load_rest_config(o);
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("context was not found for specified context: prod") != std::string::npos);
    CHECK(rc.error().message.find("one, two") != std::string::npos);
}

TEST_CASE("no kubeconfig and not in a pod says what to do") {
    TempDir dir;
    auto rc = load_rest_config(isolated(dir));
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("--kubeconfig") != std::string::npos);
}

TEST_CASE("certificates and keys as *-data are decoded") {
    std::string text =
        "current-context: x\nclusters:\n- name: k\n  cluster:\n    server: https://h\n"
        "    certificate-authority-data: " +
        base64_encode("CA PEM") +
        "\n    certificate-authority: /ignored\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user:\n    client-certificate-data: " +
        base64_encode("CERT PEM") + "\n    client-key-data: " + base64_encode("KEY PEM") + "\n";
    auto rc = rest_config_from_text(text, "/x/config", "", "");
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    CHECK(rc->ca_pem == "CA PEM");
    CHECK(rc->ca_file.empty());
    CHECK(rc->client_cert_pem == "CERT PEM");
    CHECK(rc->client_key_pem == "KEY PEM");
}

TEST_CASE("bad base64 in *-data is named") {
    std::string text =
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h, "
        "certificate-authority-data: '!!!!'}\ncontexts:\n- name: x\n  context: {cluster: k}\n";
    auto rc = rest_config_from_text(text, "/x/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("certificate-authority-data") != std::string::npos);
}

TEST_CASE("insecure-skip-tls-verify warns, and refuses a CA beside it") {
    std::string base =
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user: {token: t}\n";
    auto rc = rest_config_from_text(base +
                                        "clusters:\n- name: k\n  cluster: {server: https://h, "
                                        "insecure-skip-tls-verify: true, tls-server-name: api.internal, "
                                        "proxy-url: 'http://proxy:3128'}\n",
                                    "/c", "", "");
    REQUIRE(rc.ok());
    CHECK(rc->insecure_skip_tls_verify);
    REQUIRE(rc->warnings.size() == 1);
    CHECK(rc->warnings[0].find("insecure-skip-tls-verify") != std::string::npos);
    CHECK(rc->tls_server_name == "api.internal");
    CHECK(rc->proxy_url == "http://proxy:3128");

    auto both = rest_config_from_text(base +
                                          "clusters:\n- name: k\n  cluster: {server: https://h, "
                                          "insecure-skip-tls-verify: true, certificate-authority: /ca}\n",
                                      "/c", "", "");
    CHECK_FALSE(both.ok());
}

TEST_CASE("tokenFile is read, relative to the kubeconfig") {
    TempDir dir;
    dir.write("tok", "s3cret\n");
    LoadOptions o = isolated(dir);
    o.kubeconfig = dir.write("config",
                             "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
                             "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
                             "users:\n- name: u\n  user: {tokenFile: tok}\n");
    auto rc = load_rest_config(o);
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    CHECK(rc->token == "s3cret");
    CHECK(rc->token_file == (dir.path / "tok").string());
}

TEST_CASE("a client certificate without its key is refused") {
    auto rc = rest_config_from_text(
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user: {client-certificate: /c.crt}\n",
        "/c", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("without its key") != std::string::npos);
}

TEST_CASE("auth-provider users are told to use an exec plugin") {
    auto rc = rest_config_from_text(
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user: {auth-provider: {name: gcp}}\n",
        "/c", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("dropped in 1.26: switch to its exec credential plugin") !=
          std::string::npos);
}

TEST_CASE(
    "an oidc auth-provider is read: issuer, client, tokens, the issuer's CA and the file it came from") {
    auto rc = rest_config_from_text(
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user: {auth-provider: {name: oidc, config: {idp-issuer-url: https://idp/, "
        "client-id: c, client-secret: s, id-token: a.b.c, refresh-token: r, "
        "idp-certificate-authority-data: UEVN, extra-scopes: groups}}}\n",
        "/home/me/config", "", "");
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    REQUIRE(rc->oidc);
    CHECK(rc->oidc->issuer_url == "https://idp/");
    CHECK(rc->oidc->client_id == "c");
    CHECK(rc->oidc->client_secret == "s");
    CHECK(rc->oidc->id_token == "a.b.c");
    CHECK(rc->oidc->refresh_token == "r");
    CHECK(rc->oidc->ca_pem == "PEM");
    CHECK(rc->oidc->kubeconfig_file == "/home/me/config");
    CHECK(rc->oidc->user_name == "u");
}

TEST_CASE("an oidc auth-provider without client-id or idp-issuer-url is refused in one line, as client-go") {
    const std::string head =
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n";
    auto no_client = rest_config_from_text(
        head +
            "users:\n- name: u\n  user: {auth-provider: {name: oidc, config: {idp-issuer-url: https://i}}}\n",
        "/c", "", "");
    REQUIRE_FALSE(no_client.ok());
    CHECK(no_client.error().message.find("must provide client-id") != std::string::npos);
    CHECK(no_client.error().message.find('\n') == std::string::npos);
    auto no_issuer = rest_config_from_text(
        head + "users:\n- name: u\n  user: {auth-provider: {name: oidc, config: {client-id: c}}}\n", "/c", "",
        "");
    REQUIRE_FALSE(no_issuer.ok());
    CHECK(no_issuer.error().message.find("must provide idp-issuer-url") != std::string::npos);
    auto wrong_type = rest_config_from_text(
        head + "users:\n- name: u\n  user: {auth-provider: {name: oidc, config: {client-id: [c]}}}\n", "/c",
        "", "");
    REQUIRE_FALSE(wrong_type.ok());
    CHECK(wrong_type.error().message.find("auth-provider.config.client-id: expected a string") !=
          std::string::npos);
}

TEST_CASE("a token beside an oidc auth-provider wins, as client-go's bearer token does") {
    auto rc = rest_config_from_text(
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\n"
        "users:\n- name: u\n  user: {token: t, auth-provider: {name: oidc, config: {client-id: c}}}\n",
        "/c", "", "");
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    CHECK_FALSE(rc->oidc);
    CHECK(rc->token == "t");
}

TEST_CASE("exec plugins: v1 needs interactiveMode, v1beta1 defaults to IfAvailable") {
    std::string head =
        "current-context: x\nclusters:\n- name: k\n  cluster: {server: https://h}\n"
        "contexts:\n- name: x\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user:\n    exec:\n";
    auto v1 = rest_config_from_text(
        head + "      apiVersion: client.authentication.k8s.io/v1\n      command: x\n", "/c", "", "");
    REQUIRE_FALSE(v1.ok());
    CHECK(v1.error().message.find("interactiveMode") != std::string::npos);
    auto beta = rest_config_from_text(head +
                                          "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                          "      command: bin/plugin\n      args: [get-token, --fast]\n"
                                          "      env: [{name: A, value: b}]\n",
                                      "/etc/kube/config", "", "");
    REQUIRE_MESSAGE(beta.ok(), beta.error().message);
    REQUIRE(beta->exec);
    CHECK(beta->exec->interactive_mode == "IfAvailable");
    CHECK(beta->exec->command == "/etc/kube/bin/plugin");  // has a '/': relative to the file
    CHECK(beta->exec->args == std::vector<std::string>{"get-token", "--fast"});
    auto alpha = rest_config_from_text(head +
                                           "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                                           "      command: x\n",
                                       "/c", "", "");
    CHECK_FALSE(alpha.ok());
}

TEST_CASE("an exec plugin's credential is used, and cached until it expires") {
    TempDir dir;
    // The plugin counts its runs, records what it was given, and answers with a token.
    std::string plugin =
        dir.write("plugin",
                  "#!/bin/sh\n"
                  "echo run >> \"$COUNT_FILE\"\n"
                  "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$INFO_FILE\"\n"
                  "echo \"$1 $MY_VAR\" > \"$ARGS_FILE\"\n"
                  "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                  "\"ExecCredential\",\"status\":{\"token\":\"tok-123\",\"expirationTimestamp\":"
                  "\"%s\"}}' \"$EXPIRES\"\n",
                  true);
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = plugin;
    exec.args = {"first-arg"};
    exec.interactive_mode = "Never";
    exec.provide_cluster_info = true;
    exec.env = {{"MY_VAR", "from-kubeconfig"},
                {"COUNT_FILE", (dir.path / "count").string()},
                {"INFO_FILE", (dir.path / "info").string()},
                {"ARGS_FILE", (dir.path / "args").string()},
                {"EXPIRES", "2999-01-01T00:00:00Z"}};
    RestConfig cluster;
    cluster.server = "https://api.example:6443";
    cluster.ca_pem = "CA";

    auto cred = exec_credential(exec, cluster);
    REQUIRE_MESSAGE(cred.ok(), cred.error().message);
    CHECK(cred->token == "tok-123");
    CHECK(dir.read("args") == "first-arg from-kubeconfig\n");
    std::string info = dir.read("info");
    CHECK(info.find("\"kind\":\"ExecCredential\"") != std::string::npos);
    CHECK(info.find("\"interactive\":false") != std::string::npos);
    CHECK(info.find("\"server\":\"https://api.example:6443\"") != std::string::npos);
    CHECK(info.find("\"certificate-authority-data\":\"" + base64_encode("CA") + "\"") != std::string::npos);

    REQUIRE(exec_credential(exec, cluster).ok());
    CHECK(dir.read("count") == "run\n");  // cached
    REQUIRE(exec_credential(exec, cluster, /*force=*/true).ok());
    CHECK(dir.read("count") == "run\nrun\n");

    // An expired credential is fetched again.
    exec.env.back().second = "2000-01-01T00:00:00Z";
    REQUIRE(exec_credential(exec, cluster).ok());
    REQUIRE(exec_credential(exec, cluster).ok());
    CHECK(dir.read("count") == "run\nrun\nrun\nrun\n");
}

TEST_CASE("an exec plugin that fails or is missing is named, with its install hint") {
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1beta1";
    exec.command = "/nonexistent/kubelogin";
    exec.interactive_mode = "Never";
    exec.install_hint = "install kubelogin from your platform team";
    auto cred = exec_credential(exec, RestConfig{});
    REQUIRE_FALSE(cred.ok());
    CHECK(cred.error().message.find("/nonexistent/kubelogin") != std::string::npos);
    CHECK(cred.error().message.find("install kubelogin") != std::string::npos);

    exec.command = "false";
    cred = exec_credential(exec, RestConfig{});
    REQUIRE_FALSE(cred.ok());
    CHECK(cred.error().message.find("status 1") != std::string::npos);
}

namespace {

// Open descriptors of this process (the directory's own one included, the same each time).
int open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return -1;
    int n = 0;
    while (::readdir(dir)) ++n;
    ::closedir(dir);
    return n;
}

// In a child process: fork fails there (a seccomp filter answers clone, clone3, fork and vfork
// with EAGAIN: root ignores RLIMIT_NPROC), and running an exec plugin must leave the descriptors
// as they were. The child's exit status: 0 as it should be, 77 no seccomp, 2 leaked, 3 no fork error.
int fork_failure_child() {
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return 77;
    for (const char* name : {"clone", "clone3", "fork", "vfork"}) {
        int nr = ::seccomp_syscall_resolve_name(name);
        if (nr != __NR_SCMP_ERROR && ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAGAIN), nr, 0) != 0) return 77;
    }
    if (::seccomp_load(ctx) != 0) return 77;
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = "true";
    exec.interactive_mode = "Never";
    const int before = open_fds();
    auto cred = exec_credential(exec, RestConfig{}, /*force=*/true);
    const int after = open_fds();
    if (cred.ok() || cred.error().message.find("fork") == std::string::npos) return 3;
    return before == after ? 0 : 2;
}

}  // namespace

TEST_CASE("an exec plugin that cannot be forked leaves no descriptor open") {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(fork_failure_child());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        MESSAGE("skipped: cannot install a seccomp filter here");
        return;
    }
    CHECK_MESSAGE(WEXITSTATUS(status) != 2, "descriptors leaked when fork failed");
    CHECK_MESSAGE(WEXITSTATUS(status) != 3, "fork did not fail under the filter");
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("interactiveMode Always without a terminal is refused") {
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = "true";
    exec.interactive_mode = "Always";
    if (::isatty(STDIN_FILENO)) return;  // only meaningful without a terminal (CI)
    auto cred = exec_credential(exec, RestConfig{});
    REQUIRE_FALSE(cred.ok());
    CHECK(cred.error().message.find("terminal") != std::string::npos);
}

TEST_CASE("ExecCredential answers are checked") {
    const std::string v1 = "client.authentication.k8s.io/v1";
    CHECK(parse_exec_credential(
              R"({"apiVersion":")" + v1 + R"(","kind":"ExecCredential","status":{"token":"t"}})", v1)
              .ok());
    auto wrong = parse_exec_credential(
        R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})",
        v1);
    CHECK_FALSE(wrong.ok());
    CHECK_FALSE(
        parse_exec_credential(R"({"apiVersion":")" + v1 + R"(","kind":"ExecCredential","status":{}})", v1)
            .ok());
    CHECK_FALSE(
        parse_exec_credential(R"({"apiVersion":")" + v1 +
                                  R"(","kind":"ExecCredential","status":{"clientCertificateData":"c"}})",
                              v1)
            .ok());
    auto certs = parse_exec_credential(
        R"({"apiVersion":")" + v1 +
            R"(","kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}})",
        v1);
    REQUIRE(certs.ok());
    CHECK(certs->client_cert_pem == "C");
    CHECK_FALSE(parse_exec_credential("not json", v1).ok());
}

TEST_CASE("RFC 3339 times, with fractions and offsets") {
    using namespace std::chrono;
    auto t = parse_rfc3339("2026-11-23T07:00:00Z");
    REQUIRE(t);
    CHECK(duration_cast<seconds>(t->time_since_epoch()).count() == 1795417200);
    CHECK(*parse_rfc3339("2026-11-23T08:00:00.123+01:00") == *t);
    CHECK_FALSE(parse_rfc3339("yesterday"));
    CHECK_FALSE(parse_rfc3339("2026-11-23T07:00:00"));
    CHECK(*parse_rfc3339("2999-01-01T00:00:00Z") > *t);  // far futures do not overflow
    // Short or malformed offsets are refused, never read past their end (found by the fuzzer).
    CHECK_FALSE(parse_rfc3339("2026-11-23T07:00:00+0:00"));
    CHECK_FALSE(parse_rfc3339("2026-11-23T07:00:00+"));
    CHECK_FALSE(parse_rfc3339("2026-11-23T07:00:00-01:0"));
    CHECK_FALSE(parse_rfc3339("2026-11-23T07:00:00+01:00junk"));
    CHECK(*parse_rfc3339("2026-11-23T06:30:00-00:30") == *t);
}

TEST_CASE("in a pod with no kubeconfig, the service account is used") {
    TempDir dir;
    dir.write("sa/token", "sa-token\n");
    dir.write("sa/ca.crt", "CA");
    dir.write("sa/namespace", "apps\n");
    LoadOptions o = isolated(dir);
    o.service_account_dir = (dir.path / "sa").string();
    o.service_host = "fd00::1";
    o.service_port = "443";
    auto rc = load_rest_config(o);
    REQUIRE_MESSAGE(rc.ok(), rc.error().message);
    CHECK(rc->server == "https://[fd00::1]:443");
    CHECK(rc->token == "sa-token");
    CHECK(rc->ca_file == (dir.path / "sa/ca.crt").string());
    CHECK(rc->namespace_name == "apps");
}

TEST_CASE("malformed YAML names the file, line and column") {
    auto rc = rest_config_from_text("clusters: [\n  {name: a\n", "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.rfind("/k/config:", 0) == 0);
}

const char* kExecUser = R"(
current-context: c
clusters:
- name: k
  cluster: {server: "https://k.example"}
contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: get-token
)";

TEST_CASE("a map as an element of exec.args is refused, naming the field") {
    auto rc = rest_config_from_text(std::string(kExecUser) + "      args: [{a: b}]\n", "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message ==
          "/k/config:15:14: users[name=u].user.exec.args[0]: expected a string, found a map: fix the file");
}

TEST_CASE("a map as exec.args is refused, not ignored") {
    auto rc = rest_config_from_text(std::string(kExecUser) + "      args: {a: b}\n", "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("users[name=u].user.exec.args: expected a list, found a map") !=
          std::string::npos);
}

TEST_CASE("a complex key under extensions is refused with its position") {
    std::string text =
        "clusters:\n- name: k\n  cluster:\n    server: https://k\n    extensions:\n"
        "    - name: x\n      extension: {? [a]: b}\n";
    auto rc = rest_config_from_text(text, "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.rfind("/k/config:7:", 0) == 0);
    CHECK(rc.error().message.find("expected a plain key") != std::string::npos);
}

TEST_CASE("a map where the server's address belongs is refused, naming the field") {
    std::string text =
        "current-context: c\nclusters:\n- name: k\n  cluster: {server: {a: 1}}\n"
        "contexts:\n- name: c\n  context: {cluster: k}\n";
    auto rc = rest_config_from_text(text, "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message ==
          "/k/config:4:21: clusters[name=k].cluster.server: expected a string, found a map: fix the file");
}

TEST_CASE("clusters as a map instead of a list is refused") {
    auto rc = rest_config_from_text("clusters: {a: b}\n", "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("clusters: expected a list, found a map") != std::string::npos);
}

TEST_CASE("a JSON kubeconfig reads as YAML, and deep nesting is refused") {
    std::string json =
        R"({"current-context": "c", "clusters": [{"name": "k", "cluster": {"server": "https://k",
        "insecure-skip-tls-verify": true}}], "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]})";
    auto rc = rest_config_from_text(json, "/k/config", "", "");
    REQUIRE(rc.ok());
    CHECK(rc->insecure_skip_tls_verify);
    auto deep = rest_config_from_text(std::string(100000, '['), "/k/config", "", "");
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().message.find("nested deeper than") != std::string::npos);
}

TEST_CASE("a kubeconfig with a NUL byte is refused") {
    auto rc = rest_config_from_text(std::string("clusters: []\n\0junk", 19), "/k/config", "", "");
    REQUIRE_FALSE(rc.ok());
    CHECK(rc.error().message.find("2:1: a NUL byte") != std::string::npos);
}

TEST_CASE("an ExecCredential nested 3,000,000 deep or followed by junk is refused, not a crash") {
    CHECK_FALSE(parse_exec_credential(std::string(3000000, '['), "client.authentication.k8s.io/v1").ok());
    std::string good = R"({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"token": "t"}})";
    CHECK(parse_exec_credential(good, "client.authentication.k8s.io/v1").ok());
    CHECK_FALSE(parse_exec_credential(good + "x", "client.authentication.k8s.io/v1").ok());
}

}  // namespace ksc::kube
