// The IKEv2 message codec (RFC 7296 section 3, RFC 7383 for SKF): the header
// and every payload as value types, parsed with bounds checks and serialized
// back by the same module.
//
// A datagram is read in two steps. parse_message() reads the header and the
// clear payload chain; an SK or SKF payload must be the last one and is kept
// as opaque bytes (see sk.hpp for decryption). Once decrypted, the inner
// chain is read with parse_payloads(). Failures carry an IKE08xx message ID
// and, where the RFC asks for one, the Notify to answer with.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ikev2/wire/codes.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::ikev2 {

// RFC 7296 3.1.
struct Header {
    uint64_t spi_i = 0;
    uint64_t spi_r = 0;
    PayloadType next = PayloadType::NO_NEXT_PAYLOAD;
    uint8_t major = kIkeMajorVersion;
    uint8_t minor = kIkeMinorVersion;
    ExchangeType exchange = ExchangeType::IKE_SA_INIT;
    uint8_t flags = 0;
    uint32_t message_id = 0;
    uint32_t length = 0;  // filled in by serialization

    bool from_initiator() const { return (flags & kFlagInitiator) != 0; }
    bool is_response() const { return (flags & kFlagResponse) != 0; }
    bool operator==(const Header&) const = default;
};

// RFC 7296 3.3.2 and 3.3.5. Only Key Length is defined; any other attribute
// is kept as a flag so proposal selection can reject the transform.
struct Transform {
    TransformType type = TransformType::ENCR;
    uint16_t id = 0;
    std::optional<uint16_t> key_length;  // bits
    bool unknown_attribute = false;
    bool operator==(const Transform&) const = default;
};

// RFC 7296 3.3.1.
struct Proposal {
    uint8_t number = 1;
    ProtocolId protocol = ProtocolId::IKE;
    Bytes spi;  // 0 bytes (IKE_SA_INIT), 8 (IKE rekey) or 4 (AH/ESP)
    std::vector<Transform> transforms;
    bool operator==(const Proposal&) const = default;
};

struct SaPayload {
    std::vector<Proposal> proposals;
    bool operator==(const SaPayload&) const = default;
};

// RFC 7296 3.4.
struct KePayload {
    uint16_t group = 0;
    Bytes data;
    bool operator==(const KePayload&) const = default;
};

// RFC 7296 3.5, for IDi and IDr alike.
struct IdPayload {
    IdType type = IdType::ID_IPV4_ADDR;
    Bytes data;
    bool operator==(const IdPayload&) const = default;
};

// RFC 7296 3.6 and 3.7 share a layout.
struct CertPayload {
    CertEncoding encoding = CertEncoding::X509_CERT_SIGNATURE;
    Bytes data;
    bool operator==(const CertPayload&) const = default;
};

struct CertReqPayload {
    CertEncoding encoding = CertEncoding::X509_CERT_SIGNATURE;
    Bytes data;  // concatenated SHA-1 hashes of CA public keys
    bool operator==(const CertReqPayload&) const = default;
};

// RFC 7296 3.8.
struct AuthPayload {
    AuthMethod method = AuthMethod::SHARED_KEY_MIC;
    Bytes data;
    bool operator==(const AuthPayload&) const = default;
};

// RFC 7296 3.9: 16 to 256 octets.
struct NoncePayload {
    Bytes data;
    bool operator==(const NoncePayload&) const = default;
};
inline constexpr size_t kMinNonceLen = 16;
inline constexpr size_t kMaxNonceLen = 256;

// RFC 7296 3.10.
struct NotifyPayload {
    ProtocolId protocol = ProtocolId::NONE;
    Bytes spi;
    NotifyType type = NotifyType::INITIAL_CONTACT;
    Bytes data;
    bool operator==(const NotifyPayload&) const = default;
};

// RFC 7296 3.11. SPIs are 4 bytes for AH/ESP; an IKE SA delete has none.
struct DeletePayload {
    ProtocolId protocol = ProtocolId::ESP;
    std::vector<uint32_t> spis;
    bool operator==(const DeletePayload&) const = default;
};

