#define BOOST_TEST_MODULE ike_auth_test
#include <boost/test/unit_test.hpp>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "daemon/ike/auth/auth.hpp"
#include "daemon/ike/tests/pki.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::auth;
using qvpn::ike::test::b;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;

namespace {

crypto::Prf prf(PrfId id) {
    auto p = crypto::Prf::create(id);
    BOOST_REQUIRE(p.ok());
    return *p;
}

// Keys are slow to make (RSA-2048); build each once for the whole module.
const PrivateKey& rsa() {
    static PrivateKey k = qvpn::ike::test::rsa_key();
    return k;
}
const PrivateKey& p256() {
    static PrivateKey k = qvpn::ike::test::ec_key("P-256");
    return k;
}
const PrivateKey& p384() {
    static PrivateKey k = qvpn::ike::test::ec_key("P-384");
    return k;
}
const PrivateKey& p521() {
    static PrivateKey k = qvpn::ike::test::ec_key("P-521");
    return k;
}

const Bytes kOctets = b("IKE_SA_INIT message | Nr | prf(SK_pi, IDi')");

}  // namespace

BOOST_AUTO_TEST_SUITE(psk)

// RFC 7296 2.15 computed directly with OpenSSL's HMAC.
BOOST_AUTO_TEST_CASE(psk_auth_matches_definition) {
    Bytes psk = b("topsecretstuff");
    auto a = psk_auth(prf(PrfId::PRF_HMAC_SHA2_256), psk, kOctets);
    BOOST_REQUIRE(a.ok());
    Bytes inner = qvpn::ike::test::ref_hmac("SHA256", psk, b("Key Pad for IKEv2"));
    BOOST_TEST(hx(*a) == hx(qvpn::ike::test::ref_hmac("SHA256", inner, kOctets)));
    BOOST_TEST(psk_verify(prf(PrfId::PRF_HMAC_SHA2_256), psk, kOctets, *a).ok());
}

BOOST_AUTO_TEST_CASE(psk_mismatch_and_tampering) {
    auto p = prf(PrfId::PRF_HMAC_SHA1);
    auto a = psk_auth(p, b("secret"), kOctets);
    BOOST_REQUIRE(a.ok());
    auto wrong = psk_verify(p, b("Secret"), kOctets, *a);
    BOOST_REQUIRE(!wrong.ok());
    BOOST_TEST(wrong.error().id == "IKE0102");
    BOOST_TEST(wrong.error().notify == notify_code(NotifyType::AUTHENTICATION_FAILED));
    Bytes changed = kOctets;
    changed[0] ^= 1;
    BOOST_TEST(!psk_verify(p, b("secret"), changed, *a).ok());
    BOOST_TEST(!psk_verify(p, b("secret"), kOctets, ByteView(*a).subspan(0, 10)).ok());
    BOOST_TEST(!psk_verify(p, b("secret"), kOctets, {}).ok());
}

// AES-XCBC-PRF-128 takes a PSK of any length (RFC 4434 key rule).
BOOST_AUTO_TEST_CASE(psk_with_xcbc_prf) {
    auto p = prf(PrfId::PRF_AES128_XCBC);
    for (size_t len : {size_t(1), size_t(16), size_t(40)}) {
        Bytes psk(len, 0x42);
        auto a = psk_auth(p, psk, kOctets);
        BOOST_REQUIRE(a.ok());
        BOOST_TEST(a->size() == 16u);
        BOOST_TEST(psk_verify(p, psk, kOctets, *a).ok());
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signatures)

BOOST_AUTO_TEST_CASE(classic_methods_round_trip) {
    struct Case {
        const PrivateKey* key;
        AuthMethod method;
        size_t size;  // 0: variable
    } cases[] = {{&rsa(), AuthMethod::RSA_DIGITAL_SIGNATURE, 256},
                 {&p256(), AuthMethod::ECDSA_SHA256_P256, 64},
                 {&p384(), AuthMethod::ECDSA_SHA384_P384, 96},
                 {&p521(), AuthMethod::ECDSA_SHA512_P521, 132}};
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(static_cast<int>(c.method)) {
            BOOST_TEST((*classic_method(c.key->type()) == c.method));
            auto sig = sign({c.method, HashAlgorithm::SHA2_256}, *c.key, kOctets);
            BOOST_REQUIRE(sig.ok());
            BOOST_TEST(sig->size() == c.size);
            PublicKey pub = c.key->public_key();
            BOOST_TEST(verify(c.method, pub, kOctets, *sig).ok());

            Bytes tampered = kOctets;
            tampered.back() ^= 1;
            auto r = verify(c.method, pub, tampered, *sig);
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "IKE0102");
            BOOST_TEST(r.error().notify == notify_code(NotifyType::AUTHENTICATION_FAILED));

            Bytes bad_sig = *sig;
            bad_sig[bad_sig.size() / 2] ^= 0x10;
            BOOST_TEST(!verify(c.method, pub, kOctets, bad_sig).ok());
        }
    }
}

