#include "daemon/sa/userspace/offload.hpp"

#include <cstring>

#include <netinet/in.h>

#include "daemon/sa/userspace/ip_hdr.hpp"
#include "daemon/sa/userspace/packet.hpp"

namespace qvpn::sa::us {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                  kEce = 0x40, kCwr = 0x80;

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
void put_le16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
}

// Sum of the TCP pseudo-header (RFC 793 / RFC 8200 8.1) for a TCP length.
uint32_t pseudo_sum(const uint8_t* ip, bool v6, size_t tcp_len) {
    uint32_t sum = 0;
    if (v6) {
        sum = csum_partial(ip + 8, 32, 0);
        sum += uint32_t(tcp_len >> 16) + uint32_t(tcp_len & 0xffff);
    } else {
        sum = csum_partial(ip + 12, 8, 0);
        sum += uint32_t(tcp_len);
    }
    return sum + IPPROTO_TCP;
}

// IP and TCP header lengths of a plain TCP packet; false if it is not one.
bool tcp_headers(const uint8_t* p, size_t len, bool& v6, size_t& ip, size_t& hdr) {
    if (len < 1) {
        return false;
    }
    v6 = (p[0] >> 4) == 6;
    if (v6) {
        if (len < kIpv6Hdr + 20 || p[6] != IPPROTO_TCP) {
            return false;
        }
        ip = kIpv6Hdr;
    } else {
        if ((p[0] >> 4) != 4 || len < kIpv4Hdr + 20 || p[9] != IPPROTO_TCP) {
            return false;
        }
        ip = size_t(p[0] & 0x0f) * 4;
        uint16_t frag = get_be16(p + 6);
        if (ip < kIpv4Hdr || (frag & 0x3fff) != 0) {
            return false;  // fragments are not TCP segments we can handle
        }
    }
    if (len < ip + 20) {
        return false;
    }
    size_t doff = size_t(p[ip + 12] >> 4) * 4;
    if (doff < 20 || len < ip + doff) {
        return false;
    }
    hdr = ip + doff;
    return true;
}

}  // namespace

VnetHdr VnetHdr::read(const uint8_t* p) {
    VnetHdr h;
    h.flags = p[0];
    h.gso_type = p[1];
    h.hdr_len = le16(p + 2);
    h.gso_size = le16(p + 4);
    h.csum_start = le16(p + 6);
    h.csum_offset = le16(p + 8);
    return h;
}

void VnetHdr::write(uint8_t* p) const {
    p[0] = flags;
    p[1] = gso_type;
    put_le16(p + 2, hdr_len);
    put_le16(p + 4, gso_size);
    put_le16(p + 6, csum_start);
    put_le16(p + 8, csum_offset);
}

uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum) {
    // One's complement sums do not care about byte order except for a final
    // swap: add native 32-bit halves of 64-bit loads (no overflow for any
    // length below 2^34 bytes), fold, and swap into network order.
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        acc += uint32_t(v);
        acc += v >> 32;
    }
    if (i + 4 <= len) {
        uint32_t v;
        std::memcpy(&v, p + i, 4);
        acc += v;
        i += 4;
    }
    if (i + 2 <= len) {
        uint16_t v;
        std::memcpy(&v, p + i, 2);
        acc += v;
        i += 2;
    }
    if (i < len) {
        uint16_t v = 0;
        std::memcpy(&v, p + i, 1);  // the odd byte is the high byte of a zero-padded word
        acc += v;
    }
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    uint16_t native = uint16_t(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    native = uint16_t(native << 8 | native >> 8);
#endif
    uint64_t total = uint64_t(sum) + native;
    while (total >> 32) {
        total = (total & 0xffffffff) + (total >> 32);
    }
    return uint32_t(total);
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return uint16_t(sum);
}

