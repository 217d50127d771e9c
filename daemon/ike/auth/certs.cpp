#include "daemon/ike/auth/certs.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "core/base/ip.hpp"
#include "daemon/ike/crypto/ossl.hpp"
#include "daemon/ike/identity.hpp"

namespace qvpn::ike::auth {

namespace {

std::shared_ptr<X509> own(X509* c) { return std::shared_ptr<X509>(c, X509_free); }

Bytes sha1_of(ByteView data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, ossl::md(ossl::MdName::Sha1), nullptr);
    return Bytes(md, md + len);
}

Bytes der_of(X509* c) {
    unsigned char* buf = nullptr;
    int len = i2d_X509(c, &buf);
    if (len <= 0) {
        return {};
    }
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

Bytes name_der(const X509_NAME* n) {
    unsigned char* buf = nullptr;
    int len = i2d_X509_NAME(n, &buf);
    if (len <= 0) {
        return {};
    }
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

std::string name_text(const X509_NAME* n) {
    auto text = dn_to_text(name_der(n));
    return text.ok() ? *text : std::string("?");
}

WallTime to_wall(const ASN1_TIME* t) {
    struct tm tm = {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        return WallTime{};
    }
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Failure mismatch(const policy::Identity& id, const Certificate& c) {
    return fail(msg("IKE0112", identity_text(id), c.subject_text())
                    .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
}

}  // namespace

// --- Certificate ------------------------------------------------------------------

Result<Certificate> Certificate::from_der(ByteView der) {
    const unsigned char* p = der.data();
    X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (c == nullptr) {
        ERR_clear_error();
        return fail(msg("IKE0110", "not a DER X.509 certificate")
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    }
    if (p != der.data() + der.size()) {
        X509_free(c);
        return fail(msg("IKE0110", "data follows the certificate")
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    }
    return Certificate(own(c), Bytes(der.begin(), der.end()));
}

Result<std::vector<Certificate>> Certificate::from_pem(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    std::vector<Certificate> out;
    while (bio != nullptr) {
        X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        if (c == nullptr) {
            break;
        }
        out.push_back(from_x509(c));
        X509_free(c);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (out.empty()) {
        return fail("IKE0110", "no PEM certificate found");
    }
    return out;
}

Certificate Certificate::from_x509(x509_st* cert) {
    X509_up_ref(cert);
    return Certificate(own(cert), der_of(cert));
}

std::string Certificate::subject_text() const { return name_text(X509_get_subject_name(native())); }
std::string Certificate::issuer_text() const { return name_text(X509_get_issuer_name(native())); }
Bytes Certificate::subject_der() const { return name_der(X509_get_subject_name(native())); }

PublicKey Certificate::public_key() const {
    return PublicKey::from_evp(X509_get0_pubkey(native()));
}

Bytes Certificate::spki_sha1() const {
    unsigned char* buf = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(native()), &buf);
    if (len <= 0) {
        return {};
    }
    Bytes out = sha1_of(ByteView(buf, static_cast<size_t>(len)));
    OPENSSL_free(buf);
    return out;
}

Bytes Certificate::sha1() const { return sha1_of(der_); }
WallTime Certificate::not_before() const { return to_wall(X509_get0_notBefore(native())); }
WallTime Certificate::not_after() const { return to_wall(X509_get0_notAfter(native())); }
bool Certificate::is_ca() const { return X509_check_ca(native()) != 0; }

// --- TrustStore -------------------------------------------------------------------

TrustStore::TrustStore() : store_(X509_STORE_new(), X509_STORE_free) {}

void TrustStore::add(const Certificate& ca) {
    X509_STORE_add_cert(store_.get(), ca.native());  // a duplicate is harmless
    ERR_clear_error();
    cas_.push_back(ca);
}

Status TrustStore::add_der(ByteView der) {
    QVPN_ASSIGN(Certificate c, Certificate::from_der(der));
    add(c);
    return {};
}

Status TrustStore::add_pem(std::string_view pem) {
    QVPN_ASSIGN(auto certs, Certificate::from_pem(pem));
    for (const auto& c : certs) {
        add(c);
    }
    return {};
}

Bytes TrustStore::certreq_data() const {
    Bytes out;
    for (const auto& ca : cas_) {
        Bytes h = ca.spki_sha1();
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}

// --- chain validation ----------------------------------------------------------------

Status verify_chain(const TrustStore& trust, const Certificate& end_entity,
                    std::span<const Certificate> intermediates, WallTime now) {
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (const auto& c : intermediates) {
        sk_X509_push(untrusted, c.native());
    }
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    std::string reason;
    bool ok = false;
    if (untrusted != nullptr && ctx != nullptr &&
        X509_STORE_CTX_init(ctx, trust.native(), end_entity.native(), untrusted) == 1) {
        X509_STORE_CTX_set_time(ctx, 0, std::chrono::system_clock::to_time_t(now));
        // Every CA the operator put in the store is a trust anchor, also an
        // intermediate whose root is not there.
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
        ok = X509_verify_cert(ctx) == 1;
        if (!ok) {
            reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
        }
    } else {
        reason = "cannot set up the verification";
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);  // the certificates stay owned by their objects
    ERR_clear_error();
    if (!ok) {
        return fail(msg("IKE0111", end_entity.subject_text(), reason)
                        .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
    }
    return {};
}

// --- identity ------------------------------------------------------------------------

Status match_identity(const Certificate& cert, const policy::Identity& id) {
    X509* x = cert.native();
    switch (id.type) {
    case policy::IdType::IPv4:
    case policy::IdType::IPv6: {
        auto ip = IpAddress::parse(id.value);
        if (!ip || X509_check_ip(x, ip->data(), ip->size(), 0) != 1) {
            return mismatch(id, cert);
        }
        return {};
    }
    case policy::IdType::Fqdn: {
        // RFC 4945 3.1.2: the name must be a dNSName of subjectAltName; the
        // CN is not a host name here, and wildcards are not IKE practice.
        unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS;
        if (id.value.empty() ||
            X509_check_host(x, id.value.data(), id.value.size(), flags, nullptr) != 1) {
            return mismatch(id, cert);
        }
        return {};
    }
    case policy::IdType::UserFqdn:
        if (id.value.empty() ||
            X509_check_email(x, id.value.data(), id.value.size(), 0) != 1) {
            return mismatch(id, cert);
        }
        return {};
    case policy::IdType::Dn: {
        auto der = dn_from_text(id.value);
        if (!der.ok() || !dn_matches(*der, cert.subject_der())) {
            return mismatch(id, cert);
        }
        return {};
    }
    case policy::IdType::KeyId: {
        auto want = from_hex(id.value);
        if (!want.ok() || want->empty()) {
            return mismatch(id, cert);
        }
        if (*want == cert.spki_sha1()) {
            return {};
        }
        const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x);
        if (ski != nullptr &&
            Bytes(ASN1_STRING_get0_data(ski),
                  ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski)) == *want) {
            return {};
        }
        return mismatch(id, cert);
    }
    case policy::IdType::AnyIp:
        break;
    }
    return mismatch(id, cert);
}

// --- CERTREQ ---------------------------------------------------------------------------

Result<std::vector<Bytes>> parse_certreq(ByteView data) {
    if (data.size() % kSpkiHashSize != 0) {
        return fail(msg("IKE0113", data.size())
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    }
    std::vector<Bytes> out;
    for (size_t off = 0; off < data.size(); off += kSpkiHashSize) {
        out.emplace_back(data.begin() + off, data.begin() + off + kSpkiHashSize);
    }
    return out;
}

std::optional<size_t> select_for_certreq(std::span<const CertChain> ours, ByteView certreq_data) {
    if (ours.empty()) {
        return std::nullopt;
    }
    if (certreq_data.empty()) {
        return 0;
    }
    auto hashes = parse_certreq(certreq_data);
    if (!hashes.ok()) {
        return std::nullopt;
    }
    for (size_t i = 0; i < ours.size(); ++i) {
        for (const auto& c : ours[i].chain) {
            Bytes h = c.spki_sha1();
            for (const auto& want : *hashes) {
                if (want == h) {
                    return i;
                }
            }
        }
    }
    return std::nullopt;
}

}  // namespace qvpn::ike::auth
