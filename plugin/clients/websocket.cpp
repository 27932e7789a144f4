#include "websocket.h"

#include "http_text.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include <fmt/core.h>

#include "base64.h"

namespace ksc::kube {
namespace {

using Clock = std::chrono::steady_clock;

std::array<std::uint8_t, 4> random_mask() {
    std::array<std::uint8_t, 4> key{};
    if (::getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size())) {
        // getrandom cannot fail for 4 bytes once the pool is ready; keep going regardless.
        static std::uint32_t fallback = 0x9e3779b9u;
        fallback = fallback * 1664525u + 1013904223u;
        std::memcpy(key.data(), &fallback, 4);
    }
    return key;
}

bool is_control(Opcode op) {
    return static_cast<std::uint8_t>(op) >= 8;
}

bool known_opcode(std::uint8_t op) {
    return op <= 2 || (op >= 8 && op <= 10);
}

// Whether a comma-separated header value (RFC 7230 #token) holds `token`, case-insensitively.
bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        if (ascii_lower(trim(list.substr(0, comma))) == token) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool valid_close_code(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        std::uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07;
        else
            return false;  // a continuation byte first, C0/C1 (overlong) or F5-FF
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates are not characters
        i += len;
    }
    return true;
}

Result<CloseInfo> parse_close_payload(std::string_view payload, std::uint16_t* failure_code) {
    if (failure_code) *failure_code = kCloseProtocolError;
    CloseInfo info;
    if (payload.empty()) return info;
    if (payload.size() == 1)
        return make_error("the server sent a WebSocket close frame with a one-byte payload (RFC 6455 5.5.1)");
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
    if (!valid_close_code(code))
        return make_error(
            fmt::format("the server sent the WebSocket close code {}, which may not be sent", code));
    info.code = code;
    info.reason = std::string(payload.substr(2));
    if (!valid_utf8(info.reason)) {
        if (failure_code) *failure_code = kCloseInvalidData;
        return make_error("the server sent a WebSocket close reason that is not UTF-8");
    }
    return info;
}

std::array<std::uint8_t, 20> sha1(std::string_view data) {
    std::array<std::uint8_t, 20> out{};
    unsigned int len = 0;
    // libcrypto is linked already (libcurl's TLS, the registry's digests); SHA-1 cannot fail there.
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr) != 1 || len != out.size())
        out.fill(0);
    return out;
}

std::string websocket_accept(std::string_view key) {
    auto digest = sha1(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    return ksc::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin,
                         std::optional<std::array<std::uint8_t, 4>> mask_key) {
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(opcode));
    const std::uint8_t mask_bit = mask_key ? 0x80 : 0;
    const std::size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(mask_bit | n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(mask_bit | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(mask_bit | 127);
        for (int i = 7; i >= 0; --i)
            out += static_cast<char>((static_cast<std::uint64_t>(n) >> (i * 8)) & 0xFF);
    }
    if (!mask_key) return out.append(payload);
    out.append(reinterpret_cast<const char*>(mask_key->data()), 4);
    std::size_t start = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < n; ++i)
        out[start + i] = static_cast<char>(out[start + i] ^ (*mask_key)[i % 4]);
    return out;
}

Result<std::optional<Frame>> FrameDecoder::next() {
    if (buf_.size() < 2) return std::optional<Frame>();
    const auto* p = reinterpret_cast<const unsigned char*>(buf_.data());
    Frame f;
    f.fin = p[0] & 0x80;
    if (p[0] & 0x70) return make_error("the server sent a WebSocket frame with reserved bits set");
    std::uint8_t op = p[0] & 0x0F;
    if (!known_opcode(op))
        return make_error(fmt::format("the server sent an unknown WebSocket opcode {}", op));
    f.opcode = static_cast<Opcode>(op);
    bool masked = p[1] & 0x80;
    if (masked != expect_masked_)
        return make_error(masked ? "the server sent a masked WebSocket frame"
                                 : "a client frame was not masked");
    std::uint64_t len = p[1] & 0x7F;
    std::size_t header = 2;
    // RFC 6455 5.2: "the minimal number of bytes MUST be used to encode the length".
    if (len == 126) {
        if (buf_.size() < 4) return std::optional<Frame>();
        len = (std::uint64_t(p[2]) << 8) | p[3];
        header = 4;
        if (len < 126)
            return make_error("the server sent a WebSocket frame length in a longer form than needed");
    } else if (len == 127) {
        if (buf_.size() < 10) return std::optional<Frame>();
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        if (len >> 63) return make_error("the server sent a WebSocket frame length with its top bit set");
        header = 10;
        if (len <= 0xFFFF)
            return make_error("the server sent a WebSocket frame length in a longer form than needed");
    }
    if (is_control(f.opcode) && (len > 125 || !f.fin))
        return make_error("the server sent a WebSocket control frame that is fragmented or over 125 bytes");
    if (len > max_frame_) {
        failure_code_ = kCloseTooBig;
        return make_error(fmt::format("the server sent a WebSocket frame of {} bytes, over our limit of {}",
                                      len, max_frame_));
    }
    std::size_t mask_len = masked ? 4 : 0;
    if (buf_.size() < header + mask_len + len) return std::optional<Frame>();
    f.payload = buf_.substr(header + mask_len, static_cast<std::size_t>(len));
    if (masked)
        for (std::size_t i = 0; i < f.payload.size(); ++i)
            f.payload[i] = static_cast<char>(f.payload[i] ^ p[header + i % 4]);
    buf_.erase(0, header + mask_len + static_cast<std::size_t>(len));
    return std::optional<Frame>(std::move(f));
}

