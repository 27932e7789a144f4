// --connect unix:PATH: a client that carries a recorder's socket over its own stdin/stdout, so
// that `kubectl exec` into the tracer container reaches a recorder started with --output unix:.
#pragma once

#include <string>

namespace ksc::tracer {

// Returns the exit status: 0 when the recorder closed the stream, 1 on failure (said on stderr).
int run_connect_client(const std::string& spec);

}  // namespace ksc::tracer
