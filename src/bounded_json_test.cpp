#include "bounded_json.h"

#include <doctest/doctest.h>

#include <string>

namespace ksc {

TEST_CASE("bounded json: an object parses") {
    rapidjson::Document doc;
    REQUIRE(parse_bounded_json(doc, " {\"a\": [1, 2]}\n"));
    CHECK(doc["a"].Size() == 2);
}

TEST_CASE("bounded json: 3,000,000 nested brackets are refused without recursion") {
    rapidjson::Document doc;
    auto s = parse_bounded_json(doc, std::string(3000000, '['));
    REQUIRE_FALSE(s);
    CHECK(s.error().message == "at byte 512: JSON nested deeper than 512 levels");
    CHECK(doc.IsNull());
}

TEST_CASE("bounded json: nesting up to the cap parses") {
    rapidjson::Document doc;
    std::string text = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    CHECK(parse_bounded_json(doc, text));
}

TEST_CASE("bounded json: brackets inside strings do not count") {
    rapidjson::Document doc;
    std::string text = "{\"a\": \"" + std::string(1000, '[') + "\\\"\"}";
    CHECK(parse_bounded_json(doc, text));
}

TEST_CASE("bounded json: a value followed by a NUL and junk is refused with its position") {
    rapidjson::Document doc;
    auto s = parse_bounded_json(doc, std::string("{}\0junk", 7));
    REQUIRE_FALSE(s);
    CHECK(s.error().message == "at byte 2: more after the JSON value (a byte 0x00)");
}

TEST_CASE("bounded json: a second value is refused") {
    rapidjson::Document doc;
    auto s = parse_bounded_json(doc, "{} {}");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.rfind("at byte 3:", 0) == 0);
}

TEST_CASE("bounded json: a syntax error names its byte") {
    rapidjson::Document doc;
    auto s = parse_bounded_json(doc, "{\"a\" 1}");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.rfind("at byte 5: ", 0) == 0);
}

}  // namespace ksc