// RFC 7296 3.12.
struct VendorPayload {
    Bytes id;
    bool operator==(const VendorPayload&) const = default;
};

// RFC 7296 3.13. Selectors of an unknown TS type are counted and dropped:
// nothing this system offers can match them.
struct TsPayload {
    std::vector<sa::TrafficSelector> selectors;
    size_t unknown_types = 0;
    bool operator==(const TsPayload&) const = default;
};

// RFC 7296 3.14: the opaque body (IV, ciphertext, ICV). `inner` is the type
// of the first payload inside.
struct SkPayload {
    PayloadType inner = PayloadType::NO_NEXT_PAYLOAD;
    Bytes body;
    bool operator==(const SkPayload&) const = default;
};

// RFC 7383 2.5: one fragment of an encrypted message. `inner` is only
// meaningful in fragment 1 (0 in the others).
struct SkfPayload {
    PayloadType inner = PayloadType::NO_NEXT_PAYLOAD;
    uint16_t number = 1;
    uint16_t total = 1;
    Bytes body;
    bool operator==(const SkfPayload&) const = default;
};

// RFC 7296 3.15, read and ignored unless used: the attributes stay raw.
struct CpPayload {
    CfgType type = CfgType::CFG_REQUEST;
    Bytes attributes;
    bool operator==(const CpPayload&) const = default;
};

// RFC 7296 3.16: EAP is refused, but the payload is still read correctly.
struct EapPayload {
    Bytes data;
    bool operator==(const EapPayload&) const = default;
};

// A non-critical payload of a type this codec does not know (skipped).
struct UnknownPayload {
    uint8_t type = 0;
    Bytes data;
    bool operator==(const UnknownPayload&) const = default;
};

using PayloadBody =
    std::variant<SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload,
                 NoncePayload, NotifyPayload, DeletePayload, VendorPayload, TsPayload,
                 SkPayload, SkfPayload, CpPayload, EapPayload, UnknownPayload>;

struct Payload {
    PayloadType type = PayloadType::NO_NEXT_PAYLOAD;
    bool critical = false;
    PayloadBody body;
    bool operator==(const Payload&) const = default;
};

// Shorthands for building payloads.
Payload make_payload(PayloadType type, PayloadBody body);
Payload make_notify(NotifyType type, Bytes data = {}, ProtocolId proto = ProtocolId::NONE,
                    Bytes spi = {});

struct Message {
    Header header;
    std::vector<Payload> payloads;  // clear payloads, or the decrypted inner ones
    // Where the SK/SKF payload started in the datagram (for integrity and AAD).
    std::optional<size_t> encrypted_offset;
};

// Limits against resource exhaustion from a hostile peer.
inline constexpr size_t kMaxPayloads = 64;
inline constexpr size_t kMaxProposals = 64;
inline constexpr size_t kMaxTransforms = 64;
inline constexpr size_t kMaxSelectors = 64;
inline constexpr size_t kMaxMessageLen = 65535;

// The header alone (the engine picks the IKE SA from the SPIs first).
Result<Header> parse_header(ByteView datagram);
// Header plus the clear payload chain; length checked against the datagram.
Result<Message> parse_message(ByteView datagram);
// A payload chain starting with `first` (also used for decrypted content).
Result<std::vector<Payload>> parse_payloads(PayloadType first, ByteView data);

void write_header(ByteWriter& w, const Header& h);
// The chain; the type of the first payload is payloads[0].type.
Bytes serialize_payloads(const std::vector<Payload>& payloads);
// A clear message; header.next and header.length are filled in.
Bytes serialize_message(Header header, const std::vector<Payload>& payloads);

// Look-ups used all over the engine.
const Payload* find(const std::vector<Payload>& p, PayloadType t);
const NotifyPayload* find_notify(const std::vector<Payload>& p, NotifyType t);
// The first error notify, if any.
const NotifyPayload* find_error_notify(const std::vector<Payload>& p);

template <class T>
const T* find_body(const std::vector<Payload>& p, PayloadType t) {
    const Payload* x = find(p, t);
    return x ? std::get_if<T>(&x->body) : nullptr;
}

}  // namespace qvpn::ikev2
