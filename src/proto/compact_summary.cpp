#include "compact_summary.h"

#include "base64.h"

#include <array>

namespace ksc {
namespace {

constexpr std::string_view kMagic = "ksc1";

}  // namespace

std::string encode_compact_summary(const SyscallSet& seen) {
    std::string out(kMagic);
    for (Arch arch : all_arches()) {
        auto it = seen.find(arch);
        if (it == seen.end() || it->second.empty()) continue;
        std::uint32_t max = 0;
        for (auto nr : it->second)
            if (nr <= kCompactMaxNr && nr > max) max = nr;
        std::string bitmap(max / 8 + 1, '\0');
        for (auto nr : it->second)
            if (nr <= kCompactMaxNr) bitmap[nr / 8] = static_cast<char>(bitmap[nr / 8] | (1 << (nr % 8)));
        out += ' ';
        out += arch_name(arch);
        out += '=';
        out += base64_encode(bitmap);
    }
    out += '\n';
    return out;
}

Result<SyscallSet> decode_compact_summary(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.remove_suffix(1);
    if (text.substr(0, kMagic.size()) != kMagic ||
        (text.size() > kMagic.size() && text[kMagic.size()] != ' '))
        return make_error("not a kubectl-seccomp compact summary (it starts with \"ksc1\")");
    if (text.size() > kTerminationMessageLimit) return make_error("compact summary longer than 4 KiB");
    text.remove_prefix(kMagic.size());
    SyscallSet out;
    while (!text.empty()) {
        if (text.front() == ' ') {
            text.remove_prefix(1);
            continue;
        }
        auto end = text.find(' ');
        std::string_view item = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end);
        auto eq = item.find('=');
        if (eq == std::string_view::npos)
            return make_error("compact summary item without '=': " + std::string(item));
        auto arch = arch_from_name(item.substr(0, eq));
        if (!arch)
            return make_error("compact summary names an unknown architecture: " +
                              std::string(item.substr(0, eq)));
        auto bytes = base64_decode(item.substr(eq + 1));
        if (!bytes)
            return make_error("compact summary for " + std::string(item.substr(0, eq)) + ": " +
                              bytes.error().message);
        auto& set = out[*arch];
        for (std::size_t i = 0; i < bytes->size(); ++i)
            for (int b = 0; b < 8; ++b)
                if (static_cast<unsigned char>((*bytes)[i]) & (1 << b))
                    set.insert(static_cast<std::uint32_t>(i * 8 + b));
    }
    return out;
}

}  // namespace ksc
