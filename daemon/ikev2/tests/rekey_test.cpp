// CREATE_CHILD_SA and INFORMATIONAL between two engines: CHILD_SA rekeys
// (with and without PFS), IKE SA rekeys and reauthentication, simultaneous
// rekeys (RFC 7296 2.8.1), deletes, liveness checks, NAT traversal.
#define BOOST_TEST_MODULE ikev2_rekey
#include "daemon/ikev2/tests/exchange_harness.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
using namespace qvpn::ikev2::test;

namespace {

// Watches the fake SA tables after every step: once a reqid has a CHILD_SA,
// it must never be left without one (make before break).
struct Continuity {
    Net& net;
    uint32_t reqid_a, reqid_b;
    bool broken = false;
    void check() {
        broken = broken || net.a.live_spis(reqid_a).empty() || net.b.live_spis(reqid_b).empty();
    }
};

void run_checking(Net& net, Continuity& c, std::chrono::milliseconds total) {
    auto end = net.clock.now() + total;
    while (net.clock.now() < end) {
        net.run_for(250ms);
        c.check();
    }
}

uint32_t reqid_of(const Side& s) { return s.installed.begin()->second.reqid; }

EngineConfig no_jitter() {
    EngineConfig c;
    c.jitter_percent = 0;
    return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(child_sa_rekeys_before_its_lifetime_and_keeps_traffic) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t first = net.a.installed.begin()->first;
    Continuity c{net, reqid_of(net.a), reqid_of(net.b)};

    // 60 minutes of data lifetime: a rekey happens between 51 and 54 minutes.
    // HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->  <-- HDR, SK {SA, Nr, TSi, TSr}
    // HDR, SK {D(ESP, old)} -->                    <-- HDR, SK {D(ESP, old)}
    net.run_for(std::chrono::minutes(50));
    BOOST_TEST(net.a.installed.count(first) == 1u);
    run_checking(net, c, std::chrono::minutes(5));
    BOOST_TEST(!c.broken);
    BOOST_TEST(net.a.installed.count(first) == 0u);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    BOOST_TEST(net.a.installed.begin()->second.reqid == 7u);
    BOOST_TEST(net.a.count_log("IKE0A11") == 1u);
    BOOST_TEST(net.b.count_log("IKE0A11") == 1u);
    BOOST_TEST(net.a.of<InstallChild>().size() == 2u);
    BOOST_TEST(net.a.of<InstallChild>().back().rekey_of.has_value());
    net.check_pairs();

    // And again, on and on: after five hours there is still exactly one pair.
    run_checking(net, c, std::chrono::hours(5));
    BOOST_TEST(!c.broken);
    BOOST_TEST(net.a.installed.size() == 1u);
    BOOST_TEST(net.a.of<Failed>().empty());
    BOOST_TEST(net.b.of<Failed>().empty());
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(child_rekey_with_pfs_sends_a_key_exchange) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    pa.data.pfs = policy::DhGroup::Grp19;
    pb.data.pfs = policy::DhGroup::Grp19;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t first = net.a.installed.begin()->first;
    // Force the rekey now (the SA backend's soft expiry, e.g. kilobytes).
    net.a.engine->expire("HRgw2FINgw:L1", 7, first, false);
    net.pump();
    BOOST_TEST(net.a.installed.count(first) == 0u);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    net.check_pairs();
    // The CREATE_CHILD_SA request was the fifth packet: it carried KEi.
    BOOST_TEST(net.delivered.size() >= 8u);
    const auto& req = net.delivered[4];
    auto h = parse_header(req.data);
    BOOST_REQUIRE(h.ok());
    BOOST_TEST((h->exchange == ExchangeType::CREATE_CHILD_SA));
    BOOST_TEST(net.a.engine->counters().children_rekeyed == 1u);
}

BOOST_AUTO_TEST_CASE(pfs_mismatch_keeps_the_old_child_until_its_hard_lifetime) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    pa.data.pfs = policy::DhGroup::Grp19;
    pb.data.pfs = policy::DhGroup::Grp14;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);  // IKE_AUTH carries no KE: PFS does not matter yet
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t first = net.a.installed.begin()->first;
    net.a.engine->expire("HRgw2FINgw:L1", 7, first, false);
    net.pump();
    BOOST_TEST(net.a.installed.count(first) == 1u);
    BOOST_TEST(net.a.count_log("IKE0906") == 1u);
    BOOST_TEST(net.b.count_log("IKE0902") == 1u);
    BOOST_TEST(net.a.of<Failed>().empty());
}

