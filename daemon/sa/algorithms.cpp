#include "daemon/sa/algorithms.hpp"

namespace qvpn::sa {

using ike::EncrId;
using ike::IntegId;

namespace {

// RFC 4303 2.4: the ESP trailer ends on a 4-byte boundary, so 4 is the
// smallest alignment even for stream modes.
constexpr EncrInfo kEncr[] = {
    {EncrId::ENCR_DES, "cbc(des)", false, false, 0, 8, 8, 0, {64, 0, 0}},
    {EncrId::ENCR_3DES, "cbc(des3_ede)", false, false, 0, 8, 8, 0, {192, 0, 0}},
    {EncrId::ENCR_NULL, "ecb(cipher_null)", false, false, 0, 0, 4, 0, {0, 0, 0}},
    {EncrId::ENCR_AES_CBC, "cbc(aes)", false, false, 0, 16, 16, 0, {128, 192, 256}},
    // RFC 3686: 4-byte nonce after the key.
    {EncrId::ENCR_AES_CTR, "rfc3686(ctr(aes))", false, false, 4, 8, 4, 0, {128, 192, 256}},
    // RFC 4309: 3-byte salt.
    {EncrId::ENCR_AES_CCM_8, "rfc4309(ccm(aes))", true, false, 3, 8, 4, 8, {128, 192, 256}},
    {EncrId::ENCR_AES_CCM_12, "rfc4309(ccm(aes))", true, false, 3, 8, 4, 12, {128, 192, 256}},
    {EncrId::ENCR_AES_CCM_16, "rfc4309(ccm(aes))", true, false, 3, 8, 4, 16, {128, 192, 256}},
    // RFC 4106: 4-byte salt.
    {EncrId::ENCR_AES_GCM_8, "rfc4106(gcm(aes))", true, false, 4, 8, 4, 8, {128, 192, 256}},
    {EncrId::ENCR_AES_GCM_12, "rfc4106(gcm(aes))", true, false, 4, 8, 4, 12, {128, 192, 256}},
    {EncrId::ENCR_AES_GCM_16, "rfc4106(gcm(aes))", true, false, 4, 8, 4, 16, {128, 192, 256}},
    // RFC 4543: GMAC over the whole packet, payload in clear, 16-byte ICV.
    {EncrId::ENCR_NULL_AUTH_AES_GMAC, "rfc4543(gcm(aes))", true, true, 4, 8, 4, 16,
     {128, 192, 256}},
};

constexpr IntegInfo kInteg[] = {
    {IntegId::AUTH_HMAC_MD5_96, "hmac(md5)", 128, 96},
    {IntegId::AUTH_HMAC_SHA1_96, "hmac(sha1)", 160, 96},
    {IntegId::AUTH_AES_XCBC_96, "xcbc(aes)", 128, 96},
    {IntegId::AUTH_HMAC_SHA2_256_128, "hmac(sha256)", 256, 128},
    {IntegId::AUTH_HMAC_SHA2_384_192, "hmac(sha384)", 384, 192},
    {IntegId::AUTH_HMAC_SHA2_512_256, "hmac(sha512)", 512, 256},
};

}  // namespace

const EncrInfo* encr_info(EncrId id) {
    for (const auto& e : kEncr) {
        if (e.id == id) {
            return &e;
        }
    }
    return nullptr;
}

const IntegInfo* integ_info(IntegId id) {
    for (const auto& i : kInteg) {
        if (i.id == id) {
            return &i;
        }
    }
    return nullptr;
}

bool encr_key_bits_ok(const EncrInfo& e, unsigned bits) {
    for (uint16_t b : e.key_bits) {
        if (b == bits && (b != 0 || e.id == EncrId::ENCR_NULL)) {
            return true;
        }
        if (b == 0) {
            break;
        }
    }
    return false;
}

size_t encr_key_bytes(const EncrInfo& e, unsigned key_bits) {
    return key_bits / 8 + e.salt_bytes;
}

}  // namespace qvpn::sa
