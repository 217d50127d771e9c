// SK and SKF protection (RFC 7296 3.14, RFC 5282, RFC 7383) over the crypto
// suite: round trips for every cipher family, tampering, every malformed
// body branch, and fragment reassembly.
#define BOOST_TEST_MODULE ikev2_sk
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "daemon/ikev2/wire/fragment.hpp"
#include "daemon/ikev2/wire/sk.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
namespace crypto = qvpn::ike::crypto;
using ike::EncrId;
using ike::IntegId;

namespace {

SkCrypto make_crypto(EncrId encr, uint16_t bits, IntegId integ, bool swap = false) {
    auto c = crypto::Cipher::create(encr, bits);
    BOOST_REQUIRE(c.ok());
    std::optional<crypto::Integrity> i;
    if (integ != IntegId::NONE) {
        auto r = crypto::Integrity::create(integ);
        BOOST_REQUIRE(r.ok());
        i = *r;
    }
    SkDirection a{SecretBytes(Bytes(c->key_size(), 0x11)),
                  SecretBytes(Bytes(i ? i->key_size() : 0, 0x22))};
    SkDirection b{SecretBytes(Bytes(c->key_size(), 0x33)),
                  SecretBytes(Bytes(i ? i->key_size() : 0, 0x44))};
    return swap ? SkCrypto{*c, i, b, a} : SkCrypto{*c, i, a, b};
}

Header auth_header() {
    Header h;
    h.spi_i = 0x1111111111111111ULL;
    h.spi_r = 0x2222222222222222ULL;
    h.exchange = ExchangeType::IKE_AUTH;
    h.flags = kFlagInitiator;
    h.message_id = 1;
    return h;
}

std::vector<Payload> sample_payloads(size_t nonce_len = 32) {
    return {make_payload(PayloadType::IDi, IdPayload{IdType::ID_FQDN, {'g', 'w', '1'}}),
            make_payload(PayloadType::AUTH,
                         AuthPayload{AuthMethod::SHARED_KEY_MIC, Bytes(32, 0xaa)}),
            make_payload(PayloadType::NONCE, NoncePayload{Bytes(nonce_len, 0x5c)}),
            make_notify(NotifyType::INITIAL_CONTACT)};
}

struct Suite {
    EncrId encr;
    uint16_t bits;
    IntegId integ;
};

const Suite kSuites[] = {
    {EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_HMAC_SHA2_256_128},
    {EncrId::ENCR_AES_CBC, 256, IntegId::AUTH_HMAC_SHA2_512_256},
    {EncrId::ENCR_AES_CTR, 192, IntegId::AUTH_HMAC_SHA1_96},
    {EncrId::ENCR_3DES, 0, IntegId::AUTH_HMAC_SHA2_384_192},
    {EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_AES_XCBC_96},
    {EncrId::ENCR_AES_GCM_16, 256, IntegId::NONE},
    {EncrId::ENCR_AES_GCM_8, 128, IntegId::NONE},
    {EncrId::ENCR_AES_CCM_12, 192, IntegId::NONE},
};

}  // namespace

