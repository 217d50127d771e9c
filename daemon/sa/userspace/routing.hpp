// Routing for both data paths, through libnl-route:
//
//   ip rule add prio <P> not fwmark <kBypassMark>/<mask> lookup <T>   (v4 and v6)
//   ip route add <remote data endpoint> dev <tun> table <T> [src <local>]     (userspace)
//   ip route add <remote data endpoint> [via <gw>] dev <if> table <T> [src <local>]
//                                                                    (kernel, tunnel mode)
//
// The kernel data path needs its routes too: XFRM policies are looked up
// after routing, so a remote data endpoint needs a route at all, and a
// locally sent packet needs a source inside the local selectors to match
// the policy (the route's preferred source gives it one).
//
// Traffic to a remote data endpoint is routed into the TUN device, except
// packets carrying the bypass mark: QTOVMAN's IKE sockets and the data
// path's own ESP sockets set it, so the VPN's own packets never enter its
// own tunnel even when the remote selectors cover the peer's address
// (host-to-host tunnels). Routes are reference-counted per prefix: CHILD_SAs
// and traps may share remote selectors.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "daemon/sa/selector.hpp"

struct nl_sock;

namespace qvpn::sa::us {

class Routing {
public:
    static Result<Routing> open(int ifindex, uint32_t table, uint32_t rule_priority,
                                uint32_t mark, uint32_t mask);
    Routing(Routing&& o) noexcept;
    Routing& operator=(Routing&&) noexcept;
    ~Routing();

    // Bring the link up with the MTU.
    Status link_up(int mtu);
    // The policy-routing rules (idempotent).
    Status add_rules();
    Status remove_rules();

    // Where the main table sends packets for dst (looked up with the bypass
    // mark, so our own table is not consulted).
    struct NextHop {
        int oif = 0;
        std::optional<IpAddress> gateway;
    };
    Result<NextHop> route_to(const IpAddress& dst);

    // Reference-counted routes to a prefix via the TUN device (or the given
    // next hop), with an optional preferred source.
    Status acquire_route(const Prefix& dst, const IpAddress* src);
    Status acquire_route_via(const Prefix& dst, const NextHop& nh, const IpAddress* src);
    void release_route(const Prefix& dst);
    Status release_all();

    // Remove every route in our table and every rule with our priority and
    // table that this object did not add. Returns the numbers removed.
    Result<std::pair<unsigned, unsigned>> cleanup_stale();

    // A local address inside one of the ranges (for a route's source), if
    // an interface has one.
    Result<std::optional<IpAddress>> local_address_in(const std::vector<IpRange>& ranges);

    uint32_t table() const { return table_; }

private:
    Routing() = default;
    Status route_op(const Prefix& dst, const NextHop& nh, const IpAddress* src, bool add);
    Status rule_op(int family, bool add);

    nl_sock* sk_ = nullptr;
    int ifindex_ = 0;
    uint32_t table_ = 0, prio_ = 0, mark_ = 0, mask_ = 0;
    bool rules_ = false;
    unsigned stale_rules_ = 0;  // found in place when adding ours
    struct Key {
        Prefix p;
        bool operator<(const Key& o) const {
            return std::tie(p.addr, p.len) < std::tie(o.p.addr, o.p.len);
        }
    };
    struct Held {
        int refs = 0;
        NextHop nh;
    };
    std::map<Key, Held> routes_;
};

}  // namespace qvpn::sa::us
