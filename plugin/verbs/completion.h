// Shell completion as kubectl (1.26+) asks a plugin for it: it runs `kubectl_complete-seccomp`
// (found on PATH) with the words typed after `kubectl seccomp`, the last one being completed, and
// reads cobra's __complete format: one candidate per line, then `:DIRECTIVE`.
#pragma once

#include <string>
#include <vector>

#include "cli.h"

namespace ksc::cli {

// Prints the candidates for `words` on stdout. Verbs, a verb's flags (taken from the verb's own
// definition), flag values, and from the cluster (one request, a few seconds at most, silent on
// any error): namespaces, pods, deploy/ names, the named pod's containers; contexts from the
// kubeconfig. Always returns 0.
int complete(const std::vector<std::string>& words, const std::vector<Verb>& verbs);

}  // namespace ksc::cli