BOOST_AUTO_TEST_CASE(simultaneous_child_rekeys_leave_one_pair) {
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            Net net;
            net.a.rng = SeededRandom(seed * 31);
            net.b.rng = SeededRandom(seed * 77);
            setup_branch(net);
            initiate(net, policy_a());
            BOOST_REQUIRE(net.a.installed.size() == 1u);
            uint32_t a_in = net.a.installed.begin()->first;
            uint32_t b_in = net.b.installed.begin()->first;
            uint32_t b_reqid = reqid_of(net.b);
            Continuity c{net, 7, b_reqid};

            // Both sides start a rekey of the same CHILD_SA before either
            // request arrives:
            // HDR, SK {N(REKEY_SA), SA, Ni1, ...} -->   <-- HDR, SK {N(REKEY_SA), SA, Ni2, ...}
            net.a.engine->expire("HRgw2FINgw:L1", 7, a_in, false);
            net.b.engine->expire("HRgw2FINgw:R1", b_reqid, b_in, false);
            run_checking(net, c, std::chrono::seconds(30));
            BOOST_TEST(!c.broken);
            BOOST_TEST(net.a.installed.size() == 1u);
            BOOST_TEST(net.b.installed.size() == 1u);
            BOOST_TEST(net.a.installed.count(a_in) == 0u);
            net.check_pairs();
            BOOST_TEST(net.a.engine->counters().collisions == 1u);
            BOOST_TEST(net.b.engine->counters().collisions == 1u);
            BOOST_TEST(net.a.of<Failed>().empty());
            BOOST_TEST(net.b.of<Failed>().empty());
            // Both agree on which one survived and it keeps rekeying later.
            run_checking(net, c, std::chrono::hours(2));
            BOOST_TEST(!c.broken);
            BOOST_TEST(net.a.installed.size() == 1u);
            net.check_pairs();
        }
    }
}

BOOST_AUTO_TEST_CASE(collision_decided_by_the_peer_first_leaves_one_pair) {
    // As strongSwan does it when the answer to our rekey is lost once: the
    // peer learns of the collision, decides and deletes the old CHILD_SA
    // before our retransmitted request brings us its answer.
    size_t orphaned = 0;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            Net net;
            net.a.rng = SeededRandom(seed * 31);
            net.b.rng = SeededRandom(seed * 77);
            setup_branch(net);
            initiate(net, policy_a());
            BOOST_REQUIRE(net.a.installed.size() == 1u);
            uint32_t a_in = net.a.installed.begin()->first;
            uint32_t b_in = net.b.installed.begin()->first;
            uint32_t b_reqid = reqid_of(net.b);
            Continuity c{net, 7, b_reqid};

            // HDR, SK {N(REKEY_SA), SA, Ni1, ...} -->   <-- HDR, SK {N(REKEY_SA), SA, Ni2, ...}
            // <-- HDR, SK {SA, Nr1, ...}  (lost: A retransmits a second later)
            // HDR, SK {SA, Nr2, ...} -->  (B decides first; B may delete the old pair)
            bool lost = false;
            net.drop = [&](const Packet& p) {
                auto h = parse_header(p.data);
                if (lost || p.sender != 1 || !h.ok() ||
                    h->exchange != ExchangeType::CREATE_CHILD_SA || !h->is_response()) {
                    return false;
                }
                lost = true;
                return true;
            };
            net.a.engine->expire("HRgw2FINgw:L1", 7, a_in, false);
            net.b.engine->expire("HRgw2FINgw:R1", b_reqid, b_in, false);
            run_checking(net, c, std::chrono::seconds(30));
            BOOST_TEST(lost);
            BOOST_TEST(!c.broken);
            BOOST_TEST(net.a.installed.size() == 1u);
            BOOST_TEST(net.b.installed.size() == 1u);
            net.check_pairs();
            BOOST_TEST(net.a.of<Failed>().empty());
            BOOST_TEST(net.b.of<Failed>().empty());
            orphaned += net.a.count_log("IKE091D");
            // What is left keeps rekeying.
            run_checking(net, c, std::chrono::hours(2));
            BOOST_TEST(!c.broken);
            BOOST_TEST(net.a.installed.size() == 1u);
            net.check_pairs();
        }
    }
    // Some seeds give B the win, so A met the case of the deleted old SA.
    BOOST_TEST(orphaned > 0u);
}

