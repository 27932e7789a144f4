// Syscalls that fail: getsid(-1) three times (ESRCH), sched_get_priority_max(12345) twice (EINVAL).
// Where the tracer sees returns (--no-filter, attach), the summary counts them per errno.
#include "tt.h"

int main(void) {
    tt_ready();
    int esrch = 0, einval = 0;
    for (int i = 0; i < 3; i++) esrch += syscall(SYS_getsid, -1) < 0 && errno == ESRCH;
    for (int i = 0; i < 2; i++) einval += syscall(SYS_sched_get_priority_max, 12345) < 0 && errno == EINVAL;
    tt_say("ESRCH %d EINVAL %d\n", esrch, einval);
    return tt_done(0);
}
