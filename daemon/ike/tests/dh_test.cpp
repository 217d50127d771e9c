#include <boost/test/unit_test.hpp>

#include <openssl/bn.h>

#include "core/base/clock.hpp"
#include "daemon/ike/crypto/dh.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;

namespace {

DhGroup group(DhId id) {
    auto g = DhGroup::create(id);
    BOOST_REQUIRE(g.ok());
    return *g;
}

// p - k as a big-endian value of the group's length.
Bytes p_minus(DhId id, unsigned k) {
    BIGNUM* p = nullptr;
    switch (id) {
    case DhId::MODP_768: p = BN_get_rfc2409_prime_768(nullptr); break;
    case DhId::MODP_1024: p = BN_get_rfc2409_prime_1024(nullptr); break;
    default: p = BN_get_rfc3526_prime_2048(nullptr); break;
    }
    BN_sub_word(p, k);
    Bytes out(static_cast<size_t>(BN_num_bytes(p)));
    BN_bn2binpad(p, out.data(), static_cast<int>(out.size()));
    BN_free(p);
    return out;
}

void expect_rejected(const DhKeyPair& kp, ByteView peer, const char* id) {
    auto r = kp.compute(peer);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == id);
    BOOST_TEST(r.error().notify == notify_code(NotifyType::INVALID_SYNTAX));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dh)

BOOST_AUTO_TEST_CASE(round_trip_every_group) {
    SeededRandom rng_a(1), rng_b(2);
    for (DhId id : {DhId::MODP_768, DhId::MODP_1024, DhId::MODP_2048, DhId::MODP_2048_256,
                    DhId::ECP_256, DhId::ECP_384}) {
        BOOST_TEST_CONTEXT(static_cast<int>(id)) {
            DhGroup g = group(id);
            auto a = g.generate(rng_a);
            auto b = g.generate(rng_b);
            BOOST_REQUIRE(a.ok());
            BOOST_REQUIRE(b.ok());
            BOOST_TEST(a->public_value().size() == g.public_size());
            BOOST_TEST(hx(a->public_value()) != hx(b->public_value()));
            auto sa = a->compute(b->public_value());
            auto sb = b->compute(a->public_value());
            BOOST_REQUIRE(sa.ok());
            BOOST_REQUIRE(sb.ok());
            BOOST_TEST(sa->size() == g.secret_size());
            BOOST_TEST(hx(*sa) == hx(*sb));
        }
    }
}

BOOST_AUTO_TEST_CASE(sizes_and_deemphasis) {
    BOOST_TEST(group(DhId::MODP_768).public_size() == 96u);
    BOOST_TEST(group(DhId::MODP_1024).public_size() == 128u);
    BOOST_TEST(group(DhId::MODP_2048).public_size() == 256u);
    BOOST_TEST(group(DhId::MODP_2048_256).public_size() == 256u);
    BOOST_TEST(group(DhId::ECP_256).public_size() == 64u);
    BOOST_TEST(group(DhId::ECP_256).secret_size() == 32u);
    BOOST_TEST(group(DhId::ECP_384).public_size() == 96u);
    BOOST_TEST(group(DhId::ECP_384).secret_size() == 48u);
    BOOST_TEST(group(DhId::MODP_768).deemphasized());
    BOOST_TEST(group(DhId::MODP_1024).deemphasized());
    BOOST_TEST(!group(DhId::MODP_2048).deemphasized());
    BOOST_TEST(!group(DhId::ECP_256).deemphasized());
    BOOST_TEST(group(DhId::ECP_384).is_ecp());
    BOOST_TEST(!group(DhId::MODP_2048_256).is_ecp());
}

BOOST_AUTO_TEST_CASE(deterministic_with_seeded_random) {
    SeededRandom r1(42), r2(42);
    auto a = group(DhId::ECP_256).generate(r1);
    auto b = group(DhId::ECP_256).generate(r2);
    BOOST_REQUIRE(a.ok() && b.ok());
    BOOST_TEST(hx(a->public_value()) == hx(b->public_value()));
}

BOOST_AUTO_TEST_CASE(unknown_group_asks_for_another) {
    auto g = DhGroup::create(static_cast<DhId>(5));  // MODP 1536: not offered
    BOOST_REQUIRE(!g.ok());
    BOOST_TEST(g.error().id == "IKE0001");
    BOOST_TEST(g.error().notify == notify_code(NotifyType::INVALID_KE_PAYLOAD));
    BOOST_TEST(!DhGroup::supported(DhId::NONE));
    BOOST_TEST(DhGroup::supported(DhId::MODP_2048_256));
}

