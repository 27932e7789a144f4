// ksc-client-probe: drives the plugin's Kubernetes client (kubeconfig, ApiClient, WebSocket) one
// piece at a time, for test_client.py against the API-server double. Not shipped.
//   ksc-client-probe [--kubeconfig F] [--context C] [-n NS] [--as U [--as-group G]... [--as-uid I]]
//                    version
//   ... get PATH
//   ... patch PATH strategic|merge|json BODY
//   ... watch PATH RV COUNT          prints each event's type and the object's resourceVersion
//   ... attach PATH STDIN [UNTIL]    sends STDIN on channel 0, prints what comes back on each
//                                    channel until UNTIL appears or the server closes
//   KSC_PROBE_PROTOCOLS=a,b          the subprotocols to offer (default v5, then v4)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <rapidjson/document.h>

#include "api_client.h"
#include "kubeconfig.h"
#include "websocket.h"

using namespace ksc::kube;
using namespace std::chrono_literals;

namespace {

// watch PATH RV COUNT
int watch(ApiClient& c, const std::vector<std::string>& args) {
    int want = std::stoi(args[3]);
    int seen = 0;
    auto st = c.watch(
        args[1], args[2],
        [&](const WatchEvent& ev) {
            rapidjson::Document d;
            d.Parse(ev.object_json.c_str());
            std::string rv =
                d.IsObject() && d.HasMember("metadata") && d["metadata"].HasMember("resourceVersion")
                    ? d["metadata"]["resourceVersion"].GetString()
                    : "";
            fmt::print("{} {}\n", ev.type, rv);
            std::fflush(stdout);
            return ++seen < want;
        },
        60s);
    if (!st) return fmt::print(stderr, "error: {}\n", st.error().message), 1;
    return 0;
}

// KSC_PROBE_PROTOCOLS, else v5 then v4.
std::vector<std::string> probe_protocols() {
    std::vector<std::string> protocols{kChannelV5, kChannelV4};
    if (const char* env = std::getenv("KSC_PROBE_PROTOCOLS")) {
        protocols.clear();
        std::string list = env;
        for (std::size_t pos = 0; pos <= list.size();) {
            auto comma = list.find(',', pos);
            protocols.push_back(
                list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
    }
    return protocols;
}

// attach PATH STDIN [UNTIL]
int attach(ApiClient& c, const std::vector<std::string>& args) {
    std::vector<std::string> protocols = probe_protocols();
    std::string until = args.size() == 4 ? args[3] : "";
    std::string seen;
    std::vector<std::string> headers;
    auto stream = c.connect_raw(headers);
    if (!stream) return fmt::print(stderr, "error: {}\n", stream.error().message), 1;
    auto ws = WebSocket::connect(std::move(*stream), c.host_header(), args[1], protocols, headers, 10s);
    if (!ws) return fmt::print(stderr, "error: {}\n", ws.error().message), 1;
    fmt::print("protocol {}\n", (*ws)->protocol());
    if (auto s = (*ws)->send(Opcode::Binary, channel_message(kStdin, args[2])); !s)
        return fmt::print(stderr, "error: {}\n", s.error().message), 1;
    while (true) {
        auto m = (*ws)->receive(30s);
        if (!m) {
            fmt::print("end: {}\n", m.error().message);
            return 0;
        }
        if (!*m) return fmt::print(stderr, "error: timed out\n"), 1;
        auto d = parse_channel_message((*m)->payload);
        if (d && !d->data.empty()) {
            fmt::print("channel {}: {}\n", d->channel, d->data);
            std::fflush(stdout);
            seen += d->data;
            if (!until.empty() && seen.find(until) != std::string::npos) {
                (void)(*ws)->close();
                return 0;
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    LoadOptions lo;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--kubeconfig" && i + 1 < argc)
            lo.kubeconfig = argv[++i];
        else if (a == "--context" && i + 1 < argc)
            lo.context = argv[++i];
        else if (a == "-n" && i + 1 < argc)
            lo.namespace_name = argv[++i];
        else if (a == "--as" && i + 1 < argc)
            lo.overrides.impersonate_user = argv[++i];
        else if (a == "--as-group" && i + 1 < argc)
            lo.overrides.impersonate_groups.push_back(argv[++i]);
        else if (a == "--as-uid" && i + 1 < argc)
            lo.overrides.impersonate_uid = argv[++i];
        else
            args.push_back(a);
    }
    if (args.empty()) return 2;
    auto config = load_rest_config(lo);
    if (!config) {
        fmt::print(stderr, "error: {}\n", config.error().message);
        return 1;
    }
    for (const auto& w : config->warnings) fmt::print(stderr, "warning: {}\n", w);
    ClientOptions options;
    options.retry_backoff = 100ms;
    auto client = ApiClient::create(*config, options);
    if (!client) {
        fmt::print(stderr, "error: {}\n", client.error().message);
        return 1;
    }
    ApiClient& c = **client;
    const std::string& cmd = args[0];
    if (cmd == "version") {
        auto v = c.check_server_version();
        if (!v) return fmt::print(stderr, "error: {}\n", v.error().message), 1;
        fmt::print("{}.{} {} namespace={}\n", v->major, v->minor, v->git_version, config->namespace_name);
        return 0;
    }
    if (cmd == "get" && args.size() == 2) {
        auto body = c.get(args[1]);
        if (!body) return fmt::print(stderr, "error: {}\n", body.error().message), 1;
        fmt::print("{}\n", *body);
        return 0;
    }
    if (cmd == "patch" && args.size() == 4) {
        PatchType t = args[2] == "json"    ? PatchType::Json
                      : args[2] == "merge" ? PatchType::Merge
                                           : PatchType::StrategicMerge;
        auto body = c.patch(args[1], args[3], t);
        if (!body) return fmt::print(stderr, "error: {}\n", body.error().message), 1;
        fmt::print("{}\n", *body);
        return 0;
    }
    if (cmd == "watch" && args.size() == 4) return watch(c, args);
    if (cmd == "attach" && (args.size() == 3 || args.size() == 4)) return attach(c, args);
    fmt::print(stderr, "usage: see the top of client_probe.cpp\n");
    return 2;
}
