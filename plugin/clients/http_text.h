// Small text helpers for HTTP headers, shared by the API client, the WebSocket client and the
// registry client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ksc {

std::string ascii_lower(std::string s);
std::string trim(std::string_view s);

// "Name: value" → headers[lower-cased name] = trimmed value; a line without ':' is ignored.
void add_header_line(std::string_view line, std::map<std::string, std::string>& headers);

// A CURLOPT_HEADERFUNCTION that collects headers into the std::map<std::string, std::string> given
// as CURLOPT_HEADERDATA, starting afresh at each response (after a redirect or a 100 Continue).
// A Content-Length value: decimal digits only, at most 2^62; anything else (empty, "abc", "-1",
// "1e3", an overflow) is nullopt.
std::optional<std::uint64_t> parse_content_length(std::string_view value);

// The code of an HTTP/1.x status line ("HTTP/1.1 101 Switching Protocols"): exactly three digits
// after the version; nullopt for anything else.
std::optional<int> parse_status_line(std::string_view line);

std::size_t curl_headers_into_map(char* data, std::size_t size, std::size_t n, void* map);

}  // namespace ksc
