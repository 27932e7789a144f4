#include "report.h"

#include <doctest/doctest.h>

#include "syscall_table.h"

namespace ksc {

TEST_CASE("report: counts, first process, errno values, unknown numbers and what runtime/default refuses") {
    Recording r;
    r.native_arch = Arch::X86_64;
    r.returns_seen = true;
    r.have_summary = true;
    r.final_summary = true;
    auto add = [&](std::string_view name, std::uint64_t count, std::map<int, std::uint64_t> errors) {
        auto nr = *syscall_number(Arch::X86_64, name);
        r.syscalls[{Arch::X86_64, nr}] = {Arch::X86_64, nr,   std::string(name), count, errors, 42,
                                          "app",        false};
    };
    add("read", 7, {});
    add("mount", 1, {});  // needs CAP_SYS_ADMIN under runtime/default
    add("clone3", 2, {{38, 2}});
    r.syscalls[{Arch::X86_64, 4000}] = {Arch::X86_64, 4000, "", 1, {}, 42, "app", false};
    std::string out = write_report(r, {});
    CHECK(out.find("read") != std::string::npos);
    CHECK(out.find("42 app") != std::string::npos);
    CHECK(out.find("ENOSYS x2") != std::string::npos);
    CHECK(out.find("SCMP_ARCH_X86_64 #4000") != std::string::npos);
    CHECK(out.find("would refuse 1 seen working: mount") != std::string::npos);
}

}  // namespace ksc
