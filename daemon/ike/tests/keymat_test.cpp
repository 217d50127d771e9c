#include <boost/test/unit_test.hpp>

#include "daemon/ike/crypto/keymat.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;
using qvpn::ike::test::b;
using qvpn::ike::test::cat;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;
using qvpn::ike::test::ref_hmac;

namespace {

const Bytes kNi = h("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8");  // 24 bytes
const Bytes kNr = h("c1c2c3c4c5c6c7c8c9cacbcccdcecfd0");                  // 16 bytes
const Bytes kGir = h("00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef");

Prf make_prf(PrfId id) {
    auto p = Prf::create(id);
    BOOST_REQUIRE(p.ok());
    return *p;
}

// prf+ written out from RFC 7296 2.13 with OpenSSL's one-shot HMAC.
Bytes ref_prf_plus(const char* md, ByteView key, ByteView seed, size_t len) {
    Bytes out, t;
    for (uint8_t n = 1; out.size() < len; ++n) {
        t = ref_hmac(md, key, cat({t, seed, ByteView(&n, 1)}));
        out.insert(out.end(), t.begin(), t.end());
    }
    out.resize(len);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keymat)

BOOST_AUTO_TEST_CASE(skeyseed_hmac) {
    auto s = skeyseed(make_prf(PrfId::PRF_HMAC_SHA2_256), kNi, kNr, kGir);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(hx(*s) == hx(ref_hmac("SHA256", cat({kNi, kNr}), kGir)));
}

// RFC 7296 2.14: AES-XCBC-PRF-128 keys SKEYSEED with 64 bits of each nonce.
BOOST_AUTO_TEST_CASE(skeyseed_xcbc_uses_64_bits_of_each_nonce) {
    Prf prf = make_prf(PrfId::PRF_AES128_XCBC);
    auto s = skeyseed(prf, kNi, kNr, kGir);
    BOOST_REQUIRE(s.ok());
    Bytes key = cat({ByteView(kNi).subspan(0, 8), ByteView(kNr).subspan(0, 8)});
    auto direct = prf.compute(key, kGir);
    BOOST_REQUIRE(direct.ok());
    BOOST_TEST(hx(*s) == hx(*direct));
    // Bytes after the first eight of a nonce do not matter.
    Bytes ni2 = kNi;
    ni2[20] ^= 1;
    BOOST_TEST(hx(*skeyseed(prf, ni2, kNr, kGir)) == hx(*s));

    auto short_nonce = skeyseed(prf, Bytes(7, 1), kNr, kGir);
    BOOST_TEST(short_nonce.error().id == "IKE0009");
}

BOOST_AUTO_TEST_CASE(ike_keys_split_cbc_hmac) {
    IkeSuite suite{{EncrId::ENCR_AES_CBC, 256}, PrfId::PRF_HMAC_SHA2_256,
                   IntegId::AUTH_HMAC_SHA2_256_128, DhId::ECP_256};
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_256);
    auto seed = skeyseed(prf, kNi, kNr, kGir);
    BOOST_REQUIRE(seed.ok());
    auto k = derive_ike_keys(suite, prf, *seed, kNi, kNr, 0x0102030405060708ULL,
                             0x1112131415161718ULL);
    BOOST_REQUIRE(k.ok());

    Bytes s = cat({kNi, kNr, h("0102030405060708"), h("1112131415161718")});
    Bytes km = ref_prf_plus("SHA256", *seed, s, 32 * 3 + 32 * 2 + 32 * 2);
    ByteView v(km);
    BOOST_TEST(hx(k->sk_d) == hx(v.subspan(0, 32)));
    BOOST_TEST(hx(k->sk_ai) == hx(v.subspan(32, 32)));
    BOOST_TEST(hx(k->sk_ar) == hx(v.subspan(64, 32)));
    BOOST_TEST(hx(k->sk_ei) == hx(v.subspan(96, 32)));
    BOOST_TEST(hx(k->sk_er) == hx(v.subspan(128, 32)));
    BOOST_TEST(hx(k->sk_pi) == hx(v.subspan(160, 32)));
    BOOST_TEST(hx(k->sk_pr) == hx(v.subspan(192, 32)));
}

