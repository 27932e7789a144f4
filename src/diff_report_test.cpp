#include "diff_report.h"

#include <doctest/doctest.h>

namespace ksc {
namespace {

Profile allow(std::vector<std::string> names) {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{std::move(names), Action::Allow, {}}};
    return p;
}

ProfileDiff read_write_to_read_openat() {
    return diff_profiles(allow({"read", "write"}), allow({"read", "openat"}));
}

}  // namespace

TEST_CASE("diff report: text lists each change under its architectures") {
    CHECK(write_diff_text(read_write_to_read_openat(), "old.json", "new.json", false) ==
          "--- old.json\n"
          "+++ new.json\n"
          "SCMP_ARCH_X86_64:\n"
          "  + openat                   SCMP_ACT_ERRNO(EPERM) -> SCMP_ACT_ALLOW\n"
          "  - write                    SCMP_ACT_ALLOW -> SCMP_ACT_ERRNO(EPERM)\n");
}

TEST_CASE("diff report: text says same, and colours only when asked") {
    Profile p = allow({"read"});
    CHECK(write_diff_text(diff_profiles(p, p), "a", "b", false) == "--- a\n+++ b\nsame\n");
    CHECK(write_diff_text(diff_profiles(p, p), "a", "b", true) == "\033[1m--- a\n+++ b\033[0m\nsame\n");
    std::string colored = write_diff_text(read_write_to_read_openat(), "a", "b", true);
    CHECK(colored.find("\033[32m  + openat") != std::string::npos);
    CHECK(colored.find("\033[31m  - write") != std::string::npos);
}

TEST_CASE("diff report: text names the default action, architectures and argument rules") {
    Profile old_p = allow({"read"});
    Profile new_p = allow({"read"});
    new_p.default_errno_ret = 38;
    new_p.architectures.push_back("SCMP_ARCH_X86");
    SyscallRule socket_rule{{"socket"}, Action::Allow, {}};
    socket_rule.args.push_back(ArgRule{0, 38, 0, ArgOp::LessThan});
    new_p.syscalls.push_back(socket_rule);
    std::string text = write_diff_text(diff_profiles(old_p, new_p), "a", "b", false);
    CHECK(text.find("~ default action: SCMP_ACT_ERRNO(EPERM) -> SCMP_ACT_ERRNO(ENOSYS)\n") !=
          std::string::npos);
    CHECK(text.find("+ architecture SCMP_ARCH_X86\n") != std::string::npos);
    CHECK(text.find("argument and condition rules:\n  + socket: SCMP_ACT_ALLOW if arg0 < 38\n") !=
          std::string::npos);
}

TEST_CASE("diff report: JSON for machines, one entry per architecture and syscall") {
    CHECK(write_diff_json(read_write_to_read_openat(), "old.json", "new.json") == R"({
  "old": "old.json",
  "new": "new.json",
  "same": false,
  "letsMoreThrough": true,
  "letsLessThrough": true,
  "defaultAction": {
    "old": {
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 1
    },
    "new": {
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 1
    }
  },
  "architectures": {
    "added": [],
    "removed": []
  },
  "syscalls": [
    {
      "architecture": "SCMP_ARCH_X86_64",
      "name": "openat",
      "change": "added",
      "old": {
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": 1
      },
      "new": {
        "action": "SCMP_ACT_ALLOW"
      }
    },
    {
      "architecture": "SCMP_ARCH_X86_64",
      "name": "write",
      "change": "removed",
      "old": {
        "action": "SCMP_ACT_ALLOW"
      },
      "new": {
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": 1
      }
    }
  ],
  "rules": {
    "added": [],
    "removed": []
  },
  "settings": []
}
)");
}

}  // namespace ksc
