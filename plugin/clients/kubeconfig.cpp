#include "kubeconfig.h"

#include "bounded_json.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include "base64.h"
#include "doc_node.h"
#include "subprocess.h"
#include "unique_fd.h"
#include "yaml_doc.h"

extern char** environ;

namespace ksc::kube {

// At most 8 MiB and a byte (kubeconfigs and tokens are a few KiB): a larger file is refused by
// its reader instead of filling memory (/dev/zero, a wrong path).
std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text;
    char buf[65536];
    while (text.size() <= (8u << 20) && in.read(buf, sizeof buf).gcount() > 0)
        text.append(buf, static_cast<std::size_t>(in.gcount()));
    return text;
}

namespace {

namespace fs = std::filesystem;

// A token as read from a file: client-go trims the white space around it.
std::string trim_token(std::string text) {
    const char* space = " \t\r\n";
    text.erase(0, std::min(text.size(), text.find_first_not_of(space)));
    text.erase(text.find_last_not_of(space) + 1);
    return text;
}

std::string env_or(const std::optional<std::string>& override_value, const char* name) {
    if (override_value) return *override_value;
    const char* v = std::getenv(name);
    return v ? v : "";
}

// A named entry (cluster, user or context) with the file it came from.
struct Entry {
    const DocNode* node = nullptr;  // an object; owned by Merged::documents
    std::string origin;
};

struct Merged {
    std::map<std::string, Entry> clusters, users, contexts;
    std::string current_context;
    std::vector<std::string> files_read;
    std::deque<DocNode> documents;  // a deque: the entries point into it
};

const DocNode kEmptyObject = DocNode::make(DocNode::Kind::Object);

const char* kind_name(DocNode::Kind kind) {
    switch (kind) {
        case DocNode::Kind::Array:
            return "a list";
        case DocNode::Kind::Object:
            return "a map";
        default:
            return "a scalar";
    }
}

// Reads a kubeconfig's fields by type, as client-go's strict decoding does: a field of the wrong
// type (a map where a string belongs, a list of maps as exec.args) is an error that names the
// field and where it is, not a silently empty value. The first such error is kept, so that
// reading goes on in straight lines and is checked once at the end.
class Fields {
  public:
    explicit Fields(std::string origin) : origin_(std::move(origin)) {}

    // A string field; "" when absent or null.
    std::string str(const DocNode& obj, const std::string& key, const std::string& field) {
        const DocNode* v = obj.get(key);
        if (!v || v->kind == DocNode::Kind::Null) return "";
        if (!v->is_scalar()) return wrong(*v, field, "a string");
        return v->text;
    }
    bool boolean(const DocNode& obj, const std::string& key, const std::string& field) {
        std::string v = str(obj, key, field);
        if (v.empty() || v == "false" || v == "False" || v == "FALSE") return false;
        if (v == "true" || v == "True" || v == "TRUE") return true;
        wrong(*obj.get(key), field, "true or false");
        return false;
    }
    // A map field; an empty map when absent or null.
    const DocNode& object(const DocNode& obj, const std::string& key, const std::string& field) {
        const DocNode* v = obj.get(key);
        if (!v || v->kind == DocNode::Kind::Null) return kEmptyObject;
        if (v->kind != DocNode::Kind::Object) {
            wrong(*v, field, "a map");
            return kEmptyObject;
        }
        return *v;
    }
    // A list field; nullptr when absent or null.
    const DocNode* list(const DocNode& obj, const std::string& key, const std::string& field) {
        const DocNode* v = obj.get(key);
        if (!v || v->kind == DocNode::Kind::Null) return nullptr;
        if (v->kind != DocNode::Kind::Array) {
            wrong(*v, field, "a list");
            return nullptr;
        }
        return v;
    }
    bool is_object(const DocNode& v, const std::string& field) {
        if (v.kind == DocNode::Kind::Object) return true;
        wrong(v, field, "a map");
        return false;
    }
    std::string str_item(const DocNode& item, const std::string& field) {
        if (!item.is_scalar() || item.kind == DocNode::Kind::Null) return wrong(item, field, "a string");
        return item.text;
    }
    const std::optional<Error>& error() const { return error_; }

