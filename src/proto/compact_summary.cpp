#include "compact_summary.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <vector>

#include "base64.h"

namespace ksc {
namespace {

constexpr std::string_view kMagic = "ksc1";

}  // namespace

namespace {

std::string hex(std::uint32_t v) {
    char buf[8];
    auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
    return std::string(buf, r.ptr);
}

std::string arg_item(Arch arch, std::uint32_t nr, const std::set<std::uint64_t>& values) {
    std::string item = " @";
    item += arch_name(arch);
    item += ':';
    item += std::to_string(nr);
    item += '=';
    bool first = true;
    for (auto v : values) {
        if (!first) item += ',';
        first = false;
        item += hex(static_cast<std::uint32_t>(v));
        if (v >> 32) {
            item += '.';
            item += hex(static_cast<std::uint32_t>(v >> 32));
        }
    }
    return item;
}

std::optional<std::uint32_t> parse_hex(std::string_view text) {
    std::uint32_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

}  // namespace

std::string encode_compact_summary(const SyscallSet& seen, const ArgValueMap& values) {
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
    // Argument values in the room that is left, smallest sets first (the most syscalls keep their
    // argument rules); what does not fit is allowed whole.
    std::vector<std::pair<std::size_t, std::string>> items;
    for (const auto& [key, set] : values)
        if (!set.empty()) items.emplace_back(set.size(), arg_item(key.first, key.second, set));
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [n, item] : items)
        if (out.size() + item.size() + 1 <= kTerminationMessageLimit) out += item;
    out += '\n';
    return out;
}

Result<ArgValueMap> decode_compact_arg_values(std::string_view text) {
    ArgValueMap out;
    while (!text.empty()) {
        auto start = text.find(" @");
        if (start == std::string_view::npos) break;
        text.remove_prefix(start + 2);
        auto end = text.find_first_of(" \n");
        std::string_view item = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end);
        auto colon = item.find(':');
        auto eq = item.find('=');
        if (colon == std::string_view::npos || eq == std::string_view::npos || eq < colon)
            return make_error("compact summary argument item is not ARCH:NR=VALUES: " + std::string(item));
        auto arch = arch_from_name(item.substr(0, colon));
        std::uint32_t nr = 0;
        auto nr_text = item.substr(colon + 1, eq - colon - 1);
        auto r = std::from_chars(nr_text.data(), nr_text.data() + nr_text.size(), nr);
        if (!arch || r.ec != std::errc() || r.ptr != nr_text.data() + nr_text.size())
            return make_error("compact summary argument item names no syscall: " + std::string(item));
        auto& set = out[{*arch, nr}];
        std::string_view list = item.substr(eq + 1);
        while (!list.empty()) {
            auto comma = list.find(',');
            std::string_view v = list.substr(0, comma);
            list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
            auto dot = v.find('.');
            auto first = parse_hex(v.substr(0, dot));
            std::optional<std::uint32_t> second = 0;
            if (dot != std::string_view::npos) second = parse_hex(v.substr(dot + 1));
            if (!first || !second)
                return make_error("compact summary argument value is not hex: " + std::string(v));
            set.insert(std::uint64_t{*first} | std::uint64_t{*second} << 32);
        }
    }
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
        if (item.front() == '@') continue;  // argument values: decode_compact_arg_values()
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
        // No bitmap is longer than kCompactMaxNr allows: a longer one is not ours (and would not
        // encode back to the same summary).
        if (bytes->size() > kCompactMaxNr / 8 + 1)
            return make_error("compact summary for " + std::string(item.substr(0, eq)) + ": a bitmap of " +
                              std::to_string(bytes->size()) + " bytes, more than syscall numbers need (" +
                              std::to_string(kCompactMaxNr / 8 + 1) + ")");
        auto& set = out[*arch];
        for (std::size_t i = 0; i < bytes->size(); ++i)
            for (int b = 0; b < 8; ++b)
                if (static_cast<unsigned char>((*bytes)[i]) & (1 << b))
                    set.insert(static_cast<std::uint32_t>(i * 8 + b));
        if (set.empty()) out.erase(*arch);  // as the encoder leaves it out
    }
    return out;
}

}  // namespace ksc
