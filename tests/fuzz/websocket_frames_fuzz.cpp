// WebSocket frames and close payloads from the API server after a correct handshake: decoded,
// joined and read as channel messages until the connection ends, never crashing or growing
// without bound; the frame decoder alone as well.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fake_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    ksc::kube::FrameDecoder decoder(1 << 20);
    decoder.feed(text);
    ksc::kube::MessageAssembler assembler(1 << 20);
    for (int i = 0; i < 10000; ++i) {
        auto frame = decoder.next();
        if (!frame || !*frame) break;
        auto message = assembler.add(std::move(**frame));
        if (!message) break;
        if (*message) (void)ksc::kube::parse_channel_message((*message)->payload);
    }

    auto stream = std::make_unique<ksc::fuzz::FakeStream>(text, data[0] + 1, true);
    auto ws = ksc::kube::WebSocket::connect(std::move(stream), "127.0.0.1:1", "/attach",
                                            {"v5.channel.k8s.io"}, {}, std::chrono::milliseconds(1000));
    if (!ws) return 0;
    for (int i = 0; i < 10000; ++i) {
        auto frame = (*ws)->receive(std::chrono::milliseconds(10));
        if (!frame) break;
        if (*frame) (void)ksc::kube::parse_channel_message((*frame)->payload);
    }
    return 0;
}
