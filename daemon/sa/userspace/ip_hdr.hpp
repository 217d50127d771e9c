// IPv4/IPv6 header helpers of the userspace data path: build outer and
// rebuilt (transport mode) headers, and check inner packets.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/base/ip.hpp"
#include "daemon/sa/userspace/packet.hpp"

namespace qvpn::sa::us {

inline constexpr size_t kIpv4Hdr = 20;
inline constexpr size_t kIpv6Hdr = 40;

// RFC 1071 checksum of a header.
inline uint16_t ip_checksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += uint32_t(p[i] << 8 | p[i + 1]);
    }
    if (len & 1) {
        sum += uint32_t(p[len - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return uint16_t(~sum);
}

// Prepend an IP header (v4: 20 bytes, no options; v6: 40 bytes) for a
// payload of p.len bytes carrying protocol `proto`. False without headroom.
inline bool push_ip_header(Pkt& p, const IpAddress& src, const IpAddress& dst, uint8_t proto,
                           uint16_t ip_id, uint8_t ttl = 64) {
    if (src.is_v4()) {
        size_t total = p.len + kIpv4Hdr;
        if (total > 0xffff || !p.push(kIpv4Hdr)) {
            return false;
        }
        uint8_t* h = p.data();
        h[0] = 0x45;
        h[1] = 0;
        put_be16(h + 2, uint16_t(total));
        put_be16(h + 4, ip_id);
        put_be16(h + 6, 0);
        h[8] = ttl;
        h[9] = proto;
        put_be16(h + 10, 0);
        std::memcpy(h + 12, src.data(), 4);
        std::memcpy(h + 16, dst.data(), 4);
        put_be16(h + 10, ip_checksum(h, kIpv4Hdr));
        return true;
    }
    size_t plen = p.len;
    if (plen > 0xffff || !p.push(kIpv6Hdr)) {
        return false;
    }
    uint8_t* h = p.data();
    put_be32(h, 0x60000000);
    put_be16(h + 4, uint16_t(plen));
    h[6] = proto;
    h[7] = ttl;
    std::memcpy(h + 8, src.data(), 16);
    std::memcpy(h + 24, dst.data(), 16);
    return true;
}

// Length an inner IP packet says it has, or 0 if p is not a plausible IP
// packet of the given version (4 or 6) that fits in len bytes.
inline size_t inner_ip_length(const uint8_t* p, size_t len, int version) {
    if (version == 4) {
        if (len < kIpv4Hdr || (p[0] >> 4) != 4 || (p[0] & 0x0f) < 5) {
            return 0;
        }
        size_t total = get_be16(p + 2);
        return total >= size_t(p[0] & 0x0f) * 4 && total <= len ? total : 0;
    }
    if (len < kIpv6Hdr || (p[0] >> 4) != 6) {
        return 0;
    }
    size_t total = kIpv6Hdr + get_be16(p + 4);
    return total <= len ? total : 0;
}

}  // namespace qvpn::sa::us
