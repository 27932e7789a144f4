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

std::size_t curl_headers_into_map(char* data, std::size_t size, std::size_t n, void* map) {
    auto& headers = *static_cast<std::map<std::string, std::string>*>(map);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) headers.clear();
    add_header_line(line, headers);
    return size * n;
}

}  // namespace ksc
