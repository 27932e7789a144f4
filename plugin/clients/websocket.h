// A small WebSocket client (RFC 6455) of our own, for pods/attach: Debian's libcurl (7.88) has no
// WebSocket support, so libcurl only opens the connection (CURLOPT_CONNECT_ONLY, TLS and all; see
// ApiClient::connect_raw) and this file speaks the protocol over it: the HTTP/1.1 upgrade,
// masked client frames, fragments, ping/pong, close, and bounded frame sizes (a broken or hostile
// server cannot make us allocate without limit). No extensions (permessage-deflate) are offered.
//
// On top of it, Kubernetes' channel protocols for attach/exec: every binary message starts with a
// channel byte (0 stdin, 1 stdout, 2 stderr, 3 error/status as a JSON Status object, 4 resize);
// v5.channel.k8s.io adds channel 255, "close this channel" (the byte after it names which), so a
// client can close stdin without closing the connection. We ask for v5 and accept v4.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_client.h"
#include "result.h"

namespace ksc::kube {

enum class Opcode : std::uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

inline constexpr std::size_t kMaxWebSocketMessage = 16 * 1024 * 1024;

struct Frame {
    bool fin = true;
    Opcode opcode = Opcode::Binary;
    std::string payload;  // unmasked
};

// One frame. A client masks every frame with a fresh key (RFC 6455 5.3); a server (in tests)
// sends `mask_key` = nullopt.
std::string encode_frame(Opcode opcode, std::string_view payload, bool fin,
                         std::optional<std::array<std::uint8_t, 4>> mask_key);

// Cuts a byte stream into frames, refusing what the RFC forbids: reserved bits set (no extension
// was negotiated), unknown opcodes, control frames over 125 bytes or fragmented, 64-bit lengths
// with the top bit set, frames over the bound, and masked frames from a server.
class FrameDecoder {
  public:
    explicit FrameDecoder(std::size_t max_frame = kMaxWebSocketMessage, bool expect_masked = false)
        : max_frame_(max_frame), expect_masked_(expect_masked) {}
    void feed(std::string_view data) { buf_.append(data); }
    // A whole frame, nullopt when more bytes are needed, or an Error for a protocol violation.
    Result<std::optional<Frame>> next();

  private:
    std::string buf_;
    std::size_t max_frame_;
    bool expect_masked_;
};

// Joins fragments into messages; control frames pass through between fragments.
class MessageAssembler {
  public:
    explicit MessageAssembler(std::size_t max_message = kMaxWebSocketMessage) : max_message_(max_message) {}
    // A complete message (data or control), nullopt while a fragmented message is incomplete.
    Result<std::optional<Frame>> add(Frame frame);

  private:
    std::size_t max_message_;
    std::optional<Frame> partial_;
};

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);
// SHA-1 (FIPS 180-4, OpenSSL's), only for the handshake above.
std::array<std::uint8_t, 20> sha1(std::string_view data);

class WebSocket {
  public:
    // Sends the upgrade request for `path` over `stream`, offering `protocols` in order of
    // preference, and checks the answer (101, Sec-WebSocket-Accept, a protocol we offered). A
    // refusal comes back with the API's Status message ("pods/attach is forbidden ...").
    static Result<std::unique_ptr<WebSocket>> connect(std::unique_ptr<ByteStream> stream,
                                                      const std::string& host, const std::string& path,
                                                      const std::vector<std::string>& protocols,
                                                      const std::vector<std::string>& extra_headers,
                                                      std::chrono::milliseconds timeout);

    const std::string& protocol() const { return protocol_; }

    Status send(Opcode opcode, std::string_view payload);
    // Sends a close frame (once).
    Status close(std::uint16_t code = 1000, std::string_view reason = "");

    // The next data message (Text or Binary), answering pings on the way; nullopt when `timeout`
    // passes first. An Error when the connection ends: a close from the server (its code and
    // reason in the message), a broken connection, or a protocol violation (we then close 1002).
    Result<std::optional<Frame>> receive(std::chrono::milliseconds timeout);

    bool closed() const { return closed_; }
    std::optional<std::uint16_t> close_code() const { return close_code_; }

  private:
    explicit WebSocket(std::unique_ptr<ByteStream> stream) : stream_(std::move(stream)) {}
    std::unique_ptr<ByteStream> stream_;
    std::string protocol_;
    FrameDecoder decoder_;
    MessageAssembler assembler_;
    bool close_sent_ = false;
    bool closed_ = false;
    std::optional<std::uint16_t> close_code_;
};

// ---- Kubernetes channel protocols (v4.channel.k8s.io, v5.channel.k8s.io) ----

inline constexpr const char* kChannelV5 = "v5.channel.k8s.io";
inline constexpr const char* kChannelV4 = "v4.channel.k8s.io";

enum Channel : std::uint8_t {
    kStdin = 0,
    kStdout = 1,
    kStderr = 2,
    kStatus = 3,  // the error channel: a JSON Status when the process ends or the attach fails
    kResize = 4,
    kClose = 255,  // v5 only: the next byte names the channel to close
};

struct ChannelData {
    std::uint8_t channel = kStdout;
    std::string data;
};

std::string channel_message(std::uint8_t channel, std::string_view data);
// nullopt for an empty message (the server's "this channel is ready" hello carries no byte).
std::optional<ChannelData> parse_channel_message(std::string_view message);

}  // namespace ksc::kube