  private:
    std::string wrong(const DocNode& v, const std::string& field, const char* expected) {
        if (!error_)
            error_ = make_error(fmt::format("{}:{}{}: expected {}, found {}: fix the file", origin_,
                                            v.line > 0 ? fmt::format("{}:{}: ", v.line, v.column) : " ",
                                            field, expected, kind_name(v.kind)));
        return "";
    }
    std::string origin_;
    std::optional<Error> error_;
};

// kubectl reads kubeconfigs of a few KiB; this keeps /dev/zero or a wrong file from filling memory.
constexpr std::size_t kMaxKubeconfigBytes = 8u << 20;

// Adds one file's clusters, users and contexts; names already defined by an earlier file win.
// The file is read with the same bounded reader as profiles (yaml_doc.h: JSON is YAML too).
Status merge_document(Merged& merged, const std::string& text, const std::string& path) {
    if (text.size() > kMaxKubeconfigBytes)
        return make_error(
            fmt::format("{}: {} bytes, more than the {} MiB a kubeconfig may have: is it the "
                        "right file?",
                        path, text.size(), kMaxKubeconfigBytes >> 20));
    merged.files_read.push_back(path);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return Ok{};
    auto docs = parse_yaml_docs(text);
    if (!docs) {
        if (docs.error().message.rfind("empty", 0) == 0) return Ok{};  // only comments, or "---"
        return make_error(path + ":" + docs.error().message + ": fix the file (it is YAML or JSON)");
    }
    if (docs->size() > 1)
        return make_error(path + ": more than one YAML document: a kubeconfig is one (remove the \"---\")");
    merged.documents.push_back(std::move(docs->front()));
    const DocNode& root = merged.documents.back();
    if (root.kind != DocNode::Kind::Object)
        return make_error(path + ": not a kubeconfig (the top level is not a mapping)");
    Fields fields(path);
    auto take = [&](const char* list_key, const char* item_key,
                    std::map<std::string, Entry>& into) -> Status {
        const DocNode* list = fields.list(root, list_key, list_key);
        if (!list) return Ok{};
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const DocNode& item = list->items[i];
            std::string where = fmt::format("{}[{}]", list_key, i);
            if (!fields.is_object(item, where)) return Ok{};
            std::string name = fields.str(item, "name", where + ".name");
            const DocNode& body = fields.object(item, item_key, where + "." + item_key);
            if (fields.error()) return Ok{};
            if (name.empty()) return make_error(path + ": an entry of \"" + list_key + "\" has no name");
            if (!into.count(name)) into[name] = Entry{&body, path};
        }
        return Ok{};
    };
    for (auto [list_key, item_key, into] :
         {std::tuple{"clusters", "cluster", &merged.clusters}, std::tuple{"users", "user", &merged.users},
          std::tuple{"contexts", "context", &merged.contexts}})
        if (auto s = take(list_key, item_key, *into); !s || fields.error())
            return fields.error() ? *fields.error() : s.error();
    std::string current = fields.str(root, "current-context", "current-context");
    if (fields.error()) return *fields.error();
    if (merged.current_context.empty()) merged.current_context = current;
    return Ok{};
}

std::string resolve_path(const std::string& p, const std::string& origin) {
    if (p.empty() || p.front() == '/' || origin.empty()) return p;
    std::error_code ec;
    fs::path base = fs::absolute(fs::path(origin), ec).parent_path();
    return (base / p).lexically_normal().string();
}

Result<std::string> decode_data(const std::string& b64, const std::string& what, const std::string& origin) {
    std::string compact;
    for (char c : b64)
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
    auto bytes = ksc::base64_decode(compact);
    if (!bytes) return make_error(origin + ": " + what + " is not base64: " + bytes.error().message);
    return *bytes;
}

std::string names_of(const std::map<std::string, Entry>& entries) {
    std::string out;
    for (const auto& [name, _] : entries) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "none" : out;
}

