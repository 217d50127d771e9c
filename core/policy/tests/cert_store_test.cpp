#define BOOST_TEST_MODULE cert_store
#include "core/policy/cert_store.hpp"

#include <openssl/pkcs12.h>

#include "core/policy/secret_box.hpp"

#include "core/policy/tests/test_support.hpp"

using namespace qvpn;
using namespace qvpn::policy;
using namespace qvpn::policy::test;

namespace {

Bytes pkcs12(const TestCert& c, const char* password) {
    BIO* b = BIO_new_mem_buf(c.cert_pem.data(), static_cast<int>(c.cert_pem.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    b = BIO_new_mem_buf(c.key_pem.data(), static_cast<int>(c.key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    PKCS12* p12 = PKCS12_create(password, "test", k, x, nullptr, 0, 0, 0, 0, 0);
    int len = i2d_PKCS12(p12, nullptr);
    Bytes out(static_cast<size_t>(len));
    uint8_t* w = out.data();
    i2d_PKCS12(p12, &w);
    PKCS12_free(p12);
    X509_free(x);
    EVP_PKEY_free(k);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pem_rsa_and_ecdsa_certificates) {
    for (auto [alg, param, type, bits, curve] :
         {std::tuple{"RSA", "2048", KeyType::Rsa, 2048, ""},
          std::tuple{"EC", "P-256", KeyType::Ecdsa, 256, "P-256"},
          std::tuple{"EC", "P-521", KeyType::Ecdsa, 521, "P-521"}}) {
        BOOST_TEST_CONTEXT(alg << " " << param) {
            TestCert c = make_cert("systemA", alg, param);
            auto r = import_certificate("A", CertKind::System, CertFormat::Pem,
                                        as_view(c.cert_pem), as_view(c.key_pem), "", "text");
            REQUIRE_OK(r);
            BOOST_TEST((r->info.key_type == type));
            BOOST_TEST(r->info.key_bits == bits);
            BOOST_TEST(r->info.curve == curve);
            BOOST_TEST(r->info.subject == "CN=systemA");
            BOOST_TEST(r->info.fingerprint.size() == 32u * 3 - 1);
            BOOST_TEST(r->info.not_after > r->info.not_before);
            BOOST_TEST(!r->private_key.empty());
            // Key and certificate in one PEM file.
            std::string both = c.cert_pem + c.key_pem;
            REQUIRE_OK(import_certificate("A", CertKind::System, CertFormat::Pem, as_view(both),
                                          {}, ""));
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_certificates_are_refused) {
    TestCert a = make_cert("a", "EC", "P-256");
    TestCert b = make_cert("b", "EC", "P-256");
    CHECK_FAILS(import_certificate("A", CertKind::System, CertFormat::Pem, as_view(a.cert_pem),
                                   as_view(b.key_pem), ""),
                "DCM0011");
    CHECK_FAILS(import_certificate("A", CertKind::System, CertFormat::Pem, as_view(a.cert_pem),
                                   {}, ""),
                "DCM0003");
    CHECK_FAILS(import_certificate("A", CertKind::Ca, CertFormat::Pem, as_view(a.cert_pem),
                                   as_view(a.key_pem), ""),
                "DCM0006");
    CHECK_FAILS(import_certificate("A", CertKind::Ca, CertFormat::Pem, as_view("garbage"), {}, ""),
                "DCM0010");
    std::string two = a.cert_pem + b.cert_pem;
    CHECK_FAILS(import_certificate("A", CertKind::Ca, CertFormat::Pem, as_view(two), {}, ""),
                "DCM0015");
    TestCert ed = make_cert("ed", "ED25519", "");
    CHECK_FAILS(import_certificate("A", CertKind::Ca, CertFormat::Pem, as_view(ed.cert_pem), {},
                                   ""),
                "DCM0013");
    TestCert k224 = make_cert("p224", "EC", "P-224");
    CHECK_FAILS(import_certificate("A", CertKind::Ca, CertFormat::Pem, as_view(k224.cert_pem), {},
                                   ""),
                "DCM0013");
}

BOOST_AUTO_TEST_CASE(pkcs12_with_password) {
    TestCert c = make_cert("systemC", "EC", "P-384");
    Bytes p12 = pkcs12(c, "secret");
    auto r = import_certificate("C", CertKind::System, CertFormat::Pkcs12, p12, {}, "secret");
    REQUIRE_OK(r);
    BOOST_TEST(r->info.curve == "P-384");
    CHECK_FAILS(import_certificate("C", CertKind::System, CertFormat::Pkcs12, p12, {}, "wrong"),
                "DCM0014");
}

BOOST_AUTO_TEST_CASE(store_keeps_keys_sealed_and_checks_use) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    TestCert c = make_cert("systemA", "RSA", "2048");
    TestCert ca = make_cert("CA", "EC", "P-256");
    auto sys = import_certificate("SysA", CertKind::System, CertFormat::Pem, as_view(c.cert_pem),
                                  as_view(c.key_pem), "");
    auto cai = import_certificate("CA", CertKind::Ca, CertFormat::Pem, as_view(ca.cert_pem), {},
                                  "");
    REQUIRE_OK(sys);
    REQUIRE_OK(cai);
    REQUIRE_OK(db.add_certificate(sys->info, sys->private_key));
    REQUIRE_OK(db.add_certificate(cai->info, cai->private_key));
    CHECK_FAILS(db.add_certificate(sys->info, sys->private_key), "DCM0002");

    auto stored = db.database().prepare("SELECT private_key FROM certificate WHERE label = 'SysA'");
    REQUIRE_OK(stored);
    REQUIRE_OK(stored->step());
    Bytes sealed = stored->blob(0);
    BOOST_TEST(sealed.size() == sys->private_key.size() + crypto::kSealOverhead);

    auto ck = db.certificate_key("SYSA");
    REQUIRE_OK(ck);
    BOOST_TEST(ck->private_key_der.size() == sys->private_key.size());
    auto key = to_private_key(*ck);
    REQUIRE_OK(key);
    auto x = to_x509(ck->info);
    REQUIRE_OK(x);
    BOOST_TEST(X509_check_private_key(x->get(), key->get()) == 1);
    BOOST_TEST(to_pem(ck->info) == c.cert_pem);
    auto cas = trusted_ca_x509(db);
    REQUIRE_OK(cas);
    BOOST_TEST(cas->size() == 1u);
    CHECK_FAILS(db.certificate_key("CA"), "DCM0005");

    // A key policy uses the certificate: key type must match, and the
    // certificate cannot go while it is used.
    KeyPolicy k = key_policy("K", "198.51.100.250");
    k.psk = SecretBytes();
    k.has_psk = false;
    k.auth = AuthMethod::Ecdsa;
    k.cert_label = "sysa";
    CHECK_FAILS(db.create_key_policy(k), "PDB0141");
    k.cert_label = "CA";
    CHECK_FAILS(db.create_key_policy(k), "DCM0005");
    k.cert_label = "nosuch";
    CHECK_FAILS(db.create_key_policy(k), "DCM0001");
    k.auth = AuthMethod::Rsa;
    k.cert_label = "sysa";
    REQUIRE_OK(db.create_key_policy(k));
    auto back = db.load_key_policy("K");
    REQUIRE_OK(back);
    BOOST_TEST(back->cert_label == "SysA");
    CHECK_FAILS(db.remove_certificate("SysA"), "PDB0110");
    REQUIRE_OK(db.remove_certificate("ca"));
    REQUIRE_OK(db.delete_key_policy("K"));
    REQUIRE_OK(db.remove_certificate("SysA"));
    BOOST_TEST(db.list_certificates()->empty());
}
