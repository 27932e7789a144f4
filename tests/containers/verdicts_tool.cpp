// Our side of the verdict comparison (tests/containers/verdicts_test.py): the profile compiled as
// `kubectl seccomp check` compiles it (compile_program, for this machine's architecture), then
// bpf::run over each call of the arguments ("NR,A0,...,A5", as verdict_probe takes them), made on
// x86_64 ("x86:NR,...": on i386, arguments cut to 32 bits). One line per call: the verdict in hex. Exit 1
// with the error when the profile does not compile. `ksc_verdicts --program PROFILE` prints instead
// what `check` gives the tracer for it: base64 of the packed program (--check-program, docs/tracer.md).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base64.h"
#include "profile_compile.h"
#include "profile_io.h"
#include "seccomp_bpf.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ksc_verdicts PROFILE CALL... | ksc_verdicts --program PROFILE\n");
        return 2;
    }
    const bool print_program = std::string_view(argv[1]) == "--program";
    if (print_program) {
        if (argc != 3) {
            std::fprintf(stderr, "usage: ksc_verdicts --program PROFILE\n");
            return 2;
        }
        ++argv;
        --argc;
    }
    auto in = ksc::load_input(argv[1]);
    if (!in || in->profiles.empty()) {
        std::fprintf(stderr, "%s: %s\n", argv[1], in ? "no profile" : in.error().message.c_str());
        return 1;
    }
    auto program = ksc::compile_program(in->profiles.front().profile);
    if (!program) {
        std::fprintf(stderr, "%s: %s\n", argv[1], program.error().message.c_str());
        return 1;
    }
    if (print_program) {
        std::printf("%s\n", ksc::base64_encode(ksc::bpf::pack(*program)).c_str());
        return 0;
    }
    for (int i = 2; i < argc; ++i) {
        unsigned long long v[7] = {};
        char* p = argv[i];
        bool i386 = std::string_view(p).substr(0, 4) == "x86:";
        if (i386) p += 4;
        for (int k = 0; k < 7 && *p; ++k) {
            v[k] = std::strtoull(p, &p, 0);
            if (*p == ',') ++p;
        }
        ksc::bpf::SeccompData d;
        d.nr = static_cast<std::int32_t>(v[0]);
        d.arch = static_cast<std::uint32_t>(i386 ? ksc::Arch::X86 : ksc::native_arch());
        for (int k = 0; k < 6; ++k) d.args[k] = i386 ? v[k + 1] & 0xffffffffULL : v[k + 1];
        std::printf("0x%08x\n", ksc::bpf::run(*program, d));
    }
    return 0;
}
