#include "system_cas.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ksc::kube {
namespace {

namespace fs = std::filesystem;

std::string cert(const std::string& name) {
    return "-----BEGIN CERTIFICATE-----\n" + name + "\n-----END CERTIFICATE-----\n";
}

struct Root {
    fs::path path = fs::temp_directory_path() / ("ksc-cas-" + std::to_string(::getpid()));
    Root() { fs::remove_all(path); }
    ~Root() { fs::remove_all(path); }
    void write(const std::string& rel, const std::string& text) const {
        fs::create_directories((path / rel.substr(1)).parent_path());
        std::ofstream(path / rel.substr(1)) << text;
    }
};

}  // namespace

TEST_CASE("system CAs: each distribution's bundle path, in Go's order") {
    for (const char* bundle :
         {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
          "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"}) {
        Root root;
        root.write(bundle, "# a comment\n" + cert("A") + "trailing junk\n");
        CaSearch s;
        s.root = root.path.string();
        s.cert_dir = root.path.string() + "/nowhere";
        CHECK_MESSAGE(system_ca_pem(s) == cert("A"), bundle);
    }
    Root root;
    root.write("/etc/ssl/certs/ca-certificates.crt", cert("DEBIAN"));
    root.write("/etc/ssl/cert.pem", cert("ALPINE"));
    CaSearch s;
    s.root = root.path.string();
    s.cert_dir = root.path.string() + "/nowhere";
    CHECK(system_ca_pem(s) == cert("DEBIAN"));  // the first readable bundle only
}

TEST_CASE("system CAs: SSL_CERT_FILE and SSL_CERT_DIR replace the built-in places; directories add") {
    Root root;
    root.write("/etc/ssl/certs/ca-certificates.crt", cert("DEBIAN"));
    root.write("/mine/bundle.pem", cert("MINE"));
    root.write("/d1/one.pem", cert("ONE"));
    root.write("/d2/two.pem", cert("TWO") + cert("THREE"));
    fs::create_symlink("one.pem", root.path / "d1" / "1a2b3c4d.0");  // a hash link: read once
    CaSearch s;
    s.root = root.path.string();
    s.cert_file = root.path.string() + "/mine/bundle.pem";
    s.cert_dir = root.path.string() + "/d1:" + root.path.string() + "/d2";
    CHECK(system_ca_pem(s) == cert("MINE") + cert("ONE") + cert("TWO") + cert("THREE"));
    s.cert_file = root.path.string() + "/missing.pem";
    s.cert_dir = root.path.string() + "/none";
    CHECK(system_ca_pem(s).empty());
}

}  // namespace ksc::kube
