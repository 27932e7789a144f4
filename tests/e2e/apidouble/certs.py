"""A throw-away PKI made with the openssl CLI: a CA, the server's certificate and client certificates.

The API server authenticates a client certificate by its subject: CN is the user name and each O a
group, so that is how the client certificates here are made.
"""
import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class Pki:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_cert = os.path.join(directory, "ca.crt")
        self.ca_key = os.path.join(directory, "ca.key")
        self.server_cert = os.path.join(directory, "server.crt")
        self.server_key = os.path.join(directory, "server.key")
        self._serial = 1

    def create(self):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=apidouble-ca", "-keyout", "ca.key", "-out", "ca.crt",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        self._issue("server", "/CN=kube-apiserver",
                    ["subjectAltName=DNS:localhost,DNS:kubernetes.default,IP:127.0.0.1,IP:::1",
                     "extendedKeyUsage=serverAuth", "keyUsage=critical,digitalSignature,keyEncipherment"])
        return self

    def client(self, user, groups=()):
        """Returns (cert, key) paths for a client certificate naming user and groups."""
        name = "client-" + "".join(c if c.isalnum() else "_" for c in user)
        subject = "".join("/O=" + g for g in groups) + "/CN=" + user
        self._issue(name, subject, ["extendedKeyUsage=clientAuth",
                                    "keyUsage=critical,digitalSignature,keyEncipherment"])
        return os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".key")

    def _issue(self, name, subject, extensions):
        ext_file = os.path.join(self.dir, name + ".ext")
        with open(ext_file, "w") as f:
            f.write("\n".join(extensions) + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                 "-keyout", name + ".key", "-out", name + ".csr", cwd=self.dir)
        self._serial += 1
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-set_serial", str(self._serial), "-days", "2", "-extfile", name + ".ext",
                 "-out", name + ".crt", cwd=self.dir)
