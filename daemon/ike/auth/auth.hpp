// The AUTH payload of RFC 7296 2.15: shared key MIC, RSA digital signature
// (method 1), ECDSA of RFC 4754 (methods 9, 10, 11) and the Digital
// Signature method of RFC 7427 (method 14), plus the hash algorithm list of
// the SIGNATURE_HASH_ALGORITHMS notify.
//
// Input is always the signed octets (RFC 7296 2.15: the first message,
// the peer's nonce and prf(SK_p, IDx')), which the protocol engine builds;
// output is the AUTH payload's Authentication Data. Verification failures
// carry AUTHENTICATION_FAILED.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/auth/keys.hpp"
#include "daemon/ike/crypto/prf.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::auth {

// --- shared key (method 2) ---------------------------------------------------

// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>).
Result<Bytes> psk_auth(const crypto::Prf& prf, ByteView psk, ByteView signed_octets);
// IKE0102 (AUTHENTICATION_FAILED) when `auth_data` differs; constant time.
Status psk_verify(const crypto::Prf& prf, ByteView psk, ByteView signed_octets,
                  ByteView auth_data);

// --- signatures --------------------------------------------------------------

// The method and hash we sign with.
struct SignScheme {
    AuthMethod method = AuthMethod::DIGITAL_SIGNATURE;
    HashAlgorithm hash = HashAlgorithm::SHA2_256;  // used by method 14 only
};

// The classic method for a key: 1 for RSA, 9/10/11 for P-256/P-384/P-521.
std::optional<AuthMethod> classic_method(KeyType t);

// Authentication Data for `scheme`:
//   method 1:  RSASSA-PKCS1-v1_5 with SHA-1 (RFC 7296 3.8);
//   9/10/11:   ECDSA with SHA-256/384/512 on P-256/384/521, r || s (RFC 4754);
//   14:        1-octet length | AlgorithmIdentifier DER | signature (RFC 7427
//              3): PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for ECDSA.
// IKE0103 when the key does not fit the method (an RSA key for method 9, a
// P-384 key for method 9, SHA-1 with ECDSA in method 14, ...).
Result<Bytes> sign(const SignScheme& scheme, const PrivateKey& key, ByteView signed_octets);

// Checks Authentication Data of `method` against the peer's key. For method
// 14 the AlgorithmIdentifier must be one of ours, fit the key type and use a
// hash in `accepted` (empty: any of SHA-256/384/512). IKE0102
// (AUTHENTICATION_FAILED) for a bad signature; IKE0103 for a method or
// algorithm that does not fit the key; IKE0104 for malformed data.
Status verify(AuthMethod method, const PublicKey& key, ByteView signed_octets,
              ByteView auth_data, std::span<const HashAlgorithm> accepted = {});

// RFC 7427 3: the DER AlgorithmIdentifier for a key type and hash, as
// carried in method 14 (nullopt when the pair is not supported).
std::optional<Bytes> algorithm_identifier(KeyType type, HashAlgorithm hash);

// --- SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) ------------------------------------

// The hashes we support for method 14, in our order of preference.
std::span<const HashAlgorithm> supported_hashes();
// Notification Data: a list of 16-bit hash algorithm IDs.
Bytes encode_hash_algorithms(std::span<const HashAlgorithm> hashes);
// Unknown IDs are kept out of the list (the peer may support more than we
// know); IKE0105 (INVALID_SYNTAX) for an odd length.
Result<std::vector<HashAlgorithm>> decode_hash_algorithms(ByteView data);
// Our most preferred hash the peer also supports for `key`: one as strong as
// the curve first (SHA-384 for P-384, SHA-512 for P-521), else SHA-256,
// SHA-384, SHA-512; nullopt when there is none (fall back to the classic
// method).
std::optional<HashAlgorithm> choose_hash(std::span<const HashAlgorithm> peer, KeyType key);

}  // namespace qvpn::ike::auth
