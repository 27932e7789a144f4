// The seccomp profile model: the OCI/Docker seccomp JSON's whole vocabulary (what the kubelet,
// containerd, CRI-O, runc, crun, Docker and podman read), which the SPO SeccompProfile's spec is
// a subset of. profile_json.h and profile_yaml.h read and write it.
//
// Two kinds of profiles pass through here and are treated differently:
// - what we read (a user's file) keeps its meaning exactly: rule order, args, includes/excludes,
//   archMap, comments all survive a read and a write;
// - what we make (from a recording, or by merging) is normalised (normalise()): sorted names, one
//   rule per action and errno, a stable rule order, so it diffs well in Git.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch.h"
#include "recording.h"

namespace ksc {

enum class Action {
    Kill,  // SCMP_ACT_KILL: libseccomp's old name for KILL_THREAD; kept apart to keep its spelling
    KillProcess,
    KillThread,
    Trap,
    Errno,
    Trace,
    Allow,
    Log,
    Notify,
};

std::string_view action_name(Action action);  // "SCMP_ACT_ALLOW"
std::optional<Action> action_from_name(std::string_view name);
// How much an action lets a call through: ALLOW > LOG > NOTIFY > TRACE > ERRNO > TRAP > KILL_*.
// merge resolves conflicts toward the larger.
int permissiveness(Action action);
// Whether the action's rule takes errnoRet (ERRNO's errno, TRACE's message to the tracer).
bool action_takes_errno(Action action);

enum class ArgOp { NotEqual, LessThan, LessEqual, EqualTo, GreaterEqual, GreaterThan, MaskedEqual };
std::string_view arg_op_name(ArgOp op);  // "SCMP_CMP_EQ"
std::optional<ArgOp> arg_op_from_name(std::string_view name);

struct ArgRule {
    std::uint32_t index = 0;  // 0..5
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;  // only meaningful for SCMP_CMP_MASKED_EQ; written when nonzero
    ArgOp op = ArgOp::EqualTo;
    auto operator<=>(const ArgRule&) const = default;
};

// Docker's rule conditions, evaluated when the profile is loaded (not by the kernel).
struct Filter {
    std::vector<std::string> caps;    // "CAP_SYS_ADMIN"
    std::vector<std::string> arches;  // Go's names: "amd64", "arm64", "x32", "s390x", ...
    std::string min_kernel;           // "4.8"
    bool empty() const { return caps.empty() && arches.empty() && min_kernel.empty(); }
    bool operator==(const Filter&) const = default;
};

struct SyscallRule {
    std::vector<std::string> names;
    Action action = Action::Allow;
    std::optional<std::uint32_t> errno_ret;
    std::vector<ArgRule> args;
    std::string comment;
    Filter includes;
    Filter excludes;
    bool operator==(const SyscallRule&) const = default;
};

struct ArchMapEntry {
    std::string arch;  // "SCMP_ARCH_X86_64"
    std::vector<std::string> sub_arches;
    bool operator==(const ArchMapEntry&) const = default;
};

struct Profile {
    Action default_action = Action::Errno;
    std::optional<std::uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // SCMP_ARCH_* names, any libseccomp knows
    std::vector<ArchMapEntry> arch_map;
    std::vector<std::string> flags;  // SECCOMP_FILTER_FLAG_*
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SyscallRule> syscalls;
    bool operator==(const Profile&) const = default;
};

// Every SCMP_ARCH_* name libseccomp and the OCI runtime spec know (more than our tables cover).
bool is_known_scmp_arch(std::string_view name);
bool is_known_filter_flag(std::string_view name);

// The errno a profile's ERRNO answers with when it names none: runc, crun and libseccomp use EPERM.
inline constexpr std::uint32_t kDefaultErrno = 1;

// Sorted, deduplicated names; rules without args/includes/excludes/comment merged into one per
// (action, errno); rule order ALLOW, LOG, NOTIFY, TRACE, ERRNO (by errno), TRAP, KILL_*, with the
// conditional rules after the plain ones, in their own stable order.
void normalise(Profile& profile);

enum class BaseSet { None, Runc, Crun, Both };
std::optional<BaseSet> base_set_from_name(std::string_view name);  // "runc" "crun" "both" "none"

// Argument-level rules (profile_args.h): `curated` writes them for the syscalls of the argument
// table (syscall_args.h), `none` allows or refuses whole syscalls only.
enum class ArgsMode { None, Curated };

struct RecordOptions {
    BaseSet base = BaseSet::Both;
    // Syscalls seen failing only with EPERM/ENOSYS are normally refused the same way; with this
    // they are allowed instead (the app may do more once they work).
    bool include_denied = false;
    ArgsMode args = ArgsMode::None;
    // The longest filter the writer may produce under argument rules: the kernel's BPF_MAXINSNS
    // (profile_compile.h); tests lower it to reach the fallback with small recordings.
    std::size_t max_instructions = 4096;
};

// The profile for a recording, per docs/profiles.md: default SCMP_ACT_ERRNO (EPERM); every architecture
// seen (x86_64's compat arches only if used); syscalls seen only failing with EPERM or ENOSYS get
// an ERRNO rule with that errno; libc's probed newer syscalls not recorded get ENOSYS; the
// runtime's base set allowed. A name is written only if it is a syscall on an architecture the
// profile lists. Normalised. Unknown numbers are left out (see Recording::unknown_numbers()).
//
// With ArgsMode::Curated, an argument-table syscall the app used gets one rule per recorded value
// (profile_args.h) instead of a whole-syscall rule, unless the values are incomplete (more than
// kMaxArgValues, none read, a tracer before protocol 1.1, a base set that needs it whole); clone3
// is refused with ENOSYS so that libc falls back to clone, whose flags are filtered; while the
// compiled filter exceeds the kernel's 4,096 instructions (profile_compile.h) the syscalls with the
// most values are allowed whole. `notes` (when given) gets one line per syscall left whole, for
// the report.
Profile profile_from_recording(const Recording& recording, const RecordOptions& options,
                               std::vector<std::string>* notes = nullptr);

// The syscalls libc (glibc 2.36, musl) and language runtimes call first and fall back from when
// they fail with ENOSYS. Refusing them with EPERM breaks the fallback.
std::span<const std::string_view> probed_syscalls();

}  // namespace ksc
