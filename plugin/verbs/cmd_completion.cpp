// `kubectl seccomp completion install [--dir DIR]`: puts kubectl_complete-seccomp on PATH beside
// the plugin (completion_install.h), since krew links only the plugin itself there.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/core.h>

#include "common_flags.h"
#include "completion_install.h"
#include "exit_status.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

std::string this_executable() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        throw UserError("cannot find this executable (/proc/self/exe): give --dir and run it from PATH");
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

int cmd_completion(int argc, char** argv) {
    VerbFlags flags(
        "completion",
        "Set up Tab completion of kubectl seccomp: `install` puts kubectl_complete-seccomp, which "
        "kubectl (1.26+) runs to complete a plugin's words, beside the plugin on PATH (krew links "
        "only the plugin itself there).",
        0);
    flags.add_options()("dir", "Put it in this directory (on PATH) instead of the plugin's",
                        cxxopts::value<std::string>());
    flags.set_positional("action", "install", "What to do: install", 1, 1, "one action: install");
    flags.set_examples(
        "  # Once after installing (krew install seccomp), then: kubectl seccomp rec<Tab>\n"
        "  kubectl seccomp completion install\n"
        "  # Into a directory of your own on PATH\n"
        "  kubectl seccomp completion install --dir ~/bin\n");
    if (!flags.parse_or_help(argc, argv)) return kExitSuccess;
    const std::string action = flags.positionals().front();
    if (action != "install")
        throw UserError("unknown action \"" + action + "\": kubectl seccomp completion install [--dir DIR]");
    const char* path_env = std::getenv("PATH");
    const std::string path = path_env ? path_env : "";
    auto on_path = find_on_path("kubectl-seccomp", path);
    CompletionInstall plan;
    plan.plugin = on_path ? *on_path : this_executable();
    if (flags.result().count("dir")) {
        plan.dir = flags.result()["dir"].as<std::string>();
    } else {
        if (!on_path)
            throw UserError(
                "kubectl-seccomp is not on PATH, so kubectl would not find it either: put it there, or give "
                "--dir DIR (a directory on PATH)");
        plan.dir = on_path->substr(0, on_path->rfind('/'));
    }
    auto done = install_completion(plan);
    if (!done) throw UserError(done.error().message);
    fmt::print("{}\n", *done);
    auto found = find_on_path(kCompletionName, path);
    std::error_code ec;
    if (!found || !std::filesystem::equivalent(*found, plan.dir + "/" + kCompletionName, ec))
        warn(plan.dir + (found ? " comes after " + *found + " on PATH" : " is not on PATH") +
             ": kubectl runs the first kubectl_complete-seccomp on PATH");
    return kExitSuccess;
}

}  // namespace ksc::cli
