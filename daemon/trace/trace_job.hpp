// The resident trace job QSCCMNTRC: one process per trace, started by
// STRCMNTRC, running until ENDCMNTRC (SIGTERM), a full buffer with
// TRCFULL(*STOPTRC), or the loss of its interface.
//
// Start-up handshake: STRCMNTRC passes the write end of a pipe (its number in
// $QVPN_READY_FD). The job writes one JSON line to it: {"ok":true} once it
// captures, or {"ok":false,"msgid":...,"values":[...]} when it cannot start,
// so the command reports the job's own message.
#pragma once

#include "daemon/trace/trace_store.hpp"

namespace qvpn::trace {

// Runs the job for `key` in the current process; returns the exit status.
int run_trace_job(const TraceKey& key, int ready_fd);

}  // namespace qvpn::trace