BOOST_AUTO_TEST_CASE(wrong_key_fails) {
    PrivateKey other = qvpn::ike::test::ec_key("P-256");
    auto sig = sign({AuthMethod::ECDSA_SHA256_P256, {}}, p256(), kOctets);
    BOOST_REQUIRE(sig.ok());
    BOOST_TEST(verify(AuthMethod::ECDSA_SHA256_P256, other.public_key(), kOctets, *sig)
                   .error()
                   .id == "IKE0102");
    auto rsig = sign({AuthMethod::DIGITAL_SIGNATURE, HashAlgorithm::SHA2_256}, p256(), kOctets);
    BOOST_REQUIRE(rsig.ok());
    BOOST_TEST(verify(AuthMethod::DIGITAL_SIGNATURE, other.public_key(), kOctets, *rsig)
                   .error()
                   .id == "IKE0102");
}

BOOST_AUTO_TEST_CASE(method_key_mismatch) {
    BOOST_TEST(sign({AuthMethod::RSA_DIGITAL_SIGNATURE, {}}, p256(), kOctets).error().id ==
               "IKE0103");
    BOOST_TEST(sign({AuthMethod::ECDSA_SHA256_P256, {}}, p384(), kOctets).error().id ==
               "IKE0103");
    BOOST_TEST(sign({AuthMethod::ECDSA_SHA384_P384, {}}, rsa(), kOctets).error().id ==
               "IKE0103");
    BOOST_TEST(sign({AuthMethod::DIGITAL_SIGNATURE, HashAlgorithm::SHA1}, rsa(), kOctets)
                   .error()
                   .id == "IKE0103");
    BOOST_TEST(sign({AuthMethod::SHARED_KEY_MIC, {}}, rsa(), kOctets).error().id == "IKE0001");
    auto sig = sign({AuthMethod::ECDSA_SHA256_P256, {}}, p256(), kOctets);
    BOOST_TEST(verify(AuthMethod::ECDSA_SHA384_P384, p256().public_key(), kOctets, *sig)
                   .error()
                   .id == "IKE0103");
    BOOST_TEST(verify(AuthMethod::RSA_DIGITAL_SIGNATURE, p256().public_key(), kOctets, *sig)
                   .error()
                   .id == "IKE0103");
    // r | s of the wrong length is malformed, not merely wrong.
    BOOST_TEST(verify(AuthMethod::ECDSA_SHA256_P256, p256().public_key(), kOctets,
                      ByteView(*sig).subspan(0, 63))
                   .error()
                   .id == "IKE0104");
    BOOST_TEST(verify(AuthMethod::DSS_DIGITAL_SIGNATURE, p256().public_key(), kOctets, *sig)
                   .error()
                   .id == "IKE0001");
}

