#include "websocket.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <fstream>
#include <functional>
#include <mutex>

#include "http_text.h"
#include "test_http_server.h"

using namespace std::chrono_literals;
using namespace ksc::testing;  // TestHttpServer and its helpers

namespace ksc::kube {
namespace {

std::string hex(const std::array<std::uint8_t, 20>& d) {
    std::string out;
    for (auto b : d) out += fmt::format("{:02x}", b);
    return out;
}

constexpr std::array<std::uint8_t, 4> kMask{0x37, 0xfa, 0x21, 0x3d};

// Decodes one frame from bytes, as the client sees server frames.
Result<std::optional<Frame>> decode_one(const std::string& bytes, std::size_t max = kMaxWebSocketMessage) {
    FrameDecoder d(max);
    d.feed(bytes);
    return d.next();
}

}  // namespace

TEST_CASE("SHA-1 matches FIPS 180 test vectors") {
    CHECK(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_CASE("Sec-WebSocket-Accept is the RFC 6455 example's") {
    CHECK(websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("client frames are masked, as RFC 6455 section 5.7's example") {
    // "Hello", masked with 37 fa 21 3d.
    std::string f = encode_frame(Opcode::Text, "Hello", true, kMask);
    CHECK(f == std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
    FrameDecoder server_side(kMaxWebSocketMessage, /*expect_masked=*/true);
    server_side.feed(f);
    auto frame = server_side.next();
    REQUIRE(frame.ok());
    REQUIRE(*frame);
    CHECK((*frame)->payload == "Hello");
}

TEST_CASE("frame lengths use the 7-bit, 16-bit and 64-bit forms") {
    for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 200000u}) {
        std::string payload(n, 'x');
        std::string f = encode_frame(Opcode::Binary, payload, true, std::nullopt);
        std::size_t header = n < 126 ? 2 : n <= 65535 ? 4 : 10;
        CHECK(f.size() == header + n);
        auto frame = decode_one(f);
        REQUIRE(frame.ok());
        REQUIRE(*frame);
        CHECK((*frame)->payload.size() == n);
    }
}

TEST_CASE("a frame split anywhere is decoded once whole") {
    std::string f = encode_frame(Opcode::Binary, std::string(300, 'a'), true, std::nullopt) +
                    encode_frame(Opcode::Text, "b", true, std::nullopt);
    FrameDecoder d;
    std::vector<std::string> got;
    for (char c : f) {
        d.feed(std::string(1, c));
        while (true) {
            auto frame = d.next();
            REQUIRE(frame.ok());
            if (!*frame) break;
            got.push_back((*frame)->payload);
        }
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0] == std::string(300, 'a'));
    CHECK(got[1] == "b");
}

TEST_CASE("frames the RFC forbids are refused") {
    CHECK_FALSE(decode_one(encode_frame(Opcode::Text, "x", true, kMask)).ok());  // masked from a server
    CHECK_FALSE(decode_one(std::string("\xc1\x01x", 3)).ok());                   // RSV1 without extension
    CHECK_FALSE(decode_one(std::string("\x83\x00", 2)).ok());                    // opcode 3
    CHECK_FALSE(decode_one(encode_frame(Opcode::Ping, std::string(126, 'p'), true, std::nullopt)).ok());
    CHECK_FALSE(decode_one(encode_frame(Opcode::Ping, "p", false, std::nullopt)).ok());  // fragmented control
    CHECK_FALSE(
        decode_one(std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10)).ok());  // 64-bit top bit
}

TEST_CASE("frames over the bound are refused before they are read") {
    // The header alone announces 1 GiB: refused without waiting for (or allocating) the payload.
    auto frame = decode_one(std::string("\x82\x7f\x00\x00\x00\x00\x40\x00\x00\x00", 10), 1 << 20);
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.error().message.find("over our limit") != std::string::npos);
}

TEST_CASE("fragments are joined, with control frames between them") {
    MessageAssembler a;
    auto r1 = a.add(Frame{false, Opcode::Binary, "\x01he"});
    REQUIRE(r1.ok());
    CHECK_FALSE(*r1);
    auto ping = a.add(Frame{true, Opcode::Ping, "p"});
    REQUIRE(ping.ok());
    REQUIRE(*ping);
    CHECK((*ping)->opcode == Opcode::Ping);
    REQUIRE(a.add(Frame{false, Opcode::Continuation, "ll"}).ok());
    auto done = a.add(Frame{true, Opcode::Continuation, "o"});
    REQUIRE(done.ok());
    REQUIRE(*done);
    CHECK((*done)->opcode == Opcode::Binary);
    CHECK((*done)->payload == "\x01hello");
}

TEST_CASE("fragment sequences the RFC forbids are refused") {
    MessageAssembler a;
    CHECK_FALSE(a.add(Frame{true, Opcode::Continuation, "x"}).ok());
    MessageAssembler b;
    REQUIRE(b.add(Frame{false, Opcode::Text, "x"}).ok());
    CHECK_FALSE(b.add(Frame{true, Opcode::Text, "y"}).ok());
    MessageAssembler c(4);
    REQUIRE(c.add(Frame{false, Opcode::Binary, "abc"}).ok());
    CHECK_FALSE(c.add(Frame{true, Opcode::Continuation, "de"}).ok());
}

TEST_CASE("channel messages carry their channel in the first byte") {
    CHECK(channel_message(kStdin, "stop\n") == std::string("\x00stop\n", 6));
    auto d = parse_channel_message(std::string("\x01{\"type\":\"hello\"}", 17));
    REQUIRE(d);
    CHECK(d->channel == kStdout);
    CHECK(d->data == "{\"type\":\"hello\"}");
    auto ready = parse_channel_message(std::string("\x02", 1));  // a channel's empty "ready" message
    REQUIRE(ready);
    CHECK(ready->data.empty());
    CHECK_FALSE(parse_channel_message(""));
}

namespace {

std::unique_ptr<ApiClient> plain_client(const TestHttpServer& server) {
    RestConfig config;
    config.server = server.url();
    config.token = "tok";
    auto c = ApiClient::create(config);
    REQUIRE(c.ok());
    return std::move(*c);
}

Result<std::unique_ptr<WebSocket>> open(ApiClient& client, const std::string& path) {
    std::vector<std::string> headers;
    auto stream = client.connect_raw(headers);
    if (!stream) return stream.error();
    return WebSocket::connect(std::move(*stream), client.host_header(), path, {kChannelV5, kChannelV4},
                              headers, 5s);
}

}  // namespace

TEST_CASE("the attach handshake and a session against a local server (v4 fallback)") {
    std::mutex m;
    HttpRequest seen;
    std::vector<Frame> from_client;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        {
            std::lock_guard lock(m);
            seen = req;
        }
        // An older server: it speaks only v4.
        send_all(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: " +
                     websocket_accept(req.headers.at("sec-websocket-key")) +
                     "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n");
        send_all(fd, encode_frame(Opcode::Binary, channel_message(kStdout, ""), true, std::nullopt));
        send_all(fd, encode_frame(Opcode::Ping, "are you there", true, std::nullopt));
        send_all(fd, encode_frame(Opcode::Binary, "\x01{\"type\":", false, std::nullopt));
        send_all(fd, encode_frame(Opcode::Continuation, "\"hello\"}\n", true, std::nullopt));
        // Read the client's pong and its stdin message.
        FrameDecoder d(kMaxWebSocketMessage, /*expect_masked=*/true);
        char buf[4096];
        while (from_client.size() < 2) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            d.feed(std::string(buf, static_cast<std::size_t>(n)));
            while (auto f = d.next()) {
                if (!*f) break;
                std::lock_guard lock(m);
                from_client.push_back(**f);
            }
        }
        send_all(fd, encode_frame(Opcode::Close,
                                  std::string("\x03\xe8"
                                              "done",
                                              6),
                                  true, std::nullopt));
        std::this_thread::sleep_for(100ms);
    });
    auto client = plain_client(server);
    auto ws = open(*client, "/api/v1/namespaces/default/pods/p/attach?container=rec&stdin=true&stdout=true");
    REQUIRE_MESSAGE(ws.ok(), ws.error().message);
    CHECK((*ws)->protocol() == kChannelV4);

    auto first = (*ws)->receive(5s);
    REQUIRE(first.ok());
    REQUIRE(*first);
    CHECK((*first)->payload == std::string("\x01", 1));  // stdout is ready
    auto second = (*ws)->receive(5s);
    REQUIRE_MESSAGE(second.ok(), second.error().message);
    REQUIRE(*second);
    CHECK((*second)->payload == "\x01{\"type\":\"hello\"}\n");
    REQUIRE((*ws)->send(Opcode::Binary, channel_message(kStdin, "snapshot\n")).ok());
    auto end = (*ws)->receive(5s);
    REQUIRE_FALSE(end.ok());
    CHECK(end.error().message.find("code 1000: done") != std::string::npos);
    CHECK((*ws)->closed());

    std::lock_guard lock(m);
    CHECK(seen.method == "GET");
    CHECK(seen.target == "/api/v1/namespaces/default/pods/p/attach?container=rec&stdin=true&stdout=true");
    CHECK(seen.headers["upgrade"] == "websocket");
    CHECK(seen.headers["sec-websocket-version"] == "13");
    CHECK(seen.headers["sec-websocket-protocol"] == "v5.channel.k8s.io, v4.channel.k8s.io");
    CHECK(seen.headers["authorization"] == "Bearer tok");
    REQUIRE(from_client.size() >= 2);
    CHECK(from_client[0].opcode == Opcode::Pong);
    CHECK(from_client[0].payload == "are you there");
    CHECK(from_client[1].opcode == Opcode::Binary);
    CHECK(from_client[1].payload == std::string("\x00snapshot\n", 10));
}

