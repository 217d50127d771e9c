#include "daemon/vman/conn_state.hpp"

#include <array>
#include <string>
#include <utility>

#include "core/base/text.hpp"

namespace qvpn::vman {

namespace {

using S = ConnState;

// Every legal (from, to) pair.
constexpr std::array<std::pair<S, S>, 16> kTransitions{{
    {S::Idle, S::Starting},        // STRVPNCNN, autostart
    {S::Idle, S::OnDemand},        // on-demand connection: traps installed
    {S::Idle, S::Error},           // start checks failed
    {S::OnDemand, S::Starting},    // acquire: first packet
    {S::OnDemand, S::Stopping},    // ENDVPNCNN
    {S::OnDemand, S::Error},       // traps could not stay installed
    {S::Starting, S::Enabled},     // CHILD_SA installed
    {S::Starting, S::Stopping},    // ENDVPNCNN during negotiation
    {S::Starting, S::Error},       // negotiation or install failed
    {S::Enabled, S::Starting},     // key manager restarted: re-initiate
    {S::Enabled, S::Stopping},     // ENDVPNCNN, ENDTCPSVR, peer deleted
    {S::Enabled, S::Error},        // SA lost and not recoverable
    {S::Stopping, S::Idle},        // SAs and policies gone
    {S::Stopping, S::Error},       // could not remove everything
    {S::Error, S::Idle},           // RSTVPNCNN
    {S::Error, S::Stopping},       // ENDVPNCNN on a connection in error
}};

constexpr std::array<std::pair<S, std::string_view>, 6> kNames{{
    {S::Idle, "*IDLE"},
    {S::OnDemand, "*ONDEMAND"},
    {S::Starting, "*STARTING"},
    {S::Enabled, "*ENABLED"},
    {S::Stopping, "*STOPPING"},
    {S::Error, "*ERROR"},
}};

}  // namespace

std::string_view state_name(ConnState s) {
    for (const auto& [v, n] : kNames) {
        if (v == s) {
            return n;
        }
    }
    return "*UNKNOWN";
}

std::optional<ConnState> state_from_name(std::string_view name) {
    for (const auto& [v, n] : kNames) {
        if (iequals(n, name)) {
            return v;
        }
    }
    return std::nullopt;
}

bool transition_allowed(ConnState from, ConnState to) {
    for (const auto& [f, t] : kTransitions) {
        if (f == from && t == to) {
            return true;
        }
    }
    return false;
}

bool is_active(ConnState s) { return s != S::Idle && s != S::Error; }

Status transition(ConnState& state, ConnState to) {
    if (!transition_allowed(state, to)) {
        return fail("QVP0003", "QTOVMAN",
                    "connection state " + std::string(state_name(state)) + " -> " +
                        std::string(state_name(to)) + " is not allowed");
    }
    state = to;
    return {};
}

}  // namespace qvpn::vman
