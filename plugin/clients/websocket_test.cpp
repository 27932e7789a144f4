#include "websocket.h"

#include <doctest/doctest.h>

#include <fmt/core.h>

#include <mutex>

#include "test_http_server.h"

using namespace std::chrono_literals;
using ksc::testing::http_response;
using ksc::testing::HttpRequest;
using ksc::testing::send_all;
using ksc::testing::TestHttpServer;

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
