// The flags every verb takes, with kubectl's names and meanings (docs/design.md, "Conventions"),
// parsed in one place so that no verb spells them differently.
//
// Use it in a verb like this (cmd_trace.cpp is a complete example):
//
//   VerbFlags flags("trace", "Record the syscalls of a command ...", kOutputFlags,
//                   {"json", {"json", "yaml", "report"}});
//   flags.add_options()("tracer", "Use this seccomp-tracer", cxxopts::value<std::string>());
//   flags.set_positional("input", "IN", "A recording or a profile", 1, 1, "one input");
//   flags.set_examples("  kubectl seccomp trace -- ls -l /\n");
//   flags.parse(argc, argv);             // throws UserError with a hint to --help
//   if (flags.help_requested()) { fmt::print("{}", flags.help()); return kExitSuccess; }
//   const CommonFlags& common = flags.common();
//   flags.result()["tracer"] ...         // the verb's own flags
//   flags.positionals()                  // checked: "convert takes one input: see ..."
//   flags.after_dashdash()               // everything after the first "--", untouched
//
// Data goes to stdout or --output-file (write_output); progress, warnings and errors go to stderr
// (warn, note, verbose). Colour only on a terminal and never with NO_COLOR set (use_color).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <cxxopts.hpp>

#include "kubeconfig.h"
#include "result.h"

namespace ksc::cli {

// Which groups of common flags a verb takes; -v and -h/--help are always there.
enum FlagGroup : unsigned {
    // kubectl's connection flags: --kubeconfig, --context, -n, --request-timeout, --cluster, --user,
    // -s/--server, --token, --as, --as-group, --as-uid, TLS and basic auth, --warnings-as-errors ...
    kClusterFlags = 1u << 0,
    kOutputFlags = 1u << 1,  // -o/--output FORMAT, --output-file FILE
};

struct OutputFormats {
    std::string default_format;        // e.g. "json"
    std::vector<std::string> allowed;  // e.g. {"json", "yaml", "report"}
};

struct CommonFlags {
    std::string kubeconfig;      // --kubeconfig; empty: $KUBECONFIG, then ~/.kube/config
    std::string context;         // --context; empty: the kubeconfig's current-context
    std::string namespace_name;  // -n; empty: the context's namespace, else "default"
    // --request-timeout; zero means none, as in kubectl.
    std::chrono::milliseconds request_timeout{0};
    kube::Overrides connection;        // --server, --token, --as, ... (over the kubeconfig's)
    bool warnings_as_errors = false;   // --warnings-as-errors
    bool disable_compression = false;  // --disable-compression
    int verbosity = 0;                 // -v N / --v=N
    std::string output_format;         // -o, one of the verb's allowed formats
    std::string output_file;           // --output-file; empty: stdout
    bool stderr_is_terminal = false;
    bool color_stderr = false;  // a terminal, NO_COLOR unset, TERM not "dumb"
    bool color_stdout = false;
};

class VerbFlags {
  public:
    VerbFlags(std::string verb, std::string description, unsigned groups, OutputFormats formats = {});

    // The verb's own flags, added the cxxopts way.
    cxxopts::OptionAdder add_options(const std::string& group = "");
    // The verb's positional arguments: their name in --help (e.g. "files", shown as --files too),
    // how the usage line shows them (e.g. "OLD NEW"), what they are, and how many the verb takes
    // (max 0: no limit). After parse(), positionals() returns them; a
    // wrong count is refused there with "VERB takes EXPECTED: see 'kubectl seccomp VERB --help'".
    void set_positional(std::string name, std::string usage, std::string description, std::size_t min,
                        std::size_t max, std::string expected);
    // The positional arguments, their count checked (throws UserError).
    std::vector<std::string> positionals() const;
    void set_examples(std::string text);

    // Parses argv (argv[0] is the verb's name). Everything after the first "--" is kept apart,
    // untouched, so that a traced command's own flags never meet our parser. Throws UserError.
    void parse(int argc, char** argv);

    // parse(), and on -h/--help print the help to stdout and return false: the verb then exits 0.
    bool parse_or_help(int argc, char** argv);
    bool help_requested() const { return help_; }
    std::string help() const;
    const CommonFlags& common() const { return common_; }
    const cxxopts::ParseResult& result() const { return result_; }
    const std::vector<std::string>& after_dashdash() const { return after_dashdash_; }
    bool has_dashdash() const { return has_dashdash_; }

  private:
    static constexpr const char* kPositionalGroup = "positional arguments";
    std::string verb_;
    std::string description_;
    std::string positional_usage_;
    unsigned groups_;
    OutputFormats formats_;
    std::string examples_;
    std::size_t positional_min_ = 0, positional_max_ = 0;
    std::string positional_name_, positional_expected_;
    cxxopts::Options options_;
    cxxopts::ParseResult result_;
    CommonFlags common_;
    std::vector<std::string> after_dashdash_;
    bool has_dashdash_ = false;
    bool help_ = false;
};

// Shell completion (completion.h) asks a verb for its flags by running it in collecting mode:
// VerbFlags::parse then throws CollectedFlags instead of returning, so the verb does nothing.
struct CollectedFlag {
    std::string name, short_name;
    bool takes_value = false;
    bool is_file = false;  // its value is a path (--output-file, --kubeconfig, certificates ...)
};
struct CollectedFlags {
    std::vector<CollectedFlag> flags;
    std::vector<std::string> output_formats;
    CommonFlags common;  // as the words typed so far set them
    // The verb's own flags as given (long name, value; "true" for a switch), and its positional
    // arguments: what `kubectl seccomp rbac VERB ...` reads (cmd_rbac.cpp).
    std::vector<std::pair<std::string, std::string>> given;
    std::vector<std::string> positionals;
};
void start_collecting_flags();
// Ends collecting mode when the verb threw something else (a UserError from its flags).
void stop_collecting_flags();

// Go's duration syntax as kubectl takes it ("300ms", "1.5s", "2m", "1h30m"), plus a bare number
// meaning seconds (as --request-timeout accepts). Negative durations are refused.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// kubectl's -v=N spellings (-v=N, --v=N, --v N) rewritten to what cxxopts parses. Exposed for tests.
std::vector<std::string> normalize_verbosity_args(std::vector<std::string> args);

// True when `stream` is a terminal that may get colour: NO_COLOR unset or empty, TERM not "dumb".
bool use_color(std::FILE* stream);

// Writes the verb's data to --output-file (replace_file, output_file.h: a temporary file made with
// O_EXCL|O_NOFOLLOW, synced and renamed over it, so a failed run never leaves half a profile and a
// symlink there is replaced, not followed) or to stdout.
Status write_output(const CommonFlags& flags, std::string_view data);

// One line on stderr each; `warn` prefixes "warning: " (yellow on a colour terminal). The message's
// control characters are made visible (printable.h): it may quote the app, the tracer or the cluster.
void warn(std::string_view message);
void note(std::string_view message);
// Printed only at -v level or above.
void verbose(int level, std::string_view message);
// Whether this run's flags said --warnings-as-errors (main then fails a run that got any).
bool warnings_as_errors();
// The process-wide settings warn/verbose use; VerbFlags::parse sets them.
void set_diagnostics(int verbosity, bool color_stderr);

}  // namespace ksc::cli
