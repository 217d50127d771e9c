// IKE identities (RFC 7296 3.5 ID payload) and the policy model's key
// server identifiers (policy::Identity), both ways, and the rules deciding
// whether a received identity is the configured one.
//
// Distinguished names have one stable text form, used wherever a DN is
// shown or configured: the RDNs in DER order separated by ", ", each
// "SN=value" with OpenSSL's short attribute names, e.g.
// "C=US, O=Example Corp, CN=gw1.example.com". Input text may also use
// '/' or ',' separators; matching compares the canonical DER forms.
#pragma once

#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike {

// The ID Type and Identification Data of an ID payload.
struct IkeIdentity {
    IdType type = IdType::ID_IPV4_ADDR;
    Bytes data;
    bool operator==(const IkeIdentity&) const = default;
};

// policy -> wire. IKE0130 for a value that does not parse as its type
// (bad address, empty name, odd hex) or for *ANYIP, which names no single
// identity.
Result<IkeIdentity> to_wire(const policy::Identity& id);
// wire -> policy. IKE0131 (INVALID_SYNTAX) for a malformed value or a type
// we do not handle (ID_DER_ASN1_GN).
Result<policy::Identity> from_wire(const IkeIdentity& id);

// Whether `received` is what `configured` asks for: the same type and
// value, with FQDN and the domain of user@FQDN compared case-insensitively,
// addresses compared as addresses, DNs compared canonically, key IDs as
// bytes; a configured *ANYIP matches any IPv4 or IPv6 address identity.
bool identity_matches(const policy::Identity& configured, const policy::Identity& received);

// Text form of an identity for logs and messages ("*FQDN:gw.example.com").
std::string identity_text(const policy::Identity& id);

// DN text <-> DER. IKE0132 for text that does not parse or an unknown
// attribute name; IKE0133 for DER that is not a Name.
Result<Bytes> dn_from_text(std::string_view text);
Result<std::string> dn_to_text(ByteView der);
// Canonical comparison of two DER Names (case and space folded).
bool dn_equal(ByteView a_der, ByteView b_der);
// dn_equal, or equal once the configured name's RDN order is reversed (a DN
// typed most-specific first, as RFC 4514 writes it).
bool dn_matches(ByteView configured_der, ByteView received_der);

}  // namespace qvpn::ike