BOOST_AUTO_TEST_CASE(hard_expiry_during_a_rekey_keeps_the_new_child) {
    // A kilobyte lifetime: the soft limit starts a rekey, and the traffic
    // reaches the hard limit before the answer arrives.
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t first = net.a.installed.begin()->first;
    // HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->  (hard expiry)  <-- HDR, SK {SA, Nr, TSi, TSr}
    net.a.engine->expire("HRgw2FINgw:L1", 7, first, false);
    net.a.engine->expire("HRgw2FINgw:L1", 7, first, true);
    net.run_for(std::chrono::seconds(10));
    BOOST_TEST(net.a.count_log("QVP0003") == 0u);
    BOOST_TEST(net.a.installed.count(first) == 0u);
    BOOST_TEST(net.a.installed.size() == 1u);
    BOOST_TEST(net.b.installed.size() == 1u);
    net.check_pairs();
    BOOST_TEST(net.a.of<Failed>().empty());
    // The connection manager hears of a replacement, not of an end.
    for (const auto& r : net.a.of<RemoveChild>()) {
        BOOST_TEST(r.replaced);
    }
}

BOOST_AUTO_TEST_CASE(ike_sa_rekey_without_reauthentication_moves_the_children) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    pa.attributes.ikesa_rekey = true;
    net.b.policies.attributes.ikesa_rekey = true;
    pa.key.lifetime_minutes = 30;
    pb.key.lifetime_minutes = 30;
    pa.data.lifetime_minutes = 480;
    pb.data.lifetime_minutes = 480;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t child = net.a.installed.begin()->first;
    std::string old_ike = net.a.of<IkeUp>().front().ike;
    Continuity c{net, 7, reqid_of(net.b)};

    // HDR, SK {SA(IKE, SPIi'), Ni, KEi} -->    <-- HDR, SK {SA(IKE, SPIr'), Nr, KEr}
    // (old SA) HDR, SK {D(IKE)} -->            <-- HDR, SK {}
    run_checking(net, c, std::chrono::minutes(29));
    BOOST_TEST(!c.broken);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() >= 2u);
    BOOST_TEST(net.a.of<IkeUp>().back().ike != old_ike);
    BOOST_TEST(net.a.installed.count(child) == 1u);  // the CHILD_SA lives on
    BOOST_TEST(net.a.of<IkeDown>().empty());
    BOOST_TEST(net.b.of<IkeDown>().empty());
    BOOST_TEST(net.a.engine->status().size() == 1u);
    BOOST_TEST(net.b.engine->status().size() == 1u);
    BOOST_TEST(net.a.engine->counters().ike_rekeyed + net.b.engine->counters().ike_rekeyed == 2u);

    // The CHILD_SA rekeys on the new IKE SA.
    net.a.engine->expire("HRgw2FINgw:L1", 7, child, false);
    net.pump();
    BOOST_TEST(net.a.installed.count(child) == 0u);
    BOOST_TEST(net.a.installed.size() == 1u);
    net.check_pairs();
    BOOST_TEST(net.a.of<Failed>().empty());
}

BOOST_AUTO_TEST_CASE(simultaneous_ike_sa_rekeys_leave_one_ike_sa) {
    for (uint64_t seed = 1; seed <= 8; ++seed) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            Net net;
            net.a.rng = SeededRandom(seed * 13);
            net.b.rng = SeededRandom(seed * 17);
            auto pa = policy_a();
            auto pb = policy_b();
            pa.attributes.ikesa_rekey = true;
            net.b.policies.attributes.ikesa_rekey = true;
            pa.key.lifetime_minutes = 10;
            pb.key.lifetime_minutes = 10;
            pa.data.lifetime_minutes = 480;
            pb.data.lifetime_minutes = 480;
            net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
            // Without jitter both rekey timers fire at the same instant.
            net.start(no_jitter(), no_jitter());
            initiate(net, pa);
            BOOST_REQUIRE(net.a.installed.size() == 1u);
            Continuity c{net, 7, reqid_of(net.b)};
            run_checking(net, c, std::chrono::minutes(9) + std::chrono::seconds(30));
            BOOST_TEST(!c.broken);
            BOOST_TEST(net.a.engine->counters().collisions == 1u);
            BOOST_TEST(net.b.engine->counters().collisions == 1u);
            auto sa = net.a.engine->status();
            auto sb = net.b.engine->status();
            BOOST_REQUIRE(sa.size() == 1u);
            BOOST_REQUIRE(sb.size() == 1u);
            BOOST_TEST(sa[0].ike == sb[0].ike);
            BOOST_TEST(sa[0].children.size() == 1u);
            BOOST_TEST(sb[0].children.size() == 1u);
            BOOST_TEST(net.a.of<IkeDown>().empty());
            BOOST_TEST(net.b.of<IkeDown>().empty());
            net.check_pairs();
            // The survivor works: a CHILD_SA rekey and a delete go through.
            uint32_t child = net.a.installed.begin()->first;
            net.a.engine->expire("HRgw2FINgw:L1", 7, child, false);
            net.pump();
            BOOST_TEST(net.a.installed.count(child) == 0u);
            net.check_pairs();
        }
    }
}

