#include "tracer_channels.h"

#include "api_client.h"

namespace ksc::rec {

Result<ChannelData> WebSocketChannel::read(std::chrono::milliseconds wait) {
    auto msg = ws_->receive(wait);
    if (!msg) return msg.error();
    ChannelData out;
    if (!*msg) return out;
    auto data = kube::parse_channel_message((**msg).payload);
    if (!data || data->data.empty()) return out;
    if (data->channel == kube::kStdout) {
        out.stream = std::move(data->data);
    } else if (data->channel == kube::kStderr) {
        out.diagnostics = data->data.substr(0, data->data.find_last_not_of('\n') + 1);
    } else if (data->channel == kube::kStatus) {
        kube::Response r;
        r.body = data->data;
        out.end_reason = kube::api_status(r).message;
    }
    return out;
}

Status WebSocketChannel::send(stream::Command command) {
    return ws_->send(kube::Opcode::Binary,
                     kube::channel_message(kube::kStdin, std::string(stream::command_text(command)) + "\n"));
}

void WebSocketChannel::close() {
    if (ws_ && !ws_->closed()) (void)ws_->close();
}

Result<ChannelData> PipeChannel::read(std::chrono::milliseconds wait) {
    ChannelData out;
    auto bytes = tracer_.read_some(wait);
    if (!bytes) return bytes.error();
    out.stream = std::move(*bytes);
    if (tracer_.stream_ended()) {
        ended_ = true;
    } else if (tracer_.try_wait()) {
        // The tracer exited but something it started keeps the pipe open: read what is left.
        while (!tracer_.stream_ended()) {
            auto rest = tracer_.read_some(std::chrono::milliseconds(50));
            if (!rest || rest->empty()) break;
            out.stream += *rest;
        }
        ended_ = true;
    }
    return out;
}

}  // namespace ksc::rec
