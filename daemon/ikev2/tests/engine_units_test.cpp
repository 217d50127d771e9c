// The engine's pure helpers on their own: the transition tables, proposal
// building and selection, traffic selector narrowing, cookies, NAT hashes.
#define BOOST_TEST_MODULE ikev2_engine_units
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "daemon/ikev2/engine/cookie.hpp"
#include "daemon/ikev2/engine/natd.hpp"
#include "daemon/ikev2/engine/proposals.hpp"
#include "daemon/ikev2/engine/states.hpp"
#include "daemon/ikev2/engine/traffic.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
namespace crypto = qvpn::ike::crypto;
using namespace std::chrono_literals;

// --- transition tables ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ike_transitions_follow_the_table) {
    using I = IkeState;
    BOOST_TEST(transition_allowed(I::Idle, I::InitSent));
    BOOST_TEST(transition_allowed(I::InitSent, I::AuthSent));
    BOOST_TEST(transition_allowed(I::AuthSent, I::Established));
    BOOST_TEST(transition_allowed(I::InitDone, I::Established));
    BOOST_TEST(transition_allowed(I::Established, I::Rekeyed));
    BOOST_TEST(transition_allowed(I::Rekeyed, I::Deleting));
    BOOST_TEST(transition_allowed(I::AuthSent, I::Closed));
    BOOST_TEST(!transition_allowed(I::Closed, I::Closed));
    BOOST_TEST(!transition_allowed(I::InitSent, I::Established));  // no skipping IKE_AUTH
    BOOST_TEST(!transition_allowed(I::Established, I::InitSent));
    BOOST_TEST(!transition_allowed(I::Deleting, I::Established));
    BOOST_TEST(!transition_allowed(I::Closed, I::Idle));
    BOOST_TEST(state_name(I::Established) == "ESTABLISHED");
}

BOOST_AUTO_TEST_CASE(child_transitions_follow_the_table) {
    using C = ChildState;
    BOOST_TEST(transition_allowed(C::Creating, C::Installed));
    BOOST_TEST(transition_allowed(C::Creating, C::Deleting));  // the unwanted end of a rekey
    BOOST_TEST(transition_allowed(C::Installed, C::Rekeying));
    BOOST_TEST(transition_allowed(C::Rekeying, C::Installed));
    BOOST_TEST(transition_allowed(C::Rekeying, C::Rekeyed));
    BOOST_TEST(transition_allowed(C::Rekeyed, C::Deleting));
    BOOST_TEST(!transition_allowed(C::Rekeyed, C::Installed));
    BOOST_TEST(!transition_allowed(C::Deleting, C::Installed));
    BOOST_TEST(!transition_allowed(C::Creating, C::Rekeying));
    BOOST_TEST(state_name(C::Rekeyed) == "REKEYED");
}

// --- proposals ----------------------------------------------------------------------------

namespace {

policy::KeyPolicy key_policy(std::vector<policy::KeyTransform> t) {
    policy::KeyPolicy k;
    k.transforms = std::move(t);
    return k;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ike_suites_skip_what_ike_cannot_use) {
    std::vector<std::string> skipped;
    auto s = ike_suites(key_policy({{policy::Encr::AesGmac128, policy::Hash::Sha256,
                                     policy::DhGroup::Grp19},
                                    {policy::Encr::AesCbc128, policy::Hash::Sha256,
                                     policy::DhGroup::Grp19},
                                    {policy::Encr::AesCbc128, policy::Hash::Sha256,
                                     policy::DhGroup::Grp19}}),
                        &skipped);
    BOOST_REQUIRE(s.size() == 1u);  // GMAC left out, the duplicate too
    BOOST_TEST(skipped.size() == 1u);
    BOOST_TEST(skipped[0] == "*AESGMAC128 *SHA256 *GRP19");
}

BOOST_AUTO_TEST_CASE(responder_takes_its_own_first_choice) {
    auto ours = ike_suites(key_policy(
        {{policy::Encr::AesGcm256, policy::Hash::Sha384, policy::DhGroup::Grp20},
         {policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}}));
    auto theirs = ike_suites(key_policy(
        {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19},
         {policy::Encr::AesGcm256, policy::Hash::Sha384, policy::DhGroup::Grp20}}));
    SaPayload offered = ike_proposals(theirs, {});
    auto c = select_ike(offered, ours);
    BOOST_REQUIRE(c.ok());
    BOOST_TEST((c->suite == ours[0]));
    BOOST_TEST(c->number == 2);
    // The answer carries that proposal number and is accepted by the initiator.
    SaPayload answer = ike_answer(*c, {});
    BOOST_TEST(answer.proposals[0].number == 2);
    auto back = accept_ike(answer, theirs, false);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST((back->suite == ours[0]));
}

