// The connection list behind WRKVPNCNN and DSPVPNCNN: every configured
// connection (dynamic-key and manual) with its runtime state, plus the
// responder connections (GROUP:R1 ...) the connection manager has recorded
// in the state table without a configuration object of their own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "commands/lib/display.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::cmd {

struct ConnectionEntry {
    std::string name;
    policy::ConnectionType type = policy::ConnectionType::Dynamic;
    std::string group;                                    // dynamic only
    std::optional<policy::ConnectionStatus> status;       // none recorded: *IDLE
    std::optional<policy::DynamicConnection> dynamic;     // configured dynamic-key connection
    std::optional<policy::ManualConnection> manual;       // configured manual connection
};

// Sorted by name (case-insensitive).
Result<std::vector<ConnectionEntry>> list_connection_entries(policy::PolicyDb& db);

// One line of WRKVPNCNN.
Panel connection_summary(const ConnectionEntry& e);
// DSPVPNCNN: the connection's attributes, the key exchange policy the lookup
// would choose, its status, and every registered section.
Result<Panel> connection_detail(policy::PolicyDb& db, const ConnectionEntry& e);

// Extension point for more sections of a connection's display. The
// connection manager's live security associations (asked from QTOVMAN) are
// meant to be added here: a section appends its own sub-panel under its own
// JSON key, and a failure is shown as that section's message rather than
// failing the whole display.
using ConnectionSection = std::function<void(const ConnectionEntry& e, Panel& out)>;
std::vector<ConnectionSection>& connection_sections();

}  // namespace qvpn::cmd
