// The API server's answer to the WebSocket upgrade (status line, headers, a refusal's body with
// its Content-Length), and response header lines as libcurl hands them over: never a crash, an
// abort (std::stoul once aborted on "Content-Length: abc") or a hang.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "fake_stream.h"
#include "http_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto stream = std::make_unique<ksc::fuzz::FakeStream>(text, data[0] + 1, false);
    auto ws = ksc::kube::WebSocket::connect(std::move(stream), "127.0.0.1:1", "/attach",
                                            {"v5.channel.k8s.io", "v4.channel.k8s.io"}, {},
                                            std::chrono::milliseconds(1000));
    (void)ksc::parse_status_line(text.substr(0, text.find('\r')));
    std::map<std::string, std::string> headers;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        std::string line(text.substr(start, end == std::string_view::npos ? end : end + 1 - start));
        ksc::curl_headers_into_map(line.data(), 1, line.size(), &headers);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (auto it = headers.find("content-length"); it != headers.end())
        (void)ksc::parse_content_length(it->second);
    return 0;
}