BOOST_AUTO_TEST_CASE(ike_selection_handles_combined_proposals_and_refusals) {
    // One proposal with several transforms per type (as strongSwan sends).
    SaPayload offered;
    offered.proposals.push_back(Proposal{1, ProtocolId::IKE, {},
                                         {{TransformType::ENCR, 12, 256, false},
                                          {TransformType::ENCR, 12, 128, false},
                                          {TransformType::PRF, 2, {}, false},
                                          {TransformType::PRF, 5, {}, false},
                                          {TransformType::INTEG, 12, {}, false},
                                          {TransformType::DH, 14, {}, false},
                                          {TransformType::DH, 19, {}, false}}});
    auto ours = ike_suites(key_policy(
        {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}}));
    BOOST_TEST(select_ike(offered, ours).ok());

    // The key length must match exactly.
    auto ours192 = ike_suites(key_policy(
        {{policy::Encr::AesCbc192, policy::Hash::Sha256, policy::DhGroup::Grp19}}));
    auto r = select_ike(offered, ours192);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0900");
    BOOST_TEST(r.error().notify == ike::notify_code(NotifyType::NO_PROPOSAL_CHOSEN));

    // A transform with an unknown attribute is not chosen; an unknown
    // transform type rejects the proposal.
    SaPayload odd = offered;
    odd.proposals[0].transforms[1].unknown_attribute = true;
    BOOST_TEST(!select_ike(odd, ours).ok());
    odd = offered;
    odd.proposals[0].transforms.push_back({static_cast<TransformType>(9), 1, {}, false});
    BOOST_TEST(!select_ike(odd, ours).ok());
}

BOOST_AUTO_TEST_CASE(initiator_refuses_answers_it_did_not_offer) {
    auto ours = ike_suites(key_policy(
        {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}}));
    auto other = ike_suites(key_policy(
        {{policy::Encr::AesCbc256, policy::Hash::Sha256, policy::DhGroup::Grp19}}));
    BOOST_TEST(accept_ike(ike_answer({other[0], 1, {}}, {}), ours, false).error().id == "IKE0901");
    SaPayload two = ike_proposals({ours[0], ours[0]}, {});
    BOOST_TEST(!accept_ike(two, ours, false).ok());
    SaPayload dup = ike_answer({ours[0], 1, {}}, {});
    dup.proposals[0].transforms.push_back(dup.proposals[0].transforms[0]);
    BOOST_TEST(!accept_ike(dup, ours, false).ok());
    // Rekey answers carry an 8-byte SPI.
    BOOST_TEST(!accept_ike(ike_answer({ours[0], 1, {}}, {}), ours, true).ok());
    BOOST_TEST(accept_ike(ike_answer({ours[0], 1, {}}, Bytes(8, 1)), ours, true).ok());
}

BOOST_AUTO_TEST_CASE(child_offers_leave_out_ah_with_esp) {
    policy::DataPolicy d;
    d.transforms = {{policy::Protocol::AhEsp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha256},
                    {policy::Protocol::Esp, policy::Encr::AesGcm128, policy::DataAuth::None},
                    {policy::Protocol::Ah, policy::Encr::None, policy::DataAuth::HmacSha1},
                    {policy::Protocol::Esp, policy::Encr::AesGmac256, policy::DataAuth::None}};
    std::vector<std::string> skipped;
    auto offers = child_offers(d, &skipped);
    BOOST_REQUIRE(offers.size() == 3u);
    BOOST_TEST(skipped.size() == 1u);
    BOOST_TEST((offers[0].proto == ProtocolId::ESP));
    BOOST_TEST((offers[1].proto == ProtocolId::AH));
    BOOST_TEST((offers[2].suite.encr.id == ike::EncrId::ENCR_NULL_AUTH_AES_GMAC));
}

