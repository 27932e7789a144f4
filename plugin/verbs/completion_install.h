// `kubectl seccomp completion install`: kubectl (1.26+) completes `kubectl seccomp ...` by running
// kubectl_complete-seccomp from PATH, and krew links only the plugin itself onto PATH (krew #812).
// This puts kubectl_complete-seccomp beside the plugin found on PATH (or in --dir): a symlink to
// the plugin, which answers completion when run under that name (cli.cpp), or a copy of it where
// symlinks fail. Idempotent; a file there that is not ours is left alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace ksc::cli {

inline constexpr const char* kCompletionName = "kubectl_complete-seccomp";

// The first executable regular file called `name` in the directories of `path_env` (PATH's
// syntax; an empty entry is the current directory, as for execvp).
std::optional<std::string> find_on_path(std::string_view name, std::string_view path_env);

struct CompletionInstall {
    std::string dir;          // where kubectl_complete-seccomp goes
    std::string plugin;       // the plugin it stands for (the one on PATH, or this executable)
    bool force_copy = false;  // for tests: behave as on a filesystem without symlinks
};

// Installs or confirms; returns the one line to print (what it did). An error leaves the
// directory as it was.
Result<std::string> install_completion(const CompletionInstall& plan);

}  // namespace ksc::cli