bool finish_checksum(uint8_t* pkt, size_t len, const VnetHdr& h) {
    if (!(h.flags & VnetHdr::kNeedsCsum)) {
        return true;
    }
    size_t at = size_t(h.csum_start) + h.csum_offset;
    if (h.csum_start >= len || at + 2 > len) {
        return false;
    }
    // The field holds the pseudo-header's sum; add the rest and invert.
    uint16_t c = uint16_t(~csum_fold(csum_partial(pkt + h.csum_start, len - h.csum_start, 0)));
    put_be16(pkt + at, c);
    return true;
}

int tcp_segment(const uint8_t* pkt, size_t len, uint16_t gso_size,
                const std::function<uint8_t*(size_t)>& out,
                const std::function<void(size_t)>& done) {
    bool v6 = false;
    size_t ip = 0, hdr = 0;
    if (!tcp_headers(pkt, len, v6, ip, hdr) || gso_size == 0) {
        return -1;
    }
    size_t payload = len - hdr;
    uint32_t seq = get_be32(pkt + ip + 4);
    uint8_t flags = pkt[ip + 13];
    uint16_t id = v6 ? 0 : get_be16(pkt + 4);
    int n = 0;
    for (size_t off = 0; off < payload || (payload == 0 && n == 0); off += gso_size) {
        size_t chunk = payload - off < gso_size ? payload - off : gso_size;
        bool first = off == 0, last = off + chunk >= payload;
        uint8_t* s = out(hdr + chunk);
        if (!s) {
            break;
        }
        std::memcpy(s, pkt, hdr);
        std::memcpy(s + hdr, pkt + hdr + off, chunk);
        size_t seg_len = hdr + chunk;
        if (v6) {
            put_be16(s + 4, uint16_t(seg_len - kIpv6Hdr));
        } else {
            put_be16(s + 2, uint16_t(seg_len));
            put_be16(s + 4, uint16_t(id + n));
            put_be16(s + 10, 0);
            put_be16(s + 10, uint16_t(~csum_fold(csum_partial(s, ip, 0))));
        }
        uint8_t* tcp = s + ip;
        put_be32(tcp + 4, seq + uint32_t(off));
        uint8_t f = flags;
        if (!last) {
            f &= uint8_t(~(kFin | kPsh));
        }
        if (!first) {
            f &= uint8_t(~kCwr);
        }
        tcp[13] = f;
        put_be16(tcp + 16, 0);
        size_t tcp_len = seg_len - ip;
        uint32_t sum = pseudo_sum(s, v6, tcp_len);
        put_be16(tcp + 16, uint16_t(~csum_fold(csum_partial(tcp, tcp_len, sum))));
        done(seg_len);
        ++n;
        if (payload == 0) {
            break;
        }
    }
    return n;
}

// ---------------------------------------------------------------- coalescing

void Coalescer::emit_single(const uint8_t* pkt, size_t len) {
    if (len + VnetHdr::kSize > cap_) {
        return;
    }
    VnetHdr{}.write(buf_);
    if (pkt != buf_ + VnetHdr::kSize) {
        std::memmove(buf_ + VnetHdr::kSize, pkt, len);
    }
    emit_(buf_, len + VnetHdr::kSize);
}

bool Coalescer::start(const uint8_t* pkt, size_t len) {
    bool v6 = false;
    size_t ip = 0, hdr = 0;
    if (!tcp_headers(pkt, len, v6, ip, hdr)) {
        return false;
    }
    uint8_t f = pkt[ip + 13];
    size_t payload = len - hdr;
    // Only plain data segments join: anything with control flags goes alone.
    if ((f & (kSyn | kRst | kUrg | kFin | kCwr | kEce)) || !(f & kAck) || payload == 0 ||
        len + VnetHdr::kSize > cap_) {
        return false;
    }
    std::memcpy(buf_ + VnetHdr::kSize, pkt, len);
    len_ = len;
    hdr_ = hdr;
    ip_ = ip;
    v6_ = v6;
    gso_ = uint16_t(payload);
    next_seq_ = get_be32(pkt + ip + 4) + uint32_t(payload);
    count_ = 1;
    closed_ = (f & kPsh) != 0;
    return true;
}