// user.exec of the user `name`: field names in errors are "users[name=NAME].user.exec.FIELD".
Result<ExecConfig> parse_exec(const DocNode& node, Fields& fields, const std::string& origin,
                              const std::string& field) {
    ExecConfig exec;
    exec.api_version = fields.str(node, "apiVersion", field + ".apiVersion");
    exec.command = fields.str(node, "command", field + ".command");
    if (const DocNode* args = fields.list(node, "args", field + ".args"))
        for (std::size_t i = 0; i < args->items.size(); ++i)
            exec.args.push_back(fields.str_item(args->items[i], fmt::format("{}.args[{}]", field, i)));
    if (const DocNode* env = fields.list(node, "env", field + ".env"))
        for (std::size_t i = 0; i < env->items.size(); ++i) {
            std::string where = fmt::format("{}.env[{}]", field, i);
            if (!fields.is_object(env->items[i], where)) break;
            exec.env.emplace_back(fields.str(env->items[i], "name", where + ".name"),
                                  fields.str(env->items[i], "value", where + ".value"));
        }
    exec.interactive_mode = fields.str(node, "interactiveMode", field + ".interactiveMode");
    exec.provide_cluster_info = fields.boolean(node, "provideClusterInfo", field + ".provideClusterInfo");
    exec.install_hint = fields.str(node, "installHint", field + ".installHint");
    if (fields.error()) return *fields.error();
    if (exec.command.empty()) return make_error(origin + ": an exec credential plugin has no command");
    if (exec.command.find('/') != std::string::npos) exec.command = resolve_path(exec.command, origin);
    if (exec.api_version != "client.authentication.k8s.io/v1" &&
        exec.api_version != "client.authentication.k8s.io/v1beta1")
        return make_error(origin + ": exec plugin " + exec.command + " has apiVersion \"" + exec.api_version +
                          "\": use client.authentication.k8s.io/v1 or v1beta1 (v1alpha1 is gone since 1.24)");
    if (exec.interactive_mode.empty()) {
        if (exec.api_version == "client.authentication.k8s.io/v1")
            return make_error(origin + ": exec plugin " + exec.command +
                              " needs interactiveMode (Never, IfAvailable or Always) with apiVersion v1");
        exec.interactive_mode = "IfAvailable";
    }
    if (exec.interactive_mode != "Never" && exec.interactive_mode != "IfAvailable" &&
        exec.interactive_mode != "Always")
        return make_error(origin + ": exec plugin " + exec.command + " has interactiveMode \"" +
                          exec.interactive_mode + "\": use Never, IfAvailable or Always");
    return exec;
}

// An extension's value as JSON for KUBERNETES_EXEC_INFO: unquoted YAML scalars that read as
// booleans or integers become those, as kubectl's YAML-to-JSON conversion makes them. Nesting is
// bounded by the YAML reader (kMaxDocumentDepth).
void yaml_to_json_value(const DocNode& node, rapidjson::Writer<rapidjson::StringBuffer>& w) {
    switch (node.kind) {
        case DocNode::Kind::Object:
            w.StartObject();
            for (std::size_t i = 0; i < node.keys.size(); ++i) {
                w.Key(node.keys[i].data(), static_cast<rapidjson::SizeType>(node.keys[i].size()));
                yaml_to_json_value(node.items[i], w);
            }
            w.EndObject();
            break;
        case DocNode::Kind::Array:
            w.StartArray();
            for (const auto& item : node.items) yaml_to_json_value(item, w);
            w.EndArray();
            break;
        case DocNode::Kind::Null:
            w.Null();
            break;
        case DocNode::Kind::Bool:
            w.Bool(node.text == "true");
            break;
        case DocNode::Kind::Number:
            w.RawValue(node.text.data(), node.text.size(), rapidjson::kNumberType);
            break;
        case DocNode::Kind::String:
            w.String(node.text.data(), static_cast<rapidjson::SizeType>(node.text.size()));
            break;
        case DocNode::Kind::Plain: {
            const std::string& s = node.text;
            char* end = nullptr;
            errno = 0;
            long long n = std::strtoll(s.c_str(), &end, 10);
            if (s == "true" || s == "false")
                w.Bool(s == "true");
            else if (s == "null" || s == "~")
                w.Null();
            else if (!s.empty() && end && *end == '\0' && errno == 0)
                w.Int64(n);
            else
                w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
            break;
        }
    }
}

std::string yaml_to_json(const DocNode& node) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    yaml_to_json_value(node, w);
    return buf.GetString();
}

// Impersonation from a user entry (as, as-uid, as-groups, as-user-extra), each field checked for
// its type as the rest of the user is.
void read_impersonation(const DocNode& u, Fields& uf, const std::string& upath, Impersonation& into) {
    into.user = uf.str(u, "as", upath + "as");
    into.uid = uf.str(u, "as-uid", upath + "as-uid");
    if (const DocNode* groups = uf.list(u, "as-groups", upath + "as-groups"))
        for (std::size_t i = 0; i < groups->items.size(); ++i)
            into.groups.push_back(uf.str_item(groups->items[i], fmt::format("{}as-groups[{}]", upath, i)));
    const DocNode& extra = uf.object(u, "as-user-extra", upath + "as-user-extra");
    for (std::size_t i = 0; i < extra.keys.size(); ++i) {
        const std::string where = upath + "as-user-extra." + extra.keys[i];
        auto& values = into.extra[extra.keys[i]];
        const DocNode& v = extra.items[i];
        if (v.kind == DocNode::Kind::Array) {
            for (std::size_t j = 0; j < v.items.size(); ++j)
                values.push_back(uf.str_item(v.items[j], fmt::format("{}[{}]", where, j)));
        } else if (v.kind != DocNode::Kind::Null) {
            values.push_back(uf.str_item(v, where));
        }
    }
}

