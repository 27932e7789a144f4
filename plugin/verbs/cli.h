// The verb table of kubectl-seccomp: `kubectl seccomp VERB [flags]`. Each verb lives in its own
// cmd_<verb>.cpp and is listed once in cli.cpp.
#pragma once

#include <string_view>

namespace ksc::cli {

struct Verb {
    std::string_view name;
    std::string_view summary;           // one line for the verb list
    int (*run)(int argc, char** argv);  // argv[0] is the verb's name
};

int main(int argc, char** argv);

}  // namespace ksc::cli
