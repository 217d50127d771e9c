#include "rules/vpn_config.hpp"

#include <filesystem>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::rules {

std::string VpnConfig::interface_of(const std::string& line) const {
    for (const auto& l : lines) {
        if (iequals(l.name, line)) {
            return l.interface;
        }
    }
    return line;
}

bool VpnConfig::has_line_object(const std::string& line) const {
    for (const auto& l : lines) {
        if (iequals(l.name, line)) {
            return true;
        }
    }
    return false;
}

bool VpnConfig::has_definition(const std::string& name) const {
    for (const auto& g : groups) {
        if (iequals(g.name, name)) {
            return true;
        }
    }
    for (const auto& m : manual) {
        if (iequals(m.name, name)) {
            return true;
        }
    }
    return false;
}

std::string definition_of(const policy::ConnectionStatus& s) {
    return s.group.empty() ? s.name : s.group;
}

Result<VpnConfig> read_vpn_config() {
    VpnConfig cfg;
    std::error_code ec;
    if (!std::filesystem::exists(paths::policy_db(), ec)) {
        return cfg;
    }
    QVPN_ASSIGN(auto db, policy::PolicyDb::open(paths::policy_db(), policy::Access::ReadOnly));
    QVPN_ASSIGN(cfg.lines, db.list_lines());
    QVPN_ASSIGN(cfg.groups, db.list_groups());
    QVPN_ASSIGN(cfg.connections, db.list_connections());
    QVPN_ASSIGN(cfg.manual, db.list_manual_connections());
    QVPN_ASSIGN(cfg.attributes, db.attributes());
    QVPN_ASSIGN(cfg.states, db.list_states());
    return cfg;
}

}  // namespace qvpn::rules
