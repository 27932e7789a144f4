// Loading any input the offline verbs take, telling the format by content: a recorded stream
// (NDJSON), an OCI/Docker seccomp profile (JSON), or SPO SeccompProfile documents (YAML or JSON,
// one or many, or a kubectl List).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "profile.h"
#include "profile_spo.h"
#include "recording.h"
#include "result.h"

namespace ksc {

enum class InputKind { Recording, OciProfile, SeccompProfile };

// Larger inputs are refused at once (bounded memory). A recording carries progress lines, so it
// may be longer than any profile.
inline constexpr std::size_t kMaxProfileFileBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxRecordingFileBytes = 64 * 1024 * 1024;

struct LoadedInput {
    InputKind kind = InputKind::OciProfile;
    std::string path;                         // as given; "<stdin>" for "-"
    std::optional<Recording> recording;       // kind Recording
    std::vector<SeccompProfileDoc> profiles;  // the others; an OCI profile is one unnamed document
    std::vector<std::string> warnings;        // "FILE:LINE:COL: ..." lines for stderr
};

Result<LoadedInput> load_input(const std::string& path);
// The same, from text already read (tests, stdin already consumed).
Result<LoadedInput> load_input_text(const std::string& path, const std::string& text);

// SPO unions a profile's baseProfileName into it; so do we when the base is at hand: another
// document of the same input, NAME.yaml/.yml/.json beside the input, or a document of one of
// `base_files`. Bases of bases too. A base that cannot be found is an error that says how to
// supply it.
Status resolve_base_profiles(LoadedInput& input, std::span<const std::string> base_files);

// "FILE:12:5: ..." when the message starts with a position, "FILE: ..." otherwise.
std::string in_file(const std::string& path, const std::string& message);

}  // namespace ksc
