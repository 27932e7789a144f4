#include "profile_inputs.h"

#include <fmt/core.h>

#include <sstream>

#include "profile_args.h"
#include "runtime_default.h"
#include "user_error.h"

namespace ksc::cli {

ArgsMode args_mode_from_flag(const std::string& text) {
    auto mode = args_mode_from_name(text);
    if (!mode) throw UserError(fmt::format("unknown --args \"{}\": use curated or none", text));
    return *mode;
}

void add_profile_input_flags(VerbFlags& flags) {
    // clang-format off
    flags.add_options("Inputs")
        ("base", "For a recording: the container runtime's own syscalls to add: runc, crun, both or none",
            cxxopts::value<std::string>()->default_value("both"))
        ("include-denied", "For a recording: allow syscalls seen only failing with EPERM/ENOSYS instead of "
            "refusing them the same way")
        ("args", std::string("For a recording: ") + kArgsFlagHelp, cxxopts::value<std::string>()->default_value(kArgsDefault))
        ("base-profile", "A file holding the SeccompProfile a baseProfileName names (repeatable)",
            cxxopts::value<std::vector<std::string>>())
        ("arch", "Evaluate Docker's archMap/includes/excludes (and runtime/default) for this node "
            "architecture: amd64, arm64, ... (default: this machine's)", cxxopts::value<std::string>())
        ("caps", "Container capabilities for Docker's includes/excludes and runtime/default, comma-separated "
            "(default: the container runtime's default set)", cxxopts::value<std::string>())
        ("kernel", "Kernel version for Docker's minKernel conditions (default: new enough for all)",
            cxxopts::value<std::string>());
    // clang-format on
}

ProfileInputOptions profile_input_options(const VerbFlags& flags) {
    const auto& r = flags.result();
    ProfileInputOptions o;
    std::string base = r["base"].as<std::string>();
    auto b = base_set_from_name(base);
    if (!b) throw UserError(fmt::format("unknown --base \"{}\": use runc, crun, both or none", base));
    o.record.base = *b;
    o.record.include_denied = r.count("include-denied") > 0;
    o.record.args = args_mode_from_flag(r["args"].as<std::string>());
    if (r.count("base-profile")) o.base_files = r["base-profile"].as<std::vector<std::string>>();
    o.docker.goarch = goarch_of(native_arch());
    if (r.count("arch")) {
        auto g = goarch_from_name(r["arch"].as<std::string>());
        if (!g)
            throw UserError(fmt::format("unknown --arch \"{}\": use amd64, arm64, arm, 386, ...",
                                        r["arch"].as<std::string>()));
        o.docker.goarch = *g;
        o.evaluate = true;
    }
    o.docker.caps = default_container_caps();
    if (r.count("caps")) {
        o.docker.caps.clear();
        std::stringstream ss(r["caps"].as<std::string>());
        for (std::string c; std::getline(ss, c, ',');)
            if (!c.empty()) o.docker.caps.push_back(cap_name(c));
        o.evaluate = true;
    }
    if (r.count("kernel")) {
        o.docker.kernel = r["kernel"].as<std::string>();
        o.evaluate = true;
    }
    return o;
}

std::string name_from_path(const std::string& path) {
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    auto dot = base.find('.');
    if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
    return to_object_name(base);
}

LoadedProfiles load_profiles(const std::string& in, const ProfileInputOptions& options, bool resolve_bases) {
    LoadedProfiles out;
    out.path = in;
    if (in == kRuntimeDefaultName) {
        out.is_runtime_default = true;
        out.kind = InputKind::OciProfile;
        SeccompProfileDoc doc;
        doc.name = "runtime-default";
        doc.profile = runtime_default_profile(options.docker);
        out.docs.push_back(std::move(doc));
        return out;
    }
    auto loaded = load_input(in);
    if (!loaded) throw UserError(loaded.error().message);
    for (const auto& w : loaded->warnings) warn(w);
    out.kind = loaded->kind;
    out.path = loaded->path;
    if (loaded->kind == InputKind::Recording) {
        const Recording& rec = *loaded->recording;
        for (const auto* sc : rec.unknown_numbers())
            warn(fmt::format("{}: {} syscall #{} is not in our syscall table: left out of the profile",
                             out.path, arch_name(sc->arch), sc->nr));
        SeccompProfileDoc doc;
        doc.name = name_from_path(in);
        doc.annotations.emplace_back(kArgsAnnotation, args_mode_name(options.record.args));
        std::vector<std::string> notes;
        doc.profile = profile_from_recording(rec, options.record, &notes);
        for (const auto& n : notes) warn(fmt::format("{}: {}", out.path, n));
        out.docs.push_back(std::move(doc));
        return out;
    }
    if (resolve_bases) {
        if (auto st = resolve_base_profiles(*loaded, options.base_files); !st)
            throw UserError(st.error().message);
    }
    out.docs = std::move(loaded->profiles);
    for (auto& doc : out.docs) {
        if (doc.name.empty()) doc.name = name_from_path(in);
        if (options.evaluate) {
            auto p = evaluate_docker_conditions(doc.profile, options.docker);
            if (!p) throw UserError(in_file(out.path, p.error().message));
            doc.profile = std::move(*p);
        }
    }
    return out;
}

Profile effective_profile(const LoadedProfiles& loaded, const std::string& name,
                          const ProfileInputOptions& options) {
    Profile p = pick_profile(loaded, name).profile;
    if (!has_docker_conditions(p)) return p;
    auto e = evaluate_docker_conditions(p, options.docker);
    if (!e) throw UserError(in_file(loaded.path, e.error().message));
    return std::move(*e);
}

const SeccompProfileDoc& pick_profile(const LoadedProfiles& loaded, const std::string& name) {
    if (!name.empty()) {
        for (const auto& d : loaded.docs)
            if (d.name == name) return d;
        std::string names;
        for (const auto& d : loaded.docs) names += (names.empty() ? "" : ", ") + d.name;
        throw UserError(fmt::format("{}: no profile named \"{}\" (it has: {})", loaded.path, name, names));
    }
    if (loaded.docs.size() == 1) return loaded.docs[0];
    std::string names;
    for (const auto& d : loaded.docs) names += (names.empty() ? "" : ", ") + d.name;
    throw UserError(fmt::format("{} holds {} profiles ({}): pick one with --profile NAME", loaded.path,
                                loaded.docs.size(), names));
}

}  // namespace ksc::cli
