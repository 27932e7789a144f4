#include "common_flags.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "output_file.h"
#include "printable.h"
#include "user_error.h"

namespace ksc::cli {
namespace {

int g_verbosity = 0;
bool g_collecting_flags = false;
bool g_warnings_as_errors = false;
bool g_color_stderr = false;

bool is_one_of(const std::string& value, const std::vector<std::string>& allowed) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

}  // namespace

VerbFlags::VerbFlags(std::string verb, std::string description, unsigned groups, OutputFormats formats)
    : verb_(std::move(verb)),
      description_(description),
      groups_(groups),
      formats_(std::move(formats)),
      options_("kubectl seccomp " + verb_, std::move(description)) {
    options_.add_options()("h,help", "Show this help")(
        "verbosity", "Number for the log level verbosity (diagnostics on stderr; 6: each request)",
        cxxopts::value<int>()->default_value("0"));
    if (groups_ & kClusterFlags) {
        options_.add_options("Cluster")("kubeconfig", "Path to the kubeconfig file to use",
                                        cxxopts::value<std::string>())(
            "context", "The kubeconfig context to use", cxxopts::value<std::string>())(
            "n,namespace", "The namespace (default: the context's namespace)", cxxopts::value<std::string>())(
            "request-timeout",
            "How long to wait for one API request before giving up (e.g. 1s, 2m; 0: no timeout)",
            cxxopts::value<std::string>()->default_value("0"))(
            "cluster", "The name of the kubeconfig cluster to use", cxxopts::value<std::string>())(
            "user", "The name of the kubeconfig user to use", cxxopts::value<std::string>())(
            "s,server", "The address and port of the Kubernetes API server", cxxopts::value<std::string>())(
            "token", "Bearer token for authentication to the API server", cxxopts::value<std::string>())(
            "as", "Username to impersonate for the operation", cxxopts::value<std::string>())(
            "as-group", "Group to impersonate for the operation; repeat it for more groups",
            cxxopts::value<std::string>())("as-uid", "UID to impersonate for the operation",
                                           cxxopts::value<std::string>())(
            "certificate-authority", "Path to a cert file for the certificate authority",
            cxxopts::value<std::string>())("client-certificate", "Path to a client certificate file for TLS",
                                           cxxopts::value<std::string>())(
            "client-key", "Path to a client key file for TLS", cxxopts::value<std::string>())(
            "insecure-skip-tls-verify",
            "If true, the server's certificate will not be checked for validity (insecure)",
            cxxopts::value<bool>()->default_value("false"))(
            "tls-server-name", "Server name to use for server certificate validation",
            cxxopts::value<std::string>())("username", "Username for basic authentication to the API server",
                                           cxxopts::value<std::string>())(
            "password", "Password for basic authentication to the API server", cxxopts::value<std::string>())(
            "disable-compression", "If true, opt-out of response compression for all requests to the server",
            cxxopts::value<bool>()->default_value("false"))(
            "warnings-as-errors",
            "Treat warnings received from the server as errors and exit with a non-zero status",
            cxxopts::value<bool>()->default_value("false"));
    }
    if (groups_ & kOutputFlags) {
        options_.add_options("Output")("o,output", "Output format: " + join(formats_.allowed, "|"),
                                       cxxopts::value<std::string>()->default_value(formats_.default_format))(
            "output-file",
            "Write the output to FILE instead of stdout: written to a new file in FILE's directory, then "
            "renamed over FILE (its mode kept); a symlink at FILE is replaced, not followed",
            cxxopts::value<std::string>());
    }
}

cxxopts::OptionAdder VerbFlags::add_options(const std::string& group) {
    return options_.add_options(group);
}

void VerbFlags::set_positional(std::string name, std::string usage, std::string description, std::size_t min,
                               std::size_t max, std::string expected) {
    // In a group of its own that help() never shows: it is an argument, not a flag.
    options_.add_options(kPositionalGroup)(name, description, cxxopts::value<std::vector<std::string>>());
    options_.parse_positional({name});
    positional_name_ = std::move(name);
    positional_usage_ = usage;
    options_.positional_help(std::move(usage));
    options_.show_positional_help();
    positional_min_ = min;
    positional_max_ = max;
    positional_expected_ = std::move(expected);
}

std::vector<std::string> VerbFlags::positionals() const {
    std::vector<std::string> args;
    if (!positional_name_.empty() && result_.count(positional_name_))
        args = result_[positional_name_].as<std::vector<std::string>>();
    if (args.size() < positional_min_ || (positional_max_ != 0 && args.size() > positional_max_))
        throw UserError(
            fmt::format("{} takes {}: see 'kubectl seccomp {} --help'", verb_, positional_expected_, verb_));
    return args;
}

void VerbFlags::set_examples(std::string text) {
    examples_ = std::move(text);
}

namespace {

// One flag as kubectl's help shows it: "    -c, --container='':" and the description under it.
std::string flag_help(const cxxopts::HelpOptionDetails& o) {
    const std::string& name = o.l.front();
    std::string value;
    if (name == "verbosity") return "    -v, --v=0:\n\t" + o.desc + "\n\n";
    if (name == "as-group")
        value = "[]";
    else if (o.is_boolean)
        value = o.has_default ? o.default_value : "false";
    else
        value = "'" + (o.has_default ? o.default_value : std::string()) + "'";
    std::string shown = o.s.empty() ? "    " : "    -" + o.s + ", ";
    return shown + "--" + name + "=" + value + ":\n\t" + o.desc + "\n\n";
}

}  // namespace

std::string VerbFlags::help() const {
    std::vector<std::string> groups{""};
    for (const auto& g : options_.groups())
        if (!is_one_of(g, groups) && g != "Output" && g != "Cluster" && g != kPositionalGroup)
            groups.push_back(g);
    if (groups_ & kOutputFlags) groups.push_back("Output");
    if (groups_ & kClusterFlags) groups.push_back("Cluster");
    std::string text = description_ + "\n";
    if (!examples_.empty()) text += "\nExamples:\n" + examples_;
    for (const auto& g : groups) {
        const auto& details = options_.group_help(g);
        if (details.options.empty()) continue;
        if (text.size() < 2 || text.compare(text.size() - 2, 2, "\n\n") != 0) text += "\n";
        text += (g.empty() ? std::string("Options") : g + " options") + ":\n";
        for (const auto& o : details.options) text += flag_help(o);
    }
    text += "Usage:\n  kubectl seccomp " + verb_ + " [options]" +
            (positional_usage_.empty() ? "" : " " + positional_usage_) + "\n";
    return text;
}

std::vector<std::string> normalize_verbosity_args(std::vector<std::string> args) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("--v=", 0) == 0 || a.rfind("-v=", 0) == 0) {
            out.push_back("--verbosity=" + a.substr(a.find('=') + 1));
        } else if (a == "--v" || a == "-v") {
            out.push_back("--verbosity");
        } else if (a.size() > 2 && a.rfind("-v", 0) == 0 && a[2] >= '0' && a[2] <= '9') {
            out.push_back("--verbosity=" + a.substr(2));
        } else {
            out.push_back(a);
        }
    }
    return out;
}