std::string absolute_from_cwd(const std::string& p) {
    if (p.empty() || p.front() == '/') return p;
    std::error_code ec;
    return fs::absolute(fs::path(p), ec).lexically_normal().string();
}

// The context (--context, else current-context) and the cluster, user and namespace it names,
// each overridden by its flag.
Status resolve_context(const Merged& merged, const LoadOptions& options, const std::string& files,
                       RestConfig& rc) {
    const Overrides& o = options.overrides;
    rc.context_name = options.context.empty() ? merged.current_context : options.context;
    const DocNode* c = &kEmptyObject;
    std::string corigin;
    if (!rc.context_name.empty()) {
        auto ctx = merged.contexts.find(rc.context_name);
        if (ctx == merged.contexts.end())
            return make_error("context was not found for specified context: " + rc.context_name + " (in " +
                              files + "; contexts: " + names_of(merged.contexts) + ")");
        c = ctx->second.node;
        corigin = ctx->second.origin;
    }
    Fields cf(corigin);
    const std::string cpath = "contexts[name=" + rc.context_name + "].context.";
    std::string ctx_cluster = cf.str(*c, "cluster", cpath + "cluster");
    std::string ctx_user = cf.str(*c, "user", cpath + "user");
    std::string ctx_ns = cf.str(*c, "namespace", cpath + "namespace");
    if (cf.error()) return *cf.error();
    rc.cluster_name = !o.cluster.empty() ? o.cluster : ctx_cluster;
    rc.user_name = !o.user.empty() ? o.user : ctx_user;
    rc.namespace_name = !options.namespace_name.empty() ? options.namespace_name
                        : !ctx_ns.empty()               ? ctx_ns
                                                        : "default";
    return Ok{};
}

// The cluster: the kubeconfig's entry, then the flags over it.
Status resolve_cluster(const Merged& merged, const Overrides& o, const std::string& files, RestConfig& rc) {
    const DocNode* k = &kEmptyObject;
    std::string korigin;
    if (auto cl = merged.clusters.find(rc.cluster_name); cl != merged.clusters.end()) {
        k = cl->second.node;
        korigin = cl->second.origin;
    }
    Fields kf(korigin);
    const std::string kpath = "clusters[name=" + rc.cluster_name + "].cluster.";
    std::string file_server = kf.str(*k, "server", kpath + "server");
    rc.ca_file = resolve_path(kf.str(*k, "certificate-authority", kpath + "certificate-authority"), korigin);
    std::string ca_data = kf.str(*k, "certificate-authority-data", kpath + "certificate-authority-data");
    rc.insecure_skip_tls_verify =
        kf.boolean(*k, "insecure-skip-tls-verify", kpath + "insecure-skip-tls-verify");
    rc.tls_server_name = kf.str(*k, "tls-server-name", kpath + "tls-server-name");
    rc.proxy_url = kf.str(*k, "proxy-url", kpath + "proxy-url");
    if (const DocNode* ext = kf.list(*k, "extensions", kpath + "extensions"))
        for (std::size_t i = 0; i < ext->items.size(); ++i) {
            std::string where = fmt::format("{}extensions[{}]", kpath, i);
            if (!kf.is_object(ext->items[i], where)) break;
            const DocNode& e = ext->items[i];
            if (kf.str(e, "name", where + ".name") == "client.authentication.k8s.io/exec")
                if (const DocNode* value = e.get("extension"))
                    rc.cluster_extension_json = yaml_to_json(*value);
        }
    if (kf.error()) return *kf.error();
    rc.server = !o.server.empty() ? o.server : file_server;
    if (rc.server.empty()) {
        if (!rc.cluster_name.empty())
            return make_error("no server found for cluster \"" + rc.cluster_name + "\" (in " + files +
                              "; clusters: " + names_of(merged.clusters) + "): add its https:// address");
        if (rc.context_name.empty())
            return make_error("no current-context in " + files + ": give --context NAME (contexts: " +
                              names_of(merged.contexts) + "), or --server");
        return make_error("context \"" + rc.context_name + "\" names no cluster: give --cluster or --server");
    }
    if (rc.server.rfind("http://", 0) != 0 && rc.server.rfind("https://", 0) != 0)
        rc.server = "https://" + rc.server;
    while (rc.server.size() > 8 && rc.server.back() == '/') rc.server.pop_back();
    if (const std::string& data = ca_data; !data.empty()) {
        auto pem = decode_data(data, "certificate-authority-data of cluster " + rc.cluster_name, korigin);
        if (!pem) return pem.error();
        rc.ca_pem = *pem;
        rc.ca_file.clear();  // client-go: the data wins over the file
    }
    // client-go: --insecure-skip-tls-verify or --certificate-authority replaces all three of the
    // kubeconfig's (so the flag alone drops the file's CA rather than clashing with it).
    if (o.insecure_skip_tls_verify || !o.certificate_authority.empty()) {
        rc.insecure_skip_tls_verify = o.insecure_skip_tls_verify;
        rc.ca_file = absolute_from_cwd(o.certificate_authority);
        rc.ca_pem.clear();
    }
    if (rc.insecure_skip_tls_verify && (!rc.ca_file.empty() || !rc.ca_pem.empty()))
        return make_error(
            "specifying a root certificates file with the insecure flag is not allowed (cluster \"" +
            rc.cluster_name + "\" in " + files + "): remove one");
    if (rc.insecure_skip_tls_verify)
        rc.warnings.push_back(
            (o.insecure_skip_tls_verify
                 ? std::string("--insecure-skip-tls-verify")
                 : "cluster \"" + rc.cluster_name + "\" has insecure-skip-tls-verify") +
            ": the API server's certificate is not checked, so anyone on the path can read your "
            "credentials; give a certificate-authority");
    // client-go: a --server flag takes --tls-server-name from the flags too (usually none), since
    // the kubeconfig's name was for the kubeconfig's server.
    if (!o.tls_server_name.empty() || !o.server.empty()) rc.tls_server_name = o.tls_server_name;
    return Ok{};
}

