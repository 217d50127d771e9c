#include <boost/test/unit_test.hpp>

#include "daemon/ike/crypto/cipher.hpp"
#include "daemon/ike/crypto/integrity.hpp"
#include "daemon/ike/crypto/prf.hpp"
#include "daemon/ike/crypto/suite.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;

BOOST_AUTO_TEST_SUITE(suite)

// Every CL encryption value maps to an IANA transform and back, and the
// facts the policy model states agree with the transform's.
BOOST_AUTO_TEST_CASE(encr_round_trip_all_policy_values) {
    for (const auto& name : policy::cl_values<policy::Encr>()) {
        auto e = policy::from_cl<policy::Encr>(name);
        BOOST_REQUIRE(e.has_value());
        BOOST_TEST_CONTEXT(name) {
            EncrAlg alg = encr_from_policy(*e);
            BOOST_TEST(encr_valid(alg));
            auto back = encr_to_policy(alg);
            BOOST_REQUIRE(back.has_value());
            BOOST_TEST((*back == *e));
            BOOST_TEST(encr_is_aead(alg.id) == policy::is_aead(*e));
            BOOST_TEST(encr_is_auth_only(alg.id) == policy::is_auth_only(*e));
            if (encr_has_key_length(alg.id)) {
                BOOST_TEST(alg.key_bits == policy::key_bits(*e));
            }
            // Every IKE-capable one can be instantiated for the SK payload.
            if (policy::ike_allowed(*e)) {
                BOOST_TEST(Cipher::create(alg.id, alg.key_bits).ok());
            }
        }
    }
    BOOST_TEST(!encr_to_policy({EncrId::ENCR_AES_CBC, 100}).has_value());
    BOOST_TEST((*encr_to_policy({EncrId::ENCR_3DES, 192}) == policy::Encr::TripleDes));
}

BOOST_AUTO_TEST_CASE(hash_and_auth_mappings) {
    for (const auto& name : policy::cl_values<policy::Hash>()) {
        auto hsh = *policy::from_cl<policy::Hash>(name);
        PrfId prf = prf_from_policy(hsh);
        BOOST_TEST((*hash_from_prf(prf) == hsh));
        BOOST_TEST(Prf::create(prf).ok());
        BOOST_TEST(Integrity::create(integ_from_policy(hsh)).ok());
    }
    for (const auto& name : policy::cl_values<policy::DataAuth>()) {
        auto a = *policy::from_cl<policy::DataAuth>(name);
        IntegId id = integ_from_policy(a);
        BOOST_TEST((*data_auth_from_integ(id) == a));
    }
    BOOST_TEST(!data_auth_from_integ(IntegId::AUTH_AES_128_GMAC).has_value());
    BOOST_TEST((prf_from_policy(policy::Hash::AesXcbc) == PrfId::PRF_AES128_XCBC));
    BOOST_TEST((integ_from_policy(policy::Hash::Sha384) == IntegId::AUTH_HMAC_SHA2_384_192));
}

BOOST_AUTO_TEST_CASE(dh_mappings) {
    for (const auto& name : policy::cl_values<policy::DhGroup>()) {
        auto g = *policy::from_cl<policy::DhGroup>(name);
        BOOST_TEST((*dh_to_policy(dh_from_policy(g)) == g));
    }
    BOOST_TEST((dh_from_policy(policy::DhGroup::Grp24) == DhId::MODP_2048_256));
    BOOST_TEST(!dh_to_policy(static_cast<DhId>(5)).has_value());
}

BOOST_AUTO_TEST_CASE(key_sizes) {
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_AES_GCM_16, 256}) == 36u);
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_AES_CCM_8, 128}) == 19u);
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_AES_CTR, 192}) == 28u);
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_NULL_AUTH_AES_GMAC, 192}) == 28u);
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_3DES, 0}) == 24u);
    BOOST_TEST(*encr_keymat_size({EncrId::ENCR_NULL, 0}) == 0u);
    BOOST_TEST(!encr_keymat_size({EncrId::ENCR_AES_CBC, 0}).has_value());
    BOOST_TEST(*integ_key_size(IntegId::AUTH_AES_256_GMAC) == 36u);
    BOOST_TEST(*integ_icv_size(IntegId::AUTH_HMAC_SHA2_512_256) == 32u);
    BOOST_TEST(!integ_key_size(static_cast<IntegId>(77)).has_value());
    BOOST_TEST(encr_has_key_length(EncrId::ENCR_AES_CBC));
    BOOST_TEST(!encr_has_key_length(EncrId::ENCR_3DES));
}

BOOST_AUTO_TEST_CASE(ike_suite_rules) {
    policy::KeyTransform t{policy::Encr::AesGcm256, policy::Hash::Sha384, policy::DhGroup::Grp20};
    IkeSuite s = ike_suite_from_policy(t);
    BOOST_TEST((s.encr == EncrAlg{EncrId::ENCR_AES_GCM_16, 256}));
    BOOST_TEST((s.integ == IntegId::NONE));
    BOOST_TEST((s.prf == PrfId::PRF_HMAC_SHA2_384));
    BOOST_TEST((s.dh == DhId::ECP_384));
    BOOST_TEST(check_ike_suite(s).ok());

    IkeSuite cbc = ike_suite_from_policy({policy::Encr::AesCbc128, policy::Hash::Sha256,
                                          policy::DhGroup::Grp14});
    BOOST_TEST((cbc.integ == IntegId::AUTH_HMAC_SHA2_256_128));
    BOOST_TEST(check_ike_suite(cbc).ok());

    auto expect_bad = [](IkeSuite x) {
        auto r = check_ike_suite(x);
        BOOST_TEST(!r.ok());
        if (!r.ok()) {
            BOOST_TEST(r.error().id == "IKE0008");
            BOOST_TEST(r.error().notify == notify_code(NotifyType::NO_PROPOSAL_CHOSEN));
        }
    };
    IkeSuite x = s;
    x.integ = IntegId::AUTH_HMAC_SHA2_256_128;
    expect_bad(x);
    x = cbc;
    x.integ = IntegId::NONE;
    expect_bad(x);
    x = cbc;
    x.integ = IntegId::AUTH_AES_128_GMAC;
    expect_bad(x);
    x = cbc;
    x.encr = {EncrId::ENCR_NULL, 0};
    expect_bad(x);
    x = cbc;
    x.encr = {EncrId::ENCR_NULL_AUTH_AES_GMAC, 128};
    expect_bad(x);
    x = cbc;
    x.dh = DhId::NONE;
    expect_bad(x);
    x = cbc;
    x.encr.key_bits = 64;
    expect_bad(x);
}

