// QTOKVPNIK2: the IKEv2 key manager job. QTOVMAN starts it with one end of
// a SOCK_SEQPACKET pair in $QVPN_IPC_FD (core/ipc/README.md).
//
//   QTOKVPNIK2 [--foreground]     (--foreground: copy the job log to stderr)
#include <cstring>

#include "core/base/paths.hpp"
#include "core/ipc/km_channel.hpp"
#include "core/joblog/joblog.hpp"
#include "daemon/ikev2/daemon/km_daemon.hpp"
#include "daemon/sa/backend.hpp"

int main(int argc, char** argv) {
    using namespace qvpn;
    joblog::JobLog log("QTOKVPNIK2");
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--foreground") == 0) {
            log.set_echo(true);
        }
    }
    auto fd = ipc::km_fd_from_env();
    if (!fd) {
        log.message(fd.error());
        log.message(msg("IKE0B01"));
        return 1;
    }
    ikev2::DaemonOptions opts;
    opts.ipc_fd = *fd;
    opts.policy_db = paths::policy_db();
    // CHILD_SAs a peer starts get reqids from the upper half of the qvpn
    // band; QTOVMAN allocates its own from the bottom.
    opts.engine.responder_reqid_base = sa::kReqidFirst + 0x8000;
    ikev2::KmDaemon d(opts, log);
    return d.run();
}