// An auth-provider: only oidc is still there, read with client-go's checks.
Result<OidcConfig> read_oidc(const DocNode& auth_provider, Fields& uf, const std::string& uorigin,
                             const std::string& upath, const std::string& user_name) {
    // kubectl 1.26 dropped the gcp and azure providers (exec credential plugins replace
    // them); client-go still has oidc.
    const std::string apath = upath + "auth-provider.";
    std::string name = uf.str(auth_provider, "name", apath + "name");
    const DocNode& cfg = uf.object(auth_provider, "config", apath + "config");
    if (uf.error()) return *uf.error();
    if (name != "oidc")
        return make_error(uorigin + ": user \"" + user_name + "\" uses auth-provider \"" + name +
                          "\", which kubectl dropped in 1.26: switch to its exec credential plugin");
    OidcConfig oidc;
    const std::string opath = apath + "config.";
    oidc.issuer_url = uf.str(cfg, "idp-issuer-url", opath + "idp-issuer-url");
    oidc.client_id = uf.str(cfg, "client-id", opath + "client-id");
    oidc.client_secret = uf.str(cfg, "client-secret", opath + "client-secret");
    oidc.id_token = uf.str(cfg, "id-token", opath + "id-token");
    oidc.refresh_token = uf.str(cfg, "refresh-token", opath + "refresh-token");
    oidc.ca_file = uf.str(cfg, "idp-certificate-authority", opath + "idp-certificate-authority");
    std::string idp_ca_data =
        uf.str(cfg, "idp-certificate-authority-data", opath + "idp-certificate-authority-data");
    (void)uf.str(cfg, "extra-scopes", opath + "extra-scopes");  // client-go sends no scopes on refresh
    if (uf.error()) return *uf.error();
    // client-go's checks, in its order and words.
    for (const auto& [field, value] :
         {std::pair{"idp-issuer-url", &oidc.issuer_url}, std::pair{"client-id", &oidc.client_id}})
        if (value->empty())
            return make_error(uorigin + ": user \"" + user_name + "\": the oidc auth-provider must provide " +
                              field + ": add it under auth-provider.config");
    if (!idp_ca_data.empty()) {
        auto pem = decode_data(idp_ca_data, "idp-certificate-authority-data of user " + user_name, uorigin);
        if (!pem) return pem.error();
        oidc.ca_pem = *pem;
    }
    oidc.kubeconfig_file = uorigin;
    oidc.user_name = user_name;
    return oidc;
}

