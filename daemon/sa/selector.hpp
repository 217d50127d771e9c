// Traffic selectors as packet filters (the userspace SPD) and as kernel
// policy selectors (prefix and port/mask form).
//
// A CHILD_SA's selector lists are a cross product: every local selector with
// every remote selector of the same family whose protocols agree
// (RFC 7296 2.9). selector_pairs() expands that product once; the userspace
// SPD and the kernel backend both work from the pairs.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::sa {

// What a selector looks at in one IP packet.
struct PacketFlow {
    IpAddress src, dst;
    uint8_t proto = 0;
    uint16_t src_port = 0, dst_port = 0;
    // False for non-initial fragments (and truncated transport headers):
    // ports are then "opaque" and match any port range (RFC 4301 4.4.1.1).
    bool ports_known = false;
};

// Parse an IPv4 or IPv6 packet's addresses, protocol and ports (ICMP: type
// and code as one 16-bit value in both port fields, as the kernel does).
// IPv6 extension headers (hop-by-hop, routing, destination options,
// fragment) are skipped. False for a packet too short or not IP.
bool parse_flow(ByteView packet, PacketFlow& out);

struct SelectorPair {
    TrafficSelector local, remote;
    uint8_t proto = 0;  // 0: any
    int family = 4;
};

std::vector<SelectorPair> selector_pairs(const std::vector<TrafficSelector>& local,
                                         const std::vector<TrafficSelector>& remote);

// Outbound: packet src is local, dst is remote. Inbound: the reverse.
bool matches_outbound(const SelectorPair& p, const PacketFlow& f);
bool matches_inbound(const SelectorPair& p, const PacketFlow& f);

// A selector's specificity for ordering (more specific first): prefix
// lengths, a protocol, narrower port ranges.
uint32_t specificity(const SelectorPair& p);

// --- kernel form -------------------------------------------------------

struct Prefix {
    IpAddress addr;
    int len = 0;
    bool operator==(const Prefix&) const = default;
};
struct PortMask {
    uint16_t port = 0, mask = 0;  // mask 0: any port
    bool operator==(const PortMask&) const = default;
};

// Smallest set of prefixes covering exactly the range.
std::vector<Prefix> range_to_prefixes(const IpRange& r);
// Smallest set of port/mask pairs covering exactly [from, to].
std::vector<PortMask> ports_to_masks(uint16_t from, uint16_t to);

}  // namespace qvpn::sa
