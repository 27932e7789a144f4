// The channels a tracer's stream travels on (recording_session.h's TracerChannel): a Kubernetes
// attach or exec WebSocket (stdout the stream, stdin the commands, stderr the tracer's own
// diagnostics, the status channel why it ended), and the pipe of a local tracer (`trace`).
#pragma once

#include <memory>

#include "recording_session.h"
#include "tracer_process.h"
#include "websocket.h"

namespace ksc::rec {

class WebSocketChannel : public TracerChannel {
  public:
    explicit WebSocketChannel(std::unique_ptr<kube::WebSocket> ws) : ws_(std::move(ws)) {}
    ~WebSocketChannel() override { close(); }

    Result<ChannelData> read(std::chrono::milliseconds wait) override;
    bool ended() const override { return ws_->closed(); }
    Status send(stream::Command command) override;
    void close() override;

  private:
    std::unique_ptr<kube::WebSocket> ws_;
};

// A local tracer's stream pipe. Commands are ignored: the tracer in launch mode shares our
// terminal's process group and stops on the user's Ctrl-C itself.
class PipeChannel : public TracerChannel {
  public:
    explicit PipeChannel(TracerProcess& tracer) : tracer_(tracer) {}

    Result<ChannelData> read(std::chrono::milliseconds wait) override;
    bool ended() const override { return ended_; }
    Status send(stream::Command) override { return Ok{}; }
    void close() override {}

  private:
    TracerProcess& tracer_;
    bool ended_ = false;
};

}  // namespace ksc::rec
