#define BOOST_TEST_MODULE sa_esp_crypto
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include "daemon/sa/algorithms.hpp"
#include "daemon/sa/sa_json.hpp"
#include "daemon/sa/userspace/esp_crypto.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using namespace qvpn::sa::us;
using ike::EncrId;
using ike::IntegId;

namespace {

Bytes hex(const char* h) { return *from_hex(h); }

struct Buf {
    std::vector<uint8_t> mem = std::vector<uint8_t>(4096);
    Pkt p;
    explicit Buf(ByteView payload, size_t headroom = 256) {
        p.buf = mem.data();
        p.cap = mem.size();
        p.reset(headroom);
        std::memcpy(p.put(payload.size()), payload.data(), payload.size());
    }
    Bytes bytes() const { return Bytes(p.data(), p.data() + p.len); }
};

SaKeys keys(EncrId e, unsigned bits, IntegId i, uint32_t spi = 0x1234) {
    SaKeys k;
    k.spi = spi;
    k.encr = e;
    k.encr_key_bits = uint16_t(bits);
    const EncrInfo* info = encr_info(e);
    k.encr_key = SecretBytes(encr_key_bytes(*info, bits));
    for (size_t n = 0; n < k.encr_key.size(); ++n) {
        k.encr_key.data()[n] = uint8_t(0x40 + n);
    }
    k.integ = i;
    if (const IntegInfo* ii = integ_info(i)) {
        k.integ_key = SecretBytes(ii->key_bits / 8u);
        for (size_t n = 0; n < k.integ_key.size(); ++n) {
            k.integ_key.data()[n] = uint8_t(0x90 + n);
        }
    }
    return k;
}

}  // namespace

