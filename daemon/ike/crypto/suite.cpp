#include "daemon/ike/crypto/suite.hpp"

namespace qvpn::ike::crypto {

using policy::Encr;

bool encr_has_key_length(EncrId id) {
    switch (id) {
    case EncrId::ENCR_AES_CBC: case EncrId::ENCR_AES_CTR:
    case EncrId::ENCR_AES_CCM_8: case EncrId::ENCR_AES_CCM_12: case EncrId::ENCR_AES_CCM_16:
    case EncrId::ENCR_AES_GCM_8: case EncrId::ENCR_AES_GCM_12: case EncrId::ENCR_AES_GCM_16:
    case EncrId::ENCR_NULL_AUTH_AES_GMAC:
        return true;
    default:
        return false;
    }
}

bool encr_is_aead(EncrId id) {
    switch (id) {
    case EncrId::ENCR_AES_CCM_8: case EncrId::ENCR_AES_CCM_12: case EncrId::ENCR_AES_CCM_16:
    case EncrId::ENCR_AES_GCM_8: case EncrId::ENCR_AES_GCM_12: case EncrId::ENCR_AES_GCM_16:
        return true;
    default:
        return false;
    }
}

bool encr_is_auth_only(EncrId id) { return id == EncrId::ENCR_NULL_AUTH_AES_GMAC; }

bool encr_valid(EncrAlg alg) {
    if (encr_has_key_length(alg.id)) {
        return alg.key_bits == 128 || alg.key_bits == 192 || alg.key_bits == 256;
    }
    switch (alg.id) {
    case EncrId::ENCR_DES: return alg.key_bits == 0 || alg.key_bits == 64;
    case EncrId::ENCR_3DES: return alg.key_bits == 0 || alg.key_bits == 192;
    case EncrId::ENCR_NULL: return alg.key_bits == 0;
    default: return false;
    }
}

size_t encr_salt_size(EncrId id) {
    switch (id) {
    case EncrId::ENCR_AES_CTR:                  // RFC 3686 5.1: 4-byte nonce
    case EncrId::ENCR_AES_GCM_8: case EncrId::ENCR_AES_GCM_12:
    case EncrId::ENCR_AES_GCM_16:               // RFC 4106 8.1: 4-byte salt
    case EncrId::ENCR_NULL_AUTH_AES_GMAC:       // RFC 4543 3.2: 4-byte salt
        return 4;
    case EncrId::ENCR_AES_CCM_8: case EncrId::ENCR_AES_CCM_12:
    case EncrId::ENCR_AES_CCM_16:               // RFC 4309 7.1: 3-byte salt
        return 3;
    default:
        return 0;
    }
}

std::optional<size_t> encr_keymat_size(EncrAlg alg) {
    if (!encr_valid(alg)) {
        return std::nullopt;
    }
    switch (alg.id) {
    case EncrId::ENCR_DES: return 8;
    case EncrId::ENCR_3DES: return 24;
    case EncrId::ENCR_NULL: return 0;
    default: return alg.key_bits / 8 + encr_salt_size(alg.id);
    }
}

std::optional<size_t> integ_key_size(IntegId id) {
    switch (id) {
    case IntegId::NONE: return 0;
    case IntegId::AUTH_HMAC_MD5_96: return 16;
    case IntegId::AUTH_HMAC_SHA1_96: return 20;
    case IntegId::AUTH_AES_XCBC_96: return 16;
    // RFC 4543 3.2: the GMAC key is followed by a 4-byte salt.
    case IntegId::AUTH_AES_128_GMAC: return 16 + 4;
    case IntegId::AUTH_AES_192_GMAC: return 24 + 4;
    case IntegId::AUTH_AES_256_GMAC: return 32 + 4;
    case IntegId::AUTH_HMAC_SHA2_256_128: return 32;
    case IntegId::AUTH_HMAC_SHA2_384_192: return 48;
    case IntegId::AUTH_HMAC_SHA2_512_256: return 64;
    }
    return std::nullopt;
}

std::optional<size_t> integ_icv_size(IntegId id) {
    switch (id) {
    case IntegId::NONE: return 0;
    case IntegId::AUTH_HMAC_MD5_96: case IntegId::AUTH_HMAC_SHA1_96:
    case IntegId::AUTH_AES_XCBC_96:
        return 12;
    case IntegId::AUTH_AES_128_GMAC: case IntegId::AUTH_AES_192_GMAC:
    case IntegId::AUTH_AES_256_GMAC:
        return 16;
    case IntegId::AUTH_HMAC_SHA2_256_128: return 16;
    case IntegId::AUTH_HMAC_SHA2_384_192: return 24;
    case IntegId::AUTH_HMAC_SHA2_512_256: return 32;
    }
    return std::nullopt;
}

std::string_view encr_name(EncrId id) {
    switch (id) {
    case EncrId::ENCR_DES: return "ENCR_DES";
    case EncrId::ENCR_3DES: return "ENCR_3DES";
    case EncrId::ENCR_NULL: return "ENCR_NULL";
    case EncrId::ENCR_AES_CBC: return "ENCR_AES_CBC";
    case EncrId::ENCR_AES_CTR: return "ENCR_AES_CTR";
    case EncrId::ENCR_AES_CCM_8: return "ENCR_AES_CCM_8";
    case EncrId::ENCR_AES_CCM_12: return "ENCR_AES_CCM_12";
    case EncrId::ENCR_AES_CCM_16: return "ENCR_AES_CCM_16";
    case EncrId::ENCR_AES_GCM_8: return "ENCR_AES_GCM_8";
    case EncrId::ENCR_AES_GCM_12: return "ENCR_AES_GCM_12";
    case EncrId::ENCR_AES_GCM_16: return "ENCR_AES_GCM_16";
    case EncrId::ENCR_NULL_AUTH_AES_GMAC: return "ENCR_NULL_AUTH_AES_GMAC";
    }
    return "ENCR_UNKNOWN";
}

std::string_view prf_name(PrfId id) {
    switch (id) {
    case PrfId::PRF_HMAC_MD5: return "PRF_HMAC_MD5";
    case PrfId::PRF_HMAC_SHA1: return "PRF_HMAC_SHA1";
    case PrfId::PRF_AES128_XCBC: return "PRF_AES128_XCBC";
    case PrfId::PRF_HMAC_SHA2_256: return "PRF_HMAC_SHA2_256";
    case PrfId::PRF_HMAC_SHA2_384: return "PRF_HMAC_SHA2_384";
    case PrfId::PRF_HMAC_SHA2_512: return "PRF_HMAC_SHA2_512";
    }
    return "PRF_UNKNOWN";
}

std::string_view integ_name(IntegId id) {
    switch (id) {
    case IntegId::NONE: return "NONE";
    case IntegId::AUTH_HMAC_MD5_96: return "AUTH_HMAC_MD5_96";
    case IntegId::AUTH_HMAC_SHA1_96: return "AUTH_HMAC_SHA1_96";
    case IntegId::AUTH_AES_XCBC_96: return "AUTH_AES_XCBC_96";
    case IntegId::AUTH_AES_128_GMAC: return "AUTH_AES_128_GMAC";
    case IntegId::AUTH_AES_192_GMAC: return "AUTH_AES_192_GMAC";
    case IntegId::AUTH_AES_256_GMAC: return "AUTH_AES_256_GMAC";
    case IntegId::AUTH_HMAC_SHA2_256_128: return "AUTH_HMAC_SHA2_256_128";
    case IntegId::AUTH_HMAC_SHA2_384_192: return "AUTH_HMAC_SHA2_384_192";
    case IntegId::AUTH_HMAC_SHA2_512_256: return "AUTH_HMAC_SHA2_512_256";
    }
    return "AUTH_UNKNOWN";
}

std::string_view dh_name(DhId id) {
    switch (id) {
    case DhId::NONE: return "NONE";
    case DhId::MODP_768: return "MODP_768";
    case DhId::MODP_1024: return "MODP_1024";
    case DhId::MODP_2048: return "MODP_2048";
    case DhId::ECP_256: return "ECP_256";
    case DhId::ECP_384: return "ECP_384";
    case DhId::MODP_2048_256: return "MODP_2048_256";
    }
    return "DH_UNKNOWN";
}

// --- policy model <-> IANA --------------------------------------------------------

namespace {

struct EncrMap {
    Encr policy;
    EncrId id;
    uint16_t bits;
};

constexpr EncrMap kEncr[] = {
    {Encr::None, EncrId::ENCR_NULL, 0},
    {Encr::Des, EncrId::ENCR_DES, 0},
    {Encr::TripleDes, EncrId::ENCR_3DES, 0},
    {Encr::AesCbc128, EncrId::ENCR_AES_CBC, 128},
    {Encr::AesCbc192, EncrId::ENCR_AES_CBC, 192},
    {Encr::AesCbc256, EncrId::ENCR_AES_CBC, 256},
    {Encr::AesCtr128, EncrId::ENCR_AES_CTR, 128},
    {Encr::AesCtr192, EncrId::ENCR_AES_CTR, 192},
    {Encr::AesCtr256, EncrId::ENCR_AES_CTR, 256},
    {Encr::AesGcm128, EncrId::ENCR_AES_GCM_16, 128},
    {Encr::AesGcm192, EncrId::ENCR_AES_GCM_16, 192},
    {Encr::AesGcm256, EncrId::ENCR_AES_GCM_16, 256},
    {Encr::AesGcm128_12, EncrId::ENCR_AES_GCM_12, 128},
    {Encr::AesGcm192_12, EncrId::ENCR_AES_GCM_12, 192},
    {Encr::AesGcm256_12, EncrId::ENCR_AES_GCM_12, 256},
    {Encr::AesGcm128_8, EncrId::ENCR_AES_GCM_8, 128},
    {Encr::AesGcm192_8, EncrId::ENCR_AES_GCM_8, 192},
    {Encr::AesGcm256_8, EncrId::ENCR_AES_GCM_8, 256},
    {Encr::AesCcm128, EncrId::ENCR_AES_CCM_16, 128},
    {Encr::AesCcm192, EncrId::ENCR_AES_CCM_16, 192},
    {Encr::AesCcm256, EncrId::ENCR_AES_CCM_16, 256},
    {Encr::AesCcm128_12, EncrId::ENCR_AES_CCM_12, 128},
    {Encr::AesCcm192_12, EncrId::ENCR_AES_CCM_12, 192},
    {Encr::AesCcm256_12, EncrId::ENCR_AES_CCM_12, 256},
    {Encr::AesCcm128_8, EncrId::ENCR_AES_CCM_8, 128},
    {Encr::AesCcm192_8, EncrId::ENCR_AES_CCM_8, 192},
    {Encr::AesCcm256_8, EncrId::ENCR_AES_CCM_8, 256},
    {Encr::AesGmac128, EncrId::ENCR_NULL_AUTH_AES_GMAC, 128},
    {Encr::AesGmac192, EncrId::ENCR_NULL_AUTH_AES_GMAC, 192},
    {Encr::AesGmac256, EncrId::ENCR_NULL_AUTH_AES_GMAC, 256},
};

}  // namespace

EncrAlg encr_from_policy(Encr e) {
    for (const auto& m : kEncr) {
        if (m.policy == e) {
            return {m.id, m.bits};
        }
    }
    return {EncrId::ENCR_NULL, 0};
}

std::optional<Encr> encr_to_policy(EncrAlg alg) {
    if (alg.id == EncrId::ENCR_DES && alg.key_bits == 64) {
        alg.key_bits = 0;
    }
    if (alg.id == EncrId::ENCR_3DES && alg.key_bits == 192) {
        alg.key_bits = 0;
    }
    for (const auto& m : kEncr) {
        if (m.id == alg.id && m.bits == alg.key_bits) {
            return m.policy;
        }
    }
    return std::nullopt;
}

PrfId prf_from_policy(policy::Hash h) {
    switch (h) {
    case policy::Hash::Md5: return PrfId::PRF_HMAC_MD5;
    case policy::Hash::Sha1: return PrfId::PRF_HMAC_SHA1;
    case policy::Hash::Sha256: return PrfId::PRF_HMAC_SHA2_256;
    case policy::Hash::Sha384: return PrfId::PRF_HMAC_SHA2_384;
    case policy::Hash::Sha512: return PrfId::PRF_HMAC_SHA2_512;
    case policy::Hash::AesXcbc: return PrfId::PRF_AES128_XCBC;
    }
    return PrfId::PRF_HMAC_SHA2_256;
}

IntegId integ_from_policy(policy::Hash h) {
    switch (h) {
    case policy::Hash::Md5: return IntegId::AUTH_HMAC_MD5_96;
    case policy::Hash::Sha1: return IntegId::AUTH_HMAC_SHA1_96;
    case policy::Hash::Sha256: return IntegId::AUTH_HMAC_SHA2_256_128;
    case policy::Hash::Sha384: return IntegId::AUTH_HMAC_SHA2_384_192;
    case policy::Hash::Sha512: return IntegId::AUTH_HMAC_SHA2_512_256;
    case policy::Hash::AesXcbc: return IntegId::AUTH_AES_XCBC_96;
    }
    return IntegId::AUTH_HMAC_SHA2_256_128;
}

std::optional<policy::Hash> hash_from_prf(PrfId id) {
    switch (id) {
    case PrfId::PRF_HMAC_MD5: return policy::Hash::Md5;
    case PrfId::PRF_HMAC_SHA1: return policy::Hash::Sha1;
    case PrfId::PRF_HMAC_SHA2_256: return policy::Hash::Sha256;
    case PrfId::PRF_HMAC_SHA2_384: return policy::Hash::Sha384;
    case PrfId::PRF_HMAC_SHA2_512: return policy::Hash::Sha512;
    case PrfId::PRF_AES128_XCBC: return policy::Hash::AesXcbc;
    }
    return std::nullopt;
}

IntegId integ_from_policy(policy::DataAuth a) {
    switch (a) {
    case policy::DataAuth::None: return IntegId::NONE;
    case policy::DataAuth::HmacMd5: return IntegId::AUTH_HMAC_MD5_96;
    case policy::DataAuth::HmacSha1: return IntegId::AUTH_HMAC_SHA1_96;
    case policy::DataAuth::HmacSha256: return IntegId::AUTH_HMAC_SHA2_256_128;
    case policy::DataAuth::HmacSha384: return IntegId::AUTH_HMAC_SHA2_384_192;
    case policy::DataAuth::HmacSha512: return IntegId::AUTH_HMAC_SHA2_512_256;
    case policy::DataAuth::AesXcbc: return IntegId::AUTH_AES_XCBC_96;
    }
    return IntegId::NONE;
}

std::optional<policy::DataAuth> data_auth_from_integ(IntegId id) {
    switch (id) {
    case IntegId::NONE: return policy::DataAuth::None;
    case IntegId::AUTH_HMAC_MD5_96: return policy::DataAuth::HmacMd5;
    case IntegId::AUTH_HMAC_SHA1_96: return policy::DataAuth::HmacSha1;
    case IntegId::AUTH_HMAC_SHA2_256_128: return policy::DataAuth::HmacSha256;
    case IntegId::AUTH_HMAC_SHA2_384_192: return policy::DataAuth::HmacSha384;
    case IntegId::AUTH_HMAC_SHA2_512_256: return policy::DataAuth::HmacSha512;
    case IntegId::AUTH_AES_XCBC_96: return policy::DataAuth::AesXcbc;
    default: return std::nullopt;  // GMAC as AH integrity has no CL value
    }
}

DhId dh_from_policy(policy::DhGroup g) {
    switch (g) {
    case policy::DhGroup::None: return DhId::NONE;
    case policy::DhGroup::Grp1: return DhId::MODP_768;
    case policy::DhGroup::Grp2: return DhId::MODP_1024;
    case policy::DhGroup::Grp14: return DhId::MODP_2048;
    case policy::DhGroup::Grp19: return DhId::ECP_256;
    case policy::DhGroup::Grp20: return DhId::ECP_384;
    case policy::DhGroup::Grp24: return DhId::MODP_2048_256;
    }
    return DhId::NONE;
}

std::optional<policy::DhGroup> dh_to_policy(DhId id) {
    switch (id) {
    case DhId::NONE: return policy::DhGroup::None;
    case DhId::MODP_768: return policy::DhGroup::Grp1;
    case DhId::MODP_1024: return policy::DhGroup::Grp2;
    case DhId::MODP_2048: return policy::DhGroup::Grp14;
    case DhId::ECP_256: return policy::DhGroup::Grp19;
    case DhId::ECP_384: return policy::DhGroup::Grp20;
    case DhId::MODP_2048_256: return policy::DhGroup::Grp24;
    }
    return std::nullopt;
}

IkeSuite ike_suite_from_policy(const policy::KeyTransform& t) {
    IkeSuite s;
    s.encr = encr_from_policy(t.encryption);
    s.prf = prf_from_policy(t.hash);
    s.integ = encr_is_aead(s.encr.id) ? IntegId::NONE : integ_from_policy(t.hash);
    s.dh = dh_from_policy(t.dh_group);
    return s;
}

DataSuites child_suites_from_policy(const policy::DataTransform& t) {
    DataSuites out;
    EncrAlg encr = encr_from_policy(t.encryption);
    IntegId integ = integ_from_policy(t.authentication);
    switch (t.protocol) {
    case policy::Protocol::Esp:
        out.esp = ChildSuite{SaUse::Esp, encr, integ};
        break;
    case policy::Protocol::Ah:
        out.ah = ChildSuite{SaUse::Ah, EncrAlg{}, integ};
        break;
    case policy::Protocol::AhEsp:
        // AH carries the authentication; ESP only encrypts (an AEAD or GMAC
        // transform authenticates on its own anyway).
        out.ah = ChildSuite{SaUse::Ah, EncrAlg{}, integ};
        out.esp = ChildSuite{SaUse::Esp, encr, IntegId::NONE};
        break;
    }
    return out;
}

// --- validity ---------------------------------------------------------------------

namespace {

bool is_gmac_integ(IntegId id) {
    return id == IntegId::AUTH_AES_128_GMAC || id == IntegId::AUTH_AES_192_GMAC ||
           id == IntegId::AUTH_AES_256_GMAC;
}

Failure bad(const char* use, const char* reason) {
    return fail(msg("IKE0008", use, reason)
                    .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
}

}  // namespace

Status check_ike_suite(const IkeSuite& s) {
    if (!encr_valid(s.encr)) {
        return bad("IKE", "unknown encryption algorithm or key length");
    }
    if (s.encr.id == EncrId::ENCR_NULL || encr_is_auth_only(s.encr.id)) {
        return bad("IKE", "the IKE SA must be encrypted");
    }
    if (!hash_from_prf(s.prf)) {
        return bad("IKE", "unknown PRF");
    }
    if (encr_is_aead(s.encr.id)) {
        if (s.integ != IntegId::NONE) {
            return bad("IKE", "an AEAD cipher takes no integrity algorithm");
        }
    } else if (s.integ == IntegId::NONE) {
        return bad("IKE", "a non-AEAD cipher needs an integrity algorithm");
    } else if (is_gmac_integ(s.integ) || !integ_key_size(s.integ)) {
        return bad("IKE", "integrity algorithm not usable for IKE");
    }
    if (s.dh == DhId::NONE || !dh_to_policy(s.dh)) {
        return bad("IKE", "unknown or missing Diffie-Hellman group");
    }
    return {};
}

Status check_child_suite(const ChildSuite& s) {
    if (!integ_key_size(s.integ)) {
        return bad(s.use == SaUse::Ah ? "AH" : "ESP", "unknown integrity algorithm");
    }
    switch (s.use) {
    case SaUse::Ike:
        return bad("ESP", "an IKE suite is not a CHILD_SA suite");
    case SaUse::Ah:
        if (s.encr.id != EncrId::ENCR_NULL || s.encr.key_bits != 0) {
            return bad("AH", "AH does not encrypt");
        }
        if (s.integ == IntegId::NONE) {
            return bad("AH", "AH needs an integrity algorithm");
        }
        return {};
    case SaUse::Esp:
        break;
    }
    if (!encr_valid(s.encr)) {
        return bad("ESP", "unknown encryption algorithm or key length");
    }
    if ((encr_is_aead(s.encr.id) || encr_is_auth_only(s.encr.id)) && s.integ != IntegId::NONE) {
        return bad("ESP", "an AEAD or GMAC transform takes no integrity algorithm");
    }
    if (s.encr.id == EncrId::ENCR_NULL && s.integ == IntegId::NONE) {
        return bad("ESP", "ESP without encryption needs an integrity algorithm");
    }
    return {};
}

// --- deemphasized algorithms ---------------------------------------------------------

namespace {

void warn_encr(EncrId id, std::vector<Msg>& out) {
    if (id == EncrId::ENCR_DES) {
        out.push_back(msg("IKE0012", encr_name(id)));
    }
}

void warn_integ(IntegId id, std::vector<Msg>& out) {
    if (id == IntegId::AUTH_HMAC_MD5_96) {
        out.push_back(msg("IKE0012", integ_name(id)));
    }
}

void warn_dh(DhId id, std::vector<Msg>& out) {
    if (id == DhId::MODP_768 || id == DhId::MODP_1024) {
        out.push_back(msg("IKE0012", dh_name(id)));
    }
}

}  // namespace

std::vector<Msg> deemphasized_warnings(const IkeSuite& s) {
    std::vector<Msg> out;
    warn_encr(s.encr.id, out);
    if (s.prf == PrfId::PRF_HMAC_MD5) {
        out.push_back(msg("IKE0012", prf_name(s.prf)));
    }
    warn_integ(s.integ, out);
    warn_dh(s.dh, out);
    return out;
}

std::vector<Msg> deemphasized_warnings(const ChildSuite& s, DhId pfs) {
    std::vector<Msg> out;
    warn_encr(s.encr.id, out);
    warn_integ(s.integ, out);
    warn_dh(pfs, out);
    return out;
}

}  // namespace qvpn::ike::crypto
