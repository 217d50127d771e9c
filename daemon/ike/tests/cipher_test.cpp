#include <boost/test/unit_test.hpp>

#include "daemon/ike/crypto/cipher.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;
using qvpn::ike::test::b;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;

namespace {

struct AeadVector {
    const char* name;
    EncrId id;
    uint16_t bits;
    const char* keymat;  // key || salt
    const char* iv;
    const char* aad;
    const char* plain;
    const char* cipher_icv;
};

void check_vector(const AeadVector& v) {
    BOOST_TEST_CONTEXT(v.name) {
        auto c = Cipher::create(v.id, v.bits);
        BOOST_REQUIRE(c.ok());
        Bytes key = h(v.keymat), iv = h(v.iv), aad = h(v.aad), pt = h(v.plain);
        BOOST_TEST(c->key_size() == key.size());
        auto ct = c->encrypt(key, iv, aad, pt);
        BOOST_REQUIRE(ct.ok());
        BOOST_TEST(hx(*ct) == hx(h(v.cipher_icv)));
        auto back = c->decrypt(key, iv, aad, *ct);
        BOOST_REQUIRE(back.ok());
        BOOST_TEST(hx(*back) == hx(pt));
    }
}

// GCM spec (McGrew/Viega) test cases 4, 10 and 16: key, 12-byte IV
// cafebabefacedbaddecaf888 (salt cafebabe | IV facedbaddecaf888), 20-byte
// AAD. Shorter ICVs are the leading bytes of the 16-byte tag (GCM truncates).
constexpr const char* kGcmPlain =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr const char* kGcmAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
struct GcmCase {
    uint16_t bits;
    const char* key;
    const char* ct;
    const char* tag;
};
const GcmCase kGcm[] = {
    {128, "feffe9928665731c6d6a8f9467308308",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {192, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
     "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
     "2519498e80f1478f37ba55bd6d27618c"},
    {256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cipher)

BOOST_AUTO_TEST_CASE(aes_gcm_every_key_size_and_icv) {
    for (const auto& g : kGcm) {
        for (auto [id, icv] : {std::pair{EncrId::ENCR_AES_GCM_8, 8},
                               std::pair{EncrId::ENCR_AES_GCM_12, 12},
                               std::pair{EncrId::ENCR_AES_GCM_16, 16}}) {
            std::string keymat = std::string(g.key) + "cafebabe";
            std::string expect = std::string(g.ct) + std::string(g.tag).substr(0, 2 * icv);
            std::string name = "GCM-" + std::to_string(g.bits) + "-" + std::to_string(icv);
            check_vector({name.c_str(), id, g.bits, keymat.c_str(), "facedbaddecaf888", kGcmAad,
                          kGcmPlain, expect.c_str()});
        }
    }
}

// 11-byte nonce CCM vectors (FIPS CAVS data as carried in the Linux kernel's
// rfc4309 test set and strongSwan's test vectors): key || 3-byte salt.
BOOST_AUTO_TEST_CASE(aes_ccm_every_key_size_and_icv) {
    const AeadVector v[] = {
        {"CCM-128-16", EncrId::ENCR_AES_CCM_16, 128, "1e2c7e01419aefc00d58966e5ca24bd34fa319",
         "d3015ad830601556",
         "dae6289c452dfd635eda4cb6e6fcf9b70c56cbe4e0057ae10a630978bc2c55de",
         "87a336fd96b39378a92863ba12a31485571e06c97b21ef767f387e8e29a43e7e",
         "8a1e11f0026be219fc70c46d8eb799abc54ba2acd3f348ff3bb5ce53efdebb02"
         "a986156c13feda0a22b8293dd8399a23"},
        {"CCM-128-8", EncrId::ENCR_AES_CCM_8, 128, "ab2f8a74b71cd2b1ff802e487d82f8b9af9487",
         "783582817f889468", "", "", "413cb88773cbf3f3"},
        {"CCM-128-12", EncrId::ENCR_AES_CCM_12, 128, "7cc8183b8d99e07c4541b8bd5ca7c2328ab802",
         "63b53d9d43f61e50",
         "57f56b8b575c3d3b1302010c834c96358ed639cf7d149b94b03936e68f57e013",
         "3b6c2936b6ef07a68372074fcffa66895fcab1bad58f2c2730db750993d465e4",
         "2b94711ad32821e5e2eb75e809989c0ac9ea3ee43af9714c4f16731da510935b"
         "83cddd30b93f86b314bb7d81"},
        {"CCM-192-16", EncrId::ENCR_AES_CCM_16, 192,
         "56df5c8f263f0e42ef7ad3cefc846062cab440af5fc9c901d63c8c", "8684b6cdef092e94",
         "0265783ce9213091b1b9da769a786d95f28832a3f250cb4ce300736984698779",
         "9fd2024b5249313c43693a2d8e70ad7ee0e54609808913b28c8bd93f86fbb56b",
         "39df7c3c5a29b9625d51c216d8bd069f9b6a0970c15183c266881d4f9adae01e"
         "c7791158e56b20407aea46428be46fe1"},
        {"CCM-192-8", EncrId::ENCR_AES_CCM_8, 192,
         "585da096651a04d796e5c568aa9535e029a0ba9e4878d1baee4983", "e9a9ffe957bafd9e",
         "44a62c05e9e143b1587cf25c6d390a64a4f01305d177996711c4c6db00563661",
         "85346642c8920f3658e06b913c985cbb0a85cc02ad7a96e96543a4c30fdc5581",
         "fbe55d34bee5e8e75aef2fbf1f7fd4b266ca611e967a61b31c164552ba049c9f"
         "b1d240bc527c6fb1"},
        {"CCM-192-12", EncrId::ENCR_AES_CCM_12, 192,
         "7cc8183b8d99e07c4541b8bd5ca7c2328ab80259a4fea92cf9d94e", "63b53d9d43f61e50",
         "57f56b8b575c3d3b1302010c834c96358ed639cf7d149b94b03936e68f57e013",
         "3b6c2936b6ef07a68372074fcffa66895fcab1bad58f2c2730db750993d465e4",
         "481960bb65a800b826f17f161f3cfc6d866210c551cfef74acc6df28ac366fa0"
         "3a382450680f401eafea4216"},
        {"CCM-256-16", EncrId::ENCR_AES_CCM_16, 256,
         "abd0e9330726e5838c7695d4b6dcf346f98fade3021383773fb0f1a1a1220f2b24a78b",
         "07cbcc0ee633bff5",
         "d4db301d03fefd5f87d48cb6b6f17a5dab90658d8eca4d4f160c40904bc73673",
         "f5c67d48c1b7e692975acac4a96df93d6cdebcf190ea6ab2358636af5cfe4b3a",
         "836f408772cfc113efbb8021046c5809071bfcdfc03f5bc7e079a86e717c3fcf"
         "5cdab233e513e20d74d1efb50f3ab5f8"},
        {"CCM-256-8", EncrId::ENCR_AES_CCM_8, 256,
         "e08d997160d7971abd0199d58adf713ad3df244b5e3d4b4e307ab9d8530a5e2b1e2991",
         "ad8ec1530acf2dbe",
         "19b61f57c4f3f08b782b9402290f42276b75cb9834087e79e43e490d848b2287",
         "e1d9d813eb3a753f9dbd5f66bedcbb66bf1799624a39271f1ddc24ae192f984c",
         "19b86133452b43966f51d020307d9bc6263df8c96516a89ff0621734f21e8d75"
         "4e13ccc0c32a542d"},
        {"CCM-256-12", EncrId::ENCR_AES_CCM_12, 256,
         "7cc8183b8d99e07c4541b8bd5ca7c2328ab80259a4fea92c09759a9b3c9b2739f9d94e",
         "63b53d9d43f61e50",
         "57f56b8b575c3d3b1302010c834c96358ed639cf7d149b94b03936e68f57e013",
         "3b6c2936b6ef07a68372074fcffa66895fcab1bad58f2c2730db750993d465e4",
         "b0885a33aae5c71d8523c7c62ff41e3dcc63442507784f9e96b888ebbc481f06"
         "39af39acd84a80397b728af7"},
    };
    for (const auto& x : v) {
        check_vector(x);
    }
}

// RFC 3686 6: test vectors 2 (128), 5 (192) and 8 (256), 32-byte messages,
// plus vector 1 (one block). ENCR_AES_CTR keys are key || 4-byte nonce.
BOOST_AUTO_TEST_CASE(aes_ctr_rfc3686) {
    struct Case {
        uint16_t bits;
        const char *key, *nonce, *iv, *pt, *ct;
    } cases[] = {
        {128, "ae6852f8121067cc4bf7a5765577f39e", "00000030", "0000000000000000",
         "53696e676c6520626c6f636b206d7367", "e4095d4fb7a7b3792d6175a3261311b8"},
        {128, "7e24067817fae0d743d6ce1f32539163", "006cb6db", "c0543b59da48d90b",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28"},
        {192, "7c5cb2401b3dc33c19e7340819e0f69c678c3db8e6f6a91a", "0096b03b", "020c6eadc2cb500d",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "453243fc609b23327edfaafa7131cd9f8490701c5ad4a79cfc1fe0ff42f4fb00"},
        {256, "f6d66d6bd52d59bb0796365879eff886c66dd51a5b6a99744b50590c87a23884", "00faac24",
         "c1585ef15a43d875",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "f05e231b3894612c49ee000b804eb2a9b8306b508f839d6a5530831d9344af1c"},
    };
    for (const auto& c : cases) {
        auto cipher = Cipher::create(EncrId::ENCR_AES_CTR, c.bits);
        BOOST_REQUIRE(cipher.ok());
        BOOST_TEST(cipher->iv_size() == 8u);
        BOOST_TEST(cipher->salt_size() == 4u);
        BOOST_TEST(cipher->block_size() == 1u);
        Bytes key = qvpn::ike::test::cat({h(c.key), h(c.nonce)});
        auto ct = cipher->encrypt(key, h(c.iv), {}, h(c.pt));
        BOOST_REQUIRE(ct.ok());
        BOOST_TEST(hx(*ct) == c.ct);
        auto pt = cipher->decrypt(key, h(c.iv), {}, *ct);
        BOOST_REQUIRE(pt.ok());
        BOOST_TEST(hx(*pt) == c.pt);
    }
    // Not block aligned: CTR takes any length.
    auto cipher = Cipher::create(EncrId::ENCR_AES_CTR, 128);
    auto odd = cipher->encrypt(Bytes(20, 1), Bytes(8, 2), {}, b("seventeen bytes!!"));
    BOOST_REQUIRE(odd.ok());
    BOOST_TEST(odd->size() == 17u);
}

// RFC 3602 4: AES-128-CBC case 2 (two blocks) and FIPS 81's DES-CBC example.
BOOST_AUTO_TEST_CASE(cbc_vectors) {
    auto aes = Cipher::create(EncrId::ENCR_AES_CBC, 128);
    BOOST_REQUIRE(aes.ok());
    BOOST_TEST(aes->iv_size() == 16u);
    BOOST_TEST(aes->block_size() == 16u);
    BOOST_TEST(aes->icv_size() == 0u);
    Bytes key = h("c286696d887c9aa0611bbb3e2025a45a");
    Bytes iv = h("562e17996d093d28ddb3ba695a2e6f58");
    Bytes pt = h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    auto ct = aes->encrypt(key, iv, {}, pt);
    BOOST_REQUIRE(ct.ok());
    BOOST_TEST(hx(*ct) == "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
    auto back = aes->decrypt(key, iv, {}, *ct);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(hx(*back) == hx(pt));

    auto des = Cipher::create(EncrId::ENCR_DES, 0);
    BOOST_REQUIRE(des.ok());
    BOOST_TEST(des->deemphasized());
    BOOST_TEST(des->key_size() == 8u);
    BOOST_TEST(des->key_bits() == 64);
    auto dct = des->encrypt(h("0123456789abcdef"), h("1234567890abcdef"), {},
                            b("Now is the time for all "));
    BOOST_REQUIRE(dct.ok());
    BOOST_TEST(hx(*dct) == "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6");
}

BOOST_AUTO_TEST_CASE(triple_des_round_trip_and_sizes) {
    auto c = Cipher::create(EncrId::ENCR_3DES, 0);
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(c->key_size() == 24u);
    BOOST_TEST(c->iv_size() == 8u);
    BOOST_TEST(c->block_size() == 8u);
    BOOST_TEST(c->key_bits() == 192);
    Bytes key = h("0123456789abcdef23456789abcdef01456789abcdef0123");
    Bytes pt(48, 0x5a);
    auto ct = c->encrypt(key, Bytes(8, 1), {}, pt);
    BOOST_REQUIRE(ct.ok());
    BOOST_TEST(hx(*ct) != hx(pt));
    auto back = c->decrypt(key, Bytes(8, 1), {}, *ct);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(hx(*back) == hx(pt));
}

BOOST_AUTO_TEST_CASE(sizes_of_every_cipher) {
    struct Case {
        EncrId id;
        uint16_t bits;
        size_t key, iv, block, icv;
    } cases[] = {
        {EncrId::ENCR_AES_CBC, 192, 24, 16, 16, 0},  {EncrId::ENCR_AES_CBC, 256, 32, 16, 16, 0},
        {EncrId::ENCR_AES_CTR, 256, 36, 8, 1, 0},    {EncrId::ENCR_AES_GCM_8, 128, 20, 8, 1, 8},
        {EncrId::ENCR_AES_GCM_16, 256, 36, 8, 1, 16}, {EncrId::ENCR_AES_CCM_12, 192, 27, 8, 1, 12},
        {EncrId::ENCR_AES_CCM_16, 256, 35, 8, 1, 16},
    };
    for (auto c : cases) {
        auto x = Cipher::create(c.id, c.bits);
        BOOST_REQUIRE(x.ok());
        BOOST_TEST(x->key_size() == c.key);
        BOOST_TEST(x->iv_size() == c.iv);
        BOOST_TEST(x->block_size() == c.block);
        BOOST_TEST(x->icv_size() == c.icv);
        BOOST_TEST(x->is_aead() == (c.icv != 0));
    }
}

BOOST_AUTO_TEST_CASE(aead_authentication_failures) {
    for (EncrId id : {EncrId::ENCR_AES_GCM_16, EncrId::ENCR_AES_GCM_8, EncrId::ENCR_AES_CCM_16,
                      EncrId::ENCR_AES_CCM_8}) {
        auto c = Cipher::create(id, 128);
        BOOST_REQUIRE(c.ok());
        Bytes key(c->key_size(), 0x11), iv(8, 0x22);
        Bytes aad = b("ike header | sk header");
        auto ct = c->encrypt(key, iv, aad, b("payloads in the clear"));
        BOOST_REQUIRE(ct.ok());

        Bytes flipped = *ct;
        flipped[3] ^= 1;
        auto r1 = c->decrypt(key, iv, aad, flipped);
        BOOST_REQUIRE(!r1.ok());
        BOOST_TEST(r1.error().id == "IKE0005");

        Bytes bad_tag = *ct;
        bad_tag.back() ^= 0x40;
        BOOST_TEST(c->decrypt(key, iv, aad, bad_tag).error().id == "IKE0005");

        Bytes other_aad = aad;
        other_aad[0] ^= 1;
        BOOST_TEST(c->decrypt(key, iv, other_aad, *ct).error().id == "IKE0005");

        Bytes other_iv(8, 0x23);
        BOOST_TEST(c->decrypt(key, other_iv, aad, *ct).error().id == "IKE0005");

        Bytes other_salt = key;
        other_salt.back() ^= 1;
        BOOST_TEST(c->decrypt(other_salt, iv, aad, *ct).error().id == "IKE0005");

        // Shorter than the ICV: cannot be valid at all.
        auto shortr = c->decrypt(key, iv, aad, ByteView(*ct).subspan(0, c->icv_size() - 1));
        BOOST_TEST(shortr.error().id == "IKE0006");
    }
}

BOOST_AUTO_TEST_CASE(malformed_inputs) {
    auto c = Cipher::create(EncrId::ENCR_AES_CBC, 128);
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(c->encrypt(Bytes(15, 0), Bytes(16, 0), {}, Bytes(16, 0)).error().id == "IKE0002");
    BOOST_TEST(c->encrypt(Bytes(16, 0), Bytes(8, 0), {}, Bytes(16, 0)).error().id == "IKE0007");
    BOOST_TEST(c->encrypt(Bytes(16, 0), Bytes(16, 0), {}, Bytes(17, 0)).error().id == "IKE0006");
    BOOST_TEST(c->decrypt(Bytes(16, 0), Bytes(16, 0), {}, Bytes(31, 0)).error().id == "IKE0006");
    auto empty = c->encrypt(Bytes(16, 0), Bytes(16, 0), {}, {});
    BOOST_REQUIRE(empty.ok());
    BOOST_TEST(empty->empty());

    auto g = Cipher::create(EncrId::ENCR_AES_GCM_16, 256);
    BOOST_TEST(g->encrypt(Bytes(32, 0), Bytes(8, 0), {}, Bytes(4, 0)).error().id == "IKE0002");
    BOOST_TEST(g->decrypt(Bytes(36, 0), Bytes(12, 0), {}, Bytes(20, 0)).error().id == "IKE0007");
}

BOOST_AUTO_TEST_CASE(create_refusals) {
    auto bad_len = Cipher::create(EncrId::ENCR_AES_CBC, 100);
    BOOST_TEST(bad_len.error().id == "IKE0002");
    BOOST_TEST(bad_len.error().notify == notify_code(NotifyType::NO_PROPOSAL_CHOSEN));
    BOOST_TEST(Cipher::create(EncrId::ENCR_AES_GCM_16, 0).error().id == "IKE0002");
    BOOST_TEST(Cipher::create(EncrId::ENCR_3DES, 128).error().id == "IKE0002");
    BOOST_TEST(Cipher::create(EncrId::ENCR_NULL, 0).error().id == "IKE0001");
    BOOST_TEST(Cipher::create(EncrId::ENCR_NULL_AUTH_AES_GMAC, 128).error().id == "IKE0001");
    BOOST_TEST(Cipher::create(static_cast<EncrId>(7), 128).error().id == "IKE0001");
}

BOOST_AUTO_TEST_SUITE_END()
