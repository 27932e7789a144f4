// The handshake every traced test program speaks with tests/tracer/tracer_tests.py, over its
// stdin and stdout, so that the driver (not sleeps) decides when the behaviour under test runs:
//   program: "ready PID"   driver: "go"     (the driver attaches the tracer in between)
//   program: its output... "done"           driver: "exit"  (the driver stops the tracer in between)
// Output goes through write(2), never stdio buffers, so that fork, vfork and exec lose nothing.
// Marker syscalls are raw syscall(2)s that neither libc nor the loader make, so their presence in
// the tracer's stream proves that the behaviour under test was seen.
#pragma once
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static inline void tt_say(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    for (int off = 0; off < n;) {
        ssize_t w = write(1, buf + off, n - off);
        if (w < 0 && errno == EINTR) continue;  // not expected (SA_RESTART everywhere), but harmless
        if (w <= 0) _exit(98);
        off += w;
    }
}

// One line from stdin, without its newline. A read that fails with EINTR is reported on stdout:
// a tracer attaching or detaching must never make a restartable syscall fail visibly.
static inline void tt_getline(char* buf, size_t size) {
    size_t i = 0;
    while (i + 1 < size) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r < 0 && errno == EINTR) {
            tt_say("error: read returned EINTR\n");
            continue;
        }
        if (r <= 0) break;
        if (c == '\n') break;
        buf[i++] = c;
    }
    buf[i] = 0;
}

static inline void tt_expect(const char* word) {
    char line[256];
    tt_getline(line, sizeof line);
    if (strcmp(line, word) != 0) {
        tt_say("error: expected '%s', got '%s'\n", word, line);
        _exit(99);
    }
}

static inline void tt_ready(void) {
    tt_say("ready %d\n", getpid());
    tt_expect("go");
}

static inline int tt_done(int code) {
    tt_say("done\n");
    tt_expect("exit");
    return code;
}

// The markers (x86_64 numbers; the driver knows them as names).
static inline void m_sysinfo(void) {
    struct sysinfo si;
    syscall(SYS_sysinfo, &si);
}
static inline void m_getcpu(void) {
    syscall(SYS_getcpu, NULL, NULL, NULL);
}
static inline long m_personality(void) {
    return syscall(SYS_personality, 0xffffffffUL);
}
static inline void m_getsid(void) {
    syscall(SYS_getsid, 0);
}
static inline void m_prio_max(void) {
    syscall(SYS_sched_get_priority_max, 0);
}
static inline void m_prio_min(void) {
    syscall(SYS_sched_get_priority_min, 0);
}
