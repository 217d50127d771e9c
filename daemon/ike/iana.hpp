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

// --- more IKEv2 registries (RFC 7296 3.x and the RFCs named beside them) ---

namespace qvpn::ike {

// RFC 7296 3.1: Exchange Type.
enum class ExchangeType : uint8_t {
    IKE_SA_INIT = 34,
    IKE_AUTH = 35,
    CREATE_CHILD_SA = 36,
    INFORMATIONAL = 37,
};

// RFC 7296 3.2: Next Payload (plus RFC 7383 SKF).
enum class PayloadType : uint8_t {
    NO_NEXT_PAYLOAD = 0,
    SA = 33,
    KE = 34,
    IDi = 35,
    IDr = 36,
    CERT = 37,
    CERTREQ = 38,
    AUTH = 39,
    NONCE = 40,
    NOTIFY = 41,
    DELETE = 42,
    VENDOR_ID = 43,
    TSi = 44,
    TSr = 45,
    SK = 46,
    CP = 47,
    EAP = 48,
    SKF = 53,
};

// RFC 7296 3.3.1: Protocol ID of a proposal, Notify and Delete payload.
enum class ProtocolId : uint8_t {
    NONE = 0,
    IKE = 1,
    AH = 2,
    ESP = 3,
};

// RFC 7296 3.3.2: Transform Type.
enum class TransformType : uint8_t {
    ENCR = 1,
    PRF = 2,
    INTEG = 3,
    DH = 4,
    ESN = 5,
};

// RFC 7296 3.3.5: Transform Attribute Type.
enum class TransformAttr : uint16_t {
    KEY_LENGTH = 14,
};

// RFC 7296 3.5: Identification payload ID Type.
enum class IdType : uint8_t {
    ID_IPV4_ADDR = 1,
    ID_FQDN = 2,
    ID_RFC822_ADDR = 3,
    ID_IPV6_ADDR = 5,
    ID_DER_ASN1_DN = 9,
    ID_DER_ASN1_GN = 10,
    ID_KEY_ID = 11,
};

// RFC 7296 3.6: Certificate Encoding (CERT and CERTREQ payloads).
enum class CertEncoding : uint8_t {
    PKCS7_WRAPPED_X509 = 1,
    PGP_CERT = 2,
    DNS_SIGNED_KEY = 3,
    X509_CERT_SIGNATURE = 4,
    KERBEROS_TOKEN = 6,
    CRL = 7,
    ARL = 8,
    SPKI_CERT = 9,
    X509_CERT_ATTRIBUTE = 10,
    RAW_RSA_KEY = 11,
    HASH_AND_URL_X509_CERT = 12,
    HASH_AND_URL_X509_BUNDLE = 13,
};

// RFC 7296 3.8 (plus RFC 4754 and RFC 7427): Authentication Method.
enum class AuthMethod : uint8_t {
    RSA_DIGITAL_SIGNATURE = 1,
    SHARED_KEY_MIC = 2,
    DSS_DIGITAL_SIGNATURE = 3,
    ECDSA_SHA256_P256 = 9,
    ECDSA_SHA384_P384 = 10,
    ECDSA_SHA512_P521 = 11,
    DIGITAL_SIGNATURE = 14,
};

// RFC 7427 (and RFC 8420): IKEv2 Hash Algorithms, carried in the
// SIGNATURE_HASH_ALGORITHMS notify.
enum class HashAlgorithm : uint16_t {
    SHA1 = 1,
    SHA2_256 = 2,
    SHA2_384 = 3,
    SHA2_512 = 4,
    IDENTITY = 5,
};

// RFC 7296 3.10.1 (plus later RFCs): Notify Message Type. Error types are
// below 16384, status types from 16384 on.
enum class NotifyType : uint16_t {
    UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    INVALID_IKE_SPI = 4,
    INVALID_MAJOR_VERSION = 5,
    INVALID_SYNTAX = 7,
    INVALID_MESSAGE_ID = 9,
    INVALID_SPI = 11,
    NO_PROPOSAL_CHOSEN = 14,
    INVALID_KE_PAYLOAD = 17,
    AUTHENTICATION_FAILED = 24,
    SINGLE_PAIR_REQUIRED = 34,
    NO_ADDITIONAL_SAS = 35,
    INTERNAL_ADDRESS_FAILURE = 36,
    FAILED_CP_REQUIRED = 37,
    TS_UNACCEPTABLE = 38,
    INVALID_SELECTORS = 39,
    TEMPORARY_FAILURE = 43,
    CHILD_SA_NOT_FOUND = 44,
    INITIAL_CONTACT = 16384,
    SET_WINDOW_SIZE = 16385,
    ADDITIONAL_TS_POSSIBLE = 16386,
    IPCOMP_SUPPORTED = 16387,
    NAT_DETECTION_SOURCE_IP = 16388,
    NAT_DETECTION_DESTINATION_IP = 16389,
    COOKIE = 16390,
    USE_TRANSPORT_MODE = 16391,
    HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    REKEY_SA = 16393,
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    NON_FIRST_FRAGMENTS_ALSO = 16395,
    MOBIKE_SUPPORTED = 16396,
    MULTIPLE_AUTH_SUPPORTED = 16404,
    ANOTHER_AUTH_FOLLOWS = 16405,
    REDIRECT_SUPPORTED = 16406,
    IKEV2_FRAGMENTATION_SUPPORTED = 16430,
    SIGNATURE_HASH_ALGORITHMS = 16431,
};

// The Notify type as the 16-bit value Msg::notify carries.
constexpr uint16_t notify_code(NotifyType t) { return static_cast<uint16_t>(t); }

}  // namespace qvpn::ike
