#include "completion_install.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ksc::cli {
namespace {

namespace fs = std::filesystem;

struct Dirs {
    std::string root, bin, store;
    Dirs() {
        char tmpl[] = "/tmp/ksc-completion-XXXXXX";
        root = ::mkdtemp(tmpl);
        bin = root + "/bin";
        store = root + "/store";
        fs::create_directories(bin);
        fs::create_directories(store);
        // As krew lays it out: the binary in the store, a link to it on PATH.
        write(store + "/kubectl-seccomp",
              "\x7f"
              "ELF plugin v2",
              0755);
        fs::create_symlink(store + "/kubectl-seccomp", bin + "/kubectl-seccomp");
    }
    ~Dirs() { fs::remove_all(root); }
    static void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
        std::ofstream(path) << data;
        ::chmod(path.c_str(), mode);
    }
    std::string dest() const { return bin + "/" + kCompletionName; }
};

std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("find_on_path finds the first executable file, as execvp") {
    Dirs d;
    CHECK(find_on_path("kubectl-seccomp", "/nonexistent:" + d.bin) == d.bin + "/kubectl-seccomp");
    CHECK(!find_on_path("kubectl-seccomp", "/nonexistent:" + d.root));
    Dirs::write(d.root + "/kubectl-seccomp", "not executable", 0644);
    CHECK(find_on_path("kubectl-seccomp", d.root + ":" + d.bin) == d.bin + "/kubectl-seccomp");
}

TEST_CASE("completion install links beside the plugin on PATH, relative so that upgrades follow") {
    Dirs d;
    auto r = install_completion({d.bin, d.bin + "/kubectl-seccomp"});
    REQUIRE(r.ok());
    CHECK(r->find("linked " + d.dest() + " -> kubectl-seccomp") == 0);
    CHECK(fs::read_symlink(d.dest()) == "kubectl-seccomp");
    CHECK(read(d.dest()) ==
          "\x7f"
          "ELF plugin v2");
    // Idempotent.
    r = install_completion({d.bin, d.bin + "/kubectl-seccomp"});
    REQUIRE(r.ok());
    CHECK(r->find("already there") != std::string::npos);
    CHECK(fs::read_symlink(d.dest()) == "kubectl-seccomp");
}

TEST_CASE("completion install into another directory links to the plugin's real path") {
    Dirs d;
    fs::create_directories(d.root + "/mine");
    auto r = install_completion({d.root + "/mine", d.bin + "/kubectl-seccomp"});
    REQUIRE(r.ok());
    CHECK(fs::read_symlink(d.root + "/mine/" + kCompletionName) ==
          fs::canonical(d.store + "/kubectl-seccomp"));
    CHECK(!install_completion({d.root + "/missing", d.bin + "/kubectl-seccomp"}).ok());
}

TEST_CASE("completion install refuses to replace a file or link that is not ours") {
    Dirs d;
    Dirs::write(d.dest(), "#!/bin/sh\necho someone else's\n", 0755);
    auto r = install_completion({d.bin, d.bin + "/kubectl-seccomp"});
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("is not kubectl-seccomp's") != std::string::npos);
    CHECK(read(d.dest()) == "#!/bin/sh\necho someone else's\n");
    fs::remove(d.dest());
    fs::create_symlink("/usr/bin/other", d.dest());
    CHECK(!install_completion({d.bin, d.bin + "/kubectl-seccomp"}).ok());
    CHECK(fs::read_symlink(d.dest()) == "/usr/bin/other");
}

TEST_CASE("completion install replaces what earlier releases put there") {
    Dirs d;
    // The README's one-line symlink to an older release's script.
    fs::create_directories(d.root + "/old");
    Dirs::write(d.root + "/old/kubectl_complete-seccomp",
                "#!/bin/sh\nhere=$(dirname \"$(readlink -f \"$0\")\")\nexec \"$here/kubectl-seccomp\" "
                "__complete \"$@\"\n",
                0755);
    fs::create_symlink(d.root + "/old/kubectl_complete-seccomp", d.dest());
    auto r = install_completion({d.bin, d.bin + "/kubectl-seccomp"});
    REQUIRE(r.ok());
    CHECK(fs::read_symlink(d.dest()) == "kubectl-seccomp");
    // That script copied there itself.
    fs::remove(d.dest());
    fs::copy_file(d.root + "/old/kubectl_complete-seccomp", d.dest());
    REQUIRE(install_completion({d.bin, d.bin + "/kubectl-seccomp"}).ok());
    CHECK(fs::is_symlink(d.dest()));
}

TEST_CASE("completion install copies the plugin where symlinks fail, and knows its copy again") {
    Dirs d;
    CompletionInstall plan{d.bin, d.bin + "/kubectl-seccomp", true};
    auto r = install_completion(plan);
    REQUIRE(r.ok());
    CHECK(r->find("copied") == 0);
    CHECK(!fs::is_symlink(d.dest()));
    CHECK(read(d.dest()) ==
          "\x7f"
          "ELF plugin v2");
    CHECK(::access(d.dest().c_str(), X_OK) == 0);
    r = install_completion(plan);
    REQUIRE(r.ok());
    CHECK(r->find("already there (a copy") != std::string::npos);
}

}  // namespace ksc::cli