Result<std::optional<Frame>> MessageAssembler::add(Frame frame) {
    failure_code_ = kCloseProtocolError;
    if (is_control(frame.opcode)) return std::optional<Frame>(std::move(frame));
    if (frame.opcode == Opcode::Continuation) {
        if (!partial_)
            return make_error("the server sent a WebSocket continuation frame with no message to continue");
        if (partial_->payload.size() + frame.payload.size() > max_message_) {
            failure_code_ = kCloseTooBig;
            return make_error(
                fmt::format("the server sent a WebSocket message over our limit of {} bytes", max_message_));
        }
        partial_->payload += frame.payload;
        if (!frame.fin) return std::optional<Frame>();
        Frame done = std::move(*partial_);
        partial_.reset();
        done.fin = true;
        frame = std::move(done);
    } else if (partial_) {
        return make_error("the server started a WebSocket message inside a fragmented one");
    } else if (!frame.fin) {
        if (frame.payload.size() > max_message_) {
            failure_code_ = kCloseTooBig;
            return make_error(
                fmt::format("the server sent a WebSocket message over our limit of {} bytes", max_message_));
        }
        partial_ = std::move(frame);
        return std::optional<Frame>();
    }
    // Checked once whole: a character may be split between fragments.
    if (frame.opcode == Opcode::Text && !valid_utf8(frame.payload)) {
        failure_code_ = kCloseInvalidData;
        return make_error("the server sent a WebSocket text message that is not UTF-8");
    }
    return std::optional<Frame>(std::move(frame));
}