TEST_CASE("a refused attach shows the API's Status message") {
    TestHttpServer server([](int fd, const HttpRequest&) {
        send_all(
            fd,
            http_response(
                403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":)"
                     R"("pods \"p\" is forbidden: User \"bob\" cannot create resource \"pods/attach\""})"));
    });
    auto client = plain_client(server);
    auto ws = open(*client, "/api/v1/namespaces/default/pods/p/attach");
    REQUIRE_FALSE(ws.ok());
    CHECK(ws.error().message ==
          "pods \"p\" is forbidden: User \"bob\" cannot create resource \"pods/attach\"");
}

TEST_CASE("a refusal whose Content-Length is not a number, or overflows, is still one error") {
    for (std::string length : {"abc", "99999999999999999999999", "-1", ""}) {
        TestHttpServer server([&](int fd, const HttpRequest&) {
            send_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: " + length +
                             "\r\nConnection: close\r\n\r\nno");
        });
        auto client = plain_client(server);
        auto ws = open(*client, "/api/v1/namespaces/default/pods/p/attach");
        REQUIRE_FALSE(ws.ok());
        CHECK(ws.error().message.find('\n') == std::string::npos);
    }
}

TEST_CASE("status lines are HTTP/x.y and three digits") {
    CHECK(parse_status_line("HTTP/1.1 101 Switching Protocols") == 101);
    CHECK(parse_status_line("HTTP/1.0 403") == 403);
    CHECK_FALSE(parse_status_line("HTTP/1.1 99999999999999999999 X"));
    CHECK_FALSE(parse_status_line("HTTP/1.1 1O1 X"));
    CHECK_FALSE(parse_status_line("SSH-2.0-OpenSSH_9"));
    CHECK_FALSE(parse_status_line(""));
}

