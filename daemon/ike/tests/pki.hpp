// Test PKI built with OpenSSL in memory: keys, a CA, an intermediate and
// end-entity certificates with chosen names, SANs and validity.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/ike/auth/certs.hpp"
#include "daemon/ike/auth/keys.hpp"

namespace qvpn::ike::test {

inline auth::PrivateKey make_key(const char* type, const char* param = nullptr) {
    EVP_PKEY* k = param == nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048})
                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
    auth::PrivateKey key = auth::PrivateKey::from_evp(k);
    EVP_PKEY_free(k);
    return key;
}
inline auth::PrivateKey rsa_key() { return make_key("RSA"); }
inline auth::PrivateKey ec_key(const char* curve) { return make_key("EC", curve); }

struct CertSpec {
    std::string subject;              // "/C=US/O=Test/CN=name" entries as C, O, CN
    std::vector<std::string> sans;    // "DNS:x", "IP:1.2.3.4", "email:a@b"
    bool ca = false;
    long not_before_s = -3600;        // relative to now
    long not_after_s = 365 * 86400;
    bool subject_key_id = false;
};

inline void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// Signs with issuer_key; issuer == nullptr makes a self-signed certificate.
inline auth::Certificate make_cert(const CertSpec& spec, const auth::PrivateKey& subject_key,
                                   const auth::Certificate* issuer,
                                   const auth::PrivateKey& issuer_key) {
    static long serial = 1;
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before_s);
    X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after_s);
    X509_set_pubkey(x, subject_key.native());
    X509_NAME* name = X509_NAME_new();
    for (const auto& part : std::vector<std::string>{spec.subject}) {
        size_t pos = 1;
        while (pos < part.size()) {
            size_t next = part.find('/', pos);
            std::string ava = part.substr(pos, next - pos);
            size_t eq = ava.find('=');
            X509_NAME_add_entry_by_txt(name, ava.substr(0, eq).c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(ava.c_str() + eq + 1),
                                       -1, -1, 0);
            pos = next == std::string::npos ? part.size() : next + 1;
        }
    }
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->native()) : name);
    X509_NAME_free(name);
    X509* iss = issuer ? issuer->native() : x;
    add_ext(x, iss, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (spec.ca) {
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (spec.subject_key_id) {
        add_ext(x, iss, NID_subject_key_identifier, "hash");
    }
    if (!spec.sans.empty()) {
        std::string s;
        for (const auto& san : spec.sans) {
            s += (s.empty() ? "" : ",") + san;
        }
        add_ext(x, iss, NID_subject_alt_name, s);
    }
    X509_sign(x, issuer_key.native(), EVP_sha256());
    auth::Certificate c = auth::Certificate::from_x509(x);
    X509_free(x);
    return c;
}

}  // namespace qvpn::ike::test