BOOST_AUTO_TEST_CASE(child_selection_esn_and_pfs) {
    policy::DataPolicy d;
    d.transforms = {{policy::Protocol::Esp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha256}};
    auto offers = child_offers(d);
    // ESN wanted: ESN and NO_ESN offered; a responder without ESN takes NO_ESN.
    SaPayload p = child_proposals(offers, 0x11223344, true, ike::DhId::ECP_256);
    auto c = select_child(p, offers, false, ike::DhId::ECP_256, false);
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(!c->esn);
    BOOST_TEST(c->peer_spi == 0x11223344u);
    BOOST_TEST((c->dh == ike::DhId::ECP_256));
    c = select_child(p, offers, true, ike::DhId::ECP_256, false);
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(c->esn);

    // PFS required but not offered: refused. PFS offered but not required:
    // accepted (more protection is fine).
    SaPayload no_pfs = child_proposals(offers, 1000, false, ike::DhId::NONE);
    BOOST_TEST(select_child(no_pfs, offers, false, ike::DhId::ECP_256, false).error().id ==
               "IKE0902");
    auto x = select_child(p, offers, false, ike::DhId::NONE, false);
    BOOST_REQUIRE(x.ok());
    BOOST_TEST((x->dh == ike::DhId::ECP_256));
    // In IKE_AUTH, DH is ignored.
    x = select_child(p, offers, false, ike::DhId::MODP_2048, true);
    BOOST_REQUIRE(x.ok());
    BOOST_TEST((x->dh == ike::DhId::NONE));

    // The answer round-trips through the initiator's check.
    SaPayload ans = child_answer(*c, 0x55667788, false);
    auto back = accept_child(ans, offers, ike::DhId::ECP_256, false);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->esn);
    BOOST_TEST(back->peer_spi == 0x55667788u);
    BOOST_TEST(accept_child(ans, offers, ike::DhId::NONE, false).error().id == "IKE0903");
    BOOST_TEST(describe(*back) == "*ESP *AESCBC128 *HMACSHA256 PFS *GRP19 ESN");
}

// --- traffic selectors ------------------------------------------------------------------------

namespace {

sa::TrafficSelector ts(const std::string& range, uint8_t proto = 0, uint16_t from = 0,
                       uint16_t to = 65535) {
    auto slash = range.find('/');
    auto dash = range.find('-');
    IpRange r;
    if (slash != std::string::npos) {
        r = *IpRange::subnet(*IpAddress::parse(range.substr(0, slash)), range.substr(slash + 1));
    } else if (dash != std::string::npos) {
        r = IpRange{*IpAddress::parse(range.substr(0, dash)),
                    *IpAddress::parse(range.substr(dash + 1))};
    } else {
        r = IpRange::single(*IpAddress::parse(range));
    }
    return {proto, from, to, r};
}

}  // namespace

BOOST_AUTO_TEST_CASE(narrowing_intersects_addresses_ports_and_protocols) {
    Selectors offered{ts("10.6.0.0/16")};
    Selectors allowed{ts("10.6.1.0/24", 6, 80, 90)};
    auto n = narrow(offered, allowed);
    BOOST_REQUIRE(n.size() == 1u);
    BOOST_TEST(n[0].addrs.to_string() == "10.6.1.0/24");
    BOOST_TEST(n[0].ip_proto == 6);
    BOOST_TEST(n[0].port_from == 80);
    BOOST_TEST(narrow({ts("10.6.0.0/16", 17)}, allowed).empty());
    BOOST_TEST(narrow({ts("10.7.0.0/16")}, allowed).empty());
    BOOST_TEST(narrow({ts("2001:db8::/32")}, allowed).empty());
    BOOST_TEST(narrow({ts("10.6.1.5-10.6.2.9")}, {ts("10.6.1.0/24")})[0].addrs.to_string() ==
               "10.6.1.5-10.6.1.255");

    BOOST_TEST(within({ts("10.6.1.0/24")}, {ts("10.6.0.0/16")}));
    BOOST_TEST(!within({ts("10.0.0.0/8")}, {ts("10.6.0.0/16")}));
    BOOST_TEST(!within({}, {ts("10.6.0.0/16")}));
    BOOST_TEST(to_string(ts("10.6.0.0/16", 6, 443, 443)) == "10.6.0.0/16[6/443]");
}

