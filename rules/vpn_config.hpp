// What the packet rules need from the VPN configuration (the policy
// database): lines, the objects that generate policy filters, the VPN
// attributes, and which connections are active.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::rules {

struct ConnectionState {
    std::string name;
    std::string definition;  // its dynamic-key group, or the manual connection itself
    std::string state;       // *IDLE, *ERROR, *RUNNING, ...
    bool active() const;     // anything but *IDLE and *ERROR
};

struct VpnConfig {
    std::vector<policy::Line> lines;
    std::vector<policy::DynamicGroup> groups;
    std::vector<policy::DynamicConnection> connections;
    std::vector<policy::ManualConnection> manual;
    policy::VpnAttributes attributes;
    std::vector<ConnectionState> states;

    // The interface of a line: its line object's, else the name itself.
    std::string interface_of(const std::string& line) const;
    bool has_line_object(const std::string& line) const;
    // A dynamic-key group or manual connection of that name exists.
    bool has_definition(const std::string& name) const;
};

// Read the configuration from $QVPN_ROOT/policy.db. A missing database is
// an empty configuration (no lines, no connections).
Result<VpnConfig> read_vpn_config();

}  // namespace qvpn::rules
