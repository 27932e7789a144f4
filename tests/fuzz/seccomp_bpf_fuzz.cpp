// The classic-BPF seccomp programs the tracer receives from the plugin (`--check-program`): the
// first 64 bytes are the call (struct seccomp_data), the rest the program. Whatever unpack()
// accepts must run to a verdict, pack back to the same bytes, and rewrite for the tracer into a
// valid program whose verdicts carry the original ones.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "seccomp_bpf.h"

using namespace ksc::bpf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    SeccompData call;
    std::size_t head = size < 64 ? size : 64;
    unsigned char raw[64] = {};
    std::memcpy(raw, data, head);
    std::memcpy(&call.nr, raw, 4);
    std::memcpy(&call.arch, raw + 4, 4);
    std::memcpy(&call.instruction_pointer, raw + 8, 8);
    std::memcpy(call.args, raw + 16, 48);
    std::string_view bytes(reinterpret_cast<const char*>(data) + head, size - head);

    auto program = unpack(bytes);
    if (!program) return 0;
    if (pack(*program) != bytes) std::abort();
    const std::uint32_t verdict = run(*program, call);
    (void)action_name(verdict);

    auto traced = transform_for_trace(*program);
    if (!traced) return 0;
    if (!validate(*traced).ok()) std::abort();
    const std::uint32_t got = run(*traced, call);
    const std::uint32_t action = verdict_action(verdict);
    std::uint32_t want = 0;
    if (action == kRetAllow || action == kRetLog)
        want = verdict;
    else if (action == kRetTrace || action == kRetUserNotif)
        want = kRetTrace | encode_trace_data(kRetErrno, 38);
    else
        want = kRetTrace | encode_trace_data(action, static_cast<std::uint16_t>(verdict & kRetData));
    if (got != want) std::abort();
    OriginalVerdict back = decode_trace_data(static_cast<std::uint16_t>(got & kRetData));
    if (action != kRetAllow && action != kRetLog && action != kRetTrace && action != kRetUserNotif &&
        back.action != action)
        std::abort();
    return 0;
}