// RFC 7427 method 14 for RSA and ECDSA with each SHA-2 hash.
BOOST_AUTO_TEST_CASE(digital_signature_round_trip) {
    for (const PrivateKey* key : {&rsa(), &p256(), &p384()}) {
        for (HashAlgorithm hash :
             {HashAlgorithm::SHA2_256, HashAlgorithm::SHA2_384, HashAlgorithm::SHA2_512}) {
            auto sig = sign({AuthMethod::DIGITAL_SIGNATURE, hash}, *key, kOctets);
            BOOST_REQUIRE(sig.ok());
            auto alg = algorithm_identifier(key->type(), hash);
            BOOST_REQUIRE(alg.has_value());
            BOOST_TEST((*sig)[0] == alg->size());
            BOOST_TEST(hx(ByteView(*sig).subspan(1, alg->size())) == hx(*alg));
            BOOST_TEST(verify(AuthMethod::DIGITAL_SIGNATURE, key->public_key(), kOctets, *sig)
                           .ok());
            // Only the peer's accepted hashes pass.
            HashAlgorithm only = hash == HashAlgorithm::SHA2_256 ? HashAlgorithm::SHA2_512
                                                                 : HashAlgorithm::SHA2_256;
            BOOST_TEST(verify(AuthMethod::DIGITAL_SIGNATURE, key->public_key(), kOctets, *sig,
                              std::span(&only, 1))
                           .error()
                           .id == "IKE0103");
        }
    }
}

// The hard-coded AlgorithmIdentifiers equal what OpenSSL encodes itself.
BOOST_AUTO_TEST_CASE(rfc7427_algorithm_identifiers) {
    struct Case {
        KeyType type;
        HashAlgorithm hash;
        int nid;
        bool null_param;
    } cases[] = {
        {KeyType::Rsa, HashAlgorithm::SHA1, NID_sha1WithRSAEncryption, true},
        {KeyType::Rsa, HashAlgorithm::SHA2_256, NID_sha256WithRSAEncryption, true},
        {KeyType::Rsa, HashAlgorithm::SHA2_384, NID_sha384WithRSAEncryption, true},
        {KeyType::Rsa, HashAlgorithm::SHA2_512, NID_sha512WithRSAEncryption, true},
        {KeyType::EcP256, HashAlgorithm::SHA1, NID_ecdsa_with_SHA1, false},
        {KeyType::EcP256, HashAlgorithm::SHA2_256, NID_ecdsa_with_SHA256, false},
        {KeyType::EcP384, HashAlgorithm::SHA2_384, NID_ecdsa_with_SHA384, false},
        {KeyType::EcP521, HashAlgorithm::SHA2_512, NID_ecdsa_with_SHA512, false},
    };
    for (const auto& c : cases) {
        X509_ALGOR* a = X509_ALGOR_new();
        X509_ALGOR_set0(a, OBJ_nid2obj(c.nid), c.null_param ? V_ASN1_NULL : V_ASN1_UNDEF,
                        nullptr);
        unsigned char* der = nullptr;
        int len = i2d_X509_ALGOR(a, &der);
        Bytes expect(der, der + len);
        OPENSSL_free(der);
        X509_ALGOR_free(a);
        auto ours = algorithm_identifier(c.type, c.hash);
        BOOST_REQUIRE(ours.has_value());
        BOOST_TEST(hx(*ours) == hx(expect));
    }
    // RFC 7427 A.4.3 spells sha256WithRSAEncryption out in full.
    BOOST_TEST(hx(*algorithm_identifier(KeyType::Rsa, HashAlgorithm::SHA2_256)) ==
               "300d06092a864886f70d01010b0500");
    BOOST_TEST(!algorithm_identifier(KeyType::Other, HashAlgorithm::SHA2_256).has_value());
    BOOST_TEST(!algorithm_identifier(KeyType::Rsa, HashAlgorithm::IDENTITY).has_value());
}

BOOST_AUTO_TEST_CASE(digital_signature_malformed) {
    auto sig = sign({AuthMethod::DIGITAL_SIGNATURE, HashAlgorithm::SHA2_256}, p256(), kOctets);
    BOOST_REQUIRE(sig.ok());
    PublicKey pub = p256().public_key();
    auto v = [&](ByteView data) {
        return verify(AuthMethod::DIGITAL_SIGNATURE, pub, kOctets, data);
    };
    BOOST_TEST(v({}).error().id == "IKE0104");
    BOOST_TEST(v(ByteView(*sig).subspan(0, 1)).error().id == "IKE0104");
    BOOST_TEST(v(ByteView(*sig).subspan(0, 13)).error().id == "IKE0104");  // no signature
    Bytes long_len = *sig;
    long_len[0] = 0xff;
    BOOST_TEST(v(long_len).error().id == "IKE0104");
    Bytes unknown_oid = *sig;
    unknown_oid[12] = 0x09;  // ecdsa-with-SHA? that does not exist
    BOOST_TEST(v(unknown_oid).error().id == "IKE0103");
    // An RSA AlgorithmIdentifier on an ECDSA key.
    auto rsig = sign({AuthMethod::DIGITAL_SIGNATURE, HashAlgorithm::SHA2_256}, rsa(), kOctets);
    BOOST_TEST(v(*rsig).error().id == "IKE0103");
    // A truncated DER signature value.
    BOOST_TEST(v(ByteView(*sig).subspan(0, sig->size() - 3)).error().id == "IKE0102");
}

