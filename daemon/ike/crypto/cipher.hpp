// Encryption algorithms of the IKE SA's SK payload (RFC 7296 3.14) and
// their AEAD forms (RFC 5282): ENCR_DES (deemphasized), ENCR_3DES,
// ENCR_AES_CBC, ENCR_AES_CTR (RFC 5930), ENCR_AES_GCM_8/12/16 and
// ENCR_AES_CCM_8/12/16, each AES one with 128, 192 or 256-bit keys.
//
// Key material is the form RFC 7296 2.14 derives: the cipher key followed by
// the salt (4 bytes for GCM and CTR, 3 for CCM). The IV is the explicit
// per-message IV that travels in the SK payload. Padding (RFC 7296 3.14:
// Padding | Pad Length) is the caller's: plaintext for a block cipher must
// already be a multiple of block_size().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct CipherImpl;
}

class Cipher {
public:
    // key_bits: 128, 192 or 256 for AES (the Key Length attribute); 0 or
    // the fixed size for DES (64) and 3DES (192). IKE0001 for unknown IDs,
    // ENCR_NULL and ENCR_NULL_AUTH_AES_GMAC (ESP only), IKE0002 for a key
    // length the algorithm does not have; both carry NO_PROPOSAL_CHOSEN.
    static Result<Cipher> create(EncrId id, uint16_t key_bits);

    EncrId id() const { return id_; }
    uint16_t key_bits() const { return key_bits_; }  // without salt
    std::string_view name() const;

    size_t key_size() const;    // bytes of SK_ei / SK_er: key plus salt
    size_t salt_size() const;   // 4 (GCM, CTR), 3 (CCM) or 0
    size_t iv_size() const;     // explicit IV bytes in the SK payload
    size_t block_size() const;  // plaintext must be a multiple of this (1: any)
    size_t icv_size() const;    // AEAD tag bytes, 0 for the others
    bool is_aead() const { return icv_size() != 0; }
    bool deemphasized() const { return id_ == EncrId::ENCR_DES; }

    // Returns ciphertext || ICV (ICV only for AEAD). `aad` is the associated
    // data of RFC 5282 5.1 for AEAD and ignored otherwise. Fails with IKE0002
    // (key size), IKE0007 (IV size), IKE0006 (plaintext not block aligned) or
    // IKE0003 (OpenSSL).
    Result<Bytes> encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plaintext) const;
    // `input` is ciphertext || ICV. An AEAD authentication failure is IKE0005
    // and never returns plaintext. IKE0006 for a length that cannot be valid.
    Result<Bytes> decrypt(ByteView key, ByteView iv, ByteView aad, ByteView input) const;

private:
    Cipher(EncrId id, uint16_t bits, std::shared_ptr<const detail::CipherImpl> impl)
        : id_(id), key_bits_(bits), impl_(std::move(impl)) {}
    EncrId id_ = EncrId::ENCR_AES_CBC;
    uint16_t key_bits_ = 128;
    std::shared_ptr<const detail::CipherImpl> impl_;
};

}  // namespace qvpn::ike::crypto