BOOST_AUTO_TEST_CASE(ike_keys_aead_have_salt_and_no_integrity) {
    IkeSuite suite{{EncrId::ENCR_AES_GCM_16, 128}, PrfId::PRF_HMAC_SHA2_384, IntegId::NONE,
                   DhId::ECP_384};
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_384);
    auto k = derive_ike_keys(suite, prf, Bytes(48, 9), kNi, kNr, 1, 2);
    BOOST_REQUIRE(k.ok());
    BOOST_TEST(k->sk_d.size() == 48u);
    BOOST_TEST(k->sk_ai.empty());
    BOOST_TEST(k->sk_ar.empty());
    BOOST_TEST(k->sk_ei.size() == 20u);  // 16-byte key + 4-byte salt
    BOOST_TEST(k->sk_pr.size() == 48u);
    Bytes s = cat({kNi, kNr, h("0000000000000001"), h("0000000000000002")});
    Bytes km = ref_prf_plus("SHA384", Bytes(48, 9), s, 48 * 3 + 20 * 2);
    BOOST_TEST(hx(k->sk_er) == hx(ByteView(km).subspan(48 + 20, 20)));
    BOOST_TEST(hx(k->sk_pi) == hx(ByteView(km).subspan(48 + 40, 48)));
}

BOOST_AUTO_TEST_CASE(ike_keys_refuse_bad_suite) {
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_256);
    IkeSuite aead_with_integ{{EncrId::ENCR_AES_GCM_16, 128}, PrfId::PRF_HMAC_SHA2_256,
                             IntegId::AUTH_HMAC_SHA2_256_128, DhId::ECP_256};
    BOOST_TEST(derive_ike_keys(aead_with_integ, prf, Bytes(32), kNi, kNr, 1, 2).error().id ==
               "IKE0008");
    IkeSuite other_prf{{EncrId::ENCR_AES_CBC, 128}, PrfId::PRF_HMAC_SHA1,
                       IntegId::AUTH_HMAC_SHA1_96, DhId::ECP_256};
    BOOST_TEST(derive_ike_keys(other_prf, prf, Bytes(32), kNi, kNr, 1, 2).error().id == "QVP0003");
}

// RFC 7296 2.18.
BOOST_AUTO_TEST_CASE(rekey_skeyseed) {
    Bytes old_sk_d(32, 0x44);
    auto s = skeyseed_rekey(make_prf(PrfId::PRF_HMAC_SHA2_256), old_sk_d, kGir, kNi, kNr);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(hx(*s) == hx(ref_hmac("SHA256", old_sk_d, cat({kGir, kNi, kNr}))));
}

// RFC 7296 2.17 order: i->r before r->i; encryption before integrity.
BOOST_AUTO_TEST_CASE(child_keys_esp_cbc_order_and_direction) {
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_256);
    Bytes sk_d(32, 0x5d);
    ChildProto esp{{SaUse::Esp, {EncrId::ENCR_AES_CBC, 128}, IntegId::AUTH_HMAC_SHA1_96},
                   0xc0000001, 0xd0000002};
    auto init = derive_child_keys(prf, sk_d, {}, kNi, kNr, std::span(&esp, 1), true);
    auto resp = derive_child_keys(prf, sk_d, {}, kNi, kNr, std::span(&esp, 1), false);
    BOOST_REQUIRE(init.ok() && resp.ok());
    BOOST_REQUIRE(init->esp.has_value());
    BOOST_TEST(!init->ah.has_value());

    Bytes km = ref_prf_plus("SHA256", sk_d, cat({kNi, kNr}), 2 * (16 + 20));
    ByteView v(km);
    const sa::SaKeys& out = init->esp->out;  // initiator's outbound = i->r
    BOOST_TEST(hx(out.encr_key) == hx(v.subspan(0, 16)));
    BOOST_TEST(hx(out.integ_key) == hx(v.subspan(16, 20)));
    BOOST_TEST(hx(init->esp->in.encr_key) == hx(v.subspan(36, 16)));
    BOOST_TEST(hx(init->esp->in.integ_key) == hx(v.subspan(52, 20)));
    BOOST_TEST(out.spi == 0xd0000002u);
    BOOST_TEST(init->esp->in.spi == 0xc0000001u);
    BOOST_TEST(out.encr_key_bits == 128);
    BOOST_TEST((out.integ == IntegId::AUTH_HMAC_SHA1_96));

    // The responder's inbound keys are the initiator's outbound keys.
    BOOST_TEST(hx(resp->esp->in.encr_key) == hx(init->esp->out.encr_key));
    BOOST_TEST(hx(resp->esp->out.integ_key) == hx(init->esp->in.integ_key));
}

