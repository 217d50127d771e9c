// TUN offloads for the userspace data path: the kernel hands us up to 64 KiB
// TCP "super-packets" (TSO, announced in a virtio_net_hdr in front of each
// packet), which we cut into MTU-sized segments before encryption; and on
// the way back consecutive decrypted segments of one TCP flow are joined into
// one such packet before they are written to the device (GRO). Both save the
// kernel's per-packet work, which dominates a TUN data path otherwise.
//
// Pure functions on byte buffers: no syscalls, unit-tested on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace qvpn::sa::us {

// The 10-byte legacy virtio_net_hdr TUN puts in front of each packet with
// IFF_VNET_HDR (fields little-endian, as on every host we run on).
struct VnetHdr {
    static constexpr size_t kSize = 10;
    static constexpr uint8_t kNeedsCsum = 1;
    static constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4, kGsoEcn = 0x80;
    uint8_t flags = 0;
    uint8_t gso_type = kGsoNone;
    uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;

    static VnetHdr read(const uint8_t* p);
    void write(uint8_t* p) const;
};

// One's complement sum helpers (RFC 1071).
uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);  // folded, not inverted

// Complete a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM).
bool finish_checksum(uint8_t* pkt, size_t len, const VnetHdr& h);

// Cut a TSO packet (IPv4 or IPv6 without extension headers, TCP) into
// segments of at most gso_size payload bytes, each a complete IP packet with
// correct lengths, IPv4 identification and checksum, TCP sequence number,
// flags and checksum. out(n) returns a buffer of at least n bytes for the
// next segment (or nullptr to stop); done(len) reports its length. Returns
// the number of segments, or -1 if the packet is not a TCP packet we can cut.
int tcp_segment(const uint8_t* pkt, size_t len, uint16_t gso_size,
                const std::function<uint8_t*(size_t)>& out,
                const std::function<void(size_t)>& done);

// Joins consecutive segments of one TCP flow into one GSO packet. add()
// takes an IP packet; whatever cannot join the current one makes the current
// one go out through emit() first. flush() emits what is pending. emit gets
// the packet with VnetHdr::kSize bytes of room before it (the header is
// written there) and the total length including the header.
class Coalescer {
public:
    using Emit = std::function<void(uint8_t* with_hdr, size_t len)>;
    Coalescer(uint8_t* buf, size_t cap, Emit emit) : buf_(buf), cap_(cap), emit_(std::move(emit)) {}

    void add(const uint8_t* pkt, size_t len);
    void flush();
    uint64_t merged() const { return merged_; }  // segments that joined another

private:
    bool start(const uint8_t* pkt, size_t len);  // false: not a candidate
    bool fits(const uint8_t* pkt, size_t len) const;
    void emit_single(const uint8_t* pkt, size_t len);

    uint8_t* buf_;
    size_t cap_;
    Emit emit_;
    size_t len_ = 0;        // bytes of the pending packet (after the header room)
    size_t hdr_ = 0;        // IP + TCP header length
    size_t ip_ = 0;         // IP header length
    bool v6_ = false;
    uint16_t gso_ = 0;      // payload size of every segment but the last
    uint32_t next_seq_ = 0;
    int count_ = 0;
    bool closed_ = false;   // a short segment or PSH ended it
    uint64_t merged_ = 0;
};

}  // namespace qvpn::sa::us
