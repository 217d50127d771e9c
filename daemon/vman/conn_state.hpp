// Connection states and the one table of legal transitions.
//
//   Idle ----start----> Starting ---SAs installed---> Enabled
//   Idle --on-demand--> OnDemand ---acquire--------> Starting
//   Starting/Enabled/OnDemand ---end---> Stopping ---> Idle
//   any active state ---failure---> Error ---reset---> Idle
//
// transition() is the only way a state changes: it refuses anything not in
// the table (a defect, reported with QVP0003 by the caller).
#pragma once

#include <optional>
#include <string_view>

#include "core/base/result.hpp"

namespace qvpn::vman {

enum class ConnState { Idle, OnDemand, Starting, Enabled, Stopping, Error };

// The CL-style name shown by WRKVPNCNN and journaled in TSCOS: *IDLE ...
std::string_view state_name(ConnState s);
std::optional<ConnState> state_from_name(std::string_view name);

bool transition_allowed(ConnState from, ConnState to);
// Active: holds (or is negotiating, or traps traffic for) SAs or policies.
bool is_active(ConnState s);

// Changes `state` to `to` when the table allows it; otherwise leaves it and
// fails with QVP0003.
Status transition(ConnState& state, ConnState to);

}  // namespace qvpn::vman
