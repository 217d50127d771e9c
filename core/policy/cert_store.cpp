#include "core/policy/cert_store.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>

namespace qvpn::policy {

namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct P12Free {
    void operator()(PKCS12* p) const { PKCS12_free(p); }
};

BioPtr mem_bio(ByteView data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

bool looks_pem(ByteView data) {
    std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
    return s.find("-----BEGIN ") != std::string_view::npos;
}

// PEM callback handing over the password (nullptr: no password).
int pass_cb(char* buf, int size, int, void* u) {
    const auto* pw = static_cast<const std::string*>(u);
    if (pw == nullptr || pw->empty()) {
        return 0;
    }
    int n = static_cast<int>(std::min<size_t>(pw->size(), static_cast<size_t>(size)));
    std::memcpy(buf, pw->data(), static_cast<size_t>(n));
    return n;
}

Result<std::vector<X509Ptr>> read_certs(ByteView data) {
    std::vector<X509Ptr> out;
    if (looks_pem(data)) {
        BioPtr bio = mem_bio(data);
        while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            out.emplace_back(x);
        }
        ERR_clear_error();
    } else {
        const uint8_t* p = data.data();
        if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(data.size()))) {
            out.emplace_back(x);
        }
        ERR_clear_error();
    }
    if (out.empty()) {
        return fail("DCM0010");
    }
    return out;
}

Result<PkeyPtr> read_key(ByteView data, const std::string& password) {
    EVP_PKEY* k = nullptr;
    if (looks_pem(data)) {
        BioPtr bio = mem_bio(data);
        k = PEM_read_bio_PrivateKey(bio.get(), nullptr, pass_cb,
                                    const_cast<std::string*>(&password));
    } else {
        const uint8_t* p = data.data();
        k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size()));
    }
    ERR_clear_error();
    if (k == nullptr) {
        return fail("DCM0012");
    }
    return PkeyPtr(k);
}

bool pem_has_key(ByteView data) {
    std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
    return s.find("PRIVATE KEY-----") != std::string_view::npos;
}

std::string name_text(const X509_NAME* n) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253);
    char* p = nullptr;
    long len = BIO_get_mem_data(bio.get(), &p);
    return std::string(p, static_cast<size_t>(len));
}

int64_t asn1_seconds(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return static_cast<int64_t>(timegm(&tm));
}

Result<SecretBytes> pkcs8_der(EVP_PKEY* k) {
    // PKCS#8 rather than the traditional RSA/EC forms: every reader takes it.
    PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(k);
    if (p8 == nullptr) {
        return fail("DCM0012");
    }
    int len = i2d_PKCS8_PRIV_KEY_INFO(p8, nullptr);
    SecretBytes out(static_cast<size_t>(len > 0 ? len : 0));
    uint8_t* w = out.data();
    i2d_PKCS8_PRIV_KEY_INFO(p8, &w);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return out;
}

}  // namespace

Status describe_certificate(ByteView der, CertificateInfo& info) {
    const uint8_t* p = der.data();
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!x || p != der.data() + der.size()) {
        ERR_clear_error();
        return fail("DCM0010");
    }
    info.der.assign(der.begin(), der.end());
    info.subject = name_text(X509_get_subject_name(x.get()));
    info.issuer = name_text(X509_get_issuer_name(x.get()));
    info.not_before = asn1_seconds(X509_get0_notBefore(x.get()));
    info.not_after = asn1_seconds(X509_get0_notAfter(x.get()));

    EVP_PKEY* pub = X509_get0_pubkey(x.get());
    if (pub == nullptr) {
        return fail("DCM0013", "none");
    }
    int id = EVP_PKEY_get_base_id(pub);
    info.key_bits = EVP_PKEY_get_bits(pub);
    info.curve.clear();
    if (id == EVP_PKEY_RSA) {
        info.key_type = KeyType::Rsa;
        if (info.key_bits < 1024) {
            return fail("DCM0013", "RSA-" + std::to_string(info.key_bits));
        }
    } else if (id == EVP_PKEY_EC) {
        info.key_type = KeyType::Ecdsa;
        char group[64] = {0};
        size_t glen = 0;
        EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen);
        std::string g(group);
        if (g == "prime256v1" || g == "P-256") {
            info.curve = "P-256";
        } else if (g == "secp384r1" || g == "P-384") {
            info.curve = "P-384";
        } else if (g == "secp521r1" || g == "P-521") {
            info.curve = "P-521";
        } else {
            return fail("DCM0013", g.empty() ? "EC" : g);
        }
    } else {
        return fail("DCM0013", OBJ_nid2sn(id));
    }

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    X509_digest(x.get(), EVP_sha256(), md, &mdlen);
    info.fingerprint.clear();
    static const char* kHex = "0123456789ABCDEF";
    for (unsigned i = 0; i < mdlen; ++i) {
        if (i != 0) {
            info.fingerprint += ':';
        }
        info.fingerprint += kHex[md[i] >> 4];
        info.fingerprint += kHex[md[i] & 15];
    }
    return {};
}

