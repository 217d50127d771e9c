#include "daemon/ikev2/wire/codes.hpp"

#include <array>
#include <utility>

namespace qvpn::ikev2 {

namespace {

template <class E, size_t N>
std::string lookup(const std::array<std::pair<E, const char*>, N>& table, E v) {
    for (const auto& [code, text] : table) {
        if (code == v) {
            return text;
        }
    }
    return std::to_string(static_cast<unsigned>(v));
}

#define QV_NAME(e, x) std::pair{e::x, #x}

const std::array kExchangeNames{
    QV_NAME(ExchangeType, IKE_SA_INIT), QV_NAME(ExchangeType, IKE_AUTH),
    QV_NAME(ExchangeType, CREATE_CHILD_SA), QV_NAME(ExchangeType, INFORMATIONAL)};

const std::array kPayloadNames{
    QV_NAME(PayloadType, NO_NEXT_PAYLOAD), QV_NAME(PayloadType, SA),
    QV_NAME(PayloadType, KE), QV_NAME(PayloadType, IDi), QV_NAME(PayloadType, IDr),
    QV_NAME(PayloadType, CERT), QV_NAME(PayloadType, CERTREQ), QV_NAME(PayloadType, AUTH),
    QV_NAME(PayloadType, NONCE), QV_NAME(PayloadType, NOTIFY), QV_NAME(PayloadType, DELETE),
    QV_NAME(PayloadType, VENDOR_ID), QV_NAME(PayloadType, TSi), QV_NAME(PayloadType, TSr),
    QV_NAME(PayloadType, SK), QV_NAME(PayloadType, CP), QV_NAME(PayloadType, EAP),
    QV_NAME(PayloadType, SKF)};

const std::array kProtocolNames{QV_NAME(ProtocolId, NONE), QV_NAME(ProtocolId, IKE),
                                QV_NAME(ProtocolId, AH), QV_NAME(ProtocolId, ESP)};

const std::array kTransformNames{
    QV_NAME(TransformType, ENCR), QV_NAME(TransformType, PRF), QV_NAME(TransformType, INTEG),
    QV_NAME(TransformType, DH), QV_NAME(TransformType, ESN)};

const std::array kIdNames{
    QV_NAME(IdType, ID_IPV4_ADDR), QV_NAME(IdType, ID_FQDN), QV_NAME(IdType, ID_RFC822_ADDR),
    QV_NAME(IdType, ID_IPV6_ADDR), QV_NAME(IdType, ID_DER_ASN1_DN),
    QV_NAME(IdType, ID_DER_ASN1_GN), QV_NAME(IdType, ID_KEY_ID)};

const std::array kCertNames{
    QV_NAME(CertEncoding, PKCS7_WRAPPED_X509), QV_NAME(CertEncoding, PGP_CERT),
    QV_NAME(CertEncoding, DNS_SIGNED_KEY), QV_NAME(CertEncoding, X509_CERT_SIGNATURE),
    QV_NAME(CertEncoding, KERBEROS_TOKEN), QV_NAME(CertEncoding, CRL),
    QV_NAME(CertEncoding, ARL), QV_NAME(CertEncoding, SPKI_CERT),
    QV_NAME(CertEncoding, X509_CERT_ATTRIBUTE), QV_NAME(CertEncoding, RAW_RSA_KEY),
    QV_NAME(CertEncoding, HASH_AND_URL_X509_CERT),
    QV_NAME(CertEncoding, HASH_AND_URL_X509_BUNDLE)};

const std::array kAuthNames{
    QV_NAME(AuthMethod, RSA_DIGITAL_SIGNATURE),
    QV_NAME(AuthMethod, SHARED_KEY_MIC),
    QV_NAME(AuthMethod, DSS_DIGITAL_SIGNATURE), QV_NAME(AuthMethod, ECDSA_SHA256_P256),
    QV_NAME(AuthMethod, ECDSA_SHA384_P384), QV_NAME(AuthMethod, ECDSA_SHA512_P521),
    QV_NAME(AuthMethod, DIGITAL_SIGNATURE)};

const std::array kNotifyNames{
    QV_NAME(NotifyType, UNSUPPORTED_CRITICAL_PAYLOAD),
    QV_NAME(NotifyType, INVALID_IKE_SPI),
    QV_NAME(NotifyType, INVALID_MAJOR_VERSION),
    QV_NAME(NotifyType, INVALID_SYNTAX),
    QV_NAME(NotifyType, INVALID_MESSAGE_ID),
    QV_NAME(NotifyType, INVALID_SPI),
    QV_NAME(NotifyType, NO_PROPOSAL_CHOSEN),
    QV_NAME(NotifyType, INVALID_KE_PAYLOAD),
    QV_NAME(NotifyType, AUTHENTICATION_FAILED),
    QV_NAME(NotifyType, SINGLE_PAIR_REQUIRED),
    QV_NAME(NotifyType, NO_ADDITIONAL_SAS),
    QV_NAME(NotifyType, INTERNAL_ADDRESS_FAILURE),
    QV_NAME(NotifyType, FAILED_CP_REQUIRED),
    QV_NAME(NotifyType, TS_UNACCEPTABLE),
    QV_NAME(NotifyType, INVALID_SELECTORS),
    QV_NAME(NotifyType, TEMPORARY_FAILURE),
    QV_NAME(NotifyType, CHILD_SA_NOT_FOUND),
    QV_NAME(NotifyType, INITIAL_CONTACT),
    QV_NAME(NotifyType, SET_WINDOW_SIZE),
    QV_NAME(NotifyType, ADDITIONAL_TS_POSSIBLE),
    QV_NAME(NotifyType, IPCOMP_SUPPORTED),
    QV_NAME(NotifyType, NAT_DETECTION_SOURCE_IP),
    QV_NAME(NotifyType, NAT_DETECTION_DESTINATION_IP),
    QV_NAME(NotifyType, COOKIE),
    QV_NAME(NotifyType, USE_TRANSPORT_MODE),
    QV_NAME(NotifyType, HTTP_CERT_LOOKUP_SUPPORTED),
    QV_NAME(NotifyType, REKEY_SA),
    QV_NAME(NotifyType, ESP_TFC_PADDING_NOT_SUPPORTED),
    QV_NAME(NotifyType, NON_FIRST_FRAGMENTS_ALSO),
    QV_NAME(NotifyType, MOBIKE_SUPPORTED),
    QV_NAME(NotifyType, MULTIPLE_AUTH_SUPPORTED),
    QV_NAME(NotifyType, ANOTHER_AUTH_FOLLOWS),
    QV_NAME(NotifyType, REDIRECT_SUPPORTED),
    QV_NAME(NotifyType, IKEV2_FRAGMENTATION_SUPPORTED),
    QV_NAME(NotifyType, SIGNATURE_HASH_ALGORITHMS)};

const std::array kTsNames{QV_NAME(TsType, TS_IPV4_ADDR_RANGE),
                          QV_NAME(TsType, TS_IPV6_ADDR_RANGE)};

#undef QV_NAME

}  // namespace

std::string name(ExchangeType v) { return lookup(kExchangeNames, v); }
std::string name(PayloadType v) { return lookup(kPayloadNames, v); }
std::string name(ProtocolId v) { return lookup(kProtocolNames, v); }
std::string name(TransformType v) { return lookup(kTransformNames, v); }
std::string name(IdType v) { return lookup(kIdNames, v); }
std::string name(CertEncoding v) { return lookup(kCertNames, v); }
std::string name(AuthMethod v) { return lookup(kAuthNames, v); }
std::string name(NotifyType v) { return lookup(kNotifyNames, v); }
std::string name(TsType v) { return lookup(kTsNames, v); }

bool is_error(NotifyType v) { return static_cast<uint16_t>(v) < kFirstStatusNotify; }

bool is_known(PayloadType v) {
    for (const auto& [code, text] : kPayloadNames) {
        if (code == v && v != PayloadType::NO_NEXT_PAYLOAD) {
            return true;
        }
    }
    return false;
}

}  // namespace qvpn::ikev2
