#include "errno_names.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ksc {

TEST_CASE("errno names and numbers round-trip") {
    CHECK(errno_name(EPERM) == "EPERM");
    CHECK(errno_name(ENOSYS) == "ENOSYS");
    CHECK(errno_name(EACCES) == "EACCES");
    CHECK(errno_from_name("EPERM") == EPERM);
    CHECK(errno_from_name("ENOSYS") == 38);
    for (int value = 1; value < 1024; ++value) {
        auto name = errno_name(value);
        if (!name) continue;
        CAPTURE(value);
        CHECK(errno_from_name(*name) == value);
    }
}

// glibc's strerrorname_np gives each errno's canonical <errno.h> name: ours must be the same, so
// that what we print is what people grep for.
TEST_CASE("errno names are the canonical Linux ones, as glibc names them") {
    int compared = 0;
    for (int value = 1; value < 200; ++value) {
        const char* libc = strerrorname_np(value);
        CAPTURE(value);
        if (!libc) {
            CHECK_FALSE(errno_name(value).has_value());
            continue;
        }
        CHECK(errno_name(value) == std::string_view(libc));
        ++compared;
    }
    CHECK(compared > 120);
}

TEST_CASE("aliases resolve to the same number") {
    CHECK(errno_from_name("EWOULDBLOCK") == EAGAIN);
    CHECK(errno_from_name("EDEADLOCK") == EDEADLK);
    CHECK(errno_from_name("EDEADLK") == 35);
    CHECK(errno_from_name("ENOTSUP") == EOPNOTSUPP);
    CHECK(errno_from_name("EOPNOTSUPP") == 95);
}

TEST_CASE("kernel-internal restart codes a tracer can see at syscall exit have names") {
    CHECK(errno_name(512) == "ERESTARTSYS");
    CHECK(errno_name(516) == "ERESTART_RESTARTBLOCK");
    CHECK(errno_from_name("ERESTARTNOHAND") == 514);
}

TEST_CASE("unknown errno values and names give nothing") {
    CHECK_FALSE(errno_name(0).has_value());
    CHECK_FALSE(errno_name(-1).has_value());
    CHECK_FALSE(errno_name(41).has_value());  // unassigned on Linux
    CHECK_FALSE(errno_name(4096).has_value());
    CHECK_FALSE(errno_from_name("").has_value());
    CHECK_FALSE(errno_from_name("eperm").has_value());
    CHECK_FALSE(errno_from_name("ENOSUCH").has_value());
}

}  // namespace ksc
