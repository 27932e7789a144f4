#include "system_cas.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace ksc::kube {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxBundle = 16u << 20;  // a bundle is ~200 KiB; refuse to slurp a disk

const std::vector<std::string> kBundles = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // CentOS, RHEL 7
    "/etc/ssl/cert.pem",                                  // Alpine
};
const std::vector<std::string> kDirectories = {"/etc/ssl/certs", "/etc/pki/tls/certs"};

std::optional<std::string> read_bounded(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > kMaxBundle) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Only the CERTIFICATE blocks: a bundle may hold comments, trust flags or keys around them.
void append_certificates(const std::string& text, std::string& out) {
    static const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
    for (std::size_t at = text.find(begin); at != std::string::npos; at = text.find(begin, at)) {
        std::size_t stop = text.find(end, at);
        if (stop == std::string::npos) return;
        stop += end.size();
        if (out.size() + (stop - at) > kMaxBundle) return;
        out.append(text, at, stop - at);
        out += '\n';
        at = stop;
    }
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

std::string system_ca_pem(const CaSearch& search) {
    std::string pem;
    std::vector<std::string> bundles, dirs;
    if (search.cert_file && !search.cert_file->empty())
        bundles = {*search.cert_file};
    else
        for (const auto& b : kBundles) bundles.push_back(search.root + b);
    if (search.cert_dir && !search.cert_dir->empty())
        dirs = split(*search.cert_dir, ':');
    else
        for (const auto& d : kDirectories) dirs.push_back(search.root + d);
    for (const auto& b : bundles)
        if (auto text = read_bounded(b)) {
            append_certificates(*text, pem);
            break;
        }
    for (const auto& d : dirs) {
        std::error_code ec;
        fs::directory_iterator it(d, ec), end;
        std::vector<fs::path> files;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path p = it->path();
            // As Go: a symlink to a file in the same directory (OpenSSL's hash links) is read
            // through its target's own entry.
            if (fs::is_symlink(p, ec)) {
                fs::path target = fs::read_symlink(p, ec);
                if (!ec && (target.parent_path().empty() || target.parent_path() == p.parent_path()))
                    continue;
            }
            files.push_back(p);
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            if (auto text = read_bounded(f)) append_certificates(*text, pem);
    }
    return pem;
}

const std::string& system_ca_pem() {
    static std::once_flag once;
    static std::string pem;
    std::call_once(once, [] {
        CaSearch search;
        if (const char* f = std::getenv("SSL_CERT_FILE")) search.cert_file = f;
        if (const char* d = std::getenv("SSL_CERT_DIR")) search.cert_dir = d;
        pem = system_ca_pem(search);
    });
    return pem;
}

}  // namespace ksc::kube