BOOST_AUTO_TEST_CASE(protect_and_open_round_trip_for_every_cipher_family) {
    SeededRandom rng(7);
    for (const auto& s : kSuites) {
        BOOST_TEST_CONTEXT(static_cast<int>(s.encr) << "/" << s.bits) {
            SkCrypto sender = make_crypto(s.encr, s.bits, s.integ);
            SkCrypto receiver = make_crypto(s.encr, s.bits, s.integ, true);
            for (size_t nonce : {16u, 17u, 31u, 200u}) {
                auto inner = sample_payloads(nonce);
                auto wire = protect(auth_header(), inner, sender, rng);
                BOOST_REQUIRE(wire.ok());
                auto m = parse_message(*wire);
                BOOST_REQUIRE(m.ok());
                BOOST_TEST(m->header.length == wire->size());
                auto back = open_sk(*wire, *m, receiver);
                BOOST_REQUIRE(back.ok());
                BOOST_TEST((*back == inner));
                BOOST_TEST(wire->size() <= serialize_payloads(inner).size() +
                                               sender.overhead(false));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(tampering_and_wrong_keys_fail_integrity) {
    SeededRandom rng(8);
    for (const auto& s : kSuites) {
        BOOST_TEST_CONTEXT(static_cast<int>(s.encr)) {
            SkCrypto sender = make_crypto(s.encr, s.bits, s.integ);
            SkCrypto receiver = make_crypto(s.encr, s.bits, s.integ, true);
            auto wire = protect(auth_header(), sample_payloads(), sender, rng);
            BOOST_REQUIRE(wire.ok());
            // Flip one bit in the header (covered by the ICV or the AAD), in
            // the ciphertext and in the ICV.
            for (size_t pos : {size_t(20), wire->size() / 2, wire->size() - 1}) {
                Bytes bad = *wire;
                bad[pos] ^= 0x01;
                auto m = parse_message(bad);
                BOOST_REQUIRE(m.ok());
                auto r = open_sk(bad, *m, receiver);
                BOOST_REQUIRE(!r.ok());
                BOOST_TEST(r.error().id == "IKE0805");
            }
            // The sender's own inbound keys are the wrong ones.
            auto m = parse_message(*wire);
            auto r = open_sk(*wire, *m, sender);
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "IKE0805");
        }
    }
}

namespace {

// A message whose SK body is `body` verbatim (for malformed-body checks).
Bytes with_body(const Bytes& body) {
    return serialize_message(auth_header(),
                             {make_payload(PayloadType::SK, SkPayload{PayloadType::IDi, body})});
}

// A valid message whose plaintext ends in `tail` (so the pad length can be
// anything): encrypts by hand with the cipher, then appends the ICV.
Bytes forged_plaintext(const SkCrypto& c, const Bytes& plain) {
    Header h = auth_header();
    size_t iv = c.cipher.iv_size();
    size_t body = iv + plain.size() + c.icv_size();
    h.next = PayloadType::SK;
    h.length = static_cast<uint32_t>(kIkeHeaderLen + 4 + body);
    ByteWriter w;
    write_header(w, h);
    w.u8(static_cast<uint8_t>(PayloadType::IDi)).u8(0).u16(static_cast<uint16_t>(4 + body));
    Bytes ivb(iv, 0x01);
    w.bytes(ivb);
    auto ct = c.cipher.encrypt(c.out.encr_key, ivb, w.data(), plain);
    BOOST_REQUIRE(ct.ok());
    w.bytes(*ct);
    if (!c.cipher.is_aead()) {
        auto icv = c.integ->sign(c.out.integ_key, w.data());
        BOOST_REQUIRE(icv.ok());
        w.bytes(*icv);
    }
    return w.take();
}

}  // namespace

BOOST_AUTO_TEST_CASE(malformed_encrypted_bodies) {
    SkCrypto receiver = make_crypto(EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_HMAC_SHA2_256_128,
                                    true);
    SkCrypto sender = make_crypto(EncrId::ENCR_AES_CBC, 128, IntegId::AUTH_HMAC_SHA2_256_128);

    // Shorter than IV + ICV + one byte.
    Bytes b = with_body(Bytes(16 + 16, 0));
    auto m = parse_message(b);
    BOOST_REQUIRE(m.ok());
    auto r = unprotect(b, *m, receiver);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0806");

    // Ciphertext not a multiple of the AES block.
    b = with_body(Bytes(16 + 17 + 16, 0));
    m = parse_message(b);
    r = unprotect(b, *m, receiver);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0806");

    // Pad length larger than the plaintext (authentic, but impossible).
    Bytes plain(16, 0);
    plain.back() = 16;
    b = forged_plaintext(sender, plain);
    m = parse_message(b);
    BOOST_REQUIRE(m.ok());
    r = unprotect(b, *m, receiver);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0806");

    // Pad length 15 leaves nothing: an empty inner chain is still valid.
    plain.back() = 15;
    b = forged_plaintext(sender, plain);
    m = parse_message(b);
    r = unprotect(b, *m, receiver);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->empty());

    // A message without an encrypted payload.
    Bytes clear = serialize_message(auth_header(), sample_payloads());
    m = parse_message(clear);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(unprotect(clear, *m, receiver).error().id == "IKE0806");
    BOOST_TEST(open_sk(clear, *m, receiver).error().id == "IKE0806");
}

// --- RFC 7383 fragments --------------------------------------------------------------

namespace {

std::vector<Payload> big_payloads() {
    std::vector<Payload> p = sample_payloads();
    p.push_back(make_payload(PayloadType::CERT,
                             CertPayload{CertEncoding::X509_CERT_SIGNATURE, Bytes(3000, 0x30)}));
    return p;
}

Result<std::optional<std::vector<Payload>>> feed(FragmentAssembler& fa, const Bytes& frag,
                                                 const SkCrypto& rx) {
    auto m = parse_message(frag);
    BOOST_REQUIRE(m.ok());
    BOOST_REQUIRE((m->payloads.back().type == PayloadType::SKF));
    auto plain = unprotect(frag, *m, rx);
    BOOST_REQUIRE(plain.ok());
    return fa.add(m->header.message_id, std::get<SkfPayload>(m->payloads.back().body), *plain);
}

}  // namespace

BOOST_AUTO_TEST_CASE(fragments_fit_reassemble_in_any_order_and_ignore_duplicates) {
    SeededRandom rng(9);
    for (const auto& s : kSuites) {
        BOOST_TEST_CONTEXT(static_cast<int>(s.encr)) {
            SkCrypto tx = make_crypto(s.encr, s.bits, s.integ);
            SkCrypto rx = make_crypto(s.encr, s.bits, s.integ, true);
            auto inner = big_payloads();
            auto frags = protect_fragments(auth_header(), inner, tx, rng, 300);
            BOOST_REQUIRE(frags.ok());
            BOOST_TEST(frags->size() > 10u);
            for (const auto& f : *frags) {
                BOOST_TEST(f.size() <= 300u);
            }
            FragmentAssembler fa;
            // Reverse order, with a duplicate of the last one in the middle.
            std::vector<Bytes> order(frags->rbegin(), frags->rend());
            order.insert(order.begin() + 2, order.front());
            std::optional<std::vector<Payload>> done;
            for (size_t i = 0; i < order.size(); ++i) {
                auto r = feed(fa, order[i], rx);
                BOOST_REQUIRE(r.ok());
                if (i + 1 < order.size()) {
                    BOOST_TEST(!r->has_value());
                } else {
                    done = std::move(*r);
                }
            }
            BOOST_REQUIRE(done.has_value());
            BOOST_TEST((*done == inner));
            BOOST_TEST(!fa.pending());
        }
    }
}

BOOST_AUTO_TEST_CASE(fragment_limits_and_restarts) {
    SeededRandom rng(10);
    SkCrypto tx = make_crypto(EncrId::ENCR_AES_GCM_16, 128, IntegId::NONE);
    SkCrypto rx = make_crypto(EncrId::ENCR_AES_GCM_16, 128, IntegId::NONE, true);

    // No room for content at all.
    auto none = protect_fragments(auth_header(), big_payloads(), tx, rng, 60);
    BOOST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().id == "IKE0807");
    // More than kMaxFragments would be needed.
    auto many = protect_fragments(auth_header(), big_payloads(), tx, rng, 80);
    BOOST_REQUIRE(!many.ok());
    BOOST_TEST(many.error().id == "IKE0807");

    // At least 32 fragments reassemble.
    auto f32 = protect_fragments(auth_header(), big_payloads(), tx, rng, 160);
    BOOST_REQUIRE(f32.ok());
    BOOST_TEST(f32->size() >= 32u);
    FragmentAssembler fa;
    std::optional<std::vector<Payload>> out;
    for (const auto& f : *f32) {
        auto r = feed(fa, f, rx);
        BOOST_REQUIRE(r.ok());
        if (r->has_value()) {
            out = std::move(*r);
        }
    }
    BOOST_REQUIRE(out.has_value());

    // A larger total restarts the reassembly; a smaller one is refused.
    auto small = protect_fragments(auth_header(), big_payloads(), tx, rng, 1200);
    auto large = protect_fragments(auth_header(), big_payloads(), tx, rng, 400);
    BOOST_REQUIRE(small.ok());
    BOOST_REQUIRE(large.ok());
    BOOST_REQUIRE(small->size() < large->size());
    FragmentAssembler fb;
    BOOST_REQUIRE(feed(fb, small->at(0), rx).ok());
    BOOST_TEST(fb.received() == 1u);
    BOOST_REQUIRE(feed(fb, large->at(0), rx).ok());
    BOOST_TEST(fb.received() == 1u);  // started over
    auto older = feed(fb, small->at(1), rx);
    BOOST_REQUIRE(!older.ok());
    BOOST_TEST(older.error().id == "IKE0807");
    for (size_t i = 1; i < large->size(); ++i) {
        auto r = feed(fb, large->at(i), rx);
        BOOST_REQUIRE(r.ok());
        if (i + 1 == large->size()) {
            BOOST_REQUIRE(r->has_value());
            BOOST_TEST((**r == big_payloads()));
        }
    }

    // A fragment announcing more than kMaxFragments is refused.
    FragmentAssembler fc;
    SkfPayload f{PayloadType::IDi, 1, static_cast<uint16_t>(kMaxFragments + 1), {}};
    BOOST_TEST(fc.add(5, f, Bytes(10, 0)).error().id == "IKE0807");

    // A fragment of another message drops the partial one.
    FragmentAssembler fd;
    BOOST_REQUIRE(feed(fd, large->at(0), rx).ok());
    SkfPayload other{PayloadType::IDi, 1, 2, {}};
    BOOST_REQUIRE(fd.add(99, other, Bytes(4, 0)).ok());
    BOOST_TEST(fd.received() == 1u);
}