Result<ImportedCertificate> import_certificate(std::string label, CertKind kind,
                                               CertFormat format, ByteView cert_data,
                                               ByteView key_data, std::string_view password,
                                               std::string text) {
    std::string pw(password);
    X509Ptr cert;
    PkeyPtr key;
    if (format == CertFormat::Pkcs12) {
        const uint8_t* p = cert_data.data();
        std::unique_ptr<PKCS12, P12Free> p12(
            d2i_PKCS12(nullptr, &p, static_cast<long>(cert_data.size())));
        EVP_PKEY* k = nullptr;
        X509* x = nullptr;
        STACK_OF(X509)* chain = nullptr;
        if (!p12 || PKCS12_parse(p12.get(), pw.c_str(), &k, &x, &chain) != 1) {
            ERR_clear_error();
            std::fill(pw.begin(), pw.end(), '\0');
            return fail("DCM0014");
        }
        sk_X509_pop_free(chain, X509_free);
        cert.reset(x);
        key.reset(k);
        if (!cert) {
            return fail("DCM0010");
        }
    } else {
        QVPN_ASSIGN(auto certs, read_certs(cert_data));
        if (certs.size() != 1) {
            return fail("DCM0015", static_cast<long long>(certs.size()));
        }
        cert = std::move(certs.front());
        if (!key_data.empty()) {
            QVPN_ASSIGN(key, read_key(key_data, pw));
        } else if (looks_pem(cert_data) && pem_has_key(cert_data)) {
            QVPN_ASSIGN(key, read_key(cert_data, pw));
        }
    }
    std::fill(pw.begin(), pw.end(), '\0');

    ImportedCertificate out;
    out.info.label = std::move(label);
    out.info.kind = kind;
    out.info.text = std::move(text);
    int len = i2d_X509(cert.get(), nullptr);
    Bytes der(static_cast<size_t>(len > 0 ? len : 0));
    uint8_t* w = der.data();
    i2d_X509(cert.get(), &w);
    QVPN_TRY(describe_certificate(der, out.info));

    if (kind == CertKind::Ca) {
        if (key) {
            return fail("DCM0006", out.info.label);
        }
        return out;
    }
    if (!key) {
        return fail("DCM0003", out.info.label);
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return fail("DCM0011", out.info.label);
    }
    QVPN_ASSIGN(out.private_key, pkcs8_der(key.get()));
    out.info.has_private_key = true;
    return out;
}

Result<X509Ptr> to_x509(const CertificateInfo& info) {
    const uint8_t* p = info.der.data();
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(info.der.size())));
    if (!x) {
        ERR_clear_error();
        return fail("DCM0010");
    }
    return x;
}

Result<PkeyPtr> to_private_key(const CertificateKey& ck) {
    const uint8_t* p = ck.private_key_der.data();
    PkeyPtr k(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(ck.private_key_der.size())));
    if (!k) {
        ERR_clear_error();
        return fail("DCM0012");
    }
    return k;
}

std::string to_pem(const CertificateInfo& info) {
    auto x = to_x509(info);
    if (!x.ok()) {
        return "";
    }
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), x->get());
    char* p = nullptr;
    long len = BIO_get_mem_data(bio.get(), &p);
    return std::string(p, static_cast<size_t>(len));
}

Result<std::vector<X509Ptr>> trusted_ca_x509(PolicyDb& db) {
    QVPN_ASSIGN(auto cas, db.trusted_cas());
    std::vector<X509Ptr> out;
    for (const auto& c : cas) {
        QVPN_ASSIGN(X509Ptr x, to_x509(c));
        out.push_back(std::move(x));
    }
    return out;
}

}  // namespace qvpn::policy
