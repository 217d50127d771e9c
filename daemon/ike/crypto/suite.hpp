// The bridge between the policy model's CL algorithm names
// (core/policy/model.hpp) and IANA transform IDs, plus the facts the key
// derivation needs for every transform (key, salt and ICV sizes) and the
// rules which combinations make a valid IKE, ESP or AH suite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::crypto {

// An encryption transform: its ID and key length (the Key Length attribute
// for AES; 0 for the fixed-length DES, 3DES and NULL).
struct EncrAlg {
    EncrId id = EncrId::ENCR_NULL;
    uint16_t key_bits = 0;
    bool operator==(const EncrAlg&) const = default;
};

// What an SA is for.
enum class SaUse { Ike, Esp, Ah };

// The transforms of an IKE SA (one proposal's choice).
struct IkeSuite {
    EncrAlg encr;
    PrfId prf = PrfId::PRF_HMAC_SHA2_256;
    IntegId integ = IntegId::NONE;  // NONE with AEAD ciphers
    DhId dh = DhId::ECP_256;
    bool operator==(const IkeSuite&) const = default;
};

// The transforms of one ESP or AH SA.
struct ChildSuite {
    SaUse use = SaUse::Esp;           // Esp or Ah
    EncrAlg encr;                     // ENCR_NULL for AH
    IntegId integ = IntegId::NONE;    // NONE with AEAD ciphers and GMAC
    bool operator==(const ChildSuite&) const = default;
};

// --- facts per transform ----------------------------------------------------

// Whether the Key Length attribute must be sent (AES) or must not (others).
bool encr_has_key_length(EncrId id);
// Whether (id, key_bits) names a real algorithm; key_bits 0 means "the fixed
// size" for algorithms without a Key Length attribute.
bool encr_valid(EncrAlg alg);
bool encr_is_aead(EncrId id);              // GCM and CCM
bool encr_is_auth_only(EncrId id);         // ENCR_NULL_AUTH_AES_GMAC
// Key material bytes for the encryption transform: the key plus the salt or
// nonce of RFC 3686 (CTR, 4), RFC 4106 (GCM, 4), RFC 4309 (CCM, 3) and RFC
// 4543 (GMAC, 4). 0 for ENCR_NULL; nullopt when invalid.
std::optional<size_t> encr_keymat_size(EncrAlg alg);
size_t encr_salt_size(EncrId id);
// Integrity key bytes (GMAC: key plus 4-byte salt); nullopt for unknown IDs.
std::optional<size_t> integ_key_size(IntegId id);
std::optional<size_t> integ_icv_size(IntegId id);
std::string_view encr_name(EncrId id);
std::string_view prf_name(PrfId id);
std::string_view integ_name(IntegId id);
std::string_view dh_name(DhId id);

// --- policy model <-> IANA ---------------------------------------------------

// *NONE maps to ENCR_NULL; *AESGMACnnn to ENCR_NULL_AUTH_AES_GMAC.
EncrAlg encr_from_policy(policy::Encr e);
std::optional<policy::Encr> encr_to_policy(EncrAlg alg);

// The IKE hash choice sets the PRF and, for non-AEAD ciphers, the integrity
// algorithm: *SHA256 -> PRF_HMAC_SHA2_256 + AUTH_HMAC_SHA2_256_128,
// *AESXCBC -> PRF_AES128_XCBC + AUTH_AES_XCBC_96.
PrfId prf_from_policy(policy::Hash h);
IntegId integ_from_policy(policy::Hash h);
std::optional<policy::Hash> hash_from_prf(PrfId id);

IntegId integ_from_policy(policy::DataAuth a);
std::optional<policy::DataAuth> data_auth_from_integ(IntegId id);

DhId dh_from_policy(policy::DhGroup g);
std::optional<policy::DhGroup> dh_to_policy(DhId id);

// The IKE SA suite of one key policy transform.
IkeSuite ike_suite_from_policy(const policy::KeyTransform& t);
// The ESP and/or AH suites of one data policy transform (*AHESP gives both:
// AH with the transform's authentication and ESP with its encryption).
struct DataSuites {
    std::optional<ChildSuite> esp, ah;
};
DataSuites child_suites_from_policy(const policy::DataTransform& t);

// --- validity ----------------------------------------------------------------

// IKE0008 (NO_PROPOSAL_CHOSEN) with the reason in &2 when the combination is
// not allowed: AEAD with an integrity algorithm, a non-AEAD IKE or AH SA
// without one, GMAC outside ESP, ENCR_NULL in IKE, encryption in AH, GMAC
// integrity IDs in IKE, or an ESP SA with neither encryption nor integrity.
Status check_ike_suite(const IkeSuite& s);
Status check_child_suite(const ChildSuite& s);

// IKE0012 warnings (severity 10), one per deemphasized algorithm in the
// suite (DES, MD5, DH groups 1 and 2; RFC 8221, RFC 8247), for the key
// manager to log when such a suite is negotiated. Empty when all is well.
std::vector<Msg> deemphasized_warnings(const IkeSuite& s);
std::vector<Msg> deemphasized_warnings(const ChildSuite& s, DhId pfs = DhId::NONE);

}  // namespace qvpn::ike::crypto
