// The offline verbs end to end through the verb table: output, exit codes, errors.
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
#include "stream.h"

namespace ksc::cli {
namespace {

std::string shared(const std::string& rel) {
    return std::string(KSC_SHARED_DIR) + "/profiles/" + rel;
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/ksc-verbs-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = path + "/" + name;
        std::ofstream(p) << content;
        return p;
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path + "/" + name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

int run(std::vector<std::string> args) {
    args.insert(args.begin(), "kubectl-seccomp");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return ksc::cli::main(static_cast<int>(args.size()), argv.data());
}

std::string recording_text() {
    std::string t;
    stream::Hello hello;
    hello.method = stream::Method::Ptrace;
    t += stream::encode(hello) + "\n";
    stream::Syscall s;
    s.nr = 0;
    s.pid = 1;
    s.comm = "app";
    t += stream::encode(s) + "\n";
    s.nr = 435;  // clone3
    t += stream::encode(s) + "\n";
    stream::Summary sum;
    sum.final = true;
    sum.returns_seen = true;
    sum.syscalls.push_back({Arch::X86_64, 0, "read", 5, {}, false});
    sum.syscalls.push_back({Arch::X86_64, 435, "clone3", 2, {{38, 2}}, false});
    t += stream::encode(sum) + "\n";
    return t;
}

}  // namespace

TEST_CASE("convert: a recording becomes an OCI profile with clone3 refused by ENOSYS") {
    TempDir d;
    auto rec = d.file("rec.ndjson", recording_text());
    CHECK(run({"convert", rec, "--base", "none", "--output-file", d.path + "/out.json"}) == 0);
    std::string out = d.read("out.json");
    CHECK(out.find("\"defaultAction\": \"SCMP_ACT_ERRNO\"") != std::string::npos);
    CHECK(out.find("\"read\"") != std::string::npos);
    CHECK(out.find("\"errnoRet\": 38") != std::string::npos);
}

TEST_CASE("convert: -o yaml writes a SeccompProfile named by --name") {
    TempDir d;
    auto rec = d.file("rec.ndjson", recording_text());
    CHECK(run({"convert", rec, "-o", "yaml", "--name", "Web App", "--output-file", d.path + "/out.yaml"}) ==
          0);
    std::string out = d.read("out.yaml");
    CHECK(out.find("kind: SeccompProfile") != std::string::npos);
    CHECK(out.find("name: web-app") != std::string::npos);
}

TEST_CASE("convert: -o report lists counts and errno values") {
    TempDir d;
    auto rec = d.file("rec.ndjson", recording_text());
    CHECK(run({"convert", rec, "-o", "report", "--output-file", d.path + "/r.txt"}) == 0);
    CHECK(d.read("r.txt").find("ENOSYS x2") != std::string::npos);
}

TEST_CASE("convert: bad input and bad flags exit 1 without output") {
    TempDir d;
    auto bad = d.file("bad.json", "{\"defaultAction\": \"SCMP_ACT_ERRNO\",}");
    CHECK(run({"convert", bad, "--output-file", d.path + "/o.json"}) == 1);
    CHECK(::access((d.path + "/o.json").c_str(), F_OK) != 0);
    CHECK(run({"convert", d.file("empty.json", "")}) == 1);
    CHECK(run({"convert", bad, "-o", "xml"}) == 1);
    CHECK(run({"convert"}) == 1);
}

TEST_CASE("convert: a saved stream of another protocol major is refused, without output") {
    TempDir d;
    stream::Hello hello;
    hello.protocol_major = stream::kProtocolMajor + 1;
    std::string text = recording_text();
    text.replace(0, text.find('\n'), stream::encode(hello));
    auto in = d.file("future.ndjson", text);
    CHECK(run({"convert", in, "--output-file", d.path + "/o.json"}) == 1);
    CHECK(::access((d.path + "/o.json").c_str(), F_OK) != 0);
    CHECK(run({"convert", d.file("now.ndjson", recording_text()), "--output-file", d.path + "/o.json"}) == 0);
}

TEST_CASE("trace: its errors exit 125, from the verb table") {
    CHECK(run({"trace"}) == 125);  // no command
    CHECK(run({"trace", "--base", "bogus", "--", "true"}) == 125);
}

TEST_CASE("convert: a SeccompProfile with its base resolved from a file beside it") {
    TempDir d;
    d.file("runc-base.yaml",
           "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: "
           "runc-base}\n"
           "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - {action: SCMP_ACT_ALLOW, names: "
           "[execve, capset]}\n");
    auto app = d.file(
        "app.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: app}\n"
        "spec:\n  baseProfileName: runc-base\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n"
        "  - {action: SCMP_ACT_ALLOW, names: [read]}\n");
    CHECK(run({"convert", app, "--output-file", d.path + "/app.json"}) == 0);
    std::string out = d.read("app.json");
    CHECK(out.find("\"capset\"") != std::string::npos);
    CHECK(out.find("\"read\"") != std::string::npos);
    // -o yaml keeps the base named, not resolved.
    CHECK(run({"convert", app, "-o", "yaml", "--output-file", d.path + "/app2.yaml"}) == 0);
    CHECK(d.read("app2.yaml").find("baseProfileName: runc-base") != std::string::npos);
    // A base that is nowhere is an error naming it.
    auto orphan = d.file(
        "orphan.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: o}\n"
        "spec: {baseProfileName: nowhere, defaultAction: SCMP_ACT_ERRNO}\n");
    CHECK(run({"convert", orphan}) == 1);
}

TEST_CASE("diff: exit 0 for the same profile, 1 for different, 2 for an error") {
    TempDir d;
    auto fine = shared("k8s-tutorial/fine-grained.json");
    CHECK(run({"diff", fine, fine, "--output-file", d.path + "/same.txt"}) == 0);
    CHECK(d.read("same.txt").find("same") != std::string::npos);
    CHECK(run({"diff", shared("k8s-tutorial/violation.json"), fine, "--output-file", d.path + "/d.txt"}) ==
          1);
    CHECK(run({"diff", fine, d.path + "/missing.json"}) == 2);
    CHECK(run({"diff", fine}) == 2);
    CHECK(run({"diff", fine, fine, "--fail-on", "sometimes"}) == 2);
}

TEST_CASE("diff: --fail-on added fails only when NEW lets more through") {
    TempDir d;
    auto small = d.file(
        "small.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})");
    auto big = d.file(
        "big.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]})");
    auto out = "--output-file=" + d.path + "/o";
    CHECK(run({"diff", small, big, "--fail-on", "added", out}) == 1);
    CHECK(run({"diff", big, small, "--fail-on", "added", out}) == 0);
    CHECK(run({"diff", big, small, "--fail-on", "removed", out}) == 1);
    CHECK(run({"diff", small, big, "--fail-on", "removed", out}) == 0);
}

TEST_CASE("diff: -o json for machines, no colour in a file") {
    TempDir d;
    auto small = d.file(
        "small.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})");
    auto big = d.file(
        "big.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]})");
    CHECK(run({"diff", small, big, "-o", "json", "--output-file", d.path + "/d.json"}) == 1);
    std::string out = d.read("d.json");
    CHECK(out.find("\"same\": false") != std::string::npos);
    CHECK(out.find("\"name\": \"write\"") != std::string::npos);
    CHECK(out.find("\"change\": \"added\"") != std::string::npos);
    CHECK(out.find('\033') == std::string::npos);
}

TEST_CASE("diff: runtime/default against moby's own file is the same") {
    TempDir d;
    CHECK(run({"diff", "runtime/default", shared("moby/default.json"), "--output-file", d.path + "/o"}) == 0);
    CHECK(run({"diff", "runtime/default", shared("moby/default.json"), "--caps", "SYS_ADMIN", "--output-file",
               d.path + "/o"}) == 0);
}

TEST_CASE("merge: the union of two recordings' profiles, with a warning per conflict") {
    TempDir d;
    auto a = d.file(
        "a.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","clone3"],"action":"SCMP_ACT_ALLOW"}]})");
    auto b = d.file(
        "b.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["write"],"action":"SCMP_ACT_ALLOW"},{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]})");
    CHECK(run({"merge", a, b, "--output-file", d.path + "/m.json"}) == 0);
    std::string out = d.read("m.json");
    CHECK(out.find("\"clone3\",\n        \"read\",\n        \"write\"") != std::string::npos);
    CHECK(out.find("errnoRet") == std::string::npos);
    CHECK(run({"merge", "--output-file", d.path + "/m.json"}) == 1);
}

