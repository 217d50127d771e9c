// Traffic selectors (RFC 7296 2.9, 3.13): ours from a connection's data
// endpoints, ports and protocol; narrowing as responder; the initiator's
// check that the answer lies within what it asked for.
#pragma once

#include <vector>

#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::ikev2 {

using Selectors = std::vector<sa::TrafficSelector>;

// One side's selector: the data endpoint (or `host` for an endpoint that is
// *ANY in a host role, or empty), the port (0: any) and the protocol (0:
// any). IKE0904 for an endpoint that does not parse.
Result<Selectors> selectors_for(const policy::DataEndpoint& ep, int port, int protocol,
                                const IpAddress& host, bool host_role);

// Our local and remote selectors for a connection, given the IKE endpoints
// (used for host roles and as the address family of *ANY).
struct OurSelectors {
    Selectors local, remote;
};
Result<OurSelectors> connection_selectors(const policy::ConnectionPolicy& p,
                                          const IpAddress& local_ike,
                                          const IpAddress& remote_ike);

// The intersection of two selectors (nullopt when they share nothing).
std::optional<sa::TrafficSelector> intersect(const sa::TrafficSelector& a,
                                             const sa::TrafficSelector& b);

// RFC 7296 2.9: the responder answers with the part of the initiator's
// selectors its own policy allows. Empty when nothing is left.
Selectors narrow(const Selectors& offered, const Selectors& allowed);

// Whether every selector of `answer` lies within one of `offered`.
bool within(const Selectors& answer, const Selectors& offered);

std::string to_string(const sa::TrafficSelector& ts);
std::string to_string(const Selectors& ts);

}  // namespace qvpn::ikev2