// RFC 5903 8.1: 256-bit random ECP group, IKEv2 example.
BOOST_AUTO_TEST_CASE(rfc5903_ecp256) {
    DhGroup g = group(DhId::ECP_256);
    auto i = g.from_private(h("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433"));
    auto r = g.from_private(h("c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53"));
    BOOST_REQUIRE(i.ok() && r.ok());
    BOOST_TEST(hx(i->public_value()) ==
               "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
               "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
    BOOST_TEST(hx(r->public_value()) ==
               "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
               "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab");
    auto gir = i->compute(r->public_value());
    auto gri = r->compute(i->public_value());
    BOOST_REQUIRE(gir.ok() && gri.ok());
    BOOST_TEST(hx(*gir) == "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de");
    BOOST_TEST(hx(*gri) == hx(*gir));
}

// RFC 5903 8.2: 384-bit random ECP group.
BOOST_AUTO_TEST_CASE(rfc5903_ecp384) {
    DhGroup g = group(DhId::ECP_384);
    auto i = g.from_private(h("099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
                              "e35b538041e649ee3faef896783ab194"));
    auto r = g.from_private(h("41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
                              "e0308312916b8ed2960e4bd55a7448fc"));
    BOOST_REQUIRE(i.ok() && r.ok());
    BOOST_TEST(hx(i->public_value()) ==
               "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
               "de3ac808acb4bdb4c88732aee95f41aa"
               "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
               "eb9fcff3c2c947dae69b4c634573a81c");
    BOOST_TEST(hx(r->public_value()) ==
               "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
               "0d1ac43a0336def96fda41d0774a3571"
               "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
               "f83fa40142209dff5eaad96db9e6386c");
    auto gir = i->compute(r->public_value());
    BOOST_REQUIRE(gir.ok());
    BOOST_TEST(hx(*gir) ==
               "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
               "d603135569b9e9d09cf5d4a270f59746");
}

// RFC 6989 2.1: 1 < y < p-1 for every MODP group.
BOOST_AUTO_TEST_CASE(modp_range_checks) {
    SeededRandom rng(7);
    for (DhId id : {DhId::MODP_768, DhId::MODP_1024, DhId::MODP_2048}) {
        DhGroup g = group(id);
        auto kp = g.generate(rng);
        BOOST_REQUIRE(kp.ok());
        size_t n = g.public_size();
        Bytes zero(n, 0), one(n, 0), two(n, 0);
        one[n - 1] = 1;
        two[n - 1] = 2;
        expect_rejected(*kp, zero, "IKE0011");
        expect_rejected(*kp, one, "IKE0011");
        expect_rejected(*kp, p_minus(id, 1), "IKE0011");  // p-1
        expect_rejected(*kp, p_minus(id, 0), "IKE0011");  // p
        expect_rejected(*kp, Bytes(n, 0xff), "IKE0011");  // above p
        BOOST_TEST(kp->compute(two).ok());                // 2 is allowed
        BOOST_TEST(kp->compute(p_minus(id, 2)).ok());     // p-2 is allowed
        expect_rejected(*kp, Bytes(n - 1, 5), "IKE0010");
        expect_rejected(*kp, Bytes(n + 1, 5), "IKE0010");
        expect_rejected(*kp, {}, "IKE0010");
    }
}

// RFC 6989 2.2: group 24 values must lie in the order-q subgroup.
BOOST_AUTO_TEST_CASE(group24_subgroup_check) {
    SeededRandom rng(9);
    DhGroup g = group(DhId::MODP_2048_256);
    auto kp = g.generate(rng);
    auto peer = g.generate(rng);
    BOOST_REQUIRE(kp.ok() && peer.ok());
    BOOST_TEST(g.check_public(peer->public_value()).ok());
    // 2 is in range but (for this group) not in the q-order subgroup.
    Bytes two(256, 0);
    two[255] = 2;
    auto r = kp->compute(two);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0011");
    BOOST_TEST(r.error().values.at(1) == "value not in the prime order subgroup");
    Bytes one(256, 0);
    one[255] = 1;
    expect_rejected(*kp, one, "IKE0011");
}

BOOST_AUTO_TEST_CASE(ecp_point_checks) {
    SeededRandom rng(11);
    for (DhId id : {DhId::ECP_256, DhId::ECP_384}) {
        DhGroup g = group(id);
        auto kp = g.generate(rng);
        auto peer = g.generate(rng);
        BOOST_REQUIRE(kp.ok() && peer.ok());
        size_t n = g.public_size();

        // Off the curve: flip a bit of y.
        Bytes off = peer->public_value();
        off[n - 1] ^= 1;
        expect_rejected(*kp, off, "IKE0011");
        // (0, 0) is not on these curves and stands for nothing else.
        expect_rejected(*kp, Bytes(n, 0), "IKE0011");
        // Coordinates at or above the field prime.
        expect_rejected(*kp, Bytes(n, 0xff), "IKE0011");
        // Wrong lengths, including the SEC1 form with its 0x04 byte.
        Bytes sec1 = peer->public_value();
        sec1.insert(sec1.begin(), 0x04);
        expect_rejected(*kp, sec1, "IKE0010");
        expect_rejected(*kp, ByteView(peer->public_value()).subspan(0, n / 2), "IKE0010");
        expect_rejected(*kp, {}, "IKE0010");
        BOOST_TEST(kp->compute(peer->public_value()).ok());
    }
}

BOOST_AUTO_TEST_CASE(private_value_range) {
    DhGroup g = group(DhId::ECP_256);
    BOOST_TEST(g.from_private(Bytes(32, 0)).error().id == "IKE0011");
    BOOST_TEST(g.from_private(Bytes(32, 0xff)).error().id == "IKE0011");  // above n
}

BOOST_AUTO_TEST_SUITE_END()
