// The remote session a command runs from, for the lock-out check of
// LODIPFTR CHKLCKOUT(*YES): SSH_CONNECTION when the shell has it, otherwise
// the established TCP connections held by this process and its parents
// (the sshd or telnet process of the session holds the socket).
#pragma once

#include <string>
#include <vector>

#include "core/base/ip.hpp"

namespace qvpn::rules {

struct Session {
    IpAddress local, remote;
    int local_port = 0, remote_port = 0;
    std::string source;  // "SSH_CONNECTION" or "socket of process <pid>"
};

std::vector<Session> caller_sessions();

// "192.0.2.1 port 51514"
std::string describe(const Session& s);

// The interface that holds `a` ("" when none does).
std::string interface_with_address(const IpAddress& a);

// Parse one /proc/net/tcp or tcp6 address ("0100007F:0016"); for tests.
bool parse_proc_address(const std::string& text, IpAddress& a, int& port);

}  // namespace qvpn::rules