bool VerbFlags::parse_or_help(int argc, char** argv) {
    parse(argc, argv);
    if (!help_) return true;
    fmt::print("{}", help());
    return false;
}

void VerbFlags::parse(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        if (i > 0 && !has_dashdash_ && std::strcmp(argv[i], "--") == 0) {
            has_dashdash_ = true;
            continue;
        }
        (has_dashdash_ ? after_dashdash_ : args).push_back(argv[i]);
    }
    args = normalize_verbosity_args(std::move(args));
    // The positional argument is never a flag (cxxopts would take --pod NAME otherwise).
    if (!positional_name_.empty())
        for (std::size_t i = 1; i < args.size(); ++i)
            if (args[i] == "--" + positional_name_ || args[i].rfind("--" + positional_name_ + "=", 0) == 0)
                throw UserError("unknown flag: --" + positional_name_ + ": run 'kubectl seccomp " + verb_ +
                                " --help' for its flags");
    // --as-group repeats, and a group name may hold a comma, which cxxopts would split on: they
    // are taken out here, in order, as kubectl's StringArray takes them.
    std::vector<std::string> as_groups;
    if (groups_ & kClusterFlags) {
        std::vector<std::string> rest;
        for (std::size_t i = 0; i < args.size(); ++i) {
            if (i > 0 && args[i] == "--as-group") {
                if (i + 1 >= args.size())
                    throw UserError("flag needs an argument: --as-group: run 'kubectl seccomp " + verb_ +
                                    " --help' for its flags");
                as_groups.push_back(args[++i]);
            } else if (i > 0 && args[i].rfind("--as-group=", 0) == 0) {
                as_groups.push_back(args[i].substr(11));
            } else {
                rest.push_back(args[i]);
            }
        }
        args = std::move(rest);
    }
    std::vector<const char*> cargs;
    for (const auto& a : args) cargs.push_back(a.c_str());

    const std::string hint = "run 'kubectl seccomp " + verb_ + " --help' for its flags";
    try {
        result_ = options_.parse(static_cast<int>(cargs.size()), cargs.data());
    } catch (const cxxopts::exceptions::exception& e) {
        throw UserError(std::string(e.what()) + ": " + hint);
    }
    help_ = result_.count("help") > 0;

    common_.verbosity = result_["verbosity"].as<int>();
    if (groups_ & kClusterFlags) {
        if (result_.count("kubeconfig")) common_.kubeconfig = result_["kubeconfig"].as<std::string>();
        if (result_.count("context")) common_.context = result_["context"].as<std::string>();
        if (result_.count("namespace")) common_.namespace_name = result_["namespace"].as<std::string>();
        auto timeout = parse_duration(result_["request-timeout"].as<std::string>());
        if (!timeout) throw UserError("--request-timeout: " + timeout.error().message);
        common_.request_timeout = *timeout;
        kube::Overrides& o = common_.connection;
        auto text = [&](const char* name, std::string& into) {
            if (result_.count(name)) into = result_[name].as<std::string>();
        };
        text("cluster", o.cluster);
        text("user", o.user);
        text("server", o.server);
        text("token", o.token);
        text("as", o.impersonate_user);
        text("as-uid", o.impersonate_uid);
        text("certificate-authority", o.certificate_authority);
        text("client-certificate", o.client_certificate);
        text("client-key", o.client_key);
        text("tls-server-name", o.tls_server_name);
        text("username", o.username);
        text("password", o.password);
        o.impersonate_groups = as_groups;
        o.insecure_skip_tls_verify = result_["insecure-skip-tls-verify"].as<bool>();
        common_.disable_compression = result_["disable-compression"].as<bool>();
        common_.warnings_as_errors = result_["warnings-as-errors"].as<bool>();
        g_warnings_as_errors = common_.warnings_as_errors;
    }
    if (groups_ & kOutputFlags) {
        common_.output_format = result_["output"].as<std::string>();
        if (!is_one_of(common_.output_format, formats_.allowed))
            throw UserError("unknown output format \"" + common_.output_format + "\": use -o " +
                            join(formats_.allowed, ", -o "));
        if (result_.count("output-file")) common_.output_file = result_["output-file"].as<std::string>();
    }
    if (g_collecting_flags) {
        g_collecting_flags = false;
        CollectedFlags collected;
        collected.common = common_;
        collected.output_formats = formats_.allowed;
        for (const auto& kv : result_.arguments())
            if (kv.key() != positional_name_) collected.given.emplace_back(kv.key(), kv.value());
        if (!positional_name_.empty() && result_.count(positional_name_))
            collected.positionals = result_[positional_name_].as<std::vector<std::string>>();
        static const std::vector<std::string> file_flags{
            "output-file",      "kubeconfig", "certificate-authority", "client-certificate", "client-key",
            "registry-ca-file", "tracer"};
        for (const auto& g : options_.groups()) {
            if (g == kPositionalGroup) continue;
            for (const auto& o : options_.group_help(g).options) {
                CollectedFlag f;
                f.name = o.l.front() == "verbosity" ? "v" : o.l.front();
                f.short_name = o.s;
                f.takes_value = !o.is_boolean;
                f.is_file = is_one_of(f.name, file_flags);
                collected.flags.push_back(f);
            }
        }
        throw collected;
    }
    common_.stderr_is_terminal = ::isatty(STDERR_FILENO) == 1;
    common_.color_stderr = use_color(stderr);
    common_.color_stdout = common_.output_file.empty() && use_color(stdout);
    set_diagnostics(common_.verbosity, common_.color_stderr);
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const std::string shown(text);
    if (text.empty()) return make_error("an empty duration: use e.g. 30s, 5m or 1h30m");
    if (text.front() == '-') return make_error("a negative duration \"" + shown + "\"");
    if (text.front() == '+') text.remove_prefix(1);
    // A bare number: seconds.
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (text.size() > 12) return make_error("the duration \"" + shown + "\" is too long");
        return std::chrono::milliseconds(std::stoll(std::string(text)) * 1000);
    }
    double total_ms = 0;
    while (!text.empty()) {
        std::size_t i = 0;
        while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
        if (i == 0) return make_error("the duration \"" + shown + "\" is not like 30s, 5m or 1h30m");
        double number = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
        text.remove_prefix(i);
        std::size_t u = 0;
        while (u < text.size() && !((text[u] >= '0' && text[u] <= '9') || text[u] == '.')) ++u;
        std::string_view unit = text.substr(0, u);
        text.remove_prefix(u);
        double scale;
        if (unit == "h")
            scale = 3600e3;
        else if (unit == "m")
            scale = 60e3;
        else if (unit == "s")
            scale = 1e3;
        else if (unit == "ms")
            scale = 1;
        else if (unit == "us" || unit == "\xC2\xB5s")
            scale = 1e-3;
        else if (unit == "ns")
            scale = 1e-6;
        else
            return make_error("the duration \"" + shown + "\" has " +
                              (unit.empty() ? std::string("a number without a unit")
                                            : "an unknown unit \"" + std::string(unit) + "\"") +
                              ": use h, m, s or ms");
        total_ms += number * scale;
    }
    if (total_ms > 1e15) return make_error("the duration \"" + shown + "\" is too long");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(total_ms)));
}

