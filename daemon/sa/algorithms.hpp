// Facts about the ESP/AH transforms both data paths support: key and salt
// sizes, IV and ICV lengths, block sizes, and the kernel's crypto API names.
// One table (algorithms.cpp) so the kernel and the userspace path can never
// disagree on a length.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/ike/iana.hpp"

namespace qvpn::sa {

struct EncrInfo {
    ike::EncrId id;
    std::string_view xfrm_name;   // "cbc(aes)", "rfc4106(gcm(aes))", ...
    bool aead;                    // combined mode: no separate integrity transform
    bool auth_only;               // AES-GMAC: authenticates, does not encrypt
    uint16_t salt_bytes;          // key material after the key (RFC 4106/4309/3686/4543)
    uint16_t iv_bytes;            // explicit IV in every packet
    uint16_t block_bytes;         // payload alignment (at least 4 for ESP)
    uint16_t icv_bytes;           // AEAD only
    uint16_t key_bits[3];         // allowed key lengths without salt, 0-terminated
};

struct IntegInfo {
    ike::IntegId id;
    std::string_view xfrm_name;   // "hmac(sha256)", "xcbc(aes)"
    uint16_t key_bits;
    uint16_t icv_bits;            // truncation (RFC 4868: half the hash for SHA-2)
};

// nullptr when qvpn does not support the transform on either path.
const EncrInfo* encr_info(ike::EncrId id);
const IntegInfo* integ_info(ike::IntegId id);

bool encr_key_bits_ok(const EncrInfo& e, unsigned bits);

// Bytes of key material for a transform and key length (key + salt).
size_t encr_key_bytes(const EncrInfo& e, unsigned key_bits);

}  // namespace qvpn::sa