BOOST_AUTO_TEST_CASE(hmac_vectors) {
    // RFC 4868 2.7.2 / RFC 2202 "Hi There" cases, truncated as ESP uses them.
    struct V {
        IntegId id;
        size_t key_len;
        const char* icv;
    } vs[] = {
        {IntegId::AUTH_HMAC_SHA2_256_128, 32, "198a607eb44bfbc69903a0f1cf2bbdc5"},
        {IntegId::AUTH_HMAC_SHA1_96, 20, "b617318655057264e28bc0b6"},
        {IntegId::AUTH_HMAC_MD5_96, 16, "9294727a3638bb1c13f48ef8"},
        {IntegId::AUTH_HMAC_SHA2_384_192, 48, "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"},
        {IntegId::AUTH_HMAC_SHA2_512_256, 64,
         "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
    };
    for (const auto& v : vs) {
        BOOST_TEST_CONTEXT(integ_name(v.id)) {
            Bytes key(v.key_len, 0x0b);
            auto in = Integrity::create(v.id, key);
            BOOST_REQUIRE(in.ok());
            Bytes want = hex(v.icv);
            BOOST_TEST((*in)->icv_len() == want.size());
            const char* msg = "Hi There";
            // Twice, and split in two pieces: the context must restart cleanly.
            for (size_t split : {size_t(8), size_t(3), size_t(0)}) {
                Bytes out(64);
                BOOST_REQUIRE((*in)->compute(reinterpret_cast<const uint8_t*>(msg), split,
                                             reinterpret_cast<const uint8_t*>(msg) + split,
                                             8 - split, out.data()));
                out.resize(want.size());
                BOOST_TEST(to_hex(out) == to_hex(want));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(xcbc_rfc3566_vectors) {
    Bytes key = hex("000102030405060708090a0b0c0d0e0f");
    auto in = Integrity::create(IntegId::AUTH_AES_XCBC_96, key);
    BOOST_REQUIRE(in.ok());
    struct V {
        size_t len;
        const char* mac;
    } vs[] = {
        {0, "75f0251d528ac01c4573dfd5"},  {3, "5b376580ae2f19afe7219cee"},
        {16, "d2a246fa349b68a79998a439"}, {20, "47f51b4564966215b8985c63"},
        {32, "f54f0ec8d2b9f3d36807734b"}, {34, "becbb3bccdb518a30677d548"},
    };
    Bytes msg(34);
    for (size_t i = 0; i < msg.size(); ++i) {
        msg[i] = uint8_t(i);
    }
    for (const auto& v : vs) {
        for (size_t split = 0; split <= v.len; ++split) {
            BOOST_TEST_CONTEXT("len " << v.len << " split " << split) {
                uint8_t out[12];
                BOOST_REQUIRE((*in)->compute(msg.data(), split, msg.data() + split,
                                             v.len - split, out));
                BOOST_TEST(to_hex(ByteView(out, 12)) == v.mac);
            }
        }
    }
    // RFC 3566 test case 7: 1000 zero bytes.
    Bytes zeros(1000, 0);
    uint8_t out[12];
    BOOST_REQUIRE((*in)->compute(zeros.data(), 600, zeros.data() + 600, 400, out));
    BOOST_TEST(to_hex(ByteView(out, 12)) == "f0dafee895db30253761103b");
}

// McGrew, "Test Cases for the use of GCM and GMAC in IPsec ESP": ESP packets
// built from the published SPI, sequence number, IV, ciphertext and tag must
// open to the published plaintext (payload, padding and trailer).
BOOST_AUTO_TEST_CASE(gcm_esp_known_answers) {
    struct V {
        const char* key;    // key || salt
        const char* aad;    // SPI || seq (8 or 12 bytes)
        const char* iv;
        const char* plain;
        const char* ct;
        const char* tag;
    } vs[] = {
        {"4c80cdefbb5d10da906ac73c3613a6342e443b68", "000043218765432100000000",
         "4956ed7e3b244cfe",
         "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970"
         "045f756470037369700963796265726369747902646b000021000101020201",
         "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf6592"
         "5bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
         "459018148f6cbe722fd04796562dfdb4"},
        {"feffe9928665731c6d6a8f9467308308cafebabe", "0000a5f80000000a", "facedbaddecaf888",
         "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d0010000010000000000000373"
         "69700963796265726369747902646b00000100010001",
         "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f5133"
         "0d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1",
         "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
        {"abbccddef00112233445566778899aababbccddef00112233445566778899aab11223344",
         "4a2cbfe300000002", "0102030405060708",
         "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf00000204"
         "05b40101040201020201",
         "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f05"
         "45659f14e99def842d8e",
         "b335f4eecfdbf831824b4c4915956c96"},
        {"feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe", "0000a5f80000000a",
         "facedbaddecaf888",
         "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
         "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77",
         "95457b9652037f5318027b5b4cd7a636"},
    };
    for (const auto& v : vs) {
        BOOST_TEST_CONTEXT(v.aad) {
            Bytes key = hex(v.key), aad = hex(v.aad), plain = hex(v.plain);
            bool esn = aad.size() == 12;
            SaKeys k;
            k.spi = get_be32(aad.data());
            k.encr = EncrId::ENCR_AES_GCM_16;
            k.encr_key_bits = uint16_t((key.size() - 4) * 8);
            k.encr_key = SecretBytes(key);
            auto t = EspTransform::create(k, esn, false);
            BOOST_REQUIRE(t.ok());
            uint64_t seq = esn ? (uint64_t(get_be32(aad.data() + 4)) << 32 | get_be32(aad.data() + 8))
                               : get_be32(aad.data() + 4);
            Bytes pkt(aad.begin(), aad.begin() + 4);
            uint8_t lo[4];
            put_be32(lo, uint32_t(seq));
            pkt.insert(pkt.end(), lo, lo + 4);
            for (const char* part : {v.iv, v.ct, v.tag}) {
                Bytes b = hex(part);
                pkt.insert(pkt.end(), b.begin(), b.end());
            }
            Buf b(pkt);
            uint8_t nh = 0;
            auto verdict = (*t)->open(b.p, seq, nh);
            BOOST_REQUIRE(verdict == EspTransform::Verdict::Ok);
            size_t pad = plain[plain.size() - 2];
            BOOST_TEST(nh == plain.back());
            BOOST_TEST(to_hex(b.bytes()) ==
                       to_hex(ByteView(plain.data(), plain.size() - 2 - pad)));
            // Flip one ciphertext bit: the tag must fail.
            Buf bad(pkt);
            bad.p.data()[20] ^= 1;
            BOOST_TEST((((*t)->open(bad.p, seq, nh)) == EspTransform::Verdict::Integrity));
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trip_every_transform) {
    struct A {
        EncrId e;
        unsigned bits;
        IntegId i;
    } algs[] = {
        {EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_HMAC_SHA2_256_128},
        {EncrId::ENCR_AES_CBC, 256, IntegId::AUTH_HMAC_SHA2_512_256},
        {EncrId::ENCR_AES_CBC, 192, IntegId::AUTH_HMAC_SHA2_384_192},
        {EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_AES_XCBC_96},
        {EncrId::ENCR_AES_CTR, 128, IntegId::AUTH_HMAC_SHA1_96},
        {EncrId::ENCR_AES_CTR, 256, IntegId::AUTH_HMAC_SHA2_256_128},
        {EncrId::ENCR_AES_GCM_16, 128, IntegId::NONE},
        {EncrId::ENCR_AES_GCM_12, 192, IntegId::NONE},
        {EncrId::ENCR_AES_GCM_8, 256, IntegId::NONE},
        {EncrId::ENCR_AES_CCM_16, 128, IntegId::NONE},
        {EncrId::ENCR_AES_CCM_12, 256, IntegId::NONE},
        {EncrId::ENCR_AES_CCM_8, 192, IntegId::NONE},
        {EncrId::ENCR_NULL_AUTH_AES_GMAC, 128, IntegId::NONE},
        {EncrId::ENCR_3DES, 192, IntegId::AUTH_HMAC_MD5_96},
        {EncrId::ENCR_DES, 64, IntegId::AUTH_HMAC_SHA1_96},
        {EncrId::ENCR_NULL, 0, IntegId::AUTH_HMAC_SHA2_256_128},
    };
    for (const auto& a : algs) {
        for (bool esn : {false, true}) {
            BOOST_TEST_CONTEXT(encr_name(a.e) << "/" << a.bits << "/" << integ_name(a.i)
                                              << (esn ? " esn" : "")) {
                SaKeys k = keys(a.e, a.bits, a.i);
                auto tx = EspTransform::create(k, esn, true);
                auto rx = EspTransform::create(k, esn, false);
                BOOST_REQUIRE_MESSAGE(tx.ok(), (tx.ok() ? std::string() : tx.error().value(3)));
                BOOST_REQUIRE(rx.ok());
                const EncrInfo* info = encr_info(a.e);
                for (size_t len : {size_t(0), size_t(1), size_t(13), size_t(16), size_t(64),
                                   size_t(100), size_t(1400)}) {
                    Bytes payload(len);
                    for (size_t n = 0; n < len; ++n) {
                        payload[n] = uint8_t(n * 7 + 3);
                    }
                    uint64_t seq = esn ? (uint64_t(5) << 32 | (len + 1)) : len + 1;
                    Buf b(payload);
                    BOOST_REQUIRE((*tx)->seal(b.p, k.spi, seq, 4));
                    Bytes wire = b.bytes();
                    BOOST_TEST(get_be32(wire.data()) == k.spi);
                    BOOST_TEST(get_be32(wire.data() + 4) == uint32_t(seq));
                    size_t body = wire.size() - (*tx)->header_len() -
                                  (info->aead ? info->icv_bytes : integ_info(a.i)->icv_bits / 8u);
                    BOOST_TEST(body % info->block_bytes == 0u);
                    if (len >= 16 && !info->auth_only && a.e != EncrId::ENCR_NULL) {
                        // The payload must not appear in clear.
                        bool found = std::search(wire.begin(), wire.end(), payload.begin(),
                                                 payload.begin() + 16) != wire.end();
                        BOOST_TEST(!found);
                    }
                    uint8_t nh = 0;
                    BOOST_REQUIRE(((*rx)->open(b.p, seq, nh)) == EspTransform::Verdict::Ok);
                    BOOST_TEST(nh == 4);
                    BOOST_TEST((b.bytes() == payload));

                    // Any single-bit change anywhere is refused.
                    for (size_t pos = 0; pos < wire.size(); pos += (wire.size() > 200 ? 37 : 1)) {
                        if (pos < 4) {
                            continue;  // the SPI selects the SA; not covered by this check
                        }
                        Buf t(wire);
                        t.p.data()[pos] ^= 0x20;
                        auto v = (*rx)->open(t.p, seq, nh);
                        BOOST_TEST((v != EspTransform::Verdict::Ok), "bit flip at " << pos);
                    }
                    // The wrong high sequence bits (ESN) fail the ICV.
                    if (esn) {
                        Buf t(wire);
                        BOOST_TEST((((*rx)->open(t.p, seq + (uint64_t(1) << 32), nh)) ==
                                    EspTransform::Verdict::Integrity));
                    }
                    // Truncations never read out of bounds and never pass.
                    for (size_t cut = 1; cut < wire.size(); cut += 5) {
                        Buf t(ByteView(wire.data(), wire.size() - cut));
                        BOOST_TEST((((*rx)->open(t.p, seq, nh)) != EspTransform::Verdict::Ok));
                    }
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(tfc_padding_and_room) {
    SaKeys k = keys(EncrId::ENCR_AES_GCM_16, 128, IntegId::NONE);
    auto tx = EspTransform::create(k, false, true);
    auto rx = EspTransform::create(k, false, false);
    BOOST_REQUIRE(tx.ok() && rx.ok());
    Bytes payload(40, 0xab);
    Buf b(payload);
    BOOST_REQUIRE((*tx)->seal(b.p, k.spi, 1, 4, 1000));
    BOOST_TEST(b.p.len >= 1000u + 8 + 8 + 16);
    uint8_t nh = 0;
    BOOST_REQUIRE(((*rx)->open(b.p, 1, nh)) == EspTransform::Verdict::Ok);
    BOOST_TEST(b.p.len == 1000u);  // inner length tells the receiver where the payload ends
    BOOST_TEST(b.p.data()[39] == 0xab);
    BOOST_TEST(b.p.data()[40] == 0);

    // No headroom: seal refuses instead of writing outside the buffer.
    Buf tight(payload, 4);
    BOOST_TEST(!(*tx)->seal(tight.p, k.spi, 2, 4));
}

BOOST_AUTO_TEST_CASE(bad_padding_is_refused) {
    // A sender with non-standard padding: build it with NULL encryption so
    // the trailer can be edited and the ICV recomputed.
    SaKeys k = keys(EncrId::ENCR_NULL, 0, IntegId::AUTH_HMAC_SHA2_256_128);
    auto tx = EspTransform::create(k, false, true);
    auto rx = EspTransform::create(k, false, false);
    BOOST_REQUIRE(tx.ok() && rx.ok());
    Bytes payload(5, 1);
    Buf b(payload);
    BOOST_REQUIRE((*tx)->seal(b.p, k.spi, 9, 4));
    // payload 5 + padding 1 (to 8 with the 2 trailer bytes)
    Bytes wire = b.bytes();
    size_t trailer = wire.size() - 16 - 2;
    BOOST_TEST(wire[trailer] == 1);  // pad length
    wire[trailer - 1] = 7;           // pad byte should be 1
    auto integ = Integrity::create(k.integ, k.integ_key);
    BOOST_REQUIRE(integ.ok());
    (*integ)->compute(wire.data(), wire.size() - 16, nullptr, 0, wire.data() + wire.size() - 16);
    Buf t(wire);
    uint8_t nh = 0;
    BOOST_TEST((((*rx)->open(t.p, 9, nh)) == EspTransform::Verdict::Padding));
    // A pad length beyond the payload.
    wire[trailer - 1] = 1;
    wire[trailer] = 200;
    (*integ)->compute(wire.data(), wire.size() - 16, nullptr, 0, wire.data() + wire.size() - 16);
    Buf u(wire);
    BOOST_TEST((((*rx)->open(u.p, 9, nh)) == EspTransform::Verdict::Padding));
}
