// The names of argument values (the plugin's half of syscall_args.h: the tracer records numbers).
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "syscall_arg_names_data.h"
#include "syscall_args.h"

namespace ksc {
namespace {

std::span<const detail::ArgName> group_names(std::string_view group) {
    std::span<const detail::ArgName> all(detail::kArgNames, detail::kArgNameCount);
    auto lo = std::lower_bound(all.begin(), all.end(), group,
                               [](const detail::ArgName& n, std::string_view g) { return n.group < g; });
    auto hi = std::upper_bound(lo, all.end(), group,
                               [](std::string_view g, const detail::ArgName& n) { return g < n.group; });
    return {lo, hi};
}

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

std::string one_name(std::string_view group, std::uint32_t v) {
    if (auto n = arg_name(group, v)) return std::string(*n);
    return v < 10 ? std::to_string(v) : hex(v);
}

std::string flags_name(std::string_view group, std::uint32_t v) {
    if (v == 0) return "no namespace flags";
    std::string out;
    for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
        if (!(v & bit)) continue;
        if (!out.empty()) out += '|';
        out += one_name(group, bit);
    }
    return out;
}

std::optional<std::uint32_t> parse_number(std::string_view text) {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return static_cast<std::uint32_t>(v);  // the low 32 bits: -1 and 0xffffffff are one value
}

std::optional<std::uint32_t> parse_one(std::string_view group, std::string_view text) {
    for (const auto& n : group_names(group))
        if (n.name == text) return n.value;
    if (!text.empty() && text[0] == '-') {
        auto v = parse_number(text.substr(1));
        if (v) return static_cast<std::uint32_t>(0u - *v);
        return std::nullopt;
    }
    return parse_number(text);
}

}  // namespace

std::optional<std::string_view> arg_name(std::string_view group, std::uint32_t value) {
    for (const auto& n : group_names(group))
        if (n.value == value) return n.name;
    return std::nullopt;
}

std::string arg_value_name(const ArgSpec& spec, ArgValue value) {
    std::uint32_t first = arg_first(value);
    std::string out =
        spec.kind == ArgKind::Flags ? flags_name(spec.names, first) : one_name(spec.names, first);
    if (arg_has_second(spec, value)) out += "/" + one_name(spec.also_names, arg_second(value));
    return out;
}

std::optional<ArgValue> arg_value_from_name(const ArgSpec& spec, std::string_view text) {
    std::string_view first_text = text, second_text;
    bool has_second = false;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        first_text = text.substr(0, slash);
        second_text = text.substr(slash + 1);
        has_second = true;
    }
    std::uint32_t first = 0;
    if (spec.kind == ArgKind::Flags) {
        if (first_text != "no namespace flags") {
            while (!first_text.empty()) {
                auto bar = first_text.find('|');
                auto part = first_text.substr(0, bar);
                auto v = parse_one(spec.names, part);
                if (!v) return std::nullopt;
                first |= *v;
                first_text.remove_prefix(bar == std::string_view::npos ? first_text.size() : bar + 1);
            }
        }
        first &= spec.mask;
    } else {
        auto v = parse_one(spec.names, first_text);
        if (!v) return std::nullopt;
        first = *v;
    }
    ArgValue value = first;
    bool wants_second = spec.also_index != kNoAlso && first == spec.also_when;
    if (has_second != wants_second) {
        // AF_NETLINK alone means every netlink protocol is unknown: refuse rather than guess.
        return std::nullopt;
    }
    if (has_second) {
        auto v = parse_one(spec.also_names, second_text);
        if (!v) return std::nullopt;
        value |= ArgValue{*v} << 32;
    }
    return value;
}

}  // namespace ksc
