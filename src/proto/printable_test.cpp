#include "printable.h"

#include <doctest/doctest.h>

namespace ksc {

TEST_CASE("printable keeps ordinary text, UTF-8 and backslashes") {
    CHECK(printable("nginx: worker process") == "nginx: worker process");
    CHECK(printable("/var/lib/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac") ==
          "/var/lib/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
    CHECK(printable("C:\\temp") == "C:\\temp");
    CHECK(printable("") == "");
}

TEST_CASE("printable makes an escape sequence visible") {
    CHECK(printable("evil\x1b]0;owned\x07") == "evil\\x1b]0;owned\\x07");
    CHECK(printable("\x1b[2J\x1b[H") == "\\x1b[2J\\x1b[H");
}

TEST_CASE("printable escapes every C0 control and DEL, newline and tab included") {
    for (int c = 0; c < 0x20; ++c) {
        std::string s(1, static_cast<char>(c));
        char want[8];
        std::snprintf(want, sizeof want, "\\x%02x", c);
        CHECK(printable(s) == want);
    }
    CHECK(printable("a\nwarning: forged") == "a\\x0awarning: forged");
    CHECK(printable("\r\t\x7f") == "\\x0d\\x09\\x7f");
}

TEST_CASE("printable escapes C1 controls, bidi overrides and bytes that are not UTF-8") {
    CHECK(printable("\xc2\x9b"
                    "31m") == "\\u{009b}31m");  // CSI as a UTF-8 character
    CHECK(printable("\x9b"
                    "31m") == "\\x9b31m");  // CSI as a raw 8-bit byte
    CHECK(printable("abc\xe2\x80\xae"
                    "fdp.exe") == "abc\\u{202e}fdp.exe");   // right-to-left override
    CHECK(printable("\xe2\x81\xa6x") == "\\u{2066}x");      // left-to-right isolate
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");           // overlong
    CHECK(printable("\xe2\x82") == "\\xe2\\x82");           // cut short
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
}

}  // namespace ksc