BOOST_AUTO_TEST_CASE(reauthentication_replaces_the_ike_sa_and_its_child) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    pa.key.lifetime_minutes = 30;  // ikesa_rekey off (the default): reauthenticate
    pb.key.lifetime_minutes = 30;
    pa.data.lifetime_minutes = 480;
    pb.data.lifetime_minutes = 480;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    uint32_t first = net.a.installed.begin()->first;
    Continuity c{net, 7, reqid_of(net.b)};

    // New IKE_SA_INIT + IKE_AUTH (without INITIAL_CONTACT), the new CHILD_SA
    // installed over the old one, then the old IKE SA deleted.
    run_checking(net, c, std::chrono::minutes(29));
    BOOST_TEST(!c.broken);
    BOOST_TEST(net.a.installed.count(first) == 0u);
    BOOST_TEST(net.a.installed.size() == 1u);
    BOOST_TEST(net.b.installed.size() == 1u);
    BOOST_TEST(net.a.count_log("IKE0A04") + net.b.count_log("IKE0A04") >= 1u);
    BOOST_TEST(net.a.engine->status().size() == 1u);
    BOOST_TEST(net.b.engine->status().size() == 1u);
    BOOST_TEST(net.a.of<IkeDown>().empty());
    BOOST_TEST(net.b.of<IkeDown>().empty());
    BOOST_TEST(net.b.of<IkeUp>().back().conn == "HRgw2FINgw:R1");
    net.check_pairs();
    BOOST_TEST(net.a.of<Failed>().empty());
    BOOST_TEST(net.b.of<Failed>().empty());
}

BOOST_AUTO_TEST_CASE(terminate_deletes_the_ike_sa_on_both_sides) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    BOOST_REQUIRE(net.b.installed.size() == 1u);
    // HDR, SK {D(IKE)} -->    <-- HDR, SK {}
    net.a.engine->terminate("HRgw2FINgw:L1");
    net.pump();
    BOOST_TEST(net.a.installed.empty());
    BOOST_TEST(net.b.installed.empty());
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.b.engine->idle());
    BOOST_REQUIRE(net.b.of<IkeDown>().size() == 1u);
    BOOST_TEST(net.b.of<IkeDown>().front().reason == "deleted by the peer");
    BOOST_TEST(net.b.of<RemoveChild>().front().reason == "deleted by the peer");
    BOOST_TEST(net.a.of<IkeDown>().size() == 1u);
    BOOST_TEST(net.b.count_log("IKE0A03") == 1u);
    BOOST_TEST(net.a.timers.empty());
    BOOST_TEST(net.b.timers.empty());
}

BOOST_AUTO_TEST_CASE(peer_deletes_only_the_child) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    BOOST_REQUIRE(net.b.installed.size() == 1u);
    uint32_t b_in = net.b.installed.begin()->first;
    // A hard expiry on B: HDR, SK {D(ESP, spi)} -->  <-- HDR, SK {D(ESP, spi')}
    net.b.engine->expire("HRgw2FINgw:R1", reqid_of(net.b), b_in, true);
    net.pump();
    BOOST_TEST(net.b.installed.count(b_in) == 0u);
    // A started the connection: it brings a fresh CHILD_SA right back? No:
    // B (the responder) expired it; A only answers the delete.
    BOOST_TEST(net.a.count_log("IKE0A12") == 1u);
    BOOST_TEST(net.a.engine->status().size() == 1u);
    // A still has no CHILD_SA for reqid 7: an acquire brings one.
    BOOST_TEST(net.a.installed.empty());
    BOOST_TEST(net.a.engine->acquire("HRgw2FINgw:L1", 7));
    net.pump();
    BOOST_TEST(net.a.installed.size() == 1u);
    net.check_pairs();
    BOOST_TEST(!net.a.engine->acquire("no such connection", 9));
}