// client-go sends no credentials at all (impersonation included) to a plain-http server.
void drop_credentials(RestConfig& rc) {
    rc.token.clear();
    rc.token_file.clear();
    rc.client_cert_file.clear();
    rc.client_cert_pem.clear();
    rc.client_key_file.clear();
    rc.client_key_pem.clear();
    rc.username.clear();
    rc.password.clear();
    rc.exec.reset();
    rc.oidc.reset();
    rc.impersonate = Impersonation{};
}

// No credentials at all: a username and password asked on the terminal, as kubectl does.
Status prompt_credentials(const LoadOptions& options, const std::string& who, const std::string& files,
                          RestConfig& rc) {
    if (!options.prompt)
        return make_error("no credentials for " + who + " (in " + files +
                          "), and stdin is not a terminal to ask for a username and password as "
                          "kubectl would: give --token, --client-certificate/--client-key or --username, "
                          "or fix the context's user");
    auto username = options.prompt("Username", false);
    if (!username) return username.error();
    auto password = options.prompt("Password", true);
    if (!password) return password.error();
    rc.username = *username;
    rc.password = *password;
    return Ok{};
}

// client-go's DirectClientConfig: the context picks a cluster and a user, the flags override
// fields of each, then the result is validated as a whole (ConfirmUsable). Messages follow
// kubectl's where it has one, so that a user sees the same refusal from both. Every field read
// from a file is checked for its type (Fields): a wrong one is an error naming it.
Result<RestConfig> resolve(const Merged& merged, const LoadOptions& options) {
    const Overrides& o = options.overrides;
    std::string files;
    for (const auto& f : merged.files_read) files += (files.empty() ? "" : ", ") + f;
    if (files.empty()) files = "no kubeconfig";
    RestConfig rc;
    if (auto context = resolve_context(merged, options, files, rc); !context) return context.error();
    if (auto cluster = resolve_cluster(merged, o, files, rc); !cluster) return cluster.error();

    // The user: the kubeconfig's entry, then the flags over it.
    const DocNode* u = &kEmptyObject;
    std::string uorigin;
    if (!rc.user_name.empty()) {
        auto us = merged.users.find(rc.user_name);
        if (us != merged.users.end()) {
            u = us->second.node;
            uorigin = us->second.origin;
        } else if (!o.user.empty()) {
            return make_error("auth info \"" + rc.user_name + "\" does not exist (in " + files +
                              "; users: " + names_of(merged.users) + ")");
        }
    }
    Fields uf(uorigin);
    const std::string upath = "users[name=" + rc.user_name + "].user.";
    const std::string who = rc.user_name.empty() ? std::string("the user") : "user \"" + rc.user_name + "\"";
    rc.client_cert_file =
        resolve_path(uf.str(*u, "client-certificate", upath + "client-certificate"), uorigin);
    rc.client_key_file = resolve_path(uf.str(*u, "client-key", upath + "client-key"), uorigin);
    std::string cert_data = uf.str(*u, "client-certificate-data", upath + "client-certificate-data");
    std::string key_data = uf.str(*u, "client-key-data", upath + "client-key-data");
    std::string file_token = uf.str(*u, "token", upath + "token");
    rc.token_file = resolve_path(uf.str(*u, "tokenFile", upath + "tokenFile"), uorigin);
    std::string file_username = uf.str(*u, "username", upath + "username");
    std::string file_password = uf.str(*u, "password", upath + "password");
    const DocNode* exec_node = u->get("exec");
    if (exec_node && exec_node->kind == DocNode::Kind::Null) exec_node = nullptr;
    if (exec_node) uf.is_object(*exec_node, upath + "exec");
    const DocNode* auth_provider = u->get("auth-provider");
    if (auth_provider && auth_provider->kind == DocNode::Kind::Null) auth_provider = nullptr;
    if (auth_provider) uf.is_object(*auth_provider, upath + "auth-provider");
    read_impersonation(*u, uf, upath, rc.impersonate);
    if (uf.error()) return *uf.error();
    rc.token = !o.token.empty() ? o.token : file_token;
    rc.username = !o.username.empty() ? o.username : file_username;
    rc.password = !o.password.empty() ? o.password : file_password;
    if (!o.client_certificate.empty()) rc.client_cert_file = absolute_from_cwd(o.client_certificate);
    if (!o.client_key.empty()) rc.client_key_file = absolute_from_cwd(o.client_key);
    // client-go keeps the kubeconfig's *-data beside a flag's file, and the data wins.
    if (const std::string& data = cert_data; !data.empty()) {
        auto pem = decode_data(data, "client-certificate-data of user " + rc.user_name, uorigin);
        if (!pem) return pem.error();
        rc.client_cert_pem = *pem;
        rc.client_cert_file.clear();
    }
    if (const std::string& data = key_data; !data.empty()) {
        auto pem = decode_data(data, "client-key-data of user " + rc.user_name, uorigin);
        if (!pem) return pem.error();
        rc.client_key_pem = *pem;
        rc.client_key_file.clear();
    }
    bool has_cert = !rc.client_cert_file.empty() || !rc.client_cert_pem.empty();
    bool has_key = !rc.client_key_file.empty() || !rc.client_key_pem.empty();
    if (has_cert != has_key)
        return make_error(who + " has a client " + (has_cert ? "certificate" : "key") + " without its " +
                          (has_cert ? "key" : "certificate") + ": give both");
    if (exec_node) {
        auto e = parse_exec(*exec_node, uf, uorigin, upath + "exec");
        if (!e) return e.error();
        rc.exec = *e;
    }
    if (!o.impersonate_user.empty()) rc.impersonate.user = o.impersonate_user;
    if (!o.impersonate_uid.empty()) rc.impersonate.uid = o.impersonate_uid;
    if (!o.impersonate_groups.empty()) rc.impersonate.groups = o.impersonate_groups;

    // client-go's validation of the user (validateAuthInfo), its wording.
    const std::string auth_name = rc.user_name.empty() ? "" : rc.user_name;
    std::vector<std::string> methods;
    if (!rc.token.empty() || !rc.token_file.empty()) methods.push_back("token");
    if (!rc.username.empty() || !rc.password.empty()) methods.push_back("basicAuth");
    if (methods.size() > 1)
        return make_error("more than one authentication method found for " + auth_name + "; found [token " +
                          "basicAuth], only one is allowed: drop --token or --username/--password");
    if (rc.impersonate.user.empty() &&
        (!rc.impersonate.uid.empty() || !rc.impersonate.groups.empty() || !rc.impersonate.extra.empty()))
        return make_error("requesting uid, groups or user-extra for " + auth_name +
                          " without impersonating a user: add --as USER");
    // client-go: a token, basic auth or a client certificate is used as it is, and an exec
    // plugin only when there is none of them.
    if (rc.exec && (!rc.token.empty() || !rc.token_file.empty() || !rc.username.empty() || has_cert))
        rc.exec.reset();

    // The token itself: a tokenFile is read now (it must be there, as kubectl requires) and
    // again later (ApiClient), and wins over a token beside it, as client-go's file source does.
    if (!rc.token_file.empty()) {
        auto t = read_file(rc.token_file);
        if (!t)
            return make_error("cannot read tokenFile " + rc.token_file + " of " + who + ": " +
                              std::strerror(errno));
        rc.token = trim_token(*t);
    }
    if (auth_provider && !rc.exec && rc.token.empty()) {
        auto oidc = read_oidc(*auth_provider, uf, uorigin, upath, rc.user_name);
        if (!oidc) return oidc.error();
        rc.oidc = std::move(*oidc);
    }
    // client-go sends no credentials at all (impersonation included) to a plain-http server.
    if (rc.server.rfind("http://", 0) == 0) {
        drop_credentials(rc);
        return rc;
    }
    // Nothing that identifies the user: kubectl asks for a username and password on stdin.
    if (rc.token.empty() && rc.username.empty() && !has_cert && !rc.exec && !rc.oidc)
        if (auto asked = prompt_credentials(options, who, files, rc); !asked) return asked.error();
    return rc;
}

