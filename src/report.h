// The human-readable report of a recording (`-o report`): per architecture, every syscall with its
// count, the first process that made it and the errno values it returned; then what could not be
// named or captured, and the tracer's warnings.
#pragma once

#include <string>

#include "profile.h"
#include "recording.h"

namespace ksc {

std::string write_report(const Recording& recording, const RecordOptions& options);

}  // namespace ksc
