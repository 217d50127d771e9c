// What STRTCPSVR and ENDTCPSVR share: the SERVER parameter (IBM i's list of
// server special values; qvpn serves *VPN only) and the pid file of QTOVMAN.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/cl/command.hpp"

namespace qvpn::cmd {

cl::ParamDef server_param();

// Check SERVER: *VPN, else VMN0006.
Status vpn_only(const cl::Invocation& inv);

// The pid of the running QTOVMAN of this state root (its pid file is
// locked), or nullopt.
std::optional<pid_t> running_vman();

// Is `pid` a live process (not a zombie)?
bool process_alive(pid_t pid);

}  // namespace qvpn::cmd