BOOST_AUTO_TEST_CASE(child_suite_rules) {
    auto ok = [](ChildSuite c) { return check_child_suite(c).ok(); };
    BOOST_TEST(ok({SaUse::Esp, {EncrId::ENCR_AES_GCM_16, 128}, IntegId::NONE}));
    BOOST_TEST(ok({SaUse::Esp, {EncrId::ENCR_NULL_AUTH_AES_GMAC, 256}, IntegId::NONE}));
    BOOST_TEST(ok({SaUse::Esp, {EncrId::ENCR_NULL, 0}, IntegId::AUTH_HMAC_SHA2_256_128}));
    BOOST_TEST(ok({SaUse::Esp, {EncrId::ENCR_AES_CBC, 128}, IntegId::AUTH_AES_XCBC_96}));
    BOOST_TEST(ok({SaUse::Ah, {}, IntegId::AUTH_HMAC_SHA1_96}));
    BOOST_TEST(ok({SaUse::Ah, {}, IntegId::AUTH_AES_128_GMAC}));
    // Not allowed:
    BOOST_TEST(!ok({SaUse::Esp, {EncrId::ENCR_AES_GCM_16, 128}, IntegId::AUTH_HMAC_SHA1_96}));
    BOOST_TEST(!ok({SaUse::Esp, {EncrId::ENCR_NULL_AUTH_AES_GMAC, 128},
                    IntegId::AUTH_HMAC_SHA1_96}));
    BOOST_TEST(!ok({SaUse::Esp, {EncrId::ENCR_NULL, 0}, IntegId::NONE}));
    BOOST_TEST(!ok({SaUse::Ah, {EncrId::ENCR_AES_CBC, 128}, IntegId::AUTH_HMAC_SHA1_96}));
    BOOST_TEST(!ok({SaUse::Ah, {EncrId::ENCR_NULL_AUTH_AES_GMAC, 128}, IntegId::NONE}));
    BOOST_TEST(!ok({SaUse::Ah, {}, IntegId::NONE}));
    BOOST_TEST(!ok({SaUse::Ike, {EncrId::ENCR_AES_CBC, 128}, IntegId::AUTH_HMAC_SHA1_96}));
}

BOOST_AUTO_TEST_CASE(data_policy_to_suites) {
    auto esp = child_suites_from_policy(
        {policy::Protocol::Esp, policy::Encr::AesCbc256, policy::DataAuth::HmacSha512});
    BOOST_REQUIRE(esp.esp.has_value());
    BOOST_TEST(!esp.ah.has_value());
    BOOST_TEST((esp.esp->integ == IntegId::AUTH_HMAC_SHA2_512_256));

    auto gmac = child_suites_from_policy(
        {policy::Protocol::Esp, policy::Encr::AesGmac128, policy::DataAuth::None});
    BOOST_TEST((gmac.esp->encr.id == EncrId::ENCR_NULL_AUTH_AES_GMAC));
    BOOST_TEST(check_child_suite(*gmac.esp).ok());

    auto ah = child_suites_from_policy(
        {policy::Protocol::Ah, policy::Encr::None, policy::DataAuth::HmacSha256});
    BOOST_TEST(!ah.esp.has_value());
    BOOST_TEST(check_child_suite(*ah.ah).ok());

    auto both = child_suites_from_policy(
        {policy::Protocol::AhEsp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha1});
    BOOST_REQUIRE(both.ah.has_value() && both.esp.has_value());
    BOOST_TEST((both.ah->integ == IntegId::AUTH_HMAC_SHA1_96));
    BOOST_TEST((both.esp->integ == IntegId::NONE));
    BOOST_TEST(check_child_suite(*both.esp).ok());
}

BOOST_AUTO_TEST_CASE(deemphasized_algorithms_warn) {
    IkeSuite old{{EncrId::ENCR_DES, 0}, PrfId::PRF_HMAC_MD5, IntegId::AUTH_HMAC_MD5_96,
                 DhId::MODP_1024};
    auto w = deemphasized_warnings(old);
    BOOST_REQUIRE(w.size() == 4u);
    for (const auto& m : w) {
        BOOST_TEST(m.id == "IKE0012");
    }
    BOOST_TEST(w[0].values.at(0) == "ENCR_DES");
    BOOST_TEST(w[3].values.at(0) == "MODP_1024");
    IkeSuite modern{{EncrId::ENCR_AES_GCM_16, 256}, PrfId::PRF_HMAC_SHA2_384, IntegId::NONE,
                    DhId::ECP_384};
    BOOST_TEST(deemphasized_warnings(modern).empty());
    ChildSuite esp{SaUse::Esp, {EncrId::ENCR_AES_CBC, 128}, IntegId::AUTH_HMAC_SHA1_96};
    BOOST_TEST(deemphasized_warnings(esp).empty());
    BOOST_TEST(deemphasized_warnings(esp, DhId::MODP_768).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
