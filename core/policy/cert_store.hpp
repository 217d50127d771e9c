// The certificate store (IBM i's Digital Certificate Manager, the part VPN
// uses): reading certificates and private keys from PEM, DER or PKCS#12,
// checking them, and handing them to the key managers as OpenSSL objects.
//
// The store itself lives in the policy database (PolicyDb::add_certificate,
// certificate_key, trusted_cas); private keys are sealed to the system key
// pair like every other key.
//
// Key managers:
//
//   QVPN_ASSIGN(auto ck, db.certificate_key(policy.key.cert_label));   // root
//   QVPN_ASSIGN(X509Ptr cert, to_x509(ck.info));
//   QVPN_ASSIGN(PkeyPtr key, to_private_key(ck));
//   QVPN_ASSIGN(auto cas, trusted_ca_x509(db));
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::policy {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A certificate (and for *SYSTEM its private key) ready to be stored.
struct ImportedCertificate {
    CertificateInfo info;      // label, kind and text as given; the rest read from the cert
    SecretBytes private_key;   // PKCS#8 DER; empty for *CA
};

enum class CertFormat { Pem, Pkcs12 };

// Build a store entry from file contents.
// - Pem: `cert_data` holds the certificate (PEM or DER) and, when
//   `key_data` is empty, possibly the private key too (PEM); `key_data`
//   holds a PEM or DER private key, encrypted PEM keys with `password`.
// - Pkcs12: `cert_data` is the PKCS#12 file, `password` its password.
// Checks: one certificate, an RSA or ECDSA P-256/P-384/P-521 key, and for a
// *SYSTEM certificate a private key that matches it (DCM0011); a *CA
// certificate takes no key.
Result<ImportedCertificate> import_certificate(std::string label, CertKind kind,
                                               CertFormat format, ByteView cert_data,
                                               ByteView key_data, std::string_view password,
                                               std::string text = "");

// Fill the descriptive fields of `info` from a DER certificate.
Status describe_certificate(ByteView der, CertificateInfo& info);

Result<X509Ptr> to_x509(const CertificateInfo& info);
Result<PkeyPtr> to_private_key(const CertificateKey& ck);
std::string to_pem(const CertificateInfo& info);
// Every *CA certificate of the store, for chain verification.
Result<std::vector<X509Ptr>> trusted_ca_x509(PolicyDb& db);

}  // namespace qvpn::policy
