#include "explain_report.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace ksc {
namespace {

ProfileExplanation sample() {
    ProfileExplanation e;
    e.path = "web.json";
    e.default_verdict = Verdict{Action::Errno, 1};
    e.arches = {"SCMP_ARCH_X86_64"};
    e.known = 3;
    e.allowed = 2;
    e.allowed_by_area = {{"files", {"openat", "read"}}};
    e.refused_by_verdict = {{"SCMP_ACT_ERRNO(ENOSYS)", {"clone3"}}};
    e.argument_rules = {"socket: SCMP_ACT_ALLOW if arg0 < 38"};
    e.runtime_default_context = "amd64, capabilities the runtime's default set";
    e.allowed_only_here = {"openat"};
    e.refused_only_here = {"clone3", "write"};
    return e;
}

}  // namespace

TEST_CASE("explain report: text, by area, refusals, rules and the runtime's default") {
    CHECK(write_explanation_text(sample()) ==
          "web.json\n"
          "  default: SCMP_ACT_ERRNO(EPERM) for every syscall not named below\n"
          "  architectures: SCMP_ARCH_X86_64\n"
          "\n"
          "Allows 2 syscalls:\n"
          "  files (2): openat, read\n"
          "\n"
          "Refuses with their own answer (not the default):\n"
          "  SCMP_ACT_ERRNO(ENOSYS) (1): clone3\n"
          "\n"
          "Argument rules:\n"
          "  socket: SCMP_ACT_ALLOW if arg0 < 38\n"
          "\n"
          "Compared with runtime/default (amd64, capabilities the runtime's default set):\n"
          "  allows 1 that runtime/default refuses: openat\n"
          "  refuses 2 that runtime/default allows\n");
}

TEST_CASE("explain report: text of a profile that lets everything through but a few") {
    ProfileExplanation e = sample();
    e.default_verdict = Verdict{Action::Allow, 0};
    e.argument_rules.clear();
    e.refused_by_verdict.clear();
    e.allowed_only_here.clear();
    CHECK(write_explanation_text(e) ==
          "web.json\n"
          "  default: SCMP_ACT_ALLOW for every syscall not named below\n"
          "  architectures: SCMP_ARCH_X86_64\n"
          "\n"
          "Lets through every syscall (2 of 3 known) except those refused below.\n"
          "\n"
          "Compared with runtime/default (amd64, capabilities the runtime's default set):\n"
          "  allows nothing the runtime's default refuses\n"
          "  refuses 2 that runtime/default allows\n");
}

TEST_CASE("explain report: JSON for machines") {
    CHECK(write_explanation_json(sample()) == R"json({
  "profile": "web.json",
  "defaultAction": "SCMP_ACT_ERRNO(EPERM)",
  "architectures": [
    "SCMP_ARCH_X86_64"
  ],
  "allowed": {
    "files": [
      "openat",
      "read"
    ]
  },
  "refused": {
    "SCMP_ACT_ERRNO(ENOSYS)": [
      "clone3"
    ]
  },
  "argumentRules": [
    "socket: SCMP_ACT_ALLOW if arg0 < 38"
  ],
  "runtimeDefault": {
    "evaluatedFor": "amd64, capabilities the runtime's default set",
    "allowedOnlyHere": [
      "openat"
    ],
    "refusedOnlyHere": [
      "clone3",
      "write"
    ]
  }
}
)json");
}

TEST_CASE("explain report: explain_profile sorts a profile's syscalls against the runtime's default") {
    Profile p;
    p.default_errno_ret = 1;
    p.architectures = {"SCMP_ARCH_X86_64"};
    p.syscalls = {{{"read", "ptrace"}, Action::Allow, {}}, {{"clone3"}, Action::Errno, 38}};
    Profile rd;
    rd.default_errno_ret = 1;
    rd.architectures = {"SCMP_ARCH_X86_64"};
    rd.syscalls = {{{"read", "clone3", "write"}, Action::Allow, {}}};
    ProfileExplanation e = explain_profile(p, "p.json", rd, "amd64");
    CHECK(e.allowed == 2);
    CHECK(e.known > 300);
    CHECK(e.refused_by_verdict ==
          std::map<std::string, std::vector<std::string>>{{"SCMP_ACT_ERRNO(ENOSYS)", {"clone3"}}});
    CHECK(e.allowed_only_here == std::vector<std::string>{"ptrace"});
    CHECK(e.refused_only_here == std::vector<std::string>{"clone3", "write"});
    std::size_t by_area = 0;
    for (const auto& [area, names] : e.allowed_by_area) by_area += names.size();
    CHECK(by_area == 2);
}

}  // namespace ksc
