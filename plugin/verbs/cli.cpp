#include "cli.h"

#include <fmt/core.h>

#include <array>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "api_client.h"
#include "common_flags.h"
#include "completion.h"
#include "exit_status.h"
#include "printable.h"
#include "rbac_rules.h"
#include "user_error.h"
#include "verbs.h"

namespace ksc::cli {
namespace {

constexpr std::array kVerbs{
    Verb{"convert", "Convert a recording or a profile: OCI JSON, SeccompProfile YAML, report", cmd_convert,
         kExitFailure},
    Verb{"record", "Record a running pod's container and write its seccomp profile", cmd_record,
         kExitFailure},
    Verb{"recover", "Write the profile of a recorder whose stream was lost (from its log or summary)",
         cmd_recover, kExitFailure},
    // trace passes the command's own status through, as env(1) does: its own failures are 125.
    Verb{"trace", "Run a command here under the tracer and write its seccomp profile", cmd_trace,
         kExitTraceFailed},
    // diff's 1 means "different": its failures are 2, as diff(1)'s are.
    Verb{"diff", "Compare two profiles per architecture and action (exit 0 same, 1 different, 2 error)",
         cmd_diff, kExitDiffError},
    // check's 1 means "the profile refused calls": its failures are 2, as diff's are.
    Verb{"check",
         "Check a profile against a running pod, or a copy from its start (exit 0 clean, 1 denials, 2 error)",
         cmd_check, kExitDiffError},
    Verb{"explain", "Explain a profile by area, and how it compares with the runtime's default", cmd_explain,
         kExitFailure},
    Verb{"merge", "Merge profiles and recordings into one: the union of what they allow", cmd_merge,
         kExitFailure},
    Verb{"push", "Push a profile to an OCI registry as an artifact in the runtimes' format", cmd_push,
         kExitFailure},
    Verb{"pull", "Pull a profile from an OCI registry (the runtimes' format or the operator's older one)",
         cmd_pull, kExitFailure},
    Verb{"rbac", "Print the Role a verb's invocation needs (rbac record POD -n NS | kubectl apply -f -)",
         cmd_rbac, kExitFailure},
    Verb{"completion", "Set up Tab completion: completion install puts kubectl_complete-seccomp on PATH",
         cmd_completion, kExitFailure},
    Verb{"version", "Print the plugin's version, tracer image and protocol version", cmd_version,
         kExitFailure},
};

void print_usage(std::FILE* out) {
    fmt::print(out,
               "kubectl-seccomp records least-privilege seccomp profiles for running pods.\n\n"
               "Usage:\n  kubectl seccomp VERB [options]\n  kubectl seccomp --version\n\nVerbs:\n");
    for (const auto& verb : kVerbs) fmt::print(out, "  {:<10} {}\n", verb.name, verb.summary);
    fmt::print(out, "\nRun 'kubectl seccomp VERB --help' for a verb's flags and examples.\n");
}

}  // namespace

const Verb* find_verb(std::string_view name) {
    for (const auto& verb : kVerbs)
        if (verb.name == name) return &verb;
    return nullptr;
}

int main(int argc, char** argv) {
    // kubectl runs kubectl_complete-seccomp (this program under that name) with the words typed.
    std::string_view self = argv[0];
    self = self.substr(self.rfind('/') == std::string_view::npos ? 0 : self.rfind('/') + 1);
    if (self == "kubectl_complete-seccomp" || (argc >= 2 && std::string_view(argv[1]) == "__complete")) {
        std::vector<std::string> words(argv + (self == "kubectl_complete-seccomp" ? 1 : 2), argv + argc);
        return complete(words, std::vector<Verb>(kVerbs.begin(), kVerbs.end()));
    }
    if (argc < 2) {
        print_usage(stderr);
        return kExitFailure;
    }
    std::string_view verb_name = argv[1];
    if (verb_name == "-h" || verb_name == "--help" || verb_name == "help") {
        print_usage(stdout);
        return kExitSuccess;
    }
    if (verb_name == "--version") {  // as `kubectl seccomp version --client`
        char version[] = "version";
        char client[] = "--client";
        char* args[] = {version, client, nullptr};
        return cmd_version(2, args);
    }
    for (const auto& verb : kVerbs) {
        if (verb.name != verb_name) continue;
        try {
            int status = verb.run(argc - 1, argv + 1);
            // kubectl's --warnings-as-errors: the command runs to its end, then fails.
            if (std::size_t n = kube::warnings_received();
                status == kExitSuccess && n > 0 && warnings_as_errors()) {
                fmt::print(stderr, "error: {} warning{} received\n", n, n == 1 ? "" : "s");
                return kExitFailure;
            }
            return status;
        } catch (const UserError& e) {
            // An RBAC refusal says which command prints the RBAC this invocation needs.
            std::string message =
                with_rbac_hint(e.what(), verb_name, std::vector<std::string>(argv + 2, argv + argc));
            fmt::print(stderr, "error: {}\n", printable(message));
            return verb.error_exit;
        } catch (const std::bad_alloc&) {
            // Whatever input got this far past the caps: one line, not an abort with a core.
            std::fputs(
                "error: out of memory: the input is too large for this machine; report it if it "
                "is a normal one\n",
                stderr);
            return verb.error_exit;
        } catch (const std::exception& e) {
            // A bug: still one line and the verb's error code, never std::terminate's abort.
            fmt::print(stderr, "error: internal error: {}: please report it\n", e.what());
            return verb.error_exit;
        } catch (...) {
            std::fputs("error: internal error: an unknown exception: please report it\n", stderr);
            return verb.error_exit;
        }
    }
    fmt::print(stderr, "error: unknown verb \"{}\": run 'kubectl seccomp --help' for the list\n",
               printable(verb_name));
    return kExitFailure;
}

}  // namespace ksc::cli
