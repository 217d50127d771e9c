// X.509 certificates for IKE: parsing the CERT payload (encoding 4, X.509
// Certificate - Signature: one DER certificate), validating a peer's chain
// against trusted CAs at a given time, matching the peer's IKE identity
// against the certificate, and the CERTREQ payload (RFC 7296 3.7: SHA-1
// hashes of the trusted CAs' SubjectPublicKeyInfo).
//
// The certificate store itself lives in the policy database; this code
// takes its content as DER/PEM blobs so it does not depend on that API.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/ike/auth/keys.hpp"
#include "daemon/ike/iana.hpp"

struct x509_st;
struct x509_store_st;

namespace qvpn::ike::auth {

inline constexpr size_t kSpkiHashSize = 20;  // SHA-1 (RFC 7296 3.7)

class Certificate {
public:
    // One DER certificate, the whole input (IKE0110 otherwise).
    static Result<Certificate> from_der(ByteView der);
    // Every certificate in PEM text, in order (IKE0110 if there is none).
    static Result<std::vector<Certificate>> from_pem(std::string_view pem);
    static Certificate from_x509(x509_st* cert);  // takes a reference

    const Bytes& der() const { return der_; }
    // Stable text of the subject and issuer DN, as identity.hpp prints DNs.
    std::string subject_text() const;
    std::string issuer_text() const;
    Bytes subject_der() const;
    PublicKey public_key() const;
    // SHA-1 of the DER SubjectPublicKeyInfo (CERTREQ's CA hash).
    Bytes spki_sha1() const;
    // SHA-1 of the whole DER certificate (Hash and URL, RFC 7296 3.6).
    Bytes sha1() const;
    WallTime not_before() const;
    WallTime not_after() const;
    bool is_ca() const;
    x509_st* native() const { return cert_.get(); }

private:
    Certificate(std::shared_ptr<x509_st> c, Bytes der)
        : cert_(std::move(c)), der_(std::move(der)) {}
    std::shared_ptr<x509_st> cert_;
    Bytes der_;
};

// Trusted CA certificates. Build once, then share read-only between threads.
class TrustStore {
public:
    TrustStore();
    // IKE0110 when the blob holds no certificate.
    Status add_der(ByteView der);
    Status add_pem(std::string_view pem);
    void add(const Certificate& ca);

    const std::vector<Certificate>& cas() const { return cas_; }
    // CERTREQ Certification Authority data: the 20-byte SHA-1 hashes of
    // every trusted CA's SubjectPublicKeyInfo, concatenated.
    Bytes certreq_data() const;

    // The OpenSSL store holding cas() (shared, read-only once built).
    x509_store_st* native() const { return store_.get(); }

private:
    std::vector<Certificate> cas_;
    std::shared_ptr<x509_store_st> store_;
};

// Validates `end_entity` with the untrusted `intermediates` (as received in
// CERT payloads, any order) up to a CA in `trust` at time `now`. Every CA in
// the store is an anchor, an intermediate one too.
// IKE0111 (AUTHENTICATION_FAILED) with OpenSSL's reason and the subject in
// the values: expired or not yet valid, unknown issuer, bad signature, a
// non-CA in the middle of the chain.
Status verify_chain(const TrustStore& trust, const Certificate& end_entity,
                    std::span<const Certificate> intermediates, WallTime now);

// RFC 7296 3.5 / RFC 4945 3.1: the peer's identity must be in the
// certificate: an address, FQDN or e-mail in subjectAltName, a DN equal to
// the subject (in either RDN order). A key ID must equal the certificate's
// subjectKeyIdentifier or the SHA-1 of its SubjectPublicKeyInfo. IKE0112
// (AUTHENTICATION_FAILED) otherwise, and for *ANYIP.
Status match_identity(const Certificate& cert, const policy::Identity& id);

// Splits CERTREQ data into 20-byte hashes. IKE0113 (INVALID_SYNTAX) when the
// length is not a multiple of 20.
Result<std::vector<Bytes>> parse_certreq(ByteView data);

// Our certificate with the chain to send after it (end entity first, each
// next one the issuer of the previous; the root may be left out).
struct CertChain {
    Certificate cert;
    std::vector<Certificate> chain;
};

// RFC 7296 3.7: the first of `ours` with a certificate in its chain
// (intermediates or root, as CertChain::chain holds them) whose SPKI hash is
// in the CERTREQ data. With empty CERTREQ data (no CERTREQ received), the
// first one. nullopt when none fits.
std::optional<size_t> select_for_certreq(std::span<const CertChain> ours, ByteView certreq_data);

}  // namespace qvpn::ike::auth
