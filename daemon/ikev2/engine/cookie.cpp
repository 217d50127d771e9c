#include "daemon/ikev2/engine/cookie.hpp"

#include "daemon/ike/crypto/prf.hpp"

namespace qvpn::ikev2 {

namespace {
constexpr size_t kSecretLen = 32;
}  // namespace

CookieJar::CookieJar(Random& rng, std::chrono::seconds rotation)
    : rng_(rng), rotation_(rotation) {}

void CookieJar::rotate(SteadyTime now) {
    if (have_ && now - rotated_ < rotation_) {
        return;
    }
    previous_ = current_;
    current_ = SecretBytes(kSecretLen);
    rng_.fill({current_.data(), current_.size()});
    version_ = static_cast<uint8_t>(version_ + 1);
    rotated_ = now;
    have_ = true;
}

Bytes CookieJar::compute(const SecretBytes& secret, uint8_t version, ByteView ni,
                         const IpAddress& peer, uint64_t spi_i) const {
    ByteWriter data;
    data.bytes(ni).bytes(ByteView(peer.data(), peer.size())).u64(spi_i);
    static const auto prf = ike::crypto::Prf::create(ike::PrfId::PRF_HMAC_SHA2_256);
    Bytes out{version};
    if (!prf.ok()) {
        return out;  // never matches: check() compares the whole cookie
    }
    auto mac = prf->compute(secret, data.data());
    if (mac.ok()) {
        out.insert(out.end(), mac->data(), mac->data() + mac->size());
    }
    return out;
}

Bytes CookieJar::make(ByteView ni, const IpAddress& peer, uint64_t spi_i, SteadyTime now) {
    rotate(now);
    return compute(current_, version_, ni, peer, spi_i);
}

bool CookieJar::check(ByteView cookie, ByteView ni, const IpAddress& peer, uint64_t spi_i,
                      SteadyTime now) {
    rotate(now);
    if (cookie.size() < 2) {
        return false;
    }
    if (cookie[0] == version_) {
        return equal_ct(cookie, compute(current_, version_, ni, peer, spi_i));
    }
    if (cookie[0] == static_cast<uint8_t>(version_ - 1) && !previous_.empty()) {
        return equal_ct(cookie, compute(previous_, cookie[0], ni, peer, spi_i));
    }
    return false;
}

}  // namespace qvpn::ikev2
