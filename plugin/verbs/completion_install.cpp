#include "completion_install.h"

#include <fmt/core.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "output_file.h"

namespace ksc::cli {
namespace {

std::string dirname_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<std::string> real_path(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> link_text(const std::string& path) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

// At most 256 MiB: the plugin is a few MiB; anything larger is not it.
std::optional<std::string> read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string data;
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        data.append(buf, static_cast<std::size_t>(in.gcount()));
        if (data.size() > (256u << 20)) return std::nullopt;
    }
    return data;
}

// Ours: a link to the plugin or to an older kubectl_complete-seccomp (the README's one-line
// symlink), or the shell script of earlier releases.
bool is_ours_link(const std::string& text) {
    std::string base = basename_of(text);
    return base == "kubectl-seccomp" || base == kCompletionName;
}

bool is_ours_file(const std::string& data) {
    if (data.rfind("#!/bin/sh", 0) == 0)
        return data.size() < 4096 && data.find("kubectl-seccomp\" __complete") != std::string::npos;
    // A copy of another release of the plugin.
    return data.rfind(
               "\x7f"
               "ELF",
               0) == 0 &&
           data.find(kCompletionName) != std::string::npos &&
           data.find("kubectl-seccomp records least-privilege seccomp profiles") != std::string::npos;
}

// A symlink made beside the destination, then renamed over it: never half there.
// `unsupported` says that the filesystem takes no symlinks (a copy is made then).
Status replace_with_link(const std::string& target, const std::string& dest, bool& unsupported) {
    std::random_device rd;
    std::string tmp = fmt::format("{}/.{}.{:08x}", dirname_of(dest), kCompletionName, rd());
    unsupported = false;
    if (::symlink(target.c_str(), tmp.c_str()) != 0) {
        unsupported = errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS;
        return make_error(
            fmt::format("cannot make a symlink in {}: {}", dirname_of(dest), std::strerror(errno)));
    }
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error(fmt::format("cannot put {} in place: {}", dest, std::strerror(e)));
    }
    return Ok{};
}

Status copy_plugin(const std::string& plugin, const std::string& dest) {
    auto real = real_path(plugin);
    auto data = real ? read_whole(*real) : std::nullopt;
    if (!data) return make_error("cannot read the plugin " + plugin + " to copy it");
    if (auto w = replace_file(dest, *data); !w) return w;
    if (::chmod(dest.c_str(), 0755) != 0)
        return make_error(fmt::format("cannot make {} executable: {}", dest, std::strerror(errno)));
    return Ok{};
}

}  // namespace

std::optional<std::string> find_on_path(std::string_view name, std::string_view path_env) {
    std::size_t start = 0;
    while (start <= path_env.size()) {
        auto end = path_env.find(':', start);
        if (end == std::string_view::npos) end = path_env.size();
        std::string dir(path_env.substr(start, end - start));
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + std::string(name);
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return std::nullopt;
}

Result<std::string> install_completion(const CompletionInstall& plan) {
    struct stat dir_st {};
    if (::stat(plan.dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode))
        return make_error(plan.dir + " is not a directory: give an existing directory on PATH with --dir");
    const std::string dest = plan.dir + "/" + kCompletionName;
    // Beside the plugin, a relative link: it follows the plugin through upgrades (krew replaces the
    // plugin's own link). Elsewhere, the plugin's absolute path.
    auto same_dir = [](const std::string& a, const std::string& b) {
        auto ra = real_path(a), rb = real_path(b);
        return ra && rb && *ra == *rb;
    };
    const auto plugin_real = real_path(plan.plugin);
    if (!plugin_real) return make_error("cannot find the plugin at " + plan.plugin);
    const std::string target =
        same_dir(plan.dir, dirname_of(plan.plugin)) ? basename_of(plan.plugin) : *plugin_real;

    struct stat st {};
    if (::lstat(dest.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            auto text = link_text(dest).value_or("");
            auto points_to = real_path(dest);
            if (text == target || (points_to && *points_to == *plugin_real))
                return fmt::format("{} is already there (a link to {}): nothing to do", dest, text);
            if (!is_ours_link(text))
                return make_error(fmt::format(
                    "{} exists and is not kubectl-seccomp's (a link to {}): remove it, or give --dir", dest,
                    text));
        } else if (S_ISREG(st.st_mode)) {
            auto data = read_whole(dest);
            auto plugin_data = read_whole(*plugin_real);
            if (data && plugin_data && *data == *plugin_data)
                return fmt::format("{} is already there (a copy of {}): nothing to do", dest, *plugin_real);
            if (!data || !is_ours_file(*data))
                return make_error(
                    fmt::format("{} exists and is not kubectl-seccomp's: remove it, or give --dir", dest));
        } else {
            return make_error(fmt::format("{} exists and is not a file: remove it, or give --dir", dest));
        }
    }
    if (!plan.force_copy) {
        bool unsupported = false;
        auto linked = replace_with_link(target, dest, unsupported);
        if (linked)
            return fmt::format("linked {} -> {}: kubectl completes `kubectl seccomp` with Tab", dest, target);
        if (!unsupported) return linked.error();
    }
    if (auto copied = copy_plugin(plan.plugin, dest); !copied) return copied.error();
    return fmt::format(
        "copied {} to {} (symlinks fail there): kubectl completes `kubectl seccomp` with Tab; run this again "
        "after an upgrade",
        *plugin_real, dest);
}

}  // namespace ksc::cli