Result<RestConfig> in_cluster_config(const LoadOptions& options) {
    std::string host = env_or(options.service_host, "KUBERNETES_SERVICE_HOST");
    std::string port = env_or(options.service_port, "KUBERNETES_SERVICE_PORT");
    RestConfig rc;
    rc.token_file = options.service_account_dir + "/token";
    auto token = read_file(rc.token_file);
    if (host.empty() || port.empty() || !token) return make_error("");
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    rc.server = "https://" + host + ":" + port;
    rc.token = trim_token(*token);
    rc.ca_file = options.service_account_dir + "/ca.crt";
    const Overrides& o = options.overrides;
    // client-go's in-cluster config takes these flags too.
    if (!o.token.empty()) {
        rc.token = o.token;
        rc.token_file.clear();
    }
    if (!o.certificate_authority.empty()) rc.ca_file = absolute_from_cwd(o.certificate_authority);
    rc.impersonate.user = o.impersonate_user;
    rc.impersonate.uid = o.impersonate_uid;
    rc.impersonate.groups = o.impersonate_groups;
    if (rc.impersonate.user.empty() && (!rc.impersonate.uid.empty() || !rc.impersonate.groups.empty()))
        return make_error("requesting uid, groups or user-extra without impersonating a user: add --as USER");
    // client-go: -n, then POD_NAMESPACE (the downward API), then the service account's namespace.
    std::string ns = read_file(options.service_account_dir + "/namespace").value_or("");
    ns = trim_token(ns);
    std::string pod_ns = env_or(options.pod_namespace, "POD_NAMESPACE");
    rc.namespace_name = !options.namespace_name.empty() ? options.namespace_name
                        : !pod_ns.empty()               ? pod_ns
                        : !ns.empty()                   ? ns
                                                        : "default";
    return rc;
}

}  // namespace