BOOST_AUTO_TEST_CASE(signature_hash_algorithms_notify) {
    Bytes data = encode_hash_algorithms(supported_hashes());
    BOOST_TEST(hx(data) == "000200030004");
    auto back = decode_hash_algorithms(h("0001000200ff0005"));
    BOOST_REQUIRE(back.ok());
    BOOST_REQUIRE(back->size() == 3u);  // 0x00ff is unknown and skipped
    BOOST_TEST((back->at(0) == HashAlgorithm::SHA1));
    BOOST_TEST((back->at(2) == HashAlgorithm::IDENTITY));
    auto odd = decode_hash_algorithms(h("000200"));
    BOOST_REQUIRE(!odd.ok());
    BOOST_TEST(odd.error().id == "IKE0105");
    BOOST_TEST(odd.error().notify == notify_code(NotifyType::INVALID_SYNTAX));
    BOOST_TEST(decode_hash_algorithms({})->empty());
}

BOOST_AUTO_TEST_CASE(choose_hash_rules) {
    std::vector<HashAlgorithm> all = {HashAlgorithm::SHA1, HashAlgorithm::SHA2_256,
                                      HashAlgorithm::SHA2_384, HashAlgorithm::SHA2_512};
    BOOST_TEST((*choose_hash(all, KeyType::Rsa) == HashAlgorithm::SHA2_256));
    BOOST_TEST((*choose_hash(all, KeyType::EcP256) == HashAlgorithm::SHA2_256));
    BOOST_TEST((*choose_hash(all, KeyType::EcP384) == HashAlgorithm::SHA2_384));
    BOOST_TEST((*choose_hash(all, KeyType::EcP521) == HashAlgorithm::SHA2_512));
    std::vector<HashAlgorithm> only512 = {HashAlgorithm::SHA2_512};
    BOOST_TEST((*choose_hash(only512, KeyType::EcP256) == HashAlgorithm::SHA2_512));
    std::vector<HashAlgorithm> only_sha1 = {HashAlgorithm::SHA1};
    BOOST_TEST(!choose_hash(only_sha1, KeyType::Rsa).has_value());
    BOOST_TEST(!choose_hash({}, KeyType::Rsa).has_value());
}

BOOST_AUTO_TEST_CASE(key_parsing) {
    Bytes der = p384().to_der();
    auto k = PrivateKey::from_der(der);
    BOOST_REQUIRE(k.ok());
    BOOST_TEST((k->type() == KeyType::EcP384));
    auto spki = PublicKey::from_spki_der(p384().public_key().spki_der());
    BOOST_REQUIRE(spki.ok());
    BOOST_TEST((spki->type() == KeyType::EcP384));
    BOOST_TEST(PrivateKey::from_der(b("garbage")).error().id == "IKE0101");
    BOOST_TEST(
        PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .error()
            .id == "IKE0101");
    BOOST_TEST(PublicKey::from_spki_der(b("x")).error().id == "IKE0100");
    Bytes trailing = p256().public_key().spki_der();
    trailing.push_back(0);
    BOOST_TEST(PublicKey::from_spki_der(trailing).error().id == "IKE0100");
    // Ed25519 is a key, but not one IKE signs with here.
    auto ed = qvpn::ike::test::make_key("ED25519");
    BOOST_TEST(PrivateKey::from_der(ed.to_der()).error().id == "IKE0101");
}

BOOST_AUTO_TEST_SUITE_END()
