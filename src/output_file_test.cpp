#include "output_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ksc {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it.
struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/ksc-output-file-XXXXXX";
        REQUIRE(::mkdtemp(t) != nullptr);
        path = t;
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write(const std::string& path, const std::string& data) {
    std::ofstream(path) << data;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

}  // namespace

TEST_CASE("replace_file replaces the file whole and leaves no temporary file") {
    TempDir d;
    const std::string target = d.path + "/profile.json";
    REQUIRE(replace_file(target, "first, longer content\n").ok());
    REQUIRE(replace_file(target, "second\n").ok());
    CHECK(read(target) == "second\n");
    int entries = 0;
    for (const auto& e : fs::directory_iterator(d.path)) entries += e.path() == target ? 0 : 1;
    CHECK(entries == 0);
}

TEST_CASE("replace_file keeps an existing file's mode and gives a new one 0666 less the umask") {
    TempDir d;
    const std::string target = d.path + "/profile.json";
    write(target, "old");
    REQUIRE(::chmod(target.c_str(), 0640) == 0);
    REQUIRE(replace_file(target, "new").ok());
    CHECK((mode_of(target) & 07777) == 0640);
    const std::string fresh = d.path + "/fresh.json";
    mode_t old = ::umask(027);
    auto st = replace_file(fresh, "x");
    ::umask(old);
    REQUIRE(st.ok());
    CHECK((mode_of(fresh) & 07777) == 0640);
}

TEST_CASE("a symlink planted at the temporary name is not followed") {
    TempDir d;
    const std::string target = d.path + "/profile.json";
    const std::string victim = d.path + "/victim";
    write(victim, "precious");
    // The first name tried is taken by a symlink to the victim (and the second by a dangling one,
    // which O_CREAT alone would follow to create its target).
    const std::string first = d.path + "/.profile.json.AAAA.tmp";
    const std::string second = d.path + "/.profile.json.BBBB.tmp";
    REQUIRE(::symlink(victim.c_str(), first.c_str()) == 0);
    REQUIRE(::symlink((d.path + "/created-through-link").c_str(), second.c_str()) == 0);
    int calls = 0;
    auto suffixes = [&] { return std::string(++calls == 1 ? "AAAA" : calls == 2 ? "BBBB" : "CCCC"); };
    REQUIRE(replace_file(target, "profile", suffixes).ok());
    CHECK(calls == 3);
    CHECK(read(victim) == "precious");
    CHECK_FALSE(fs::exists(d.path + "/created-through-link"));
    CHECK(fs::is_symlink(first));
    CHECK(read(target) == "profile");
    CHECK(S_ISREG(mode_of(target)));
}

TEST_CASE("a symlink at the target is replaced, not followed") {
    TempDir d;
    const std::string target = d.path + "/profile.json";
    const std::string victim = d.path + "/victim";
    write(victim, "precious");
    REQUIRE(::chmod(victim.c_str(), 0600) == 0);
    REQUIRE(::symlink(victim.c_str(), target.c_str()) == 0);
    REQUIRE(replace_file(target, "profile").ok());
    CHECK(read(victim) == "precious");
    CHECK(S_ISREG(mode_of(target)));
    CHECK(read(target) == "profile");
    // A dangling one too: nothing is created where it pointed.
    const std::string dangling = d.path + "/other.json";
    REQUIRE(::symlink((d.path + "/nowhere").c_str(), dangling.c_str()) == 0);
    REQUIRE(replace_file(dangling, "x").ok());
    CHECK_FALSE(fs::exists(d.path + "/nowhere"));
    CHECK(S_ISREG(mode_of(dangling)));
}

TEST_CASE("replace_file says what failed: a missing directory, a directory as the target") {
    auto missing = replace_file("/nonexistent-dir-ksc/profile.json", "x");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("/nonexistent-dir-ksc") != std::string::npos);
    TempDir d;
    auto dir = replace_file(d.path, "x");
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.error().message.find("directory") != std::string::npos);
}

}  // namespace ksc
