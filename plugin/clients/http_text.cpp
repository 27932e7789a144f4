#include "http_text.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>

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
    if (colon == std::string_view::npos) return;
    std::string key = ascii_lower(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    auto it = headers.find(key);
    // A Warning header may come several times: one list, as HTTP joins repeated headers.
    if (key == "warning" && it != headers.end() && !it->second.empty())
        it->second += ", " + value;
    else
        headers[key] = value;
}

std::vector<std::string> parse_warning_header(std::string_view value) {
    std::vector<std::string> out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    };
    auto quoted = [&](std::string& into) {
        if (i >= value.size() || value[i] != '"') return false;
        for (++i; i < value.size(); ++i) {
            if (value[i] == '\\' && i + 1 < value.size()) {
                into += value[++i];
            } else if (value[i] == '"') {
                ++i;
                return true;
            } else {
                into += value[i];
            }
        }
        return false;
    };
    while (i < value.size()) {
        skip_space();
        if (i < value.size() && value[i] == ',') {
            ++i;
            continue;
        }
        std::size_t start = i;
        while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
        std::string_view code = value.substr(start, i - start);
        if (code.size() != 3 || i >= value.size() || value[i] != ' ') break;  // malformed: stop
        skip_space();
        while (i < value.size() && value[i] != ' ' && value[i] != '\t') ++i;  // the agent
        skip_space();
        std::string text;
        if (!quoted(text)) break;
        skip_space();
        if (i < value.size() && value[i] == '"') {  // an optional date
            std::string date;
            if (!quoted(date)) break;
        }
        if (code == "299" && !text.empty()) out.push_back(text);  // client-go shows 299 only
    }
    return out;
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

std::size_t curl_append_bounded(char* data, std::size_t size, std::size_t n, void* bounded_body) {
    auto& sink = *static_cast<BoundedBody*>(bounded_body);
    if (sink.body->size() + size * n > sink.limit) {
        sink.overflow = true;
        return 0;  // CURLE_WRITE_ERROR
    }
    sink.body->append(data, size * n);
    return size * n;
}

void curl_collect_answer(void* curl, BoundedBody& body, std::map<std::string, std::string>& headers,
                         char* errbuf) {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_append_bounded);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, curl_headers_into_map);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
}

void curl_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string percent_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

}  // namespace ksc
