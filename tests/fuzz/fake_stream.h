// For the fuzz targets: a ByteStream that plays back fuzz data in chunks, in place of the API
// server's connection. With `handshake`, it first answers the upgrade request it was sent with a
// correct 101 (the fuzzer could never guess Sec-WebSocket-Accept), so that the frames are reached.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "api_client.h"
#include "websocket.h"

namespace ksc::fuzz {

class FakeStream : public kube::ByteStream {
  public:
    FakeStream(std::string_view data, std::size_t chunk, bool handshake)
        : data_(data), chunk_(std::max<std::size_t>(chunk, 1)), handshake_(handshake) {}

    Status send_all(std::string_view sent) override {
        if (handshake_ && pending_.empty() && sent.rfind("GET ", 0) == 0) {
            auto at = sent.find("Sec-WebSocket-Key: ");
            auto end = sent.find("\r\n", at);
            std::string key(sent.substr(at + 19, end - at - 19));
            pending_ =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: " +
                kube::websocket_accept(key) + "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
        }
        return Ok{};
    }
    Result<std::string> receive(std::chrono::milliseconds) override {
        if (!pending_.empty()) return std::exchange(pending_, std::string());
        if (data_.empty()) return make_error("the connection was closed by the server");
        std::size_t n = std::min(chunk_, data_.size());
        std::string out(data_.substr(0, n));
        data_.remove_prefix(n);
        return out;
    }

  private:
    std::string_view data_;
    std::size_t chunk_;
    bool handshake_;
    std::string pending_;
};

}  // namespace ksc::fuzz
