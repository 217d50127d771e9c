#define BOOST_TEST_MODULE ike_crypto_test
#include <boost/test/unit_test.hpp>

#include "daemon/ike/crypto/integrity.hpp"
#include "daemon/ike/crypto/prf.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;
using qvpn::ike::test::b;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;

namespace {

std::string prf_hex(PrfId id, ByteView key, ByteView data) {
    auto prf = Prf::create(id);
    BOOST_REQUIRE(prf.ok());
    auto out = prf->compute(key, data);
    BOOST_REQUIRE(out.ok());
    return hx(*out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prf)

// RFC 2202 test cases 1, 2 and 6 (key longer than the block).
BOOST_AUTO_TEST_CASE(hmac_md5_rfc2202) {
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_MD5, Bytes(16, 0x0b), b("Hi There")) ==
               "9294727a3638bb1c13f48ef8158bfc9d");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_MD5, b("Jefe"), b("what do ya want for nothing?")) ==
               "750c783e6ab0b503eaa86e310a5db738");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_MD5, Bytes(80, 0xaa),
                       b("Test Using Larger Than Block-Size Key - Hash Key First")) ==
               "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
}

BOOST_AUTO_TEST_CASE(hmac_sha1_rfc2202) {
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA1, Bytes(20, 0x0b), b("Hi There")) ==
               "b617318655057264e28bc0b6fb378c8ef146be00");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA1, b("Jefe"), b("what do ya want for nothing?")) ==
               "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA1, Bytes(80, 0xaa),
                       b("Test Using Larger Than Block-Size Key - Hash Key First")) ==
               "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

// RFC 4231 test cases 1, 2 and 6.
BOOST_AUTO_TEST_CASE(hmac_sha2_rfc4231) {
    const Bytes k1(20, 0x0b), k6(131, 0xaa);
    const Bytes d6 = b("Test Using Larger Than Block-Size Key - Hash Key First");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_256, k1, b("Hi There")) ==
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_256, b("Jefe"), b("what do ya want for nothing?")) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_256, k6, d6) ==
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_384, k1, b("Hi There")) ==
               "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
               "faea9ea9076ede7f4af152e8b2fa9cb6");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_384, b("Jefe"), b("what do ya want for nothing?")) ==
               "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
               "8e2240ca5e69e2c78b3239ecfab21649");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_384, k6, d6) ==
               "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
               "0c2ef6ab4030fe8296248df163f44952");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_512, k1, b("Hi There")) ==
               "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
               "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_512, b("Jefe"), b("what do ya want for nothing?")) ==
               "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
               "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    BOOST_TEST(prf_hex(PrfId::PRF_HMAC_SHA2_512, k6, d6) ==
               "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
               "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

// RFC 3566 4.6 test cases 1-7 through the PRF (16-byte key: plain XCBC-MAC).
BOOST_AUTO_TEST_CASE(aes_xcbc_prf_rfc3566_vectors) {
    const Bytes key = h("000102030405060708090a0b0c0d0e0f");
    auto msg = [](size_t n) {
        Bytes m(n);
        for (size_t i = 0; i < n; ++i) {
            m[i] = static_cast<uint8_t>(i);
        }
        return m;
    };
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(0)) == "75f0251d528ac01c4573dfd584d79f29");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(3)) == "5b376580ae2f19afe7219ceef172756f");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(16)) ==
               "d2a246fa349b68a79998a4394ff7a263");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(20)) ==
               "47f51b4564966215b8985c63055ed308");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(32)) ==
               "f54f0ec8d2b9f3d36807734bd5283fd4");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, msg(34)) ==
               "becbb3bccdb518a30677d5481fb6b4d8");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, key, Bytes(1000, 0)) ==
               "f0dafee895db30253761103b5d84528f");
}

// RFC 4434 6: keys of 16, 10 and 18 bytes.
BOOST_AUTO_TEST_CASE(aes_xcbc_prf_rfc4434_key_lengths) {
    Bytes msg = h("000102030405060708090a0b0c0d0e0f10111213");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, h("000102030405060708090a0b0c0d0e0f"), msg) ==
               "47f51b4564966215b8985c63055ed308");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, h("00010203040506070809"), msg) ==
               "0fa087af7d866e7653434e602fdde835");
    BOOST_TEST(prf_hex(PrfId::PRF_AES128_XCBC, h("000102030405060708090a0b0c0d0e0fedcb"), msg) ==
               "8cd3c93ae598a9803006ffb67c40e9e4");
}

