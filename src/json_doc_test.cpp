#include "json_doc.h"

#include <doctest/doctest.h>

#include <string>

namespace ksc {

TEST_CASE("json doc: a document followed by a NUL and junk is refused with its position") {
    auto r = parse_json_doc(std::string("{\"a\": 1}\n\0junk", 14));
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "2:1: more after the end of the JSON document (a byte 0x00): remove it");
}

TEST_CASE("json doc: trailing whitespace is fine") {
    CHECK(parse_json_doc("{\"a\": 1}\n\n  \t"));
}

TEST_CASE("json doc: a second document is refused") {
    auto r = parse_json_doc("{}\n{}");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind("2:1: more after the end", 0) == 0);
}

}  // namespace ksc
