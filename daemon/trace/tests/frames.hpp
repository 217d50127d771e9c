// Frame builders for the trace tests: each header written field by field
// with explicit byte order, so a fixture reads like the RFC's diagram.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

// Boost.Test prints values it compares.
inline std::ostream& operator<<(std::ostream& o, Direction d) {
    return o << to_cl(d);
}
inline std::ostream& operator<<(std::ostream& o, DataDir d) {
    return o << to_cl(d);
}
inline std::ostream& operator<<(std::ostream& o, TraceFull f) {
    return o << to_cl(f);
}
inline std::ostream& operator<<(std::ostream& o, LinkType l) {
    return o << link_name(l);
}
inline std::ostream& operator<<(std::ostream& o, TraceState s) {
    return o << state_key(s);
}

}  // namespace qvpn::trace

namespace qvpn::trace::test {

inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

inline Bytes filler(size_t n, uint8_t start = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) {
        b[i] = static_cast<uint8_t>(start + i);
    }
    return b;
}

inline Bytes mac_bytes(uint8_t last) {
    return {0x02, 0x00, 0x5e, 0x10, 0x00, last};
}
inline Bytes broadcast_mac() {
    return Bytes(6, 0xff);
}

inline Bytes ethernet(const Bytes& dst, const Bytes& src, uint16_t type, const Bytes& payload) {
    ByteWriter w;
    w.bytes(dst).bytes(src).u16(type).bytes(payload);
    return w.take();
}

inline Bytes addr(const char* text) {
    IpAddress a = *IpAddress::parse(text);
    return Bytes(a.data(), a.data() + a.size());
}

// RFC 791 3.1, no options.
inline Bytes ipv4(const char* src, const char* dst, uint8_t proto, const Bytes& payload,
                  uint16_t frag = 0x4000, uint8_t ihl_words = 5) {
    ByteWriter w;
    w.u8(static_cast<uint8_t>(0x40 | ihl_words))
        .u8(0)
        .u16(static_cast<uint16_t>(20 + payload.size()));
    w.u16(0x1234).u16(frag).u8(64).u8(proto).u16(0);
    w.bytes(addr(src)).bytes(addr(dst)).bytes(payload);
    return w.take();
}

// RFC 8200 3.
inline Bytes ipv6(const char* src, const char* dst, uint8_t next, const Bytes& payload) {
    ByteWriter w;
    w.u32(0x60000000).u16(static_cast<uint16_t>(payload.size())).u8(next).u8(64);
    w.bytes(addr(src)).bytes(addr(dst)).bytes(payload);
    return w.take();
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
    ByteWriter w;
    w.u16(sport).u16(dport).u16(static_cast<uint16_t>(8 + payload.size())).u16(0).bytes(payload);
    return w.take();
}

inline Bytes tcp(uint16_t sport, uint16_t dport, uint16_t flags, const Bytes& payload,
                 uint8_t data_offset_words = 5) {
    ByteWriter w;
    w.u16(sport).u16(dport).u32(1000).u32(2000);
    w.u16(static_cast<uint16_t>(data_offset_words << 12 | flags)).u16(65535).u16(0).u16(0);
    w.zeros(data_offset_words > 5 ? (data_offset_words - 5u) * 4u : 0).bytes(payload);
    return w.take();
}

inline Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload) {
    ByteWriter w;
    w.u8(type).u8(0).u16(0).u16(id).u16(seq).bytes(payload);
    return w.take();
}

inline Bytes esp(uint32_t spi, uint32_t seq, const Bytes& payload) {
    ByteWriter w;
    w.u32(spi).u32(seq).bytes(payload);
    return w.take();
}

// RFC 4302 2: payload length in 32-bit words minus 2.
inline Bytes ah(uint8_t next, uint32_t spi, uint32_t seq, size_t icv_len, const Bytes& payload) {
    ByteWriter w;
    w.u8(next).u8(static_cast<uint8_t>((12 + icv_len) / 4 - 2)).u16(0).u32(spi).u32(seq);
    w.zeros(icv_len).bytes(payload);
    return w.take();
}

// RFC 826 for Ethernet/IPv4.
inline Bytes arp(uint16_t op, uint8_t sender_mac, const char* sender_ip, const char* target_ip) {
    ByteWriter w;
    w.u16(1).u16(0x0800).u8(6).u8(4).u16(op);
    w.bytes(mac_bytes(sender_mac)).bytes(addr(sender_ip));
    w.bytes(op == 1 ? Bytes(6, 0) : mac_bytes(1)).bytes(addr(target_ip));
    return w.take();
}

// An IKE payload: generic header (RFC 7296 3.2) and body.
inline Bytes ike_payload(uint8_t next, const Bytes& body, bool critical = false) {
    ByteWriter w;
    w.u8(next).u8(critical ? 0x80 : 0).u16(static_cast<uint16_t>(4 + body.size())).bytes(body);
    return w.take();
}

inline Bytes notify_v2(uint16_t type, const Bytes& data = {}) {
    ByteWriter w;
    w.u8(0).u8(0).u16(type).bytes(data);
    return w.take();
}

// RFC 7296 3.1 header; `length` 0 means "the real length".
inline Bytes ike_header(uint64_t ispi, uint64_t rspi, uint8_t next, uint8_t version,
                        uint8_t exchange, uint8_t flags, uint32_t msgid, const Bytes& payloads,
                        uint32_t length = 0) {
    ByteWriter w;
    w.u64(ispi).u64(rspi).u8(next).u8(version).u8(exchange).u8(flags).u32(msgid);
    w.u32(length != 0 ? length : static_cast<uint32_t>(28 + payloads.size())).bytes(payloads);
    return w.take();
}

// IKE_SA_INIT request as strongSwan sends it: SA KE Nonce N N V.
inline Bytes ike_sa_init(uint64_t ispi) {
    Bytes sa = ike_payload(34, filler(44));
    ByteWriter ke_body;
    ke_body.u16(14).u16(0).bytes(filler(32));
    Bytes ke = ike_payload(40, ke_body.take());
    Bytes nonce = ike_payload(41, filler(32, 0x40));
    Bytes n1 = ike_payload(41, notify_v2(16388, filler(20)));
    Bytes n2 = ike_payload(43, notify_v2(16389, filler(20)));
    Bytes v = ike_payload(0, filler(16, 0x80));
    return ike_header(ispi, 0, 33, 0x20, 34, 0x08, 0, cat({sa, ke, nonce, n1, n2, v}));
}

}  // namespace qvpn::trace::test