// The parts form must equal the joined form at every split point (the
// XCBC buffer holds back the last block across part boundaries).
BOOST_AUTO_TEST_CASE(parts_equal_joined) {
    Bytes msg(77);
    for (size_t i = 0; i < msg.size(); ++i) {
        msg[i] = static_cast<uint8_t>(i * 7);
    }
    const Bytes key = h("000102030405060708090a0b0c0d0e0f");
    for (PrfId id : {PrfId::PRF_AES128_XCBC, PrfId::PRF_HMAC_SHA2_256}) {
        auto prf = Prf::create(id);
        BOOST_REQUIRE(prf.ok());
        auto whole = prf->compute(key, msg);
        BOOST_REQUIRE(whole.ok());
        for (size_t a = 0; a <= msg.size(); a += 5) {
            for (size_t c = a; c <= msg.size(); c += 11) {
                ByteView v(msg);
                auto parts =
                    prf->compute(key, {v.subspan(0, a), v.subspan(a, c - a), v.subspan(c)});
                BOOST_REQUIRE(parts.ok());
                BOOST_TEST(hx(*parts) == hx(*whole));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(sizes) {
    struct Case {
        PrfId id;
        size_t out;
        bool fixed;
    } cases[] = {{PrfId::PRF_HMAC_MD5, 16, false},     {PrfId::PRF_HMAC_SHA1, 20, false},
                 {PrfId::PRF_HMAC_SHA2_256, 32, false}, {PrfId::PRF_HMAC_SHA2_384, 48, false},
                 {PrfId::PRF_HMAC_SHA2_512, 64, false}, {PrfId::PRF_AES128_XCBC, 16, true}};
    for (auto c : cases) {
        auto prf = Prf::create(c.id);
        BOOST_REQUIRE(prf.ok());
        BOOST_TEST(prf->output_size() == c.out);
        BOOST_TEST(prf->preferred_key_size() == c.out);
        BOOST_TEST(prf->fixed_key_size() == c.fixed);
    }
    BOOST_TEST(Prf::create(PrfId::PRF_HMAC_MD5)->deemphasized());
}

BOOST_AUTO_TEST_CASE(unknown_prf_refused) {
    auto prf = Prf::create(static_cast<PrfId>(3));  // PRF_HMAC_TIGER
    BOOST_REQUIRE(!prf.ok());
    BOOST_TEST(prf.error().id == "IKE0001");
    BOOST_TEST(prf.error().notify == notify_code(NotifyType::NO_PROPOSAL_CHOSEN));
}

// prf+ against the expansion computed directly with OpenSSL's HMAC.
BOOST_AUTO_TEST_CASE(prf_plus_matches_direct_expansion) {
    const Bytes key = h("0102030405060708090a0b0c0d0e0f10");
    const Bytes seed = b("nonce-i|nonce-r|spi");
    Bytes expect, t;
    for (uint8_t n = 1; n <= 4; ++n) {
        Bytes in = qvpn::ike::test::cat({t, seed, ByteView(&n, 1)});
        t = qvpn::ike::test::ref_hmac("SHA256", key, in);
        expect.insert(expect.end(), t.begin(), t.end());
    }
    auto prf = Prf::create(PrfId::PRF_HMAC_SHA2_256);
    BOOST_REQUIRE(prf.ok());
    for (size_t len : {size_t(0), size_t(1), size_t(32), size_t(33), size_t(100), size_t(128)}) {
        auto out = prf_plus(*prf, key, seed, len);
        BOOST_REQUIRE(out.ok());
        BOOST_TEST(hx(*out) == hx(ByteView(expect).subspan(0, len)));
    }
}

BOOST_AUTO_TEST_CASE(prf_plus_limit_255_blocks) {
    auto prf = Prf::create(PrfId::PRF_HMAC_SHA1);
    BOOST_REQUIRE(prf.ok());
    auto most = prf_plus(*prf, b("k"), b("s"), 255 * 20);
    BOOST_REQUIRE(most.ok());
    BOOST_TEST(most->size() == 255u * 20);
    auto too_much = prf_plus(*prf, b("k"), b("s"), 255 * 20 + 1);
    BOOST_REQUIRE(!too_much.ok());
    BOOST_TEST(too_much.error().id == "IKE0004");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(integrity)

BOOST_AUTO_TEST_CASE(truncated_hmac_vectors) {
    struct Case {
        IntegId id;
        size_t key, icv;
        Bytes k;
        const char* full;
    } cases[] = {
        {IntegId::AUTH_HMAC_MD5_96, 16, 12, Bytes(16, 0x0b), "9294727a3638bb1c13f48ef8158bfc9d"},
        {IntegId::AUTH_HMAC_SHA1_96, 20, 12, Bytes(20, 0x0b),
         "b617318655057264e28bc0b6fb378c8ef146be00"},
        {IntegId::AUTH_HMAC_SHA2_256_128, 32, 16, Bytes(32, 0x0b),
         "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"},
        {IntegId::AUTH_HMAC_SHA2_384_192, 48, 24, Bytes(48, 0x0b),
         "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
         "4c5df61d5b3297b4fb68dab9f1b582c2"},
        {IntegId::AUTH_HMAC_SHA2_512_256, 64, 32, Bytes(64, 0x0b),
         "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
         "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b"},
    };
    for (const auto& c : cases) {
        auto integ = Integrity::create(c.id);
        BOOST_REQUIRE(integ.ok());
        BOOST_TEST(integ->key_size() == c.key);
        BOOST_TEST(integ->icv_size() == c.icv);
        auto icv = integ->sign(c.k, b("Hi There"));
        BOOST_REQUIRE(icv.ok());
        BOOST_TEST(hx(*icv) == std::string(c.full).substr(0, 2 * c.icv));
        BOOST_TEST(integ->verify(c.k, b("Hi There"), *icv).ok());
    }
}

// RFC 3566 4.6: AES-XCBC-MAC-96 is the first 96 bits of each vector.
BOOST_AUTO_TEST_CASE(aes_xcbc_mac_96_rfc3566) {
    auto integ = Integrity::create(IntegId::AUTH_AES_XCBC_96);
    BOOST_REQUIRE(integ.ok());
    BOOST_TEST(integ->key_size() == 16u);
    BOOST_TEST(integ->icv_size() == 12u);
    const Bytes key = h("000102030405060708090a0b0c0d0e0f");
    struct Case {
        size_t len;
        const char* mac96;
    } cases[] = {{0, "75f0251d528ac01c4573dfd5"},  {3, "5b376580ae2f19afe7219cee"},
                 {16, "d2a246fa349b68a79998a439"}, {20, "47f51b4564966215b8985c63"},
                 {32, "f54f0ec8d2b9f3d36807734b"}, {34, "becbb3bccdb518a30677d548"}};
    for (auto c : cases) {
        Bytes m(c.len);
        for (size_t i = 0; i < c.len; ++i) {
            m[i] = static_cast<uint8_t>(i);
        }
        auto icv = integ->sign(key, m);
        BOOST_REQUIRE(icv.ok());
        BOOST_TEST(hx(*icv) == c.mac96);
    }
    auto big = integ->sign(key, Bytes(1000, 0));
    BOOST_REQUIRE(big.ok());
    BOOST_TEST(hx(*big) == "f0dafee895db30253761103b");
}

BOOST_AUTO_TEST_CASE(verify_rejects_tampering) {
    auto integ = Integrity::create(IntegId::AUTH_HMAC_SHA2_256_128);
    BOOST_REQUIRE(integ.ok());
    Bytes key(32, 7);
    Bytes data = b("IKE header and payloads");
    auto icv = integ->sign(key, data);
    BOOST_REQUIRE(icv.ok());

    Bytes bad_icv = *icv;
    bad_icv[15] ^= 1;
    auto r1 = integ->verify(key, data, bad_icv);
    BOOST_TEST(!r1.ok());
    BOOST_TEST(r1.error().id == "IKE0005");

    Bytes bad_data = data;
    bad_data[0] ^= 0x80;
    BOOST_TEST(!integ->verify(key, bad_data, *icv).ok());

    Bytes other_key(32, 8);
    BOOST_TEST(!integ->verify(other_key, data, *icv).ok());

    // A truncated ICV is a failure, not a shorter comparison.
    BOOST_TEST(!integ->verify(key, data, ByteView(*icv).subspan(0, 12)).ok());
}

BOOST_AUTO_TEST_CASE(wrong_key_size) {
    auto integ = Integrity::create(IntegId::AUTH_HMAC_SHA1_96);
    BOOST_REQUIRE(integ.ok());
    auto r = integ->sign(Bytes(19, 1), b("x"));
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0002");
    BOOST_TEST(!integ->verify(Bytes(21, 1), b("x"), Bytes(12, 0)).ok());
}

BOOST_AUTO_TEST_CASE(gmac_and_none_refused_for_ike) {
    for (IntegId id : {IntegId::NONE, IntegId::AUTH_AES_128_GMAC, IntegId::AUTH_AES_256_GMAC,
                       static_cast<IntegId>(99)}) {
        auto r = Integrity::create(id);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().id == "IKE0001");
        BOOST_TEST(r.error().notify == notify_code(NotifyType::NO_PROPOSAL_CHOSEN));
    }
}

BOOST_AUTO_TEST_SUITE_END()
