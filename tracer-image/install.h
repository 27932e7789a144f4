// --install DIR: the tracer copies itself into DIR (an emptyDir shared with the app container in
// `record --from-start`), since its FROM scratch image has no cp.
#pragma once

#include <string>

namespace ksc::tracer {

// Returns the exit status: 0 when DIR/seccomp-tracer is in place, 1 (said on stderr) otherwise.
int install_self(const std::string& dir);

}  // namespace ksc::tracer
