// Stateless cookies (RFC 7296 2.6): while too many IKE SAs are half open,
// the responder answers IKE_SA_INIT with a COOKIE and keeps no state until
// the initiator repeats its request with that cookie.
//
//   Cookie = <secret version> | HMAC-SHA2-256(secret, Ni | IPi | SPIi)
//
// The secret changes every rotation period; a cookie made with the previous
// secret is still accepted, so an initiator in the middle of a retry is not
// turned away at the moment of rotation.
#pragma once

#include <cstdint>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/ip.hpp"

namespace qvpn::ikev2 {

class CookieJar {
public:
    CookieJar(Random& rng, std::chrono::seconds rotation);

    Bytes make(ByteView ni, const IpAddress& peer, uint64_t spi_i, SteadyTime now);
    bool check(ByteView cookie, ByteView ni, const IpAddress& peer, uint64_t spi_i,
               SteadyTime now);

private:
    void rotate(SteadyTime now);
    Bytes compute(const SecretBytes& secret, uint8_t version, ByteView ni, const IpAddress& peer,
                  uint64_t spi_i) const;

    Random& rng_;
    std::chrono::seconds rotation_;
    SteadyTime rotated_{};
    bool have_ = false;
    uint8_t version_ = 0;
    SecretBytes current_, previous_;
};

}  // namespace qvpn::ikev2
