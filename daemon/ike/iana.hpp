// IANA code points of the IKEv2 registries, with their IANA names so they
// can be grepped against the RFCs. Shared by the IKE codec, the key managers
// and the SA backends (transform IDs describe negotiated SAs end to end).
#pragma once

#include <cstdint>

namespace qvpn::ike {

// RFC 7296 3.3.2, Transform Type 1 (plus RFC 4106, 4309, 4543, 5282).
enum class EncrId : uint16_t {
    ENCR_DES = 2,
    ENCR_3DES = 3,
    ENCR_NULL = 11,
    ENCR_AES_CBC = 12,
    ENCR_AES_CTR = 13,
    ENCR_AES_CCM_8 = 14,
    ENCR_AES_CCM_12 = 15,
    ENCR_AES_CCM_16 = 16,
    ENCR_AES_GCM_8 = 18,
    ENCR_AES_GCM_12 = 19,
    ENCR_AES_GCM_16 = 20,
    ENCR_NULL_AUTH_AES_GMAC = 21,
};

// Transform Type 2.
enum class PrfId : uint16_t {
    PRF_HMAC_MD5 = 1,
    PRF_HMAC_SHA1 = 2,
    PRF_AES128_XCBC = 4,
    PRF_HMAC_SHA2_256 = 5,
    PRF_HMAC_SHA2_384 = 6,
    PRF_HMAC_SHA2_512 = 7,
};

// Transform Type 3.
enum class IntegId : uint16_t {
    NONE = 0,
    AUTH_HMAC_MD5_96 = 1,
    AUTH_HMAC_SHA1_96 = 2,
    AUTH_AES_XCBC_96 = 5,
    AUTH_AES_128_GMAC = 9,
    AUTH_AES_192_GMAC = 10,
    AUTH_AES_256_GMAC = 11,
    AUTH_HMAC_SHA2_256_128 = 12,
    AUTH_HMAC_SHA2_384_192 = 13,
    AUTH_HMAC_SHA2_512_256 = 14,
};

// Transform Type 4 (Diffie-Hellman group).
enum class DhId : uint16_t {
    NONE = 0,
    MODP_768 = 1,
    MODP_1024 = 2,
    MODP_2048 = 14,
    ECP_256 = 19,
    ECP_384 = 20,
    MODP_2048_256 = 24,
};

// Transform Type 5.
enum class EsnId : uint16_t {
    NO_ESN = 0,
    ESN = 1,
};

}  // namespace qvpn::ike