bool use_color(std::FILE* stream) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && no_color[0] != '\0') return false;
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
    return ::isatty(::fileno(stream)) == 1;
}

Status write_output(const CommonFlags& flags, std::string_view data) {
    if (flags.output_file.empty() || flags.output_file == "-") {
        if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0)
            return make_error(std::string("cannot write the output to stdout: ") + std::strerror(errno));
        return Ok{};
    }
    return replace_file(flags.output_file, data);
}

void set_diagnostics(int verbosity, bool color_stderr) {
    g_verbosity = verbosity;
    g_color_stderr = color_stderr;
}

void start_collecting_flags() {
    g_collecting_flags = true;
}

void stop_collecting_flags() {
    g_collecting_flags = false;
}

bool warnings_as_errors() {
    return g_warnings_as_errors;
}

void warn(std::string_view message) {
    if (g_color_stderr)
        fmt::print(stderr, "\033[33mwarning:\033[0m {}\n", printable(message));
    else
        fmt::print(stderr, "warning: {}\n", printable(message));
}

void note(std::string_view message) {
    fmt::print(stderr, "{}\n", printable(message));
}

void verbose(int level, std::string_view message) {
    if (g_verbosity >= level) fmt::print(stderr, "{}\n", printable(message));
}

}  // namespace ksc::cli
