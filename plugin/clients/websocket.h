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

// Close status codes (RFC 6455 7.4) that we send when we fail the connection.
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidData = 1007;  // a text message or close reason not UTF-8
inline constexpr std::uint16_t kCloseTooBig = 1009;

// Whether `code` may appear in a close frame on the wire (RFC 6455 7.4.1, 7.4.2 and the IANA
// registry): 1000-1003, 1007-1014 and 3000-4999. 1005, 1006 and 1015 are for reporting only and
// must never be sent; everything else below 3000 is reserved.
bool valid_close_code(std::uint16_t code);
// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing over U+10FFFF).
bool valid_utf8(std::string_view text);

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
// was negotiated), unknown opcodes, control frames over 125 bytes or fragmented, lengths not in
// their shortest form, 64-bit lengths with the top bit set, frames over the bound, and masked
// frames from a server.
class FrameDecoder {
  public:
    explicit FrameDecoder(std::size_t max_frame = kMaxWebSocketMessage, bool expect_masked = false)
        : max_frame_(max_frame), expect_masked_(expect_masked) {}
    void feed(std::string_view data) { buf_.append(data); }
    // A whole frame, nullopt when more bytes are needed, or an Error for a protocol violation.
    Result<std::optional<Frame>> next();
    // After an Error: the close code that answers it (1009 for a frame over the bound, else 1002).
    std::uint16_t failure_code() const { return failure_code_; }

  private:
    std::string buf_;
    std::size_t max_frame_;
    bool expect_masked_;
    std::uint16_t failure_code_ = kCloseProtocolError;
};

// Joins fragments into messages; control frames pass through between fragments. A text message
// must be UTF-8 once whole.
class MessageAssembler {
  public:
    explicit MessageAssembler(std::size_t max_message = kMaxWebSocketMessage) : max_message_(max_message) {}
    // A complete message (data or control), nullopt while a fragmented message is incomplete.
    Result<std::optional<Frame>> add(Frame frame);
    // After an Error: the close code that answers it (1002, 1007 or 1009).
    std::uint16_t failure_code() const { return failure_code_; }

  private:
    std::size_t max_message_;
    std::optional<Frame> partial_;
    std::uint16_t failure_code_ = kCloseProtocolError;
};

// A close frame's payload (RFC 6455 5.5.1): empty (no code), or a valid code and a UTF-8 reason.
// A one-byte payload, a code that may not be sent, or a reason that is not UTF-8 is an Error, and
// `failure_code` (when given) gets the code that answers it: 1002, or 1007 for the reason.
struct CloseInfo {
    std::optional<std::uint16_t> code;
    std::string reason;
};
Result<CloseInfo> parse_close_payload(std::string_view payload, std::uint16_t* failure_code = nullptr);

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);
// SHA-1 (FIPS 180-4, OpenSSL's), only for the handshake above.
std::array<std::uint8_t, 20> sha1(std::string_view data);

class WebSocket {
  public:
    // Sends the upgrade request for `path` over `stream`, offering `protocols` in order of
    // preference, and checks the answer as RFC 6455 4.1 says: status 101, `Upgrade: websocket`,
    // `Connection` holding the token `Upgrade`, the Sec-WebSocket-Accept of our key, a protocol we
    // offered, no extension. A refusal comes back with the API's Status message ("pods/attach is
    // forbidden ...").
    static Result<std::unique_ptr<WebSocket>> connect(std::unique_ptr<ByteStream> stream,
                                                      const std::string& host, const std::string& path,
                                                      const std::vector<std::string>& protocols,
                                                      const std::vector<std::string>& extra_headers,
                                                      std::chrono::milliseconds timeout,
                                                      long* refused_status = nullptr);

    const std::string& protocol() const { return protocol_; }

    Status send(Opcode opcode, std::string_view payload);
    // Sends a close frame (once). A code that may not be sent (valid_close_code) sends none: an
    // empty close payload, never 1005, 1006 or 1015.
    Status close(std::uint16_t code = kCloseNormal, std::string_view reason = "");

    // The next data message (Text or Binary), answering pings on the way; nullopt when `timeout`
    // passes first. An Error when the connection ends: a close from the server (its code and
    // reason in the message; we answer with its code, or with an empty close when it sent none),
    // a broken connection, or a protocol violation (we then close with 1002, 1007 or 1009).
    Result<std::optional<Frame>> receive(std::chrono::milliseconds timeout);

    bool closed() const { return closed_; }
    std::optional<std::uint16_t> close_code() const { return close_code_; }

  private:
    explicit WebSocket(std::unique_ptr<ByteStream> stream) : stream_(std::move(stream)) {}
    // _Fail the WebSocket Connection_ (RFC 6455 7.1.7): a close with `code`, then no more frames.
    Error fail(std::uint16_t code, Error error);
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

// client.connect_raw, then WebSocket::connect with its credentials, as attach and exec need; a
// 401 is tried once more with the credentials fetched again (ApiClient::refreshable_credentials).
Result<std::unique_ptr<WebSocket>> open_websocket(ApiClient& client, const std::string& path,
                                                  const std::vector<std::string>& protocols,
                                                  std::chrono::milliseconds timeout);

}  // namespace ksc::kube
