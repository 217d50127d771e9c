#include "daemon/sa/selector.hpp"

#include <netinet/in.h>

namespace qvpn::sa {

namespace {

// Address as a 128-bit number (v4 in the low 32 bits) for range arithmetic.
struct U128 {
    uint64_t hi = 0, lo = 0;
};

U128 to_u128(const IpAddress& a) {
    U128 v;
    const uint8_t* p = a.data();
    if (a.is_v4()) {
        v.lo = uint64_t(p[0]) << 24 | uint64_t(p[1]) << 16 | uint64_t(p[2]) << 8 | p[3];
        return v;
    }
    for (int i = 0; i < 8; ++i) {
        v.hi = v.hi << 8 | p[i];
        v.lo = v.lo << 8 | p[8 + i];
    }
    return v;
}

IpAddress from_u128(U128 v, bool v4) {
    if (v4) {
        return IpAddress::v4(uint32_t(v.lo));
    }
    std::array<uint8_t, 16> b{};
    for (int i = 7; i >= 0; --i) {
        b[i] = uint8_t(v.hi);
        v.hi >>= 8;
        b[8 + i] = uint8_t(v.lo);
        v.lo >>= 8;
    }
    return IpAddress::v6(b);
}

// Number of trailing zero bits (bits = width when v is 0).
int trailing_zeros(U128 v, int width) {
    if (v.lo) {
        return __builtin_ctzll(v.lo);
    }
    if (v.hi && width == 128) {
        return 64 + __builtin_ctzll(v.hi);
    }
    return width;
}

U128 add_pow2(U128 v, int k) {  // v + 2^k
    if (k < 64) {
        uint64_t lo = v.lo + (uint64_t(1) << k);
        v.hi += lo < v.lo;
        v.lo = lo;
    } else {
        v.hi += uint64_t(1) << (k - 64);
    }
    return v;
}

// Is v + 2^k - 1 <= to, without overflow?
bool block_fits(U128 v, int k, U128 to) {
    U128 last = v;
    if (k == 128) {
        return v.hi == 0 && v.lo == 0 && to.hi == ~uint64_t(0) && to.lo == ~uint64_t(0);
    }
    U128 end = add_pow2(v, k);  // one past; may wrap to 0 for the top block
    // last = end - 1
    last.lo = end.lo - 1;
    last.hi = end.hi - (end.lo == 0);
    if (end.hi == 0 && end.lo == 0) {
        // wrapped: the block runs to the top of the space
        return to.hi == ~uint64_t(0) && to.lo == ~uint64_t(0);
    }
    return last.hi < to.hi || (last.hi == to.hi && last.lo <= to.lo);
}

bool in_ports(const TrafficSelector& ts, uint16_t port) {
    return port >= ts.port_from && port <= ts.port_to;
}

}  // namespace

bool parse_flow(ByteView p, PacketFlow& f) {
    if (p.empty()) {
        return false;
    }
    size_t off = 0;
    uint8_t proto = 0;
    bool first_fragment = true;
    int version = p[0] >> 4;
    if (version == 4) {
        if (p.size() < 20) {
            return false;
        }
        size_t ihl = size_t(p[0] & 0x0f) * 4;
        if (ihl < 20 || p.size() < ihl) {
            return false;
        }
        f.src = *IpAddress::from_bytes(p.data() + 12, 4);
        f.dst = *IpAddress::from_bytes(p.data() + 16, 4);
        proto = p[9];
        uint16_t frag = uint16_t(p[6] << 8 | p[7]);
        first_fragment = (frag & 0x1fff) == 0;
        off = ihl;
    } else if (version == 6) {
        if (p.size() < 40) {
            return false;
        }
        f.src = *IpAddress::from_bytes(p.data() + 8, 16);
        f.dst = *IpAddress::from_bytes(p.data() + 24, 16);
        proto = p[6];
        off = 40;
        // Skip the extension headers a selector looks through.
        for (int n = 0; n < 8; ++n) {
            if (proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
                proto == IPPROTO_DSTOPTS) {
                if (p.size() < off + 8) {
                    break;
                }
                uint8_t next = p[off];
                off += (size_t(p[off + 1]) + 1) * 8;
                proto = next;
            } else if (proto == IPPROTO_FRAGMENT) {
                if (p.size() < off + 8) {
                    break;
                }
                uint8_t next = p[off];
                uint16_t fo = uint16_t(p[off + 2] << 8 | p[off + 3]);
                first_fragment = (fo & 0xfff8) == 0;
                off += 8;
                proto = next;
            } else {
                break;
            }
        }
    } else {
        return false;
    }
    f.proto = proto;
    f.src_port = f.dst_port = 0;
    f.ports_known = false;
    if (!first_fragment || off > p.size()) {
        return true;
    }
    size_t rest = p.size() - off;
    switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
    case IPPROTO_UDPLITE:
        if (rest >= 4) {
            f.src_port = uint16_t(p[off] << 8 | p[off + 1]);
            f.dst_port = uint16_t(p[off + 2] << 8 | p[off + 3]);
            f.ports_known = true;
        }
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        if (rest >= 2) {
            f.src_port = f.dst_port = uint16_t(p[off] << 8 | p[off + 1]);
            f.ports_known = true;
        }
        break;
    default:
        // No ports: only port-any selectors match (ports stay 0 and known).
        f.ports_known = true;
        break;
    }
    return true;
}

