#include "printable.h"

#include <cstdint>
#include <cstdio>

namespace ksc {
namespace {

void append_hex_byte(std::string& out, unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
}

// The length of the well-formed UTF-8 sequence at `p` (at most `n` bytes), its code point in
// `cp`; 0 when it is not one.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n, std::uint32_t& cp) {
    std::size_t len;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2, cp = p[0] & 0x1F;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3, cp = p[0] & 0x0F;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return len;
}

bool hidden_code_point(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x20 || c == 0x7F) {
            append_hex_byte(out, c);
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else {
            std::uint32_t cp = 0;
            std::size_t len = utf8_sequence(p + i, n - i, cp);
            if (len == 0) {
                append_hex_byte(out, c);
                ++i;
            } else if (hidden_code_point(cp)) {
                char buf[16];
                std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
                out += buf;
                i += len;
            } else {
                out.append(text.substr(i, len));
                i += len;
            }
        }
    }
    return out;
}

}  // namespace ksc