std::vector<std::string> kubeconfig_paths(const LoadOptions& options) {
    if (!options.kubeconfig.empty()) return {options.kubeconfig};
    std::string env = env_or(options.kubeconfig_env, "KUBECONFIG");
    std::vector<std::string> out;
    if (!env.empty()) {
        std::set<std::string> seen;
        std::stringstream ss(env);
        std::string item;
        while (std::getline(ss, item, ':'))
            if (!item.empty() && seen.insert(item).second) out.push_back(item);
        return out;
    }
    std::string home = env_or(options.home, "HOME");
    if (!home.empty()) out.push_back(home + "/.kube/config");
    return out;
}

Result<std::string> prompt_on_terminal(const std::string& what, bool secret) {
    std::FILE* tty = std::fopen("/dev/tty", "r+");
    if (tty == nullptr) return make_error(std::string("cannot open the terminal: ") + std::strerror(errno));
    std::fprintf(tty, "Please enter %s: ", what.c_str());
    std::fflush(tty);
    termios saved{};
    bool restore = false;
    if (secret && ::tcgetattr(::fileno(tty), &saved) == 0) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        restore = ::tcsetattr(::fileno(tty), TCSANOW, &quiet) == 0;
    }
    char line[4096];
    bool got = std::fgets(line, sizeof line, tty) != nullptr;
    if (restore) {
        ::tcsetattr(::fileno(tty), TCSANOW, &saved);
        std::fputc('\n', tty);
    }
    std::fclose(tty);
    if (!got) return make_error("no " + what + " was entered");
    std::string value = line;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

Result<RestConfig> load_rest_config(const LoadOptions& options_in) {
    LoadOptions options = options_in;
    if (!options.prompt && ::isatty(STDIN_FILENO) == 1) options.prompt = prompt_on_terminal;
    Merged merged;
    auto paths = kubeconfig_paths(options);
    for (const auto& path : paths) {
        auto text = read_file(path);
        if (!text) {
            if (!options.kubeconfig.empty())
                return make_error("cannot read --kubeconfig " + path + ": " + std::strerror(errno));
            continue;  // $KUBECONFIG and ~/.kube/config may name files that do not exist
        }
        if (auto s = merge_document(merged, *text, path); !s) return s.error();
    }
    // client-go: in-cluster only when the kubeconfig says nothing and no flag names a server.
    if ((merged.files_read.empty() ||
         (merged.contexts.empty() && merged.clusters.empty() && options.context.empty())) &&
        options.overrides.server.empty() && options.overrides.cluster.empty()) {
        auto in_cluster = in_cluster_config(options);
        if (in_cluster) return in_cluster;
        std::string looked;
        for (const auto& p : paths) looked += (looked.empty() ? "" : ", ") + p;
        return make_error("no kubeconfig found (looked at " +
                          (looked.empty() ? std::string("nothing: HOME is unset") : looked) +
                          ") and not running in a pod: give --kubeconfig FILE, set KUBECONFIG, or give "
                          "--server");
    }
    return resolve(merged, options);
}

std::vector<std::string> context_names(const LoadOptions& options) {
    Merged merged;
    for (const auto& path : kubeconfig_paths(options))
        if (auto text = read_file(path)) (void)merge_document(merged, *text, path);
    std::vector<std::string> out;
    for (const auto& [name, _] : merged.contexts) out.push_back(name);
    return out;
}

Result<RestConfig> rest_config_from_text(const std::string& text, const std::string& path,
                                         const std::string& context, const std::string& namespace_name,
                                         const Overrides& overrides) {
    Merged merged;
    if (auto s = merge_document(merged, text, path); !s) return s.error();
    LoadOptions options;
    options.context = context;
    options.namespace_name = namespace_name;
    options.overrides = overrides;
    return resolve(merged, options);
}

// ---- exec credential plugins ----

}  // namespace ksc::kube