bool Coalescer::fits(const uint8_t* pkt, size_t len) const {
    if (count_ == 0 || closed_) {
        return false;
    }
    const uint8_t* cur = buf_ + VnetHdr::kSize;
    bool v6 = false;
    size_t ip = 0, hdr = 0;
    if (!tcp_headers(pkt, len, v6, ip, hdr) || v6 != v6_ || ip != ip_ || hdr != hdr_) {
        return false;
    }
    size_t payload = len - hdr;
    if (payload == 0 || payload > gso_ || len_ + payload + VnetHdr::kSize > cap_ ||
        len_ + payload > 65535) {
        return false;
    }
    // Same flow, same IP fields that matter, contiguous sequence, same
    // acknowledgement, window and TCP options (timestamps included).
    if (v6) {
        if (std::memcmp(pkt, cur, 4) != 0 || pkt[7] != cur[7] ||
            std::memcmp(pkt + 8, cur + 8, 32) != 0) {
            return false;
        }
    } else {
        if (pkt[1] != cur[1] || pkt[8] != cur[8] || (pkt[6] & 0x40) != (cur[6] & 0x40) ||
            std::memcmp(pkt + 12, cur + 12, 8) != 0 || std::memcmp(pkt + 20, cur + 20, ip - 20) != 0) {
            return false;
        }
    }
    const uint8_t* t = pkt + ip;
    const uint8_t* c = cur + ip;
    uint8_t f = t[13];
    if (std::memcmp(t, c, 4) != 0 || get_be32(t + 4) != next_seq_ ||
        std::memcmp(t + 8, c + 8, 4) != 0 || std::memcmp(t + 14, c + 14, 2) != 0 ||
        std::memcmp(t + 20, c + 20, hdr - ip - 20) != 0 ||
        (f & ~kPsh) != kAck) {
        return false;
    }
    return true;
}

void Coalescer::add(const uint8_t* pkt, size_t len) {
    if (fits(pkt, len)) {
        size_t hdr = hdr_;
        size_t payload = len - hdr;
        std::memcpy(buf_ + VnetHdr::kSize + len_, pkt + hdr, payload);
        len_ += payload;
        next_seq_ += uint32_t(payload);
        ++count_;
        ++merged_;
        uint8_t* tcp = buf_ + VnetHdr::kSize + ip_;
        tcp[13] |= pkt[ip_ + 13] & kPsh;
        // A short segment or a push ends the super-packet.
        closed_ = payload < gso_ || (pkt[ip_ + 13] & kPsh);
        if (closed_) {
            flush();
        }
        return;
    }
    flush();
    if (!start(pkt, len)) {
        emit_single(pkt, len);
    }
}

void Coalescer::flush() {
    if (count_ == 0) {
        return;
    }
    uint8_t* p = buf_ + VnetHdr::kSize;
    if (count_ == 1) {
        count_ = 0;
        emit_single(p, len_);  // unchanged: its checksums are still right
        return;
    }
    // One GSO packet: lengths and the IPv4 checksum for the whole; the TCP
    // checksum left partial (pseudo-header only) for the stack to trust.
    if (v6_) {
        put_be16(p + 4, uint16_t(len_ - kIpv6Hdr));
    } else {
        put_be16(p + 2, uint16_t(len_));
        put_be16(p + 10, 0);
        put_be16(p + 10, uint16_t(~csum_fold(csum_partial(p, ip_, 0))));
    }
    uint8_t* tcp = p + ip_;
    put_be16(tcp + 16, csum_fold(pseudo_sum(p, v6_, len_ - ip_)));
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.gso_type = v6_ ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
    h.hdr_len = uint16_t(hdr_);
    h.gso_size = gso_;
    h.csum_start = uint16_t(ip_);
    h.csum_offset = 16;
    h.write(buf_);
    count_ = 0;
    emit_(buf_, len_ + VnetHdr::kSize);
}

}  // namespace qvpn::sa::us
