// Integrity algorithms of the IKE SA's SK payload (RFC 7296 Transform
// Type 3): HMAC-MD5-96, HMAC-SHA1-96, HMAC-SHA2-256-128/384-192/512-256
// (RFC 4868) and AES-XCBC-MAC-96 (RFC 3566).
//
// The AES-GMAC integrity IDs (RFC 4543) are for AH and ESP only; their key
// sizes come from suite.hpp, and Integrity::create refuses them.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct IntegImpl;
}

class Integrity {
public:
    // IKE0001 (NO_PROPOSAL_CHOSEN) for NONE, GMAC or unknown IDs.
    static Result<Integrity> create(IntegId id);

    IntegId id() const { return id_; }
    std::string_view name() const;
    size_t key_size() const;  // bytes of SK_ai / SK_ar
    size_t icv_size() const;  // bytes of the truncated checksum on the wire
    bool deemphasized() const { return id_ == IntegId::AUTH_HMAC_MD5_96; }

    // The truncated ICV over `data`. IKE0002 when the key has the wrong size.
    Result<Bytes> sign(ByteView key, ByteView data) const;
    // Compares in constant time. IKE0005 when the ICV does not match (or has
    // the wrong length); the caller drops the message silently (RFC 7296
    // 2.21.1 asks for no answer to a message that fails integrity).
    Status verify(ByteView key, ByteView data, ByteView icv) const;

private:
    Integrity(IntegId id, std::shared_ptr<const detail::IntegImpl> impl)
        : id_(id), impl_(std::move(impl)) {}
    IntegId id_ = IntegId::AUTH_HMAC_SHA2_256_128;
    std::shared_ptr<const detail::IntegImpl> impl_;
};

}  // namespace qvpn::ike::crypto