TEST_CASE("Content-Length values are digits that fit") {
    CHECK(parse_content_length("42") == 42u);
    CHECK(parse_content_length(" 7 ") == 7u);
    CHECK_FALSE(parse_content_length("abc"));
    CHECK_FALSE(parse_content_length("-1"));
    CHECK_FALSE(parse_content_length("1e3"));
    CHECK_FALSE(parse_content_length(""));
    CHECK_FALSE(parse_content_length("99999999999999999999999"));
}

TEST_CASE("a wrong Sec-WebSocket-Accept or an unoffered subprotocol is refused") {
    std::string protocol = "v5.channel.k8s.io";
    bool wrong_accept = true;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        std::string accept =
            wrong_accept ? "bm9wZQ==" : websocket_accept(req.headers.at("sec-websocket-key"));
        send_all(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: " +
                     accept + "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n");
    });
    auto client = plain_client(server);
    auto ws = open(*client, "/x");
    REQUIRE_FALSE(ws.ok());
    CHECK(ws.error().message.find("Sec-WebSocket-Accept") != std::string::npos);
    wrong_accept = false;
    protocol = "channel.k8s.io";
    ws = open(*client, "/x");
    REQUIRE_FALSE(ws.ok());
    CHECK(ws.error().message.find("channel.k8s.io") != std::string::npos);
}

}  // namespace ksc::kube

