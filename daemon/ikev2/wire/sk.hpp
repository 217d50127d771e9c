// The Encrypted payload (RFC 7296 3.14) and Encrypted Fragment payload
// (RFC 7383 2.5): padding, IV, integrity or AEAD (RFC 5282) framing around
// the crypto suite's ciphers.
//
// Layout of a protected message:
//   IKE header | SK header (4) [| Fragment Number, Total Fragments (4)]
//   | IV | E(payloads | padding | pad length) | ICV
// Without AEAD the ICV is the integrity checksum over everything before it;
// with AEAD the associated data is everything before the IV and the ICV is
// the cipher's tag.
#pragma once

#include <optional>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/crypto/cipher.hpp"
#include "daemon/ike/crypto/integrity.hpp"
#include "daemon/ikev2/wire/message.hpp"

namespace qvpn::ikev2 {

// The keys of one direction: SK_ei/SK_ai for what the initiator sends,
// SK_er/SK_ar for what the responder sends.
struct SkDirection {
    SecretBytes encr_key;
    SecretBytes integ_key;  // empty with AEAD
};

// The IKE SA's protection: the negotiated cipher and integrity plus our
// outbound and inbound keys.
struct SkCrypto {
    ike::crypto::Cipher cipher;
    std::optional<ike::crypto::Integrity> integ;  // none with AEAD
    SkDirection out, in;

    // Bytes a protected message adds around its plaintext payloads at most
    // (header, SK header, IV, largest padding, pad length, ICV).
    size_t overhead(bool fragment) const;
    size_t icv_size() const;
};

// A whole protected message: `header` (exchange, flags, message ID, SPIs)
// with `inner` inside one SK payload. Fails only on crypto errors.
Result<Bytes> protect(Header header, const std::vector<Payload>& inner, const SkCrypto& c,
                      Random& rng);

// The same message as RFC 7383 fragments of at most `max_len` bytes each
// (the IKE message size, without IP/UDP headers and the non-ESP marker).
// IKE0807 when `max_len` leaves no room for content or more than
// kMaxFragments would be needed.
Result<std::vector<Bytes>> protect_fragments(Header header, const std::vector<Payload>& inner,
                                             const SkCrypto& c, Random& rng, size_t max_len);

// Checks and decrypts the SK or SKF payload of `m` (parsed from
// `datagram`). Returns the plaintext payload bytes (padding removed).
// IKE0805 for an integrity or AEAD failure (the caller drops the message
// silently: RFC 7296 2.21.1), IKE0806 for a body that cannot be valid.
Result<Bytes> unprotect(ByteView datagram, const Message& m, const SkCrypto& c);

// unprotect() plus parsing the inner chain of an SK payload.
Result<std::vector<Payload>> open_sk(ByteView datagram, const Message& m, const SkCrypto& c);

// RFC 7383: we reassemble up to this many fragments of one message.
inline constexpr uint16_t kMaxFragments = 64;

}  // namespace qvpn::ikev2
