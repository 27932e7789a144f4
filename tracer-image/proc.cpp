#include "proc.h"

#include "unique_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ksc::tracer {

namespace {

std::vector<pid_t> numeric_entries(const char* dir_path) {
    std::vector<pid_t> out;
    DIR* dir = opendir(dir_path);
    if (!dir) return out;
    while (dirent* entry = readdir(dir)) {
        const char* name = entry->d_name;
        if (name[0] < '1' || name[0] > '9') continue;
        char* end;
        long value = std::strtol(name, &end, 10);
        if (*end == '\0') out.push_back(static_cast<pid_t>(value));
    }
    closedir(dir);
    return out;
}

std::uint64_t parse_hex(const char* s) {
    return std::strtoull(s, nullptr, 16);
}

}  // namespace

std::string read_small_file(const char* path) {
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return {};
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd.get(), buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > (1u << 20)) break;
    }
    return out;
}

std::vector<pid_t> list_processes() {
    return numeric_entries("/proc");
}

std::vector<pid_t> list_threads(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task", pid);
    return numeric_entries(path);
}

std::optional<ProcStatus> read_status(pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", tid);
    std::string text = read_small_file(path);
    if (text.empty()) return std::nullopt;
    ProcStatus st;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        const char* value = std::strchr(line.c_str(), ':');
        if (!value) continue;
        ++value;
        while (*value == ' ' || *value == '\t') ++value;
        if (line.starts_with("Name:"))
            st.name = value;
        else if (line.starts_with("State:"))
            st.state = *value;
        else if (line.starts_with("Tgid:"))
            st.tgid = std::atoi(value);
        else if (line.starts_with("PPid:"))
            st.ppid = std::atoi(value);
        else if (line.starts_with("TracerPid:"))
            st.tracer_pid = std::atoi(value);
        else if (line.starts_with("Uid:")) {
            char* end_ptr;
            st.uid = static_cast<uid_t>(std::strtoul(value, &end_ptr, 10));
            st.euid = static_cast<uid_t>(std::strtoul(end_ptr, nullptr, 10));
        } else if (line.starts_with("CapEff:"))
            st.cap_eff = parse_hex(value);
    }
    if (st.tgid == 0) return std::nullopt;
    return st;
}

std::string read_comm(pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/comm", tid);
    std::string comm = read_small_file(path);
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    return comm;
}

std::string read_exe(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/exe", pid);
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(n));
}

bool cgroup_mentions(pid_t pid, const std::string& id) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    return read_small_file(path).find(id) != std::string::npos;
}

bool is_kernel_thread(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    std::string stat = read_small_file(path);
    // After "(comm)", which may itself hold spaces and parentheses: state ppid pgrp session
    // tty_nr tpgid flags.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return false;
    const char* p = stat.c_str() + close + 1;
    for (int field = 0; field < 7 && *p; ++field) {
        while (*p == ' ') ++p;
        while (*p && *p != ' ') ++p;
    }
    constexpr unsigned long kPfKthread = 0x00200000;
    return std::strtoul(p, nullptr, 10) & kPfKthread;
}

bool is_thread_of(pid_t pid, pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task/%d", pid, tid);
    return access(path, F_OK) == 0;
}

}  // namespace ksc::tracer
