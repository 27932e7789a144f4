#include "base64.h"

#include <doctest/doctest.h>

using namespace ksc;

TEST_CASE("base64 matches RFC 4648 test vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(*base64_decode("Zm9vYmE=") == "fooba");
    CHECK_FALSE(base64_decode("Zm9").ok());
    CHECK_FALSE(base64_decode("Zm=v").ok());
    CHECK_FALSE(base64_decode("Zm9*").ok());
}
