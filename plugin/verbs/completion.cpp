#include "completion.h"

#include <fmt/core.h>
#include <rapidjson/document.h>

#include <chrono>
#include <optional>

#include "api_client.h"
#include "cluster.h"
#include "collect_flags.h"
#include "common_flags.h"
#include "kubeconfig.h"

namespace ksc::cli {
namespace {

// cobra's ShellCompDirective values.
constexpr int kDirectiveDefault = 0;  // the shell may complete file names
constexpr int kDirectiveNoFileComp = 4;

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// The verb's flags, from its own VerbFlags (run in collecting mode, see common_flags.h), and the
// common flags as the words typed so far give them.
std::optional<CollectedFlags> collect(const Verb& verb, std::vector<std::string> words) {
    // The words as typed; without the last one (a flag still waiting for its value); the verb alone.
    for (int attempt = 0; attempt < 3; ++attempt) {
        try {
            if (auto collected = collect_verb_flags(verb, words)) return collected;
        } catch (...) {
        }
        words.resize(attempt == 0 && words.size() > 1 ? words.size() - 1 : 1);
    }
    return std::nullopt;
}

// One bounded request to the cluster; nothing on any error.
std::optional<rapidjson::Document> cluster_get(const CommonFlags& common, const std::string& path) {
    CommonFlags quick = common;
    quick.request_timeout = std::chrono::seconds(3);
    kube::ClientOptions options;
    options.max_retries = 0;
    options.connect_timeout = std::chrono::seconds(2);
    auto cluster = open_cluster(quick, options);
    if (!cluster) return std::nullopt;
    auto body = cluster->client->get(path);
    if (!body) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(body->c_str(), body->size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    return doc;
}

std::string namespace_of(const CommonFlags& common) {
    if (!common.namespace_name.empty()) return common.namespace_name;
    // -n is empty here: the context's namespace, or "default".
    auto rc = rest_config_for(common);
    return rc ? rc->namespace_name : "default";
}

std::vector<std::string> item_names(const rapidjson::Document& doc) {
    std::vector<std::string> out;
    auto items = doc.FindMember("items");
    if (items == doc.MemberEnd() || !items->value.IsArray()) return out;
    for (const auto& item : items->value.GetArray()) {
        if (!item.IsObject()) continue;
        auto md = item.FindMember("metadata");
        if (md == item.MemberEnd() || !md->value.IsObject()) continue;
        auto name = md->value.FindMember("name");
        if (name != md->value.MemberEnd() && name->value.IsString())
            out.emplace_back(name->value.GetString());
    }
    return out;
}

std::vector<std::string> containers_of(const rapidjson::Document& pod) {
    std::vector<std::string> out;
    auto spec = pod.FindMember("spec");
    if (spec == pod.MemberEnd() || !spec->value.IsObject()) return out;
    auto list = spec->value.FindMember("containers");
    if (list == spec->value.MemberEnd() || !list->value.IsArray()) return out;
    for (const auto& c : list->value.GetArray())
        if (c.IsObject() && c.HasMember("name") && c["name"].IsString())
            out.emplace_back(c["name"].GetString());
    return out;
}

std::vector<std::string> contexts(const CommonFlags& common) {
    kube::LoadOptions lo;
    lo.kubeconfig = common.kubeconfig;
    return kube::context_names(lo);
}

void print(const std::vector<std::string>& candidates, const std::string& prefix, int directive) {
    for (const auto& c : candidates)
        if (starts_with(c, prefix)) fmt::print("{}\n", c);
    fmt::print(":{}\n", directive);
}

}  // namespace

namespace {

// The value of a flag that takes one: its choices, names from the cluster, or files.
int complete_flag_value(const Verb& verb, const CollectedFlag& flag, const CollectedFlags& collected,
                        const std::vector<std::string>& typed, const std::string& current) {
    const CommonFlags& common = collected.common;
    const std::string& n = flag.name;
    if (n == "output") return print(collected.output_formats, current, kDirectiveNoFileComp), 0;
    if (n == "privileges") return print({"auto", "same-user", "ptrace"}, current, kDirectiveNoFileComp), 0;
    if (n == "image-pull-policy")
        return print({"Always", "IfNotPresent", "Never"}, current, kDirectiveNoFileComp), 0;
    if (n == "base") return print({"runc", "crun", "both", "none"}, current, kDirectiveNoFileComp), 0;
    if (n == "mode") return print({"complain", "enforce"}, current, kDirectiveNoFileComp), 0;
    // check's --profile is the file to check (diff's names one profile inside a file).
    if (n == "profile" && verb.name == "check") return print({}, current, kDirectiveDefault), 0;
    if (n == "context") return print(contexts(common), current, kDirectiveNoFileComp), 0;
    if (n == "namespace") {
        auto doc = cluster_get(common, "/api/v1/namespaces?limit=500");
        return print(doc ? item_names(*doc) : std::vector<std::string>{}, current, kDirectiveNoFileComp), 0;
    }
    if (n == "container") {
        std::string pod;
        for (std::size_t i = 1; i < typed.size(); ++i)
            if (!starts_with(typed[i], "-") && (i == 1 || !starts_with(typed[i - 1], "-"))) pod = typed[i];
        if (pod.empty() || starts_with(pod, "deploy/")) return print({}, current, kDirectiveNoFileComp), 0;
        auto doc = cluster_get(common, "/api/v1/namespaces/" + kube::url_encode(namespace_of(common)) +
                                           "/pods/" + kube::url_encode(pod));
        return print(doc ? containers_of(*doc) : std::vector<std::string>{}, current, kDirectiveNoFileComp),
               0;
    }
    // Files (--output-file, --kubeconfig, certificates ...) and free text.
    return print({}, current, flag.is_file ? kDirectiveDefault : kDirectiveNoFileComp), 0;
}

// The positional argument: pods and deploy/ names for the verbs that take a pod; files else.
int complete_target(const Verb& verb, const CommonFlags& common, const std::string& current) {
    const std::string ns = kube::url_encode(namespace_of(common));
    if (starts_with(current, "deploy/")) {
        auto doc = cluster_get(common, "/apis/apps/v1/namespaces/" + ns + "/deployments?limit=500");
        std::vector<std::string> names;
        if (doc)
            for (const auto& n : item_names(*doc)) names.push_back("deploy/" + n);
        return print(names, current, kDirectiveNoFileComp), 0;
    }
    auto doc = cluster_get(common, "/api/v1/namespaces/" + ns + "/pods?limit=500");
    std::vector<std::string> names = doc ? item_names(*doc) : std::vector<std::string>{};
    if (verb.name != "recover") names.push_back("deploy/");
    std::size_t shown = 0;
    for (const auto& n : names) shown += starts_with(n, current) ? 1 : 0;
    // "deploy/" alone: no space after it, the name comes next (cobra's NoSpace).
    bool only_deploy = shown == 1 && starts_with("deploy/", current) && verb.name != "recover";
    print(names, current, kDirectiveNoFileComp | (only_deploy ? 2 : 0));
    return 0;
}

}  // namespace

int complete(const std::vector<std::string>& words_in, const std::vector<Verb>& verbs) {
    std::vector<std::string> words = words_in;
    if (words.empty()) words.push_back("");
    const std::string current = words.back();
    if (words.size() == 1) {
        std::vector<std::string> names;
        for (const auto& v : verbs) names.emplace_back(v.name);
        print(names, current, kDirectiveNoFileComp);
        return 0;
    }
    const Verb* verb = nullptr;
    for (const auto& v : verbs)
        if (v.name == words[0]) verb = &v;
    if (verb == nullptr) {
        print({}, current, kDirectiveNoFileComp);
        return 0;
    }
    // `rbac [OWN FLAGS] VERB ...` completes as VERB does; its own flags and the verbs before that.
    if (verb->name == "rbac") {
        std::size_t at = 1;
        while (at + 1 < words.size() && starts_with(words[at], "-"))
            at += (words[at] == "--user" || words[at] == "--group" || words[at] == "--serviceaccount" ||
                   words[at] == "--name")
                      ? 2
                      : 1;
        if (at + 1 < words.size())
            return complete(
                std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(at), words.end()),
                verbs);
        if (at + 1 == words.size() && !starts_with(current, "-")) {
            std::vector<std::string> names;
            for (const auto& v : verbs)
                if (v.name == "check" || v.name == "record" || v.name == "recover")
                    names.emplace_back(v.name);
            return print(names, current, kDirectiveNoFileComp), 0;
        }
    }
    if (verb->name == "completion" && words.size() == 2 && !starts_with(current, "-"))
        return print({"install"}, current, kDirectiveNoFileComp), 0;
    std::vector<std::string> typed(words.begin(), words.end() - 1);
    auto collected = collect(*verb, typed);
    if (!collected) {
        print({}, current, kDirectiveDefault);
        return 0;
    }
    const CommonFlags& common = collected->common;
    const std::string previous = typed.size() > 1 ? typed.back() : "";

    // A flag's value.
    const CollectedFlag* flag = nullptr;
    for (const auto& f : collected->flags)
        if (f.takes_value &&
            (previous == "--" + f.name || (!f.short_name.empty() && previous == "-" + f.short_name)))
            flag = &f;
    if (flag != nullptr) return complete_flag_value(*verb, *flag, *collected, typed, current);
    if (starts_with(current, "-")) {
        std::vector<std::string> names;
        for (const auto& f : collected->flags) names.push_back("--" + f.name);
        print(names, current, kDirectiveNoFileComp);
        return 0;
    }
    if (verb->name == "record" || verb->name == "recover" || verb->name == "check")
        return complete_target(*verb, common, current);
    if (verb->name == "version") return print({}, current, kDirectiveNoFileComp), 0;
    print({}, current, kDirectiveDefault);
    return 0;
}

}  // namespace ksc::cli
