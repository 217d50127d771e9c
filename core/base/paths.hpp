// The state root: everything one qvpn system keeps on disk.
//
// Every command and daemon takes it from $QVPN_ROOT (default /var/lib/qvpn),
// so several systems can run on one machine, one per network namespace.
//
//   $QVPN_ROOT/policy.db        the policy database (SQLite, WAL)
//   $QVPN_ROOT/secret/          system key pair for keys at rest (root only)
//   $QVPN_ROOT/run/             daemon sockets and pid files
//   $QVPN_ROOT/joblog/          job logs (QTOVMAN.log, ...)
//   $QVPN_ROOT/journal/         journals (QVPN.db, QIPFILTER.db)
//   $QVPN_ROOT/lib/             DSPJRN outfile libraries (<LIB>.db)
//   $QVPN_ROOT/rulegen/         rules generated from the VPN configuration
//   $QVPN_ROOT/trace/           communications traces
#pragma once

#include <string>

#include "core/base/result.hpp"

namespace qvpn::paths {

std::string root();
std::string policy_db();
std::string secret_dir();
std::string run_dir();
std::string joblog_dir();
std::string journal_dir();
std::string lib_dir();
std::string rulegen_dir();
std::string trace_dir();

// Create the root and its subdirectories with their modes (idempotent).
Status ensure();

// Directory of the running executable (for finding sibling programs).
std::string self_dir();

// Where the daemons live: <bindir>/../libexec/qvpn, in a build tree and
// after install alike; $QVPN_LIBEXEC overrides it.
std::string libexec_dir();

}  // namespace qvpn::paths
