// Monotonic time in milliseconds (vDSO: no syscall).
#pragma once

#include <cstdint>
#include <ctime>

namespace ksc::tracer {

inline std::int64_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace ksc::tracer
