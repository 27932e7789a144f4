// Launch-mode exit status: `tt_exit code N` exits N; `tt_exit signal N` dies of signal N.
#include <signal.h>

#include "tt.h"

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    int n = atoi(argv[2]);
    tt_say("exiting by %s %d\n", argv[1], n);
    if (strcmp(argv[1], "signal") == 0) {
        signal(n, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, n);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(n);
        return 1;
    }
    return n;
}