BOOST_AUTO_TEST_CASE(child_keys_pfs_and_salts) {
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_512);
    Bytes sk_d(64, 0x11);
    ChildProto gcm{{SaUse::Esp, {EncrId::ENCR_AES_GCM_16, 256}, IntegId::NONE}, 1, 2};
    auto k = derive_child_keys(prf, sk_d, kGir, kNi, kNr, std::span(&gcm, 1), true);
    BOOST_REQUIRE(k.ok());
    Bytes km = ref_prf_plus("SHA512", sk_d, cat({kGir, kNi, kNr}), 2 * 36);
    BOOST_TEST(hx(k->esp->out.encr_key) == hx(ByteView(km).subspan(0, 36)));
    BOOST_TEST(hx(k->esp->in.encr_key) == hx(ByteView(km).subspan(36, 36)));
    BOOST_TEST(k->esp->out.integ_key.empty());
    BOOST_TEST(k->esp->out.encr_key_bits == 256);

    // RFC 4309 (CCM: 3-byte salt), RFC 3686 (CTR: 4-byte nonce), RFC 4543
    // (GMAC: 4-byte salt).
    for (auto [encr, integ, size] :
         {std::tuple{EncrAlg{EncrId::ENCR_AES_CCM_8, 192}, IntegId::NONE, size_t(27)},
          std::tuple{EncrAlg{EncrId::ENCR_AES_CTR, 128}, IntegId::AUTH_HMAC_SHA2_256_128,
                     size_t(20)},
          std::tuple{EncrAlg{EncrId::ENCR_NULL_AUTH_AES_GMAC, 128}, IntegId::NONE, size_t(20)},
          std::tuple{EncrAlg{EncrId::ENCR_3DES, 0}, IntegId::AUTH_AES_XCBC_96, size_t(24)}}) {
        ChildProto p{{SaUse::Esp, encr, integ}, 1, 2};
        auto r = derive_child_keys(prf, sk_d, {}, kNi, kNr, std::span(&p, 1), true);
        BOOST_REQUIRE(r.ok());
        BOOST_TEST(r->esp->out.encr_key.size() == size);
    }
}

BOOST_AUTO_TEST_CASE(child_keys_ah_and_esp_order) {
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_256);
    Bytes sk_d(32, 0x22);
    ChildProto both[] = {
        {{SaUse::Esp, {EncrId::ENCR_AES_CBC, 128}, IntegId::NONE}, 10, 20},
        {{SaUse::Ah, {}, IntegId::AUTH_HMAC_SHA2_256_128}, 30, 40},
    };
    auto k = derive_child_keys(prf, sk_d, {}, kNi, kNr, both, true);
    BOOST_REQUIRE(k.ok());
    BOOST_REQUIRE(k->ah.has_value() && k->esp.has_value());
    // i->r: AH integrity (32), ESP encryption (16); then r->i the same.
    Bytes km = ref_prf_plus("SHA256", sk_d, cat({kNi, kNr}), 2 * 48);
    ByteView v(km);
    BOOST_TEST(hx(k->ah->out.integ_key) == hx(v.subspan(0, 32)));
    BOOST_TEST(hx(k->esp->out.encr_key) == hx(v.subspan(32, 16)));
    BOOST_TEST(hx(k->ah->in.integ_key) == hx(v.subspan(48, 32)));
    BOOST_TEST(hx(k->esp->in.encr_key) == hx(v.subspan(80, 16)));
    BOOST_TEST(k->ah->out.spi == 40u);
    BOOST_TEST((k->ah->out.encr == EncrId::ENCR_NULL));
    BOOST_TEST(k->ah->out.encr_key.empty());
}

BOOST_AUTO_TEST_CASE(child_keys_refusals) {
    Prf prf = make_prf(PrfId::PRF_HMAC_SHA2_256);
    ChildProto gmac_in_ah{{SaUse::Ah, {}, IntegId::NONE}, 1, 2};
    BOOST_TEST(derive_child_keys(prf, Bytes(32), {}, kNi, kNr, std::span(&gmac_in_ah, 1), true)
                   .error()
                   .id == "IKE0008");
    ChildProto two_esp[] = {{{SaUse::Esp, {EncrId::ENCR_AES_GCM_16, 128}, IntegId::NONE}, 1, 2},
                            {{SaUse::Esp, {EncrId::ENCR_AES_GCM_16, 128}, IntegId::NONE}, 3, 4}};
    BOOST_TEST(derive_child_keys(prf, Bytes(32), {}, kNi, kNr, two_esp, true).error().id ==
               "IKE0008");
    BOOST_TEST(derive_child_keys(prf, Bytes(32), {}, kNi, kNr, {}, true).error().id == "IKE0008");
}

BOOST_AUTO_TEST_SUITE_END()
