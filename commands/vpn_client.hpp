// Shared by the runtime VPN commands (STRVPNCNN, ENDVPNCNN, RSTVPNCNN,
// ENDTCPSVR): send one request to this system's QTOVMAN and print its
// messages the IBM way (diagnostics on stderr, then the completion message
// on stdout, or the escape message as the command's failure).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/cl/command.hpp"
#include "core/ipc/control.hpp"

namespace qvpn::cmd {

// The reply, or the failure to send or read it (IPC0001 ...).
Result<ipc::Reply> ask_vman(nlohmann::json req, std::chrono::milliseconds timeout);

// Print a reply's messages; a failed reply becomes the command's escape.
Status finish(cl::Invocation& inv, const ipc::Reply& r);

}  // namespace qvpn::cmd
