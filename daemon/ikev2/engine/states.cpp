#include "daemon/ikev2/engine/states.hpp"

#include <array>
#include <utility>

namespace qvpn::ikev2 {

namespace {

using I = IkeState;
using C = ChildState;

// Every legal IKE SA transition. Closed is reachable from everywhere (a
// failure, a DELETE from the peer, a retransmission give-up), so it is not
// repeated per row.
constexpr std::array kIkeTransitions{
    std::pair{I::Idle, I::InitSent},         // initiator: IKE_SA_INIT sent
    std::pair{I::Idle, I::InitDone},         // responder: IKE_SA_INIT answered
    std::pair{I::InitSent, I::AuthSent},     // initiator: IKE_AUTH sent
    std::pair{I::AuthSent, I::Established},  // initiator: IKE_AUTH answered
    std::pair{I::InitDone, I::Established},  // responder: IKE_AUTH accepted
    std::pair{I::Idle, I::Established},      // created by an IKE SA rekey
    std::pair{I::Established, I::Rekeyed},   // replaced by a rekeyed IKE SA
    std::pair{I::Established, I::Deleting},  // our DELETE sent
    std::pair{I::Rekeyed, I::Deleting},      // DELETE of the replaced SA sent
};

constexpr std::array kChildTransitions{
    std::pair{C::Creating, C::Installed},   // negotiated and handed over for installation
    std::pair{C::Creating, C::Deleting},    // negotiated but unwanted: deleted, never installed
    std::pair{C::Installed, C::Rekeying},   // our rekey sent
    std::pair{C::Rekeying, C::Installed},   // rekey failed or lost a collision
    std::pair{C::Installed, C::Rekeyed},    // replaced by the peer's rekey
    std::pair{C::Rekeying, C::Rekeyed},     // replaced by our rekey (or the peer's)
    std::pair{C::Installed, C::Deleting},   // our DELETE sent
    std::pair{C::Rekeying, C::Deleting},    // deleted while a rekey was running
    std::pair{C::Rekeyed, C::Deleting},     // DELETE of the replaced SA sent
};

}  // namespace

std::string_view state_name(IkeState s) {
    switch (s) {
    case I::Idle: return "IDLE";
    case I::InitSent: return "INIT_SENT";
    case I::InitDone: return "INIT_DONE";
    case I::AuthSent: return "AUTH_SENT";
    case I::Established: return "ESTABLISHED";
    case I::Rekeyed: return "REKEYED";
    case I::Deleting: return "DELETING";
    case I::Closed: return "CLOSED";
    }
    return "?";
}

std::string_view state_name(ChildState s) {
    switch (s) {
    case C::Creating: return "CREATING";
    case C::Installed: return "INSTALLED";
    case C::Rekeying: return "REKEYING";
    case C::Rekeyed: return "REKEYED";
    case C::Deleting: return "DELETING";
    case C::Closed: return "CLOSED";
    }
    return "?";
}

bool transition_allowed(IkeState from, IkeState to) {
    if (to == I::Closed) {
        return from != I::Closed;
    }
    for (const auto& [a, b] : kIkeTransitions) {
        if (a == from && b == to) {
            return true;
        }
    }
    return false;
}

bool transition_allowed(ChildState from, ChildState to) {
    if (to == C::Closed) {
        return from != C::Closed;
    }
    for (const auto& [a, b] : kChildTransitions) {
        if (a == from && b == to) {
            return true;
        }
    }
    return false;
}

}  // namespace qvpn::ikev2
