// YAML text <-> DocNode, with yaml-cpp. Several documents per text ("---"), as kubectl writes them.
// Errors read "LINE:COLUMN: what was expected". The reader builds DocNodes from yaml-cpp's parser
// events and counts every event (documents, values, expanded aliases) against one budget, so that
// neither a "billion laughs" document nor the inputs on which yaml-cpp's own loader never ends
// can fill memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "doc_node.h"
#include "result.h"

namespace ksc {

// Empty documents (a leading or trailing "---") are skipped.
Result<std::vector<DocNode>> parse_yaml_docs(std::string_view text);

// Block style, 2-space indent, keys in the node's order; strings that would read back as another
// type (numbers, true, null, ...) quoted.
std::string write_yaml_doc(const DocNode& node);

// The same, but a scalar read unquoted (DocNode::Kind::Plain) is written unquoted, so that a
// document read and written back (a kubeconfig with new tokens) keeps its numbers and bools.
std::string write_yaml_doc_as_read(const DocNode& node);

}  // namespace ksc
