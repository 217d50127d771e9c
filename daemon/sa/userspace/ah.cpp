#include "daemon/sa/userspace/ah.hpp"

#include "daemon/sa/userspace/ip_hdr.hpp"

namespace qvpn::sa::us {

namespace {

constexpr size_t kAhFixed = 12;  // next header, length, reserved, SPI, sequence

size_t align(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

Result<std::unique_ptr<AhTransform>> AhTransform::create(const SaKeys& k, bool esn) {
    std::unique_ptr<AhTransform> t(new AhTransform);
    QVPN_ASSIGN(t->integ_, Integrity::create(k.integ, k.integ_key));
    t->esn_ = esn;
    return t;
}

size_t AhTransform::header_len(bool v6) const {
    // RFC 4302 2.2: 32-bit alignment with IPv4, 64-bit with IPv6. Linux
    // checks the length exactly: IPv4 SAs of RFC-following IKE daemons
    // (strongSwan, Libreswan, qvpn's kernel path) carry XFRM_STATE_ALIGN4
    // and refuse a 64-bit padded header. Received headers may be either.
    return align(kAhFixed + integ_->icv_len(), v6 ? 8 : 4);
}

bool AhTransform::peek(const uint8_t* ah, size_t len, uint32_t& spi, uint32_t& seq_lo) {
    if (len < kAhFixed) {
        return false;
    }
    spi = get_be32(ah + 4);
    seq_lo = get_be32(ah + 8);
    return true;
}

// RFC 4302 3.3.3.1: the ICV input is the IP header with its mutable fields
// zeroed, the AH header with a zero ICV field, the payload, and (ESN) the
// high sequence bits. ah..ah+rest_len is the AH header and payload.
bool AhTransform::icv(const uint8_t* ip_hdr, size_t ip_len, uint8_t* ah, size_t rest_len,
                      uint64_t seq, uint8_t* out) {
    size_t icv_field = size_t(ah[1] + 2) * 4 - kAhFixed;  // ICV and its padding
    uint8_t hdr[kIpv6Hdr];
    std::memcpy(hdr, ip_hdr, ip_len);
    if (ip_len == kIpv4Hdr) {
        hdr[1] = 0;                   // TOS
        put_be16(hdr + 6, 0);         // flags, fragment offset
        hdr[8] = 0;                   // TTL
        put_be16(hdr + 10, 0);        // checksum
    } else {
        hdr[0] = 0x60;                // traffic class and flow label
        hdr[1] = hdr[2] = hdr[3] = 0;
        hdr[7] = 0;                   // hop limit
    }
    // The ICV field is zeroed in place for the computation and restored.
    uint8_t saved[64];
    std::memcpy(saved, ah + kAhFixed, icv_field);
    std::memset(ah + kAhFixed, 0, icv_field);
    bool good;
    if (!esn_) {
        good = integ_->compute(hdr, ip_len, ah, rest_len, out);
    } else {
        // The high bits follow the payload in the ICV input only: borrow the
        // four bytes after the payload (callers guarantee the tailroom).
        uint8_t tail[4];
        std::memcpy(tail, ah + rest_len, 4);
        put_be32(ah + rest_len, uint32_t(seq >> 32));
        good = integ_->compute(hdr, ip_len, ah, rest_len + 4, out);
        std::memcpy(ah + rest_len, tail, 4);
    }
    std::memcpy(ah + kAhFixed, saved, icv_field);
    return good;
}

bool AhTransform::seal(Pkt& p, const IpAddress& src, const IpAddress& dst, uint32_t spi,
                       uint64_t seq, uint8_t next_header, uint16_t ip_id) {
    bool v6 = src.is_v6();
    size_t hl = header_len(v6);
    // With ESN the ICV briefly borrows 4 bytes after the payload.
    if (p.tailroom() < 4 || !p.push(hl)) {
        return false;
    }
    uint8_t* ah = p.data();
    ah[0] = next_header;
    ah[1] = uint8_t(hl / 4 - 2);  // RFC 4302 2.2: length in 32-bit words minus 2
    ah[2] = ah[3] = 0;
    put_be32(ah + 4, spi);
    put_be32(ah + 8, uint32_t(seq));
    std::memset(ah + kAhFixed, 0, hl - kAhFixed);
    size_t rest = p.len;
    if (!push_ip_header(p, src, dst, 51, ip_id)) {
        return false;
    }
    size_t ip_len = v6 ? kIpv6Hdr : kIpv4Hdr;
    uint8_t full[64];
    if (!icv(p.data(), ip_len, ah, rest, seq, full)) {
        return false;
    }
    std::memcpy(ah + kAhFixed, full, integ_->icv_len());
    if (v6) {
        p.pull(kIpv6Hdr);
    }
    return true;
}

AhTransform::Verdict AhTransform::open(Pkt& p, const IpAddress& src, const IpAddress& dst,
                                       uint64_t seq, uint8_t& next_header) {
    bool v6 = src.is_v6();
    uint8_t hdr6[kIpv6Hdr];
    const uint8_t* ip = nullptr;
    size_t ip_len = 0;
    if (!v6) {
        if (p.len < kIpv4Hdr || (p.data()[0] >> 4) != 4) {
            return Verdict::Short;
        }
        // IPv4 options would need their own mutability rules (RFC 4302
        // appendix A1); qvpn peers do not send them.
        if ((p.data()[0] & 0x0f) != 5) {
            return Verdict::Malformed;
        }
        ip = p.data();
        ip_len = kIpv4Hdr;
    } else {
        // Rebuild the header the sender's ICV covered (RFC 4302 A2: only
        // addresses, payload length and next header are immutable here).
        std::memset(hdr6, 0, sizeof hdr6);
        put_be32(hdr6, 0x60000000);
        put_be16(hdr6 + 4, uint16_t(p.len));
        hdr6[6] = 51;
        std::memcpy(hdr6 + 8, src.data(), 16);
        std::memcpy(hdr6 + 24, dst.data(), 16);
        ip = hdr6;
        ip_len = kIpv6Hdr;
    }
    uint8_t* ah = p.data() + (v6 ? 0 : kIpv4Hdr);
    size_t rest = p.len - (v6 ? 0 : kIpv4Hdr);
    if (rest < kAhFixed) {
        return Verdict::Short;
    }
    size_t hl = size_t(ah[1] + 2) * 4;
    size_t need = kAhFixed + integ_->icv_len();
    if (hl != align(need, 8) && (v6 || hl != align(need, 4))) {
        return Verdict::Malformed;
    }
    if (rest < hl) {
        return Verdict::Short;
    }
    if (p.tailroom() < 4) {
        return Verdict::Short;
    }
    uint8_t want[64];
    uint8_t got[64];
    std::memcpy(got, ah + kAhFixed, integ_->icv_len());
    if (!icv(ip, ip_len, ah, rest, seq, want) ||
        !equal_ct(ByteView(want, integ_->icv_len()), ByteView(got, integ_->icv_len()))) {
        return Verdict::Integrity;
    }
    next_header = ah[0];
    p.pull((v6 ? 0 : kIpv4Hdr) + hl);
    return Verdict::Ok;
}

}  // namespace qvpn::sa::us