// ---- RFC 6455, rule by rule, against a peer that breaks each one ----
namespace ksc::kube {
namespace {

std::string handshake_answer(const HttpRequest& req, const std::string& upgrade = "websocket",
                             const std::string& connection = "Upgrade") {
    std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
    if (!upgrade.empty()) out += "Upgrade: " + upgrade + "\r\n";
    if (!connection.empty()) out += "Connection: " + connection + "\r\n";
    return out + "Sec-WebSocket-Accept: " + websocket_accept(req.headers.at("sec-websocket-key")) +
           "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
}

std::string server_frame(Opcode op, std::string_view payload, bool fin = true) {
    return encode_frame(op, payload, fin, std::nullopt);
}

std::string close_payload(std::uint16_t code, std::string_view reason = "") {
    std::string p;
    p += static_cast<char>(code >> 8);
    p += static_cast<char>(code & 0xFF);
    return p.append(reason);
}

// What one session with a scripted peer gave: the client's messages and its final error, and the
// frames the client sent back (its pongs and its close).
struct PeerRun {
    std::vector<std::string> messages;
    std::string error;
    std::vector<Frame> from_client;

    // The close frame the client sent, or nullopt.
    std::optional<Frame> client_close() const {
        for (const auto& f : from_client)
            if (f.opcode == Opcode::Close) return f;
        return std::nullopt;
    }
    // Its code, or -1 when it carried none (an empty close), -2 when there was no close.
    int client_close_code() const {
        auto c = client_close();
        if (!c) return -2;
        if (c->payload.size() < 2) return -1;
        return (static_cast<unsigned char>(c->payload[0]) << 8) | static_cast<unsigned char>(c->payload[1]);
    }
};

// The peer answers the upgrade, sends `script` and reads what the client sends until it closes.
PeerRun run_peer(const std::string& script) {
    PeerRun run;
    std::mutex m;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        send_all(fd, handshake_answer(req) + script);
        FrameDecoder d(kMaxWebSocketMessage, /*expect_masked=*/true);
        char buf[4096];
        while (true) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 3000) <= 0) break;
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            d.feed(std::string(buf, static_cast<std::size_t>(n)));
            bool closed = false;
            while (auto f = d.next()) {
                if (!*f) break;
                std::lock_guard lock(m);
                closed = closed || (*f)->opcode == Opcode::Close;
                run.from_client.push_back(**f);
            }
            if (closed) break;
        }
    });
    {
        auto client = plain_client(server);
        auto ws = open(*client, "/x");
        REQUIRE_MESSAGE(ws.ok(), ws.error().message);
        for (int i = 0; i < 20; ++i) {
            auto got = (*ws)->receive(3s);
            if (!got) {
                run.error = got.error().message;
                break;
            }
            if (!*got) break;
            run.messages.push_back((*got)->payload);
        }
        // Let the peer read the close before the connection goes.
        for (int i = 0; i < 100; ++i) {
            {
                std::lock_guard lock(m);
                if (run.client_close()) break;
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    return run;
}

Result<std::unique_ptr<WebSocket>> handshake_with(
    const std::function<std::string(const HttpRequest&)>& answer) {
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        send_all(fd, answer(req));
        std::this_thread::sleep_for(50ms);
    });
    auto client = plain_client(server);
    return open(*client, "/x");
}

}  // namespace

