// JSON text <-> DocNode, with RapidJSON. Errors read "LINE:COLUMN: what was expected".
#pragma once

#include <string>
#include <string_view>

#include "doc_node.h"
#include "result.h"

namespace ksc {

Result<DocNode> parse_json_doc(std::string_view text);

// 2-space indent, keys in the node's order, a trailing newline.
std::string write_json_doc(const DocNode& node);

}  // namespace ksc
