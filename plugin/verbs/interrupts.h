// Ctrl-C for the verbs that talk to a cluster (record, record --from-start): SIGINT and SIGTERM
// are counted, not fatal, so that the first one stops the recording cleanly and a second one
// leaves at once. SIGPIPE is ignored: a closed connection is an error to report, not a death.
#pragma once

namespace ksc::cli {

void install_interrupt_handlers();
// How many SIGINT/SIGTERM arrived since install_interrupt_handlers().
int interrupts();

}  // namespace ksc::cli
