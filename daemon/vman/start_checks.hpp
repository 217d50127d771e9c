// The checks QTOVMAN runs before it asks a key manager to start a
// connection (or installs a manual one), each failing with the seed's detail
// message and the TCP8601 reason code that goes with it.
//
// Pure: the system's addresses, the loaded policy filters and the enabled
// connections come in as values, so every message can be provoked in a unit
// test.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::vman {

// A failed check: the detail message, then TCP8601 with this reason code.
struct CheckFailure {
    Msg detail;
    int reason = 0;
};

// What the checks need to know about this system.
struct SystemView {
    // Is this address configured on an interface that is up?
    std::function<bool(const IpAddress&)> is_local;
    // Host name to address of the wanted family (4 or 6, 0: any).
    std::function<std::optional<IpAddress>(const std::string&, int)> resolve;
};

// The loaded packet rules as they concern one connection group.
struct PolicyFilterView {
    bool rules_loaded = false;   // any packet rules active on the system
    bool filter_loaded = false;  // an IPSEC rule for this group is active
    // Local and remote address scope of the group's IPSEC rules.
    std::vector<std::pair<IpRange, IpRange>> scopes;
    // When set, asked instead of `scopes`: the system-wide rank (0 first) of
    // the group's first policy filter that contains these data endpoints,
    // protocol and ports (0: any), or nullopt when none does.
    std::function<std::optional<int>(const IpRange& local, const IpRange& remote, int protocol,
                                     int local_port, int remote_port)>
        covering;
};

struct EnabledView {
    std::string name;
    IpRange local, remote;  // data endpoints
};

// What a successful check settles for the start.
struct StartPlan {
    IpAddress local_endpoint, remote_endpoint;  // connection endpoints
    IpRange local_data, remote_data;             // data endpoints
    bool dynamic_policy_filter = false;          // POLICYFTR(*NONE)
    std::optional<int> filter_rank;              // the covering policy filter's rank
    bool populated = false;                      // remote data endpoint from a packet
};

using CheckResult = std::variant<StartPlan, CheckFailure>;

// A data endpoint as an address range; *ANY takes the family given.
std::optional<IpRange> endpoint_range(const policy::DataEndpoint& e, int family);
std::string endpoint_text(const policy::DataEndpoint& e);

// Dynamic-key connection started locally (STRVPNCNN, autostart, acquire).
// `populated_remote`: the remote data endpoint taken from an outbound packet
// (populate from packet).
// The loaded policy filters are asked for only when the checks get that far
// (a failure to learn them fails the start with reason 1).
using FilterSource = std::function<Result<PolicyFilterView>()>;

CheckResult check_dynamic_start(const policy::ConnectionPolicy& p, const SystemView& sys,
                                const FilterSource& filters,
                                const std::vector<EnabledView>& enabled,
                                std::optional<IpAddress> populated_remote = std::nullopt);

// Manual connection.
CheckResult check_manual_start(const policy::ManualConnection& m, const SystemView& sys,
                               const FilterSource& filters,
                               const std::vector<EnabledView>& enabled);

// What a peer negotiated for a connection it started (<group>:R<n>): the
// connection endpoints and the first traffic selector pair of its CHILD_SA.
struct NegotiatedChild {
    IpAddress local_endpoint, remote_endpoint;
    IpRange local, remote;
    int protocol = 0, local_port = 0, remote_port = 0;
};

// A CHILD_SA a peer started, before QTOVMAN installs it: the group must let
// the peer start connections (TCP8604 5; a dynamic policy filter is for
// connections this system starts), its policy filter must be loaded and
// cover the traffic selectors (TCP8604 3, TCP8628, TCP8624), and no other
// enabled connection may overlap them (TCP8623).
CheckResult check_responder_child(const policy::DynamicGroup& g, const std::string& name,
                                  const NegotiatedChild& child, const FilterSource& filters,
                                  const std::vector<EnabledView>& enabled);

// Key length for an ESP/AH algorithm as qvpn's SAs carry it: cipher key plus
// salt or nonce bytes (RFC 4106, 4309, 4543, 3686), or the HMAC/XCBC key.
size_t encr_key_bytes(policy::Encr e);
size_t auth_key_bytes(policy::DataAuth a);

}  // namespace qvpn::vman
