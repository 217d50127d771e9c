// IKEv2 wire code points (RFC 7296 section 3 and the IANA "IKEv2
// Parameters" registries) with their IANA names, plus one table per
// registry that maps a code to its name for logs.
//
// The registries the crypto suite shares live in daemon/ike/iana.hpp and
// are imported here; this file adds what only the IKEv2 codec and engine use.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/ike/iana.hpp"

namespace qvpn::ikev2 {

inline constexpr uint8_t kIkeMajorVersion = 2;
inline constexpr uint8_t kIkeMinorVersion = 0;
inline constexpr size_t kIkeHeaderLen = 28;
inline constexpr size_t kGenericPayloadHeaderLen = 4;

// The registries shared with the crypto suite (daemon/ike/iana.hpp).
using ike::AuthMethod;
using ike::CertEncoding;
using ike::ExchangeType;
using ike::HashAlgorithm;
using ike::IdType;
using ike::NotifyType;
using ike::PayloadType;
using ike::ProtocolId;
using ike::TransformType;

// RFC 7296 3.1, header flags.
inline constexpr uint8_t kFlagInitiator = 0x08;
inline constexpr uint8_t kFlagVersion = 0x10;
inline constexpr uint8_t kFlagResponse = 0x20;

// RFC 7296 3.3.5, Transform Attribute Types.
inline constexpr uint16_t kAttrKeyLength = static_cast<uint16_t>(ike::TransformAttr::KEY_LENGTH);

// Notify types below this value are errors (RFC 7296 3.10.1).
inline constexpr uint16_t kFirstStatusNotify = 16384;

// RFC 7296 3.13.1, Traffic Selector Type.
enum class TsType : uint8_t {
    TS_IPV4_ADDR_RANGE = 7,
    TS_IPV6_ADDR_RANGE = 8,
};

// RFC 7296 3.15, Configuration type.
enum class CfgType : uint8_t {
    CFG_REQUEST = 1,
    CFG_REPLY = 2,
    CFG_SET = 3,
    CFG_ACK = 4,
};

// IPComp Transform IDs (the IPCOMP_SUPPORTED notify, RFC 7296 3.10.1).
enum class IpcompId : uint8_t {
    IPCOMP_OUI = 1,
    IPCOMP_DEFLATE = 2,
    IPCOMP_LZS = 3,
    IPCOMP_LZJH = 4,
};

// Names for logs: the IANA name, or the number when unknown.
std::string name(ExchangeType v);
std::string name(PayloadType v);
std::string name(ProtocolId v);
std::string name(TransformType v);
std::string name(IdType v);
std::string name(CertEncoding v);
std::string name(AuthMethod v);
std::string name(NotifyType v);
std::string name(TsType v);

bool is_error(NotifyType v);
// A payload type this codec knows how to read.
bool is_known(PayloadType v);

}  // namespace qvpn::ikev2
