#include "http_text.h"

#include <algorithm>
#include <cctype>

namespace ksc {

std::string ascii_lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return std::string(s);
}

void add_header_line(std::string_view line, std::map<std::string, std::string>& headers) {
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
        headers[ascii_lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
}

std::optional<std::uint64_t> parse_content_length(std::string_view value) {
    std::string v = trim(value);
    if (v.empty() || v.size() > 18) return std::nullopt;  // 18 digits fit well inside 2^62
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

std::optional<int> parse_status_line(std::string_view line) {
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ') return std::nullopt;
    if (!std::isdigit(static_cast<unsigned char>(line[5])) || line[6] != '.' ||
        !std::isdigit(static_cast<unsigned char>(line[7])))
        return std::nullopt;
    int code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
        code = code * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ') return std::nullopt;
    return code;
}

std::size_t curl_headers_into_map(char* data, std::size_t size, std::size_t n, void* map) {
    auto& headers = *static_cast<std::map<std::string, std::string>*>(map);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) headers.clear();
    add_header_line(line, headers);
    return size * n;
}

}  // namespace ksc
