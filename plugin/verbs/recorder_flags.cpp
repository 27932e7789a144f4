#include "recorder_flags.h"

#include <string>

#include "common_flags.h"
#include "user_error.h"

namespace ksc::cli {

std::chrono::milliseconds duration_flag(const cxxopts::ParseResult& result, const char* name) {
    auto d = parse_duration(result[name].as<std::string>());
    if (!d) throw UserError(std::string("--") + name + ": " + d.error().message);
    return *d;
}

RecordSettings record_settings(const cxxopts::ParseResult& result) {
    RecordSettings settings;
    settings.privileges = result["privileges"].as<std::string>();
    if (settings.privileges != "auto" && settings.privileges != "same-user" &&
        settings.privileges != "ptrace")
        throw UserError("unknown --privileges \"" + settings.privileges +
                        "\": use auto, same-user or ptrace");
    settings.start_timeout = duration_flag(result, "timeout");
    settings.image = result["image"].as<std::string>();
    if (result.count("image-pull-policy"))
        settings.image_pull_policy = result["image-pull-policy"].as<std::string>();
    return settings;
}

void read_from_start_flags(const cxxopts::ParseResult& result, FromStartOptions& fs) {
    if (result.count("command")) fs.command = result["command"].as<std::string>();
    fs.image = result["image"].as<std::string>();
    if (result.count("image-pull-policy"))
        fs.image_pull_policy = result["image-pull-policy"].as<std::string>();
    if (result.count("registry-ca-file")) fs.registry_ca_file = result["registry-ca-file"].as<std::string>();
    fs.keep = result.count("keep") > 0;
    fs.start_timeout = duration_flag(result, "timeout");
}

}  // namespace ksc::cli
