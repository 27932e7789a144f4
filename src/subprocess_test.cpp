#include "subprocess.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "unique_fd.h"

namespace ksc {
namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

bool fd_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

}  // namespace

TEST_CASE("unique fd: closes once, when its last owner goes; release gives it up") {
    auto pipe = make_pipe();
    REQUIRE(pipe.ok());
    const int r = pipe->read.get();
    {
        UniqueFd moved = std::move(pipe->read);
        CHECK_FALSE(pipe->read);
        CHECK(fd_open(r));
    }
    CHECK_FALSE(fd_open(r));
    const int w = pipe->write.release();
    CHECK(fd_open(w));
    UniqueFd again(w);
    again.reset();
    CHECK_FALSE(fd_open(w));
}

TEST_CASE("subprocess: its stdout, its exit status, and a program not found") {
    auto out = make_pipe();
    REQUIRE(out.ok());
    SpawnSpec spec;
    spec.argv = {"sh", "-c", "echo hello; exit 3"};
    spec.search_path = true;
    spec.stdout_fd = out->write.get();
    auto child = Subprocess::spawn(spec);
    REQUIRE(child.ok());
    out->write.reset();
    CHECK(read_all(out->read.get()) == "hello\n");
    ChildExit exit = child->wait();
    CHECK(exit.code == 3);
    CHECK(exit.shell_status() == 3);

    spec.argv = {"/nonexistent/program"};
    int exec_errno = 0;
    auto missing = Subprocess::spawn(spec, &exec_errno);
    REQUIRE_FALSE(missing.ok());
    CHECK(exec_errno == ENOENT);
}

TEST_CASE("subprocess: the environment given, and one descriptor passed under its number") {
    auto out = make_pipe();
    REQUIRE(out.ok());
    auto passed = make_pipe();  // close-on-exec, as every descriptor of ours
    REQUIRE(passed.ok());
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", "echo \"$ONLY\" >&" + std::to_string(passed->write.get())};
    spec.env = std::vector<std::string>{"ONLY=this"};
    spec.pass_fd = passed->write.get();
    auto child = Subprocess::spawn(spec);
    REQUIRE(child.ok());
    passed->write.reset();
    CHECK(read_all(passed->read.get()) == "this\n");
    CHECK(child->wait().code == 0);
}

TEST_CASE("subprocess: a child still running is killed and reaped when its owner goes, unless told") {
    SpawnSpec spec;
    spec.argv = {"/bin/sleep", "30"};
    pid_t pid = -1;
    {
        auto child = Subprocess::spawn(spec);
        REQUIRE(child.ok());
        pid = child->pid();
        CHECK_FALSE(child->try_wait());
    }
    CHECK(::kill(pid, 0) == -1);  // reaped: no such process, not a zombie
    CHECK(errno == ESRCH);

    spec.kill_on_exit = false;
    {
        auto child = Subprocess::spawn(spec);
        REQUIRE(child.ok());
        pid = child->pid();
    }
    CHECK(::kill(pid, 0) == 0);  // left running
    ::kill(pid, SIGKILL);
    int status = 0;
    CHECK(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
}

}  // namespace ksc
