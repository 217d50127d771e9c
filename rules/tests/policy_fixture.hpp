// VPN configurations for the rules tests, written through PolicyDb: the
// seed's branch office (System A, gateway HRgw2FINgw between 10.6.0.0/16
// and 10.196.8.0/24) and a manual connection.
#pragma once

#include <string>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::rules::test {

struct FixtureOptions {
    std::string line;                 // LINES of the group ("" = *ALL)
    std::string interface;            // a line description LINE -> interface ("" = none)
    policy::Journaling journaling = policy::Journaling::None;
    bool permit_other = true;
    bool manual = false;              // also a manual connection MANCNN
    std::string active;               // connection to mark *ENABLED ("" = none)
    std::string local_ks = "192.0.2.1", remote_ks = "192.0.2.2";
    std::string local_net = "10.6.0.0", local_mask = "255.255.0.0";
    std::string remote_net = "10.196.8.0", remote_mask = "255.255.255.0";
};

// Write the configuration to $QVPN_ROOT/policy.db (created when missing).
Status write_branch_office(const FixtureOptions& o);
// Set the runtime state of a connection (*ENABLED, *IDLE ...) in an
// existing configuration.
Status set_connection_state(const std::string& name, const std::string& state);

}  // namespace qvpn::rules::test
