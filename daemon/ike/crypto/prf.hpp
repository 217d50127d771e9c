// Pseudo-random functions of the IKE SA (RFC 7296 Transform Type 2) and the
// prf+ expansion of RFC 7296 2.13.
//
// A Prf is an immutable description plus cached OpenSSL handles: copy it
// freely, share one between threads for reading; each compute() call uses
// its own OpenSSL context.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct PrfImpl;
}

class Prf {
public:
    // IKE0001 (with NO_PROPOSAL_CHOSEN) for an ID this library does not know.
    static Result<Prf> create(PrfId id);

    PrfId id() const { return id_; }
    std::string_view name() const;

    // Length of one output block (16 for AES-XCBC-PRF-128, the hash length
    // for HMAC).
    size_t output_size() const;
    // RFC 7296 2.13/2.14: the key length used for SK_d, SK_pi and SK_pr:
    // the output size for HMAC PRFs, 16 for AES-XCBC-PRF-128.
    size_t preferred_key_size() const;
    // True for PRFs that take a fixed-size key (AES-XCBC-PRF-128). Keys of
    // other lengths are still accepted: RFC 4434 pads short keys with zeros
    // and compresses long keys with the PRF under an all-zero key.
    bool fixed_key_size() const;
    bool deemphasized() const { return id_ == PrfId::PRF_HMAC_MD5; }

    // prf(key, data). Fails only when OpenSSL fails (IKE0003).
    Result<SecretBytes> compute(ByteView key, ByteView data) const;
    // prf(key, part1 | part2 | ...) without joining the parts first.
    Result<SecretBytes> compute(ByteView key, std::initializer_list<ByteView> parts) const;

private:
    Prf(PrfId id, std::shared_ptr<const detail::PrfImpl> impl)
        : id_(id), impl_(std::move(impl)) {}
    PrfId id_ = PrfId::PRF_HMAC_SHA2_256;
    std::shared_ptr<const detail::PrfImpl> impl_;
};

// RFC 7296 2.13: prf+(K, S) = T1 | T2 | ..., Tn = prf(K, Tn-1 | S | n),
// truncated to `length` bytes. The counter is one octet, so more than 255
// blocks are refused (IKE0004).
Result<SecretBytes> prf_plus(const Prf& prf, ByteView key, ByteView seed, size_t length);

}  // namespace qvpn::ike::crypto
