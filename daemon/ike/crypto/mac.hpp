// Internal: the keyed functions behind Prf and Integrity. HMAC through
// EVP_MAC, and AES-XCBC-MAC (RFC 3566) built on AES-128-CBC through EVP,
// since OpenSSL has no XCBC mode.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/crypto/ossl.hpp"

namespace qvpn::ike::crypto::detail {

class Mac {
public:
    // HMAC with `md`. The template context holds the digest so each call
    // duplicates it instead of fetching the digest again.
    static Result<Mac> hmac(ossl::MdName md);
    // AES-XCBC-MAC-96's untruncated core (16-byte output, 16-byte key).
    static Result<Mac> xcbc();

    bool is_xcbc() const { return xcbc_; }
    size_t output_size() const { return out_size_; }

    // Writes output_size() bytes to `out`.
    Status compute(ByteView key, std::initializer_list<ByteView> parts, uint8_t* out) const;

private:
    Mac() = default;
    bool xcbc_ = false;
    size_t out_size_ = 0;
    std::shared_ptr<EVP_MAC_CTX> tmpl_;
};

inline constexpr size_t kXcbcBlock = 16;

// RFC 3566 AES-XCBC-MAC over `parts` with a 16-byte key, 16-byte result.
Status xcbc_mac(ByteView key, std::initializer_list<ByteView> parts, uint8_t out[kXcbcBlock]);
// RFC 4434: the 16-byte key AES-XCBC-PRF-128 uses for a key of any length.
Status xcbc_prf_key(ByteView key, uint8_t out[kXcbcBlock]);

}  // namespace qvpn::ike::crypto::detail
