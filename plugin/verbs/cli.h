// The verb table of kubectl-seccomp: `kubectl seccomp VERB [flags]`. Each verb lives in its own
// cmd_<verb>.cpp and is listed once in cli.cpp, with the status it exits with on an error. A verb
// reports an error by throwing UserError; main prints it as one line and exits with that status.
#pragma once

#include <string_view>

namespace ksc::cli {

struct Verb {
    std::string_view name;
    std::string_view summary;           // one line for the verb list
    int (*run)(int argc, char** argv);  // argv[0] is the verb's name
    int error_exit;                     // the exit status of a UserError thrown by run
};

int main(int argc, char** argv);

// The verb of that name in the table; nullptr if there is none.
const Verb* find_verb(std::string_view name);

}  // namespace ksc::cli