BOOST_AUTO_TEST_CASE(selectors_from_every_endpoint_type) {
    auto host = *IpAddress::parse("192.0.2.1");
    using T = policy::EndpointType;
    auto one = [&](T t, std::string a, std::string e, bool host_role = false) {
        return selectors_for({t, a, e}, 0, 0, host, host_role);
    };
    BOOST_TEST(one(T::IPv4, "10.1.2.3", "")->at(0).addrs.to_string() == "10.1.2.3");
    BOOST_TEST(one(T::IPv4Subnet, "10.6.0.0", "255.255.0.0")->at(0).addrs.to_string() ==
               "10.6.0.0/16");
    BOOST_TEST(one(T::IPv4Range, "10.0.0.5", "10.0.0.9")->at(0).addrs.to_string() ==
               "10.0.0.5-10.0.0.9");
    BOOST_TEST(one(T::IPv6Subnet, "2001:db8::", "48")->at(0).addrs.to_string() == "2001:db8::/48");
    BOOST_TEST(one(T::Any, "", "")->at(0).addrs.to_string() == "0.0.0.0/0");
    BOOST_TEST(one(T::Any, "", "", true)->at(0).addrs.to_string() == "192.0.2.1");
    BOOST_TEST(one(T::IPv4, "", "")->at(0).addrs.to_string() == "192.0.2.1");
    for (auto bad : {one(T::IPv4, "banana", ""), one(T::IPv4Subnet, "10.0.0.0", "33"),
                     one(T::IPv4Range, "10.0.0.9", "10.0.0.5"), one(T::IPv6, "10.0.0.1", "")}) {
        BOOST_REQUIRE(!bad.ok());
        BOOST_TEST(bad.error().id == "IKE0904");
    }
    auto p = selectors_for({T::IPv4, "10.1.2.3", ""}, 53, 17, host, false);
    BOOST_TEST(p->at(0).port_from == 53);
    BOOST_TEST(p->at(0).port_to == 53);
    BOOST_TEST(p->at(0).ip_proto == 17);
}

// --- cookies and NAT detection --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cookies_check_their_inputs_and_survive_one_rotation) {
    SeededRandom rng(3);
    CookieJar jar(rng, 60s);
    SteadyTime t{};
    Bytes ni(32, 7);
    auto peer = *IpAddress::parse("192.0.2.9");
    Bytes c = jar.make(ni, peer, 42, t);
    BOOST_TEST(c.size() == 33u);
    BOOST_TEST(jar.check(c, ni, peer, 42, t + 1s));
    BOOST_TEST(!jar.check(c, ni, peer, 43, t + 1s));
    BOOST_TEST(!jar.check(c, Bytes(32, 8), peer, 42, t + 1s));
    BOOST_TEST(!jar.check(c, ni, *IpAddress::parse("192.0.2.10"), 42, t + 1s));
    Bytes bad = c;
    bad[5] ^= 1;
    BOOST_TEST(!jar.check(bad, ni, peer, 42, t + 1s));
    BOOST_TEST(!jar.check(Bytes{1}, ni, peer, 42, t + 1s));
    // One rotation later still good, two rotations later not.
    BOOST_TEST(jar.check(c, ni, peer, 42, t + 61s));
    BOOST_TEST(!jar.check(c, ni, peer, 42, t + 122s));
}

BOOST_AUTO_TEST_CASE(nat_detection_hashes) {
    Endpoint a{*IpAddress::parse("192.0.2.1"), 500};
    Endpoint b{*IpAddress::parse("192.0.2.2"), 500};
    Bytes src = natd_hash(1, 2, a);
    Bytes dst = natd_hash(1, 2, b);
    BOOST_TEST(src.size() == 20u);
    // Seen from b: the source hash names a, the destination hash names b.
    auto r = detect_nat(1, 2, b, a, {src}, &dst);
    BOOST_TEST(r.peer_supports);
    BOOST_TEST(!r.local_behind_nat);
    BOOST_TEST(!r.remote_behind_nat);
    Endpoint mapped{*IpAddress::parse("203.0.113.5"), 40001};
    r = detect_nat(1, 2, b, mapped, {src}, &dst);
    BOOST_TEST(r.remote_behind_nat);
    BOOST_TEST(!r.local_behind_nat);
    r = detect_nat(1, 2, b, a, {Bytes(20, 0), src}, &dst);  // one of several sources matches
    BOOST_TEST(!r.remote_behind_nat);
    BOOST_TEST(!detect_nat(1, 2, b, a, {}, nullptr).peer_supports);
}
