// Ctrl-C for the verbs that record (record, record --from-start, trace): SIGINT is counted, not
// fatal, so that the first one stops the recording cleanly and a second one leaves at once.
// SIGPIPE is ignored: a closed connection is an error to report, not a death.
#pragma once

namespace ksc::cli {

enum class InterruptMode {
    // record: SIGTERM counts as SIGINT does.
    Count,
    // trace: the command runs here, in our process group, so the terminal's SIGINT reaches it and
    // the tracer as well as us; SIGTERM and SIGHUP are sent to us alone and are for the caller to
    // forward to the command (take_forwarded_signal); SIGQUIT (Ctrl-\) reaches the command and
    // must not kill us before the profile is written.
    ForwardSignals,
};

// Handlers without SA_RESTART, so that a signal wakes a waiting read at once.
void install_interrupt_handlers(InterruptMode mode = InterruptMode::Count);
// How many counted signals arrived since install_interrupt_handlers().
int interrupts();
// ForwardSignals: the signal to forward (the last one that arrived), once; 0 when none.
int take_forwarded_signal();

}  // namespace ksc::cli
