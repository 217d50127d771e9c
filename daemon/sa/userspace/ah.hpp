// AH (RFC 4302) in userspace: the ICV covers the outer IP header (mutable
// fields zeroed), the AH header and everything after it, plus the high half
// of the sequence number with ESN. One AhTransform per SA direction and
// thread, like EspTransform.
#pragma once

#include <memory>

#include "core/base/ip.hpp"
#include "daemon/sa/sa_types.hpp"
#include "daemon/sa/userspace/esp_crypto.hpp"
#include "daemon/sa/userspace/packet.hpp"

namespace qvpn::sa::us {

class AhTransform {
public:
    enum class Verdict { Ok, Short, Malformed, Integrity };

    static Result<std::unique_ptr<AhTransform>> create(const SaKeys& keys, bool esn);

    // AH header length as sent (the ICV padded to 64 bits for either
    // family; see ah.cpp).
    size_t header_len(bool v6) const;

    // p holds what AH protects (an ESP packet, an inner IP packet, or a
    // transport payload); afterwards it holds the outer IP header, the AH
    // header and the payload. With IPv6, the header is left off again
    // (raw IPv6 sockets build it themselves; the ICV already covers the one
    // the kernel will write). ip_id is IPv4's identification (immutable, so
    // the sender must fix it before the ICV).
    bool seal(Pkt& p, const IpAddress& src, const IpAddress& dst, uint32_t spi, uint64_t seq,
              uint8_t next_header, uint16_t ip_id);

    // p holds an IPv4 packet starting with its header (raw IPv4 sockets
    // deliver it so), or for IPv6 the AH header onwards with the outer
    // addresses given. On Ok p holds what AH protected, next_header is set.
    // peek() reads the SPI and sequence number for the replay check first.
    Verdict open(Pkt& p, const IpAddress& src, const IpAddress& dst, uint64_t seq,
                 uint8_t& next_header);

    // The SPI and low sequence number of an AH header at p (after any IP
    // header); false if too short.
    static bool peek(const uint8_t* ah, size_t len, uint32_t& spi, uint32_t& seq_lo);

private:
    AhTransform() = default;
    bool icv(const uint8_t* ip_hdr, size_t ip_len, uint8_t* ah, size_t rest_len, uint64_t seq,
             uint8_t* out);

    std::unique_ptr<Integrity> integ_;
    bool esn_ = false;
};

}  // namespace qvpn::sa::us