Result<std::unique_ptr<WebSocket>> WebSocket::connect(std::unique_ptr<ByteStream> stream,
                                                      const std::string& host, const std::string& path,
                                                      const std::vector<std::string>& protocols,
                                                      const std::vector<std::string>& extra_headers,
                                                      std::chrono::milliseconds timeout,
                                                      long* refused_status) {
    std::array<std::uint8_t, 16> nonce{};
    for (std::size_t i = 0; i < nonce.size(); i += 4) {
        auto m = random_mask();
        std::copy(m.begin(), m.end(), nonce.begin() + static_cast<long>(i));
    }
    const std::string key =
        ksc::base64_encode(std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
    std::string offered;
    for (const auto& p : protocols) offered += (offered.empty() ? "" : ", ") + p;
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: " +
                      key + "\r\nSec-WebSocket-Protocol: " + offered + "\r\n";
    for (const auto& h : extra_headers)
        if (ascii_lower(h.substr(0, 5)) != "host:") req += h + "\r\n";  // Host is sent above, once
    req += "\r\n";
    if (auto s = stream->send_all(req); !s) return s.error();

    // The response head, then whatever follows it (frames may come in the same read).
    const auto deadline = Clock::now() + timeout;
    std::string data;
    std::size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        if (data.size() > 64 * 1024) return make_error("the API server's upgrade answer is over 64 KiB");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return make_error("the API server did not answer the WebSocket upgrade in time");
        auto got = stream->receive(left);
        if (!got)
            return make_error("the API server closed the connection during the WebSocket upgrade: " +
                              got.error().message);
        data += *got;
    }
    std::string head = data.substr(0, head_end);
    std::string rest = data.substr(head_end + 4);
    std::map<std::string, std::string> headers;
    // Connection may come in several header lines; each is a token list.
    std::vector<std::string> connection_values;
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    for (std::size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
        std::size_t start = pos + 2;
        std::size_t end = head.find("\r\n", start);
        std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
        add_header_line(line, headers);
        if (ascii_lower(line.substr(0, line.find(':'))) == "connection" &&
            line.find(':') != std::string::npos)
            connection_values.push_back(line.substr(line.find(':') + 1));
        pos = end;
    }
    auto status_code = parse_status_line(status_line);
    if (!status_code)
        return make_error("the API server's upgrade answer is not HTTP: \"" + status_line.substr(0, 80) +
                          "\"");
    const long status = *status_code;
    if (status != 101) {
        if (refused_status) *refused_status = status;
        // A refusal: the body is usually a Status object.
        // The refusal's body is read for its message only: at most 64 KiB, and a Content-Length
        // that is not a number (or does not fit) reads what has come.
        std::size_t length = 0;
        if (auto cl = headers.find("content-length"); cl != headers.end())
            length = parse_content_length(cl->second).value_or(0);
        length = std::min<std::size_t>(length, 64 * 1024);
        while (rest.size() < length && Clock::now() < deadline) {
            auto got = stream->receive(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
            if (!got || got->empty()) break;
            rest += *got;
        }
        Response r;
        r.status = status;
        r.body = rest;
        r.headers = headers;
        ApiStatus st = api_status(r);
        std::string msg = st.message.empty() ? "the API server refused the WebSocket upgrade with HTTP " +
                                                   std::to_string(status)
                                             : st.message;
        return make_error(msg);
    }
    if (ascii_lower(headers["upgrade"]) != "websocket")
        return make_error("the API server answered 101 without \"Upgrade: websocket\" (a proxy in the way?)");
    if (std::none_of(connection_values.begin(), connection_values.end(),
                     [](const std::string& v) { return has_token(v, "upgrade"); }))
        return make_error(
            "the API server answered 101 without \"Connection: Upgrade\" (a proxy in the way?)");
    if (headers["sec-websocket-accept"] != websocket_accept(key))
        return make_error(
            "the API server's Sec-WebSocket-Accept does not match our key (a proxy in the way?)");
    std::string chosen = headers["sec-websocket-protocol"];
    if (std::find(protocols.begin(), protocols.end(), chosen) == protocols.end())
        return make_error("the API server chose the WebSocket subprotocol \"" + chosen + "\"; we offered " +
                          offered + ": the cluster is too old for this attach");
    if (!headers["sec-websocket-extensions"].empty())
        return make_error("the API server enabled WebSocket extensions we did not offer");
    std::unique_ptr<WebSocket> ws(new WebSocket(std::move(stream)));
    ws->protocol_ = chosen;
    ws->decoder_.feed(rest);
    return ws;
}

Status WebSocket::send(Opcode opcode, std::string_view payload) {
    if (close_sent_) return make_error("the WebSocket is closing");
    return stream_->send_all(encode_frame(opcode, payload, true, random_mask()));
}

Status WebSocket::close(std::uint16_t code, std::string_view reason) {
    if (close_sent_) return Ok{};
    std::string payload;
    if (valid_close_code(code)) {
        payload += static_cast<char>(code >> 8);
        payload += static_cast<char>(code & 0xFF);
        payload.append(reason.substr(0, 123));
    }
    close_sent_ = true;
    return stream_->send_all(encode_frame(Opcode::Close, payload, true, random_mask()));
}

Result<std::optional<Frame>> WebSocket::receive(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (closed_) return make_error("the WebSocket is closed");
        auto frame = decoder_.next();
        if (!frame) return fail(decoder_.failure_code(), frame.error());
        if (*frame) {
            auto message = assembler_.add(std::move(**frame));
            if (!message) return fail(assembler_.failure_code(), message.error());
            if (!*message) continue;
            Frame& m = **message;
            switch (m.opcode) {
                case Opcode::Ping:
                    if (!close_sent_) {
                        if (auto s =
                                stream_->send_all(encode_frame(Opcode::Pong, m.payload, true, random_mask()));
                            !s)
                            return s.error();
                    }
                    continue;
                case Opcode::Pong:
                    continue;
                case Opcode::Close: {
                    std::uint16_t failure = kCloseProtocolError;
                    auto info = parse_close_payload(m.payload, &failure);
                    if (!info) return fail(failure, info.error());
                    std::string why;
                    if (info->code) {
                        close_code_ = info->code;
                        why = fmt::format(" (code {}{}{})", *info->code, info->reason.empty() ? "" : ": ",
                                          info->reason);
                    }
                    // RFC 6455 5.5.1: answer with a close, echoing its code; with none when it sent
                    // none (close() sends an empty payload for a code that may not be sent).
                    (void)close(info->code.value_or(0));
                    closed_ = true;
                    return make_error("the API server closed the connection" + why);
                }
                default:
                    return std::optional<Frame>(std::move(m));
            }
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::optional<Frame>();
        auto got = stream_->receive(left);
        if (!got) {
            closed_ = true;
            return got.error();
        }
        decoder_.feed(*got);
    }
}

Error WebSocket::fail(std::uint16_t code, Error error) {
    (void)close(code);
    closed_ = true;
    return error;
}

std::string channel_message(std::uint8_t channel, std::string_view data) {
    std::string out;
    out += static_cast<char>(channel);
    out.append(data);
    return out;
}

std::optional<ChannelData> parse_channel_message(std::string_view message) {
    if (message.empty()) return std::nullopt;
    ChannelData d;
    d.channel = static_cast<std::uint8_t>(message[0]);
    d.data = std::string(message.substr(1));
    return d;
}

Result<std::unique_ptr<WebSocket>> open_websocket(ApiClient& client, const std::string& path,
                                                  const std::vector<std::string>& protocols,
                                                  std::chrono::milliseconds timeout) {
    for (bool refresh : {false, true}) {
        std::vector<std::string> headers;
        auto stream = client.connect_raw(headers, refresh);
        if (!stream) return stream.error();
        long refused = 0;
        auto ws = WebSocket::connect(std::move(*stream), client.host_header(), path, protocols, headers,
                                     timeout, &refused);
        // As for requests: a rotated tokenFile or an expired exec or oidc credential gets one
        // more try with the credentials fetched again.
        if (ws || refused != 401 || refresh || !client.refreshable_credentials()) return ws;
    }
    return make_error("unreachable");
}

}  // namespace ksc::kube
