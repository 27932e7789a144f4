#include "check_program.h"

#include <rapidjson/document.h>

#include "base64.h"
#include "bounded_json.h"
#include "cluster.h"
#include "profile_compile.h"
#include "user_error.h"

namespace ksc::cli {

bpf::Program compile_for_check(const Profile& profile, const std::string& path, const std::string& goarch) {
    bool notify = profile.default_action == Action::Notify;
    for (const auto& r : profile.syscalls) notify = notify || r.action == Action::Notify;
    if (notify)
        throw UserError(path +
                        ": SCMP_ACT_NOTIFY needs a seccomp agent listening, which a check has not: replace "
                        "it with the action the agent would take");
    std::optional<DockerContext> node;
    if (!goarch.empty()) {
        node = DockerContext{};
        node->goarch = goarch;
        node->caps = default_container_caps();
    }
    auto program = compile_program(profile, node);
    if (!program) throw UserError(path + ": " + program.error().message);
    return *program;
}

std::string node_goarch(const CommonFlags& common, const std::string& target) {
    if (target.find('/') != std::string::npos) return "";
    auto cluster = open_cluster(common);
    if (!cluster) return "";
    auto pod = cluster->client->get("/api/v1/namespaces/" + kube::url_encode(cluster->namespace_name) +
                                    "/pods/" + kube::url_encode(target));
    rapidjson::Document doc;
    if (!pod || !parse_bounded_json(doc, *pod) || !doc.IsObject()) return "";
    const rapidjson::Value* spec = json_object(doc, "spec");
    const std::string node_name = spec ? json_string(*spec, "nodeName") : "";
    if (node_name.empty()) return "";
    auto node = cluster->client->get("/api/v1/nodes/" + kube::url_encode(node_name));
    rapidjson::Document n;
    if (!node || !parse_bounded_json(n, *node) || !n.IsObject()) return "";
    const rapidjson::Value* meta = json_object(n, "metadata");
    const rapidjson::Value* labels = meta ? json_object(*meta, "labels") : nullptr;
    return labels ? json_string(*labels, "kubernetes.io/arch") : "";
}

std::vector<std::string> tracer_check_args(const bpf::Program& program, const std::string& mode) {
    std::vector<std::string> args{"--check-program", base64_encode(bpf::pack(program)), "--check-mode", mode};
    if (mode != "eval") args.emplace_back("--check-only");
    return args;
}

std::vector<CheckDenial> denials_from_syscalls(const Recording& rec, const bpf::Program& program) {
    std::vector<CheckDenial> out;
    for (const auto& [key, sc] : rec.syscalls) {
        bpf::SeccompData data;
        // x32 calls are x86_64's AUDIT_ARCH with the x32 bit in the number.
        data.arch = static_cast<std::uint32_t>(sc.arch == Arch::X32 ? Arch::X86_64 : sc.arch);
        data.nr = static_cast<std::int32_t>(sc.arch == Arch::X32 ? sc.nr | kX32SyscallBit : sc.nr);
        const std::uint32_t verdict = bpf::run(program, data);
        const std::uint32_t action = verdict & bpf::kRetActionFull;
        if (action == bpf::kRetAllow || action == bpf::kRetLog) continue;
        CheckDenial d;
        d.arch = sc.arch;
        d.nr = sc.nr;
        d.name = sc.name;
        d.action = std::string(bpf::action_name(action));
        if (action == bpf::kRetErrno) d.errno_value = static_cast<int>(verdict & bpf::kRetData);
        d.count = 1;
        d.first_t = -1;  // not known
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace ksc::cli