TEST_CASE("handshake: a status other than 101 is refused") {
    auto ws = handshake_with([](const HttpRequest& req) {
        std::string a = handshake_answer(req);
        return "HTTP/1.1 200 OK" + a.substr(a.find("\r\n"));
    });
    REQUIRE_FALSE(ws.ok());
    CHECK(ws.error().message.find("HTTP 200") != std::string::npos);
}

TEST_CASE("handshake: a missing or wrong Upgrade header is refused") {
    auto none = handshake_with([](const HttpRequest& req) { return handshake_answer(req, ""); });
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message.find("Upgrade: websocket") != std::string::npos);
    auto wrong = handshake_with([](const HttpRequest& req) { return handshake_answer(req, "h2c"); });
    REQUIRE_FALSE(wrong.ok());
    auto any_case = handshake_with([](const HttpRequest& req) { return handshake_answer(req, "WebSocket"); });
    CHECK_MESSAGE(any_case.ok(), any_case.error().message);
}

TEST_CASE("handshake: a Connection header without the Upgrade token is refused") {
    auto none = handshake_with([](const HttpRequest& req) { return handshake_answer(req, "websocket", ""); });
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message.find("Connection: Upgrade") != std::string::npos);
    auto other = handshake_with(
        [](const HttpRequest& req) { return handshake_answer(req, "websocket", "keep-alive"); });
    REQUIRE_FALSE(other.ok());
    auto in_list = handshake_with(
        [](const HttpRequest& req) { return handshake_answer(req, "websocket", "keep-alive, upgrade"); });
    CHECK_MESSAGE(in_list.ok(), in_list.error().message);
}

TEST_CASE("handshake: a wrong Sec-WebSocket-Accept is refused") {
    auto ws = handshake_with([](const HttpRequest& req) {
        std::string a = handshake_answer(req);
        std::string good = websocket_accept(req.headers.at("sec-websocket-key"));
        return a.replace(a.find(good), good.size(), websocket_accept("another key"));
    });
    REQUIRE_FALSE(ws.ok());
    CHECK(ws.error().message.find("Sec-WebSocket-Accept") != std::string::npos);
}

TEST_CASE("close: a valid code is echoed back") {
    for (std::uint16_t code : {1000, 1001, 1011, 3000, 4999}) {
        auto run = run_peer(server_frame(Opcode::Close, close_payload(code, "bye")));
        CHECK(run.client_close_code() == code);
        CHECK(run.error.find(std::to_string(code)) != std::string::npos);
    }
}

TEST_CASE("close: an empty close is answered with an empty close, never 1005") {
    auto run = run_peer(server_frame(Opcode::Close, ""));
    CHECK(run.client_close_code() == -1);
    CHECK(run.error == "the API server closed the connection");
}

TEST_CASE("close: a one-byte payload is a protocol error (1002)") {
    auto run = run_peer(server_frame(Opcode::Close, "\x03"));
    CHECK(run.client_close_code() == 1002);
    CHECK(run.error.find("one-byte") != std::string::npos);
}

TEST_CASE("close: codes that may not be sent are answered with 1002, not echoed") {
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        CAPTURE(code);
        auto run = run_peer(server_frame(Opcode::Close, close_payload(code)));
        CHECK(run.client_close_code() == 1002);
        CHECK(run.error.find("may not be sent") != std::string::npos);
    }
}

TEST_CASE("close: a reason that is not UTF-8 is answered with 1007") {
    auto run = run_peer(server_frame(Opcode::Close, close_payload(1000, "\xff\xfe")));
    CHECK(run.client_close_code() == 1007);
}