BOOST_AUTO_TEST_CASE(hard_expiry_on_the_initiator_brings_a_new_child) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    uint32_t a_in = net.a.installed.begin()->first;
    net.a.engine->expire("HRgw2FINgw:L1", 7, a_in, true);
    net.pump();
    BOOST_TEST(net.a.installed.count(a_in) == 0u);
    BOOST_TEST(net.a.installed.size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(failed_install_deletes_the_child_and_reports_8400) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    net.a.engine->installed("HRgw2FINgw:L1", 7, false);
    net.pump();
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 8400);
    BOOST_TEST(net.a.count_log("IKE091A") == 1u);
    BOOST_TEST(net.b.installed.empty());
}

BOOST_AUTO_TEST_CASE(shutdown_deletes_every_ike_sa) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    net.b.engine->shutdown();
    net.pump();
    BOOST_TEST(net.b.engine->idle());
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.a.installed.empty());
    BOOST_TEST(net.b.installed.empty());
}

BOOST_AUTO_TEST_CASE(shutdown_with_a_dead_peer_ends_after_retransmissions) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    net.drop = [](const Packet&) { return true; };
    net.a.engine->shutdown();
    net.pump();
    BOOST_TEST(!net.a.engine->idle());
    net.run_for(120s);
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.a.of<Failed>().empty());  // a delete that is not answered is no failure
}

BOOST_AUTO_TEST_CASE(dpd_notices_a_silent_peer_and_reports_8509) {
    Net net;
    auto pa = policy_a();
    pa.attributes.dpd_seconds = 10;
    setup_branch(net);
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);

    // A live peer answers the liveness checks: HDR, SK {} -->  <-- HDR, SK {}
    size_t before = net.delivered.size();
    net.run_for(35s);
    BOOST_TEST(net.delivered.size() >= before + 4);
    BOOST_TEST(net.a.of<Failed>().empty());

    // Then the peer dies.
    net.drop = [](const Packet& p) { return p.sender == 0; };
    net.run_for(std::chrono::seconds(200));
    BOOST_REQUIRE(!net.a.of<Failed>().empty());
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 8509);
    BOOST_TEST(net.a.count_log("IKE0A13") == 1u);
    BOOST_TEST(net.a.installed.empty());
    BOOST_TEST(net.a.of<IkeDown>().size() == 1u);
    BOOST_TEST(net.a.engine->counters().dead_peers == 1u);
    BOOST_TEST(net.a.engine->idle());
}

BOOST_AUTO_TEST_CASE(nat_traversal_moves_to_4500_and_sends_keepalives) {
    Net net;
    net.nat_addr = *IpAddress::parse("203.0.113.5");
    auto pa = policy_a();
    auto pb = policy_b();
    // B sees A's translated address; its policy names A by identity.
    pb.key.remote = {policy::IdType::IPv4, "192.0.2.1"};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // HDR, SAi1, KEi, Ni, N(NAT_D_S), N(NAT_D_D) -->   (on 500)
    //                          <-- HDR, SAr1, KEr, Nr, N(NAT_D_S), N(NAT_D_D)
    // non-ESP marker | HDR, SK {IDi, AUTH, ...} -->   (on 4500)
    initiate(net, pa);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().nat_local);
    BOOST_TEST(net.b.of<IkeUp>().front().nat_remote);
    BOOST_TEST(net.delivered[0].to.port == 500);
    BOOST_TEST(!net.delivered[0].marker);
    BOOST_TEST(net.delivered[2].to.port == 4500);
    BOOST_TEST(net.delivered[2].marker);
    BOOST_TEST(net.delivered[2].from.addr.to_string() == "203.0.113.5");
    // B answers the NAT's outside port, not 4500.
    auto b_sends = net.b.of<SendPacket>();
    BOOST_TEST(b_sends[1].remote.port != 4500);
    BOOST_TEST(b_sends[1].non_esp_marker);
    const auto& ca = net.a.installed.begin()->second;
    const auto& cb = net.b.installed.begin()->second;
    BOOST_REQUIRE(ca.encap.has_value());
    BOOST_REQUIRE(cb.encap.has_value());
    BOOST_TEST(ca.encap->local_port == 4500);
    BOOST_TEST(cb.encap->remote_port == net.delivered[2].from.port);
    BOOST_TEST(cb.remote.to_string() == "203.0.113.5");
    BOOST_TEST(net.a.count_log("IKE0A05") == 1u);
    net.run_for(65s);
    BOOST_TEST(net.keepalives >= 3u);
    // Rekeying works through the NAT.
    uint32_t first = net.a.installed.begin()->first;
    net.a.engine->expire("HRgw2FINgw:L1", 7, first, false);
    net.pump();
    BOOST_TEST(net.a.installed.count(first) == 0u);
    BOOST_TEST(net.a.installed.size() == 1u);
}