std::vector<SelectorPair> selector_pairs(const std::vector<TrafficSelector>& local,
                                         const std::vector<TrafficSelector>& remote) {
    std::vector<SelectorPair> out;
    for (const auto& l : local) {
        for (const auto& r : remote) {
            if (l.addrs.from.family() != r.addrs.from.family()) {
                continue;
            }
            if (l.ip_proto && r.ip_proto && l.ip_proto != r.ip_proto) {
                continue;
            }
            SelectorPair p;
            p.local = l;
            p.remote = r;
            p.proto = l.ip_proto ? l.ip_proto : r.ip_proto;
            p.family = l.addrs.from.family();
            out.push_back(p);
        }
    }
    return out;
}

static bool match(const SelectorPair& p, const PacketFlow& f, const IpAddress& local_addr,
                  uint16_t local_port, const IpAddress& remote_addr, uint16_t remote_port) {
    if (local_addr.family() != p.family || !p.local.addrs.contains(local_addr) ||
        !p.remote.addrs.contains(remote_addr)) {
        return false;
    }
    if (p.proto && p.proto != f.proto) {
        return false;
    }
    if (!f.ports_known) {
        return true;
    }
    return in_ports(p.local, local_port) && in_ports(p.remote, remote_port);
}

bool matches_outbound(const SelectorPair& p, const PacketFlow& f) {
    return match(p, f, f.src, f.src_port, f.dst, f.dst_port);
}

bool matches_inbound(const SelectorPair& p, const PacketFlow& f) {
    return match(p, f, f.dst, f.dst_port, f.src, f.src_port);
}

uint32_t specificity(const SelectorPair& p) {
    auto width = [](const IpRange& r) {
        auto len = r.prefix_len();
        return uint32_t(len ? *len : (r.from.is_v4() ? 16 : 64));
    };
    auto port_narrow = [](const TrafficSelector& t) {
        return uint32_t(t.port_from == 0 && t.port_to == 65535 ? 0 : 1);
    };
    return (width(p.local.addrs) + width(p.remote.addrs)) * 8 + (p.proto ? 4 : 0) +
           port_narrow(p.local) + port_narrow(p.remote);
}

std::vector<Prefix> range_to_prefixes(const IpRange& r) {
    std::vector<Prefix> out;
    if (r.from.family() != r.to.family() || r.to < r.from) {
        return out;
    }
    bool v4 = r.from.is_v4();
    int width = v4 ? 32 : 128;
    U128 cur = to_u128(r.from);
    U128 to = to_u128(r.to);
    for (;;) {
        // Largest aligned block starting at cur that stays within the range.
        int k = trailing_zeros(cur, width);
        while (k > 0 && !block_fits(cur, k, to)) {
            --k;
        }
        out.push_back({from_u128(cur, v4), width - k});
        if (k == width) {
            break;
        }
        U128 next = add_pow2(cur, k);
        bool wrapped = (next.hi == 0 && next.lo == 0) || (v4 && next.lo > 0xffffffffULL);
        bool past = next.hi > to.hi || (next.hi == to.hi && next.lo > to.lo);
        if (wrapped || past) {
            break;
        }
        cur = next;
    }
    return out;
}

std::vector<PortMask> ports_to_masks(uint16_t from, uint16_t to) {
    std::vector<PortMask> out;
    if (from > to) {
        return out;
    }
    if (from == 0 && to == 65535) {
        out.push_back({0, 0});
        return out;
    }
    uint32_t cur = from;
    while (cur <= to) {
        int k = cur ? __builtin_ctz(cur) : 16;
        while (k > 0 && cur + (uint32_t(1) << k) - 1 > to) {
            --k;
        }
        out.push_back({uint16_t(cur), uint16_t(0xffff << k)});
        cur += uint32_t(1) << k;
    }
    return out;
}

}  // namespace qvpn::sa
