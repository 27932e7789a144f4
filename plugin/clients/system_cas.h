// The system's CA certificates, found where Go's crypto/x509 looks on Linux (and so where kubectl
// finds them), for a cluster or registry whose kubeconfig names no CA. The static release's
// OpenSSL knows only the path it was built with; Go programs work on every distribution.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ksc::kube {

struct CaSearch {
    std::optional<std::string> cert_file;  // $SSL_CERT_FILE: replaces the bundle list
    std::optional<std::string> cert_dir;   // $SSL_CERT_DIR: ':'-separated, replaces the directories
    std::string root = "";                 // for tests: prefixed to the built-in paths
};

// Go's order: the first bundle file that can be read (Debian/Ubuntu, Fedora/RHEL 6, openSUSE,
// OpenELEC, CentOS/RHEL 7, Alpine), then every file of each certificate directory (a symlink to
// a file in the same directory read once). The PEM certificates only; empty when none is found.
std::string system_ca_pem(const CaSearch& search);

// system_ca_pem for this process's environment, read once.
const std::string& system_ca_pem();

}  // namespace ksc::kube
