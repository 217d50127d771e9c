// What the packet rules need from the VPN configuration (the policy
// database): lines, the objects that generate policy filters, the VPN
// attributes, and which connections are active.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::rules {

struct VpnConfig {
    std::vector<policy::Line> lines;
    std::vector<policy::DynamicGroup> groups;  // in group order
    std::vector<policy::DynamicConnection> connections;
    std::vector<policy::ManualConnection> manual;
    policy::VpnAttributes attributes;
    std::vector<policy::ConnectionStatus> states;

    // The interface of a line: its line description's, else the name itself.
    std::string interface_of(const std::string& line) const;
    bool has_line_object(const std::string& line) const;
    // A dynamic-key group or manual connection of that name exists.
    bool has_definition(const std::string& name) const;
};

// The connection definition a connection's policy filter names: its
// dynamic-key group, or the manual connection itself.
std::string definition_of(const policy::ConnectionStatus& s);

// Read the configuration from $QVPN_ROOT/policy.db through PolicyDb. A
// missing database is an empty configuration (no lines, no connections).
Result<VpnConfig> read_vpn_config();

}  // namespace qvpn::rules