TEST_CASE("explain: groups by area and compares with runtime/default") {
    TempDir d;
    CHECK(run({"explain", shared("k8s-tutorial/fine-grained.json"), "--output-file", d.path + "/e.txt"}) ==
          0);
    std::string out = d.read("e.txt");
    CHECK(out.find("network (9): accept4, bind") != std::string::npos);
    CHECK(out.find("Compared with runtime/default") != std::string::npos);
    CHECK(run({"explain", shared("k8s-tutorial/fine-grained.json"), "-o", "json", "--output-file",
               d.path + "/e.json"}) == 0);
    CHECK(d.read("e.json").find("\"allowedOnlyHere\"") != std::string::npos);
}

TEST_CASE("every offline verb has --help with examples") {
    for (auto verb : {"convert", "merge", "diff", "explain", "check"}) {
        CAPTURE(verb);
        TempDir d;
        // --help prints to stdout: send it to a file and look for the examples.
        std::fflush(stdout);
        int saved = ::dup(1);
        int fd = ::open((d.path + "/help").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        int rc = run({verb, "--help"});
        std::fflush(stdout);
        ::dup2(saved, 1);
        ::close(fd);
        ::close(saved);
        CHECK(rc == 0);
        CHECK(d.read("help").find("Examples:\n  # ") != std::string::npos);
    }
}

TEST_CASE("check: what cannot be checked is one line and exit 2, before any cluster is asked") {
    TempDir d;
    // No kubeconfig anywhere: a run that got as far as the cluster would fail differently.
    ::setenv("KUBECONFIG", (d.path + "/none").c_str(), 1);
    auto fine = d.file(
        "fine.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})");
    auto notify = d.file(
        "notify.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]})");
    CHECK(run({"check", "web-0"}) == 2);                                          // no --profile
    CHECK(run({"check", "web-0", "--profile", d.path + "/missing.json"}) == 2);   // no such file
    CHECK(run({"check", "web-0", "--profile", notify}) == 2);                     // no listener
    CHECK(run({"check", "web-0", "--profile", fine, "--mode", "enforce"}) == 2);  // attach only evaluates
    CHECK(run({"check", "web-0", "--profile", fine, "--from-start", "--mode", "warn"}) == 2);
    CHECK(run({"check", "web-0", "--profile", fine, "--keep"}) == 2);  // a --from-start flag
    CHECK(run({"check", "--profile", fine}) == 2);                     // no pod
    ::unsetenv("KUBECONFIG");
}

}  // namespace ksc::cli
