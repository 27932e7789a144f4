// The tracer's command line: one flag table, parsed by hand (the static binary carries no
// option library). See help_text() for the table users read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "seccomp_bpf.h"

namespace ksc::tracer {

// --check-mode: none without --check-program; eval in attach mode (the program is run over each
// syscall stop); complain or enforce in launch mode (the program is installed, its refusals turned
// into SECCOMP_RET_TRACE stops).
enum class CheckMode { None, Eval, Complain, Enforce };
std::string_view check_mode_name(CheckMode mode);

struct Options {
    std::vector<pid_t> pids;   // --pid
    bool all = false;          // --all
    std::string container_id;  // --container-id
    std::string output;        // --output: "" means stdout
    std::string control;       // --control: "" means stdin in attach mode, none in launch mode
    std::string connect;       // --connect: client mode
    std::string install_dir;   // --install: copy ourselves there and exit
    std::string summary_file = "/dev/termination-log";
    bool summary_file_given = false;
    std::int64_t idle_timeout_ms = 60'000;  // 0 disables
    std::int64_t duration_ms = 0;           // 0: until stopped
    bool no_filter = false;
    bpf::Program check_program;  // --check-program, validated
    CheckMode check_mode = CheckMode::None;
    bool check_only = false;          // --check-only: launch mode without the recording filter
    bool drop_cap_sys_admin = false;  // --drop-cap-sys-admin: launch mode, the app runs without it
    bool version = false;
    bool help = false;
    std::vector<std::string> command;  // after "--": launch mode

    bool launch() const { return !command.empty(); }
    bool checking() const { return check_mode != CheckMode::None; }
    // Attach mode finds processes by scanning /proc (and keeps re-scanning for late comers).
    bool scans_proc() const { return all || !container_id.empty(); }
};

// Parses argv (without argv[0]) and checks the combination; the error says what to change.
Result<Options> parse_options(int argc, char** argv);

// "500ms", "30s", "5m", "1h"; a bare number means seconds.
Result<std::int64_t> parse_duration_ms(std::string_view text);

// The reverse, for messages: "700ms", "30s", "5m".
std::string format_duration(std::int64_t ms);

std::string help_text();

}  // namespace ksc::tracer
