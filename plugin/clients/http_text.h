// Small text helpers for HTTP headers, shared by the API client, the WebSocket client and the
// registry client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// A response body with a cap. curl_append_bounded is a CURLOPT_WRITEFUNCTION for one given as
// CURLOPT_WRITEDATA: it appends, and aborts the transfer (CURLE_WRITE_ERROR, `overflow` set) once
// the body would pass `limit`, so that no server can make us hold more.
struct BoundedBody {
    std::string* body = nullptr;
    std::size_t limit = 0;
    bool overflow = false;
};
std::size_t curl_append_bounded(char* data, std::size_t size, std::size_t n, void* bounded_body);

// Sends a curl handle's answer into BODY (with its cap) and HEADERS, its error text into ERRBUF
// (CURL_ERROR_SIZE bytes), and keeps curl from using signals (for its timeouts, in any thread).
void curl_collect_answer(void* curl, BoundedBody& body, std::map<std::string, std::string>& headers,
                         char* errbuf);

// curl_global_init, once per process, before the first handle (every client calls it).
void curl_init_once();

// RFC 3986 percent-encoding of all but the unreserved characters, for query and form values.
std::string percent_encode(std::string_view s);

// The texts of a Warning header's 299 warnings (RFC 7234: `299 - "text"`, comma-separated, each
// with an optional date), as the API server sends deprecations and admission warnings.
std::vector<std::string> parse_warning_header(std::string_view value);

}  // namespace ksc
