// Text that the traced app, the tracer or the cluster controls (a process's comm, a path, a pod's
// name, a tracer's or API server's message) is shown on a terminal or written to a log line only
// through printable(): a control character there could move the cursor, rewrite what the user
// sees, retitle the window or forge a log line. Profiles and recordings keep the bytes as they are.
#pragma once

#include <string>
#include <string_view>

namespace ksc {

// `text` with every control character made visible: C0 controls (newline and tab too: one log line
// stays one line) and DEL as \xHH, C1 controls (U+0080 to U+009F) and the bidirectional overrides
// and isolates (U+202A to U+202E, U+2066 to U+2069, which reorder what is shown) as \u{HHHH}, and
// bytes that are not UTF-8 as \xHH (a terminal in an 8-bit mode reads 0x9B as CSI). Everything else,
// the backslash included, is kept.
std::string printable(std::string_view text);

}  // namespace ksc