TEST_CASE("close: we never send 1005, 1006 or 1015") {
    for (std::uint16_t code : {1000, 1002, 3000, 4999}) CHECK(valid_close_code(code));
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000})
        CHECK_FALSE(valid_close_code(code));
    // close() with a code that may not be sent sends an empty close instead.
    std::mutex m;
    std::vector<Frame> got;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        send_all(fd, handshake_answer(req));
        FrameDecoder d(kMaxWebSocketMessage, true);
        char buf[256];
        pollfd p{fd, POLLIN, 0};
        while (::poll(&p, 1, 3000) > 0) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            d.feed(std::string(buf, static_cast<std::size_t>(n)));
            auto f = d.next();
            if (f.ok() && *f) {
                std::lock_guard lock(m);
                got.push_back(**f);
                break;
            }
        }
    });
    {
        auto client = plain_client(server);
        auto ws = open(*client, "/x");
        REQUIRE(ws.ok());
        REQUIRE((*ws)->close(1005, "x").ok());
        for (int i = 0; i < 300; ++i) {
            std::lock_guard lock(m);
            if (!got.empty()) break;
            std::this_thread::sleep_for(10ms);
        }
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0].opcode == Opcode::Close);
    CHECK(got[0].payload.empty());
}

TEST_CASE("protocol errors are answered with 1002") {
    SUBCASE("reserved bits") {
        CHECK(run_peer(std::string("\xc2\x01x", 3)).client_close_code() == 1002);
    }
    SUBCASE("a reserved opcode") {
        CHECK(run_peer(std::string("\x8b\x00", 2)).client_close_code() == 1002);
    }
    SUBCASE("a masked server frame") {
        CHECK(run_peer(encode_frame(Opcode::Binary, "x", true, kMask)).client_close_code() == 1002);
    }
    SUBCASE("a length not in its shortest form") {
        CHECK(run_peer(std::string("\x82\x7e\x00\x05hello", 9)).client_close_code() == 1002);
        CHECK(
            run_peer(std::string("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05hello", 15)).client_close_code() ==
            1002);
    }
}

TEST_CASE("fragmentation: a continuation with no message to continue is a protocol error") {
    auto run = run_peer(server_frame(Opcode::Continuation, "x"));
    CHECK(run.client_close_code() == 1002);
    CHECK(run.messages.empty());
}

TEST_CASE("fragmentation: a new data frame inside a fragmented message is a protocol error") {
    auto run = run_peer(server_frame(Opcode::Binary, "a", false) + server_frame(Opcode::Binary, "b"));
    CHECK(run.client_close_code() == 1002);
    CHECK(run.messages.empty());
}

TEST_CASE("fragmentation: a ping between fragments is answered and the message arrives whole") {
    auto run =
        run_peer(server_frame(Opcode::Binary, "\x01he", false) + server_frame(Opcode::Ping, "p") +
                 server_frame(Opcode::Continuation, "ll", false) + server_frame(Opcode::Pong, "q") +
                 server_frame(Opcode::Continuation, "o") + server_frame(Opcode::Close, close_payload(1000)));
    REQUIRE(run.messages.size() == 1);
    CHECK(run.messages[0] == "\x01hello");
    REQUIRE(run.from_client.size() == 2);
    CHECK(run.from_client[0].opcode == Opcode::Pong);
    CHECK(run.from_client[0].payload == "p");
    CHECK(run.client_close_code() == 1000);
}

TEST_CASE("fragmentation: a fragmented control frame inside a fragmented message is a protocol error") {
    auto run = run_peer(server_frame(Opcode::Binary, "a", false) + server_frame(Opcode::Ping, "p", false));
    CHECK(run.client_close_code() == 1002);
    CHECK(run.messages.empty());
}

TEST_CASE("control frames over 125 bytes are a protocol error") {
    CHECK(run_peer(server_frame(Opcode::Ping, std::string(126, 'p'))).client_close_code() == 1002);
    CHECK(run_peer(server_frame(Opcode::Close, close_payload(1000, std::string(124, 'r'))))
              .client_close_code() == 1002);
}

TEST_CASE("an oversized frame is answered with 1009 before its payload is read") {
    // The header alone announces 1 GiB.
    auto run = run_peer(std::string("\x82\x7f\x00\x00\x00\x00\x40\x00\x00\x00", 10));
    CHECK(run.client_close_code() == 1009);
    CHECK(run.error.find("over our limit") != std::string::npos);
}

TEST_CASE("an oversized fragmented message is answered with 1009") {
    MessageAssembler a(8);
    REQUIRE(a.add(Frame{false, Opcode::Binary, "12345"}).ok());
    auto r = a.add(Frame{true, Opcode::Continuation, "6789"});
    REQUIRE_FALSE(r.ok());
    CHECK(a.failure_code() == kCloseTooBig);
}

