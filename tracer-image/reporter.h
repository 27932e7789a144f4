// Everything the tracer tells the world: stream events (stream.h encodes them) and, on a clean
// stop, the compact summary file. Used by the main thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "output.h"
#include "stream.h"
#include "syscall_counts.h"

namespace ksc::tracer {

class Reporter {
  public:
    Reporter(Output& output, std::int64_t start_ms) : output_(output), start_ms_(start_ms) {}

    double seconds() const;  // since the tracer started

    static std::string hello_line(stream::Mode mode, stream::Method method,
                                  std::optional<stream::CheckInfo> check = std::nullopt);
    bool output_broken() const { return output_.broken(); }
    // Summaries are never dropped from a full queue (each is complete: the last one received is
    // the recording); progress and syscall lines may be (output.h).
    void emit(const stream::Event& event) {
        output_.write_line(stream::encode(event), std::holds_alternative<stream::Summary>(event));
    }
    void warning(const std::string& code, const std::string& message);
    void error(const std::string& code, const std::string& message);

    // Once the recording is over, only errors still go out: the stream's reader may be gone.
    // Errors also go to stderr when the stream does not (a human may be watching the terminal).
    void set_mirror_errors(bool mirror) { mirror_errors_ = mirror; }

    void set_quiet(bool quiet) { quiet_ = quiet; }
    bool quiet() const { return quiet_; }

    void write_summary_file(const std::string& path, bool given, const SyscallCounts& recording);

  private:
    Output& output_;
    std::int64_t start_ms_;
    bool quiet_ = false;
    bool mirror_errors_ = false;
};

}  // namespace ksc::tracer
