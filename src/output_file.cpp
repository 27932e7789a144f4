#include "output_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace ksc {
namespace {

std::string random_suffix() {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char bytes[10] = {};
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        // Unpredictability is a nicety here: O_EXCL|O_NOFOLLOW is what makes the name safe.
        static unsigned counter = 0;
        for (auto& b : bytes) b = static_cast<unsigned char>(::getpid() + ++counter * 31);
    }
    std::string out;
    for (unsigned char b : bytes) out += kChars[b % (sizeof kChars - 1)];
    return out;
}

std::string errno_text() {
    return std::strerror(errno);
}

// The directory part of `path` ("." for a bare name) and the name part.
std::pair<std::string, std::string> split_path(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

mode_t current_umask() {
    // umask(2) can only be read by setting it; the plugin sets it back at once, before any other
    // thread creates files.
    mode_t old = ::umask(022);
    ::umask(old);
    return old;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

Status replace_file(const std::string& target, std::string_view data) {
    return replace_file(target, data, random_suffix);
}

Status replace_file(const std::string& target, std::string_view data,
                    const std::function<std::string()>& next_suffix) {
    const auto [dir, name] = split_path(target);
    if (name.empty() || name == "." || name == "..")
        return make_error("cannot write " + target + ": it names a directory: give a file name");

    // The mode to keep: an existing regular file's. A symlink there is replaced, not followed, so
    // its target's mode does not count.
    mode_t mode = 0666 & ~current_umask();
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return make_error("cannot write " + target + ": it is a directory: give a file name");
        if (S_ISREG(st.st_mode)) mode = st.st_mode & 07777;
    }

    // The temporary file: a fresh name in the same directory (rename(2) cannot cross file
    // systems), created exclusively, so that nothing planted there (a symlink, a file) is opened.
    std::string tmp;
    UniqueFd fd;
    for (int attempt = 0; attempt < 100 && !fd; ++attempt) {
        tmp = dir + "/." + name + "." + next_suffix() + ".tmp";
        fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd && errno != EEXIST)
            return make_error("cannot create a temporary file in " + dir + " for " + target + ": " +
                              errno_text() + ": check that the directory exists and is writable");
    }
    if (!fd)
        return make_error("cannot create a temporary file in " + dir + " for " + target +
                          ": every name tried exists: remove stale ." + name + ".*.tmp files there");

    auto fail = [&](const std::string& what) -> Status {
        std::string why = errno_text();
        fd.reset();
        ::unlink(tmp.c_str());
        return make_error("cannot write " + target + ": " + what + ": " + why);
    };
    if (::fchmod(fd.get(), mode) != 0) return fail("cannot set the mode of the temporary file");
    if (!write_all(fd.get(), data)) return fail("cannot write the temporary file");
    if (::fsync(fd.get()) != 0) return fail("cannot sync the temporary file");
    // close() is checked: a write the file system deferred can fail there.
    if (::close(fd.release()) != 0) return fail("cannot close the temporary file");
    if (::rename(tmp.c_str(), target.c_str()) != 0) return fail("cannot rename the temporary file over it");
    // The rename is durable once the directory is synced; a failure here loses nothing written.
    if (UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir_fd)
        (void)::fsync(dir_fd.get());
    return Ok{};
}

}  // namespace ksc