TEST_CASE("text messages must be UTF-8 (1007); a character split between fragments is fine") {
    auto bad = run_peer(server_frame(Opcode::Text, "\xc0\xaf"));  // an overlong '/'
    CHECK(bad.client_close_code() == 1007);
    auto split =
        run_peer(server_frame(Opcode::Text, "\xe2\x82", false) + server_frame(Opcode::Continuation, "\xac") +
                 server_frame(Opcode::Close, close_payload(1000)));
    REQUIRE(split.messages.size() == 1);
    CHECK(split.messages[0] == "\xe2\x82\xac");
    CHECK(valid_utf8("plain \xc3\xa9\xf0\x9f\x98\x80"));
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // over U+10FFFF
    CHECK_FALSE(valid_utf8("\xe2\x82"));          // cut short
}

TEST_CASE(
    "a WebSocket upgrade answered 401 fetches the credentials again (tokenFile, exec plugin) and upgrades "
    "again, once") {
    char path[] = "/tmp/ksc-ws-token-XXXXXX";
    int tfd = ::mkstemp(path);
    REQUIRE(tfd >= 0);
    ::close(tfd);
    std::mutex m;
    std::vector<std::string> seen;
    TestHttpServer server([&](int fd, const HttpRequest& req) {
        std::string auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
        {
            std::lock_guard lock(m);
            seen.push_back(auth);
        }
        if (auth != "Bearer rotated") {
            send_all(fd, http_response(401, R"({"kind":"Status","message":"Unauthorized","code":401})"));
            return;
        }
        send_all(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: " +
                     websocket_accept(req.headers.at("sec-websocket-key")) +
                     "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
    });
    RestConfig config;
    config.server = server.url();
    config.token = "old";
    config.token_file = path;
    auto client = ApiClient::create(config);
    REQUIRE(client);
    { std::ofstream(path) << "rotated\n"; }
    SUBCASE("a tokenFile: one more try with the file read again") {
        auto ws = open_websocket(**client, "/api/v1/namespaces/d/pods/p/attach", {kChannelV5}, 5s);
        REQUIRE_MESSAGE(ws, ws.error().message);
        CHECK(seen == std::vector<std::string>{"Bearer old", "Bearer rotated"});
    }
    SUBCASE("an exec plugin: run again after the 401") {
        std::string script = std::string(path) + ".sh", marker = std::string(path) + ".ran";
        {
            std::ofstream out(script);
            out << "#!/bin/sh\nif [ -e \"$MARKER\" ]; then t=rotated; else t=old; : > \"$MARKER\"; fi\n"
                   "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                   "\"status\":{\"token\":\"%s\"}}' $t\n";
        }
        ::chmod(script.c_str(), 0755);
        RestConfig with_exec;
        with_exec.server = server.url();
        ExecConfig exec;
        exec.api_version = "client.authentication.k8s.io/v1";
        exec.command = script;
        exec.interactive_mode = "Never";
        exec.env = {{"MARKER", marker}};
        with_exec.exec = exec;
        auto c = ApiClient::create(with_exec);
        REQUIRE(c);
        auto ws = open_websocket(**c, "/api/v1/namespaces/d/pods/p/attach", {kChannelV5}, 5s);
        REQUIRE_MESSAGE(ws, ws.error().message);
        CHECK(seen == std::vector<std::string>{"Bearer old", "Bearer rotated"});
        ::unlink(script.c_str());
        ::unlink(marker.c_str());
    }
    SUBCASE("a fixed token: the 401 is reported, not repeated") {
        config.token_file.clear();
        auto fixed = ApiClient::create(config);
        REQUIRE(fixed);
        auto ws = open_websocket(**fixed, "/api/v1/namespaces/d/pods/p/attach", {kChannelV5}, 5s);
        REQUIRE_FALSE(ws);
        CHECK(ws.error().message.find("Unauthorized") != std::string::npos);
        CHECK(seen == std::vector<std::string>{"Bearer old"});
    }
    ::unlink(path);
}

}  // namespace ksc::kube
