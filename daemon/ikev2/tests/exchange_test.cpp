// IKE_SA_INIT and IKE_AUTH between two engines: the seed's branch office
// (HR gateway 10.6.0.0/16 <-> finance gateway 10.196.8.0/24, preshared key),
// and every way the first two exchanges can go wrong.
#define BOOST_TEST_MODULE ikev2_exchange
#include "daemon/ikev2/tests/exchange_harness.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
using namespace qvpn::ikev2::test;

namespace {

std::string ts_text(const std::vector<sa::TrafficSelector>& ts) {
    std::string s;
    for (const auto& t : ts) {
        s += (s.empty() ? "" : " ") + t.addrs.to_string();
    }
    return s;
}

int failure_code(const Side& s) {
    auto f = s.of<Failed>();
    return f.empty() ? 0 : f.back().reason_code;
}

}  // namespace

BOOST_AUTO_TEST_CASE(branch_office_psk_tunnel_comes_up) {
    Net net;
    setup_branch(net);

    // HDR, SAi1, KEi, Ni, N(NAT_D), N(FRAG), N(SIG_HASH) -->
    //                     <-- HDR, SAr1, KEr, Nr, N(NAT_D), N(FRAG), N(SIG_HASH)
    // HDR, SK {IDi, IDr, AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr} -->
    //                     <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
    initiate(net, policy_a());

    BOOST_TEST(net.delivered.size() == 4u);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_REQUIRE(net.b.of<IkeUp>().size() == 1u);
    IkeUp up = net.a.of<IkeUp>().front();
    BOOST_TEST(up.conn == "HRgw2FINgw:L1");
    BOOST_TEST(up.encr == "*AESCBC128");
    BOOST_TEST(up.prf == "*SHA256");
    BOOST_TEST(up.dh == "*GRP19");
    BOOST_TEST(up.auth == "*PSK");
    BOOST_TEST(up.initiator);
    BOOST_TEST(up.lifetime_seconds == 480u * 60);
    BOOST_TEST(!up.nat_local);
    BOOST_TEST(net.b.of<IkeUp>().front().conn == "HRgw2FINgw:R1");
    BOOST_TEST(!net.b.of<IkeUp>().front().initiator);

    BOOST_REQUIRE(net.a.installed.size() == 1u);
    const sa::ChildSa& ca = net.a.installed.begin()->second;
    BOOST_TEST(ca.reqid == 7u);
    BOOST_TEST(ca.conn == "HRgw2FINgw:L1");
    BOOST_TEST((ca.mode == sa::Mode::Tunnel));
    BOOST_TEST(ca.local.to_string() == "192.0.2.1");
    BOOST_TEST(ca.remote.to_string() == "192.0.2.2");
    BOOST_TEST(!ca.encap.has_value());
    BOOST_REQUIRE(ca.esp.has_value());
    BOOST_TEST(!ca.ah.has_value());
    BOOST_TEST((ca.esp->out.encr == ike::EncrId::ENCR_AES_CBC));
    BOOST_TEST(ca.esp->out.encr_key_bits == 128);
    BOOST_TEST((ca.esp->out.integ == ike::IntegId::AUTH_HMAC_SHA2_256_128));
    BOOST_TEST(ts_text(ca.ts_local) == "10.6.0.0/16");
    BOOST_TEST(ts_text(ca.ts_remote) == "10.196.8.0/24");
    BOOST_TEST(ca.lifetime.hard_seconds == 3600u);
    BOOST_TEST(ca.lifetime.soft_seconds < 3600u);
    BOOST_TEST(ca.lifetime.soft_seconds >= 3600u * 85 / 100);
    net.check_pairs();

    // One info line per lifecycle event, with the object keys.
    BOOST_TEST(net.a.count_log("IKE0A00") == 1u);
    BOOST_TEST(net.a.count_log("IKE0A01") == 1u);
    BOOST_TEST(net.a.count_log("IKE0A10") == 1u);
    BOOST_TEST(net.b.count_log("IKE0A01") == 1u);
    BOOST_TEST(net.b.count_log("IKE0A10") == 1u);
    for (const auto& l : net.a.of<LogLine>()) {
        if (l.msg.id == "IKE0A10") {
            BOOST_TEST(l.fields.conn == "HRgw2FINgw:L1");
            BOOST_TEST(l.fields.peer == "192.0.2.2:500");
            BOOST_TEST(l.fields.ike.size() == 33u);
            BOOST_TEST(l.fields.child.size() == 8u);
        }
    }
    BOOST_TEST(net.a.engine->counters().ike_established == 1u);
    BOOST_TEST(net.b.engine->counters().children_installed == 1u);

    auto st = net.a.engine->status();
    BOOST_REQUIRE(st.size() == 1u);
    BOOST_TEST(st[0].state == "ESTABLISHED");
    BOOST_REQUIRE(st[0].children.size() == 1u);
    BOOST_TEST(st[0].children[0].state == "INSTALLED");
}

BOOST_AUTO_TEST_CASE(responder_narrows_traffic_selectors) {
    Net net;
    auto pb = policy_b();
    // B serves only 10.6.1.0/24 of HR's /16 (RFC 7296 2.9).
    pb.connection.remote = {policy::EndpointType::IPv4Subnet, "10.6.1.0", "24"};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, policy_a());
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    BOOST_TEST(ts_text(net.a.installed.begin()->second.ts_local) == "10.6.1.0/24");
    BOOST_TEST(ts_text(net.b.installed.begin()->second.ts_remote) == "10.6.1.0/24");
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(ports_and_protocol_become_selectors) {
    Net net;
    auto pa = policy_a();
    pa.connection.protocol = 6;
    pa.connection.remote_port = 443;
    auto pb = policy_b();
    pb.connection.protocol = 6;
    pb.connection.local_port = 443;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    const auto& ts = net.a.installed.begin()->second.ts_remote;
    BOOST_REQUIRE(ts.size() == 1u);
    BOOST_TEST(ts[0].ip_proto == 6);
    BOOST_TEST(ts[0].port_from == 443);
    BOOST_TEST(ts[0].port_to == 443);
    BOOST_TEST(net.a.installed.begin()->second.ts_local[0].port_from == 0);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(ts_unacceptable_fails_the_connection_with_8407) {
    Net net;
    auto pb = policy_b();
    pb.connection.remote = {policy::EndpointType::IPv4Subnet, "10.99.0.0", "16"};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // ... <-- HDR, SK {IDr, AUTH, N(TS_UNACCEPTABLE)}
    initiate(net, policy_a());
    BOOST_TEST(failure_code(net.a) == 8407);
    BOOST_TEST(net.a.of<Failed>().back().report.id == "TCP8606");
    BOOST_TEST(net.a.of<Failed>().back().report.value(2) == "8407");
    BOOST_TEST(net.b.count_log("IKE090B") == 1u);
    BOOST_TEST(net.a.installed.empty());
    BOOST_TEST(net.b.installed.empty());
    // The IKE SA without a CHILD_SA is deleted again.
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.b.engine->idle());
}

BOOST_AUTO_TEST_CASE(ike_no_proposal_chosen_fails_with_8300) {
    Net net;
    auto pb = policy_b();
    pb.key.transforms = {{policy::Encr::AesCbc256, policy::Hash::Sha384, policy::DhGroup::Grp20}};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // HDR, SAi1, KEi, Ni -->   <-- HDR, N(NO_PROPOSAL_CHOSEN)
    initiate(net, policy_a());
    BOOST_TEST(failure_code(net.a) == 8300);
    BOOST_TEST(net.a.of<Failed>().back().detail.id == "IKE0906");
    BOOST_TEST(net.a.of<Failed>().back().detail.value(3) == "NO_PROPOSAL_CHOSEN");
    BOOST_TEST(net.b.count_log("IKE0900") == 1u);
    BOOST_TEST(net.b.engine->status().empty());  // no state kept
    BOOST_TEST(net.a.engine->idle());
}

BOOST_AUTO_TEST_CASE(child_no_proposal_chosen_fails_with_8400) {
    Net net;
    auto pb = policy_b();
    pb.data.transforms = {{policy::Protocol::Esp, policy::Encr::AesGcm256, policy::DataAuth::None}};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, policy_a());
    BOOST_TEST(failure_code(net.a) == 8400);
    BOOST_TEST(net.b.count_log("IKE0902") == 1u);
    BOOST_TEST(net.a.installed.empty());
}

BOOST_AUTO_TEST_CASE(wrong_psk_fails_with_reason_24) {
    Net net;
    auto pb = policy_b();
    pb.key.psk = SecretBytes(as_view("not the same key"));
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // HDR, SK {IDi, AUTH, ...} -->   <-- HDR, SK {N(AUTHENTICATION_FAILED)}
    initiate(net, policy_a());
    BOOST_TEST(failure_code(net.a) == 24);
    BOOST_TEST(net.a.of<Failed>().back().report.value(1) == "HRgw2FINgw:L1");
    BOOST_TEST(net.b.count_log("IKE0909") == 1u);
    BOOST_TEST(failure_code(net.b) == 24);
    BOOST_TEST(net.b.engine->counters().auth_failures == 1u);
    BOOST_TEST(net.a.of<IkeUp>().empty());
    BOOST_TEST(net.b.of<IkeUp>().empty());
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.b.engine->idle());
}

BOOST_AUTO_TEST_CASE(responder_with_a_wrong_psk_is_refused_by_the_initiator) {
    Net net;
    // B accepts A's AUTH (same key on B's side for A), but A expects B to
    // prove another key: A checks B's AUTH and refuses it.
    auto pa = policy_a();
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start();
    // Corrupt B's AUTH in flight is not possible (it is encrypted), so give
    // A a policy whose expected responder identity differs instead.
    pa.connection.remote_id = {policy::IdType::IPv4, "192.0.2.99"};
    initiate(net, pa);
    BOOST_TEST(failure_code(net.a) == 24);
    BOOST_TEST(net.a.of<Failed>().back().detail.id == "IKE090E");
    // B learns it with an INFORMATIONAL AUTHENTICATION_FAILED and drops the SA.
    BOOST_TEST(failure_code(net.b) == 24);
    BOOST_TEST(net.b.installed.empty());
    BOOST_TEST(net.b.engine->idle());
}

BOOST_AUTO_TEST_CASE(missing_psks_give_8306_and_8308) {
    Net net;
    auto pa = policy_a();
    pa.key.psk = SecretBytes();
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start();
    initiate(net, pa);
    BOOST_TEST(failure_code(net.a) == 8306);
    BOOST_TEST(net.delivered.empty());

    Net net2;
    auto pb = policy_b();
    pb.key.psk = SecretBytes();
    net2.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net2.start();
    initiate(net2, policy_a());
    BOOST_TEST(failure_code(net2.b) == 8308);
    BOOST_TEST(failure_code(net2.a) == 24);
}

BOOST_AUTO_TEST_CASE(unknown_peer_gets_no_proposal_and_8307_logged) {
    Net net;
    net.start();  // B has no policy at all
    initiate(net, policy_a());
    BOOST_TEST(net.b.count_log("IKE0905") == 1u);
    BOOST_TEST(failure_code(net.a) == 8300);
}

BOOST_AUTO_TEST_CASE(invalid_ke_payload_retry_with_the_group_the_peer_wants) {
    Net net;
    auto pa = policy_a();
    // A prefers group 14 but also allows 19; B only 19.
    pa.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp14},
                         {policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start();
    // HDR, SAi1, KEi(14), Ni -->     <-- HDR, N(INVALID_KE_PAYLOAD, 19)
    // HDR, SAi1, KEi(19), Ni -->     <-- HDR, SAr1, KEr(19), Nr
    initiate(net, pa);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().dh == "*GRP19");
    BOOST_TEST(net.delivered.size() == 6u);
    BOOST_TEST(net.b.engine->status().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(invalid_ke_for_a_group_we_do_not_allow_fails) {
    Net net;
    auto pb = policy_b();
    // B wants group 14 only for IKE but offers the same encryption, so A's
    // proposal matches except in the KE group; A does not allow 14.
    pb.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp14},
                         {policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    auto pa = policy_a();
    pa.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19},
                         {policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp14}};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // B prefers its own order (14 first), A sent KE 19: INVALID_KE(14), A retries.
    initiate(net, pa);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().dh == "*GRP14");

    Net net2;
    pa.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    pb.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp14}};
    net2.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net2.start();
    initiate(net2, pa);
    BOOST_TEST(failure_code(net2.a) == 8300);
}

BOOST_AUTO_TEST_CASE(cookies_above_the_half_open_limit_and_no_state_before) {
    Net net;
    net.b.policies.attributes.half_open_limit = 0;  // every initiator needs a cookie
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start();
    net.a.engine->initiate(policy_a(), 7, Endpoint{net.a.addr.addr, 500},
                           Endpoint{net.b.addr.addr, 500});
    // HDR, SAi1, KEi, Ni -->   (B answers with a cookie and keeps nothing)
    net.drop = [&](const Packet& p) { return p.sender == 1; };
    net.pump();
    BOOST_TEST(net.b.engine->status().empty());
    BOOST_TEST(net.b.policies.init_lookups == 0);
    BOOST_TEST(net.b.engine->counters().cookies_sent == 1u);
    net.drop = nullptr;
    // <-- HDR, N(COOKIE)
    // HDR, N(COOKIE), SAi1, KEi, Ni -->   <-- HDR, SAr1, KEr, Nr
    net.run_for(1500ms);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.b.engine->counters().cookies_sent >= 2u);
    BOOST_TEST(net.b.count_log("IKE0915") >= 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(a_forged_cookie_is_refused) {
    Net net;
    net.b.policies.attributes.half_open_limit = 0;
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start();
    // Rewrite every cookie A sends back.
    net.tamper = [](Packet& p) {
        if (p.sender != 0) {
            return;
        }
        auto m = parse_message(p.data);
        if (!m || m->payloads.empty() || m->payloads[0].type != PayloadType::NOTIFY) {
            return;
        }
        auto& n = std::get<NotifyPayload>(m->payloads[0].body);
        if (n.type == NotifyType::COOKIE) {
            n.data.back() ^= 1;
            p.data = serialize_message(m->header, m->payloads);
        }
    };
    initiate(net, policy_a());
    BOOST_TEST(net.a.of<IkeUp>().empty());
    BOOST_TEST(net.b.engine->counters().cookies_refused >= 1u);
    BOOST_TEST(net.b.engine->status().empty());
    BOOST_TEST(failure_code(net.a) == 8300);  // too many cookie rounds
}

BOOST_AUTO_TEST_CASE(lost_packets_are_retransmitted_and_answers_come_from_the_cache) {
    Net net;
    setup_branch(net);
    int a_sent = 0, b_sent = 0;
    // Lose A's first IKE_SA_INIT, B's first IKE_SA_INIT answer, and B's
    // first IKE_AUTH answer.
    net.drop = [&](const Packet& p) {
        if (p.sender == 0) {
            return ++a_sent == 1;
        }
        ++b_sent;
        return b_sent == 1 || b_sent == 3;
    };
    initiate(net, policy_a());
    BOOST_TEST(net.a.of<IkeUp>().empty());
    net.run_for(20s);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_REQUIRE(net.b.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.engine->counters().retransmits_sent == 3u);
    // B answered the repeated IKE_SA_INIT and IKE_AUTH from its cache.
    BOOST_TEST(net.b.engine->counters().retransmits_answered == 2u);
    BOOST_TEST(net.b.of<InstallChild>().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(silent_responder_times_out_with_8327) {
    Net net;
    setup_branch(net);
    net.drop = [](const Packet& p) { return p.sender == 0; };
    initiate(net, policy_a());
    net.run_for(120s);
    BOOST_TEST(failure_code(net.a) == 8327);
    BOOST_TEST(net.a.of<Failed>().back().detail.id == "IKE090C");
    BOOST_TEST(net.a.of<Failed>().back().detail.value(3) == "6");
    BOOST_TEST(net.a.engine->counters().retransmits_sent == 5u);
    BOOST_TEST(net.a.engine->idle());
    BOOST_TEST(net.a.timers.empty());
}

BOOST_AUTO_TEST_CASE(half_open_sa_is_dropped_after_its_timeout) {
    Net net;
    setup_branch(net);
    // Only IKE_SA_INIT gets through; IKE_AUTH never arrives.
    net.drop = [](const Packet& p) {
        auto h = parse_header(p.data);
        return h && h->exchange == ExchangeType::IKE_AUTH;
    };
    initiate(net, policy_a());
    BOOST_TEST(net.b.engine->status().size() == 1u);
    BOOST_TEST(net.b.engine->status()[0].state == "INIT_DONE");
    net.run_for(31s);
    BOOST_TEST(net.b.engine->status().empty());
    BOOST_TEST(net.b.engine->counters().half_open_dropped == 1u);
    BOOST_TEST(net.b.of<IkeDown>().empty());
}

BOOST_AUTO_TEST_CASE(any_ip_responder_accepts_an_address_identity) {
    Net net;
    auto pb = policy_b();
    pb.key.remote = {policy::IdType::AnyIp, ""};
    pb.connection.remote_id = {policy::IdType::AnyIp, ""};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, policy_a());
    BOOST_REQUIRE(net.b.of<IkeUp>().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(fqdn_identities_both_ways) {
    Net net;
    auto pa = policy_a();
    pa.connection.local_id = {policy::IdType::Fqdn, "hr.example.com"};
    pa.connection.remote_id = {policy::IdType::Fqdn, "fin.example.com"};
    auto pb = policy_b();
    pb.key.remote = {policy::IdType::Fqdn, "hr.example.com"};
    pb.connection.local_id = {policy::IdType::Fqdn, "fin.example.com"};
    pb.connection.remote_id = {policy::IdType::Fqdn, "hr.example.com"};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(group_that_only_initiates_refuses_remote_starts) {
    Net net;
    auto pb = policy_b();
    pb.group.initiator = policy::Initiator::Local;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, policy_a());
    BOOST_TEST(net.b.count_log("IKE0912") == 1u);
    BOOST_TEST(failure_code(net.a) == 24);
}

BOOST_AUTO_TEST_CASE(ah_with_esp_is_refused_before_anything_is_sent) {
    Net net;
    auto pa = policy_a();
    pa.data.transforms = {{policy::Protocol::AhEsp, policy::Encr::AesCbc128,
                           policy::DataAuth::HmacSha256}};
    setup_branch(net);
    initiate(net, pa);
    BOOST_TEST(failure_code(net.a) == 8400);
    BOOST_TEST(net.a.of<Failed>().back().detail.id == "IKE0908");
    BOOST_TEST(net.delivered.empty());
}

BOOST_AUTO_TEST_CASE(ah_transport_mode_with_ipcomp_and_esn) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    for (auto* p : {&pa, &pb}) {
        p->data.transforms = {{policy::Protocol::Ah, policy::Encr::None,
                               policy::DataAuth::HmacSha256}};
        p->data.mode = policy::Mode::Transport;
        p->data.ipcomp = true;
        p->connection.esn = true;
        p->group.role = policy::SystemRole::Host2Host;
        p->connection.local = {policy::EndpointType::Any, "", ""};
        p->connection.remote = {policy::EndpointType::Any, "", ""};
    }
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    // HDR, SK {..., N(USE_TRANSPORT_MODE), N(IPCOMP_SUPPORTED), SAi2(AH, ESN), ...} -->
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    const auto& ca = net.a.installed.begin()->second;
    const auto& cb = net.b.installed.begin()->second;
    BOOST_TEST((ca.mode == sa::Mode::Transport));
    BOOST_TEST(ca.ah.has_value());
    BOOST_TEST(!ca.esp.has_value());
    BOOST_TEST(ca.esn);
    BOOST_REQUIRE(ca.ipcomp.has_value());
    BOOST_REQUIRE(cb.ipcomp.has_value());
    BOOST_TEST(ca.ipcomp->cpi_in == cb.ipcomp->cpi_out);
    BOOST_TEST(ca.ipcomp->cpi_out == cb.ipcomp->cpi_in);
    BOOST_TEST(ts_text(ca.ts_local) == "192.0.2.1");
    BOOST_TEST(ts_text(ca.ts_remote) == "192.0.2.2");
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(transport_wanted_but_tunnel_offered_fails) {
    Net net;
    auto pb = policy_b();
    pb.data.mode = policy::Mode::Transport;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, policy_a());
    BOOST_TEST(net.b.count_log("IKE0911") == 1u);
    BOOST_TEST(failure_code(net.a) == 8400);
}

BOOST_AUTO_TEST_CASE(esn_only_when_both_want_it) {
    Net net;
    auto pa = policy_a();
    pa.connection.esn = true;
    setup_branch(net);
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    BOOST_TEST(!net.a.installed.begin()->second.esn);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(aead_and_several_transforms_pick_the_responders_order) {
    Net net;
    auto pa = policy_a();
    auto pb = policy_b();
    pa.key.transforms = {{policy::Encr::AesCbc256, policy::Hash::Sha512, policy::DhGroup::Grp20},
                         {policy::Encr::AesGcm128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    pb.key.transforms = {{policy::Encr::AesGcm128, policy::Hash::Sha256, policy::DhGroup::Grp19},
                         {policy::Encr::AesCbc256, policy::Hash::Sha512, policy::DhGroup::Grp20}};
    pa.data.transforms = {
        {policy::Protocol::Esp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha1},
        {policy::Protocol::Esp, policy::Encr::AesGcm256, policy::DataAuth::None}};
    pb.data.transforms = {
        {policy::Protocol::Esp, policy::Encr::AesGcm256, policy::DataAuth::None},
        {policy::Protocol::Esp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha1}};
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().encr == "*AESGCM128");
    const auto& ca = net.a.installed.begin()->second;
    BOOST_TEST((ca.esp->out.encr == ike::EncrId::ENCR_AES_GCM_16));
    BOOST_TEST(ca.esp->out.encr_key_bits == 256);
    BOOST_TEST(ca.esp->out.encr_key.size() == 36u);  // key || salt
    BOOST_TEST((ca.esp->out.integ == ike::IntegId::NONE));
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(every_key_server_identifier_type) {
    struct Case {
        policy::IdType type;
        std::string a_value, b_value;
    };
    for (const auto& c : std::vector<Case>{
             {policy::IdType::UserFqdn, "hr@example.com", "fin@example.com"},
             {policy::IdType::KeyId, "0a0b0c0d", "01020304ff"},
             {policy::IdType::Fqdn, "HR.Example.COM", "fin.example.com"},
             {policy::IdType::Dn, "C=US, O=Example, CN=hr", "C=US, O=Example, CN=fin"}}) {
        BOOST_TEST_CONTEXT(policy::to_cl(c.type)) {
            Net net;
            auto pa = policy_a();
            auto pb = policy_b();
            pa.connection.local_id = {c.type, c.a_value};
            pa.connection.remote_id = {c.type, c.b_value};
            pb.connection.local_id = {c.type, c.b_value};
            pb.key.remote = {c.type, c.a_value};
            pb.connection.remote_id = {c.type, c.a_value};
            net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
            net.start();
            initiate(net, pa);
            BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
            net.check_pairs();
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv6_gateways_and_selectors) {
    Net net("2001:db8::1", "2001:db8::2");
    auto pa = policy_a();
    auto pb = policy_b();
    pa.connection.local_id = {policy::IdType::IPv6, "2001:db8::1"};
    pa.connection.remote_id = {policy::IdType::IPv6, "2001:db8::2"};
    pa.connection.local = {policy::EndpointType::IPv6Subnet, "2001:db8:6::", "48"};
    pa.connection.remote = {policy::EndpointType::IPv6Range, "2001:db8:196::1",
                            "2001:db8:196::ff"};
    pb.connection.local_id = {policy::IdType::IPv6, "2001:db8::2"};
    pb.key.remote = {policy::IdType::IPv6, "2001:db8::1"};
    pb.connection.remote_id = {policy::IdType::IPv6, "2001:db8::1"};
    pb.connection.local = pa.connection.remote;
    pb.connection.remote = pa.connection.local;
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    net.a.engine->initiate(pa, 7, Endpoint{net.a.addr.addr, 500}, Endpoint{net.b.addr.addr, 500});
    net.pump();
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    const auto& ca = net.a.installed.begin()->second;
    BOOST_TEST(ts_text(ca.ts_local) == "2001:db8:6::/48");
    BOOST_TEST(ts_text(ca.ts_remote) == "2001:db8:196::1-2001:db8:196::ff");
    BOOST_TEST(ca.remote.to_string() == "2001:db8::2");
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(a_128_character_psk_and_tfc_padding) {
    Net net;
    std::string psk(128, 'k');
    psk[5] = '!';
    auto pa = policy_a();
    auto pb = policy_b();
    pa.key.psk = SecretBytes(as_view(psk));
    pb.key.psk = SecretBytes(as_view(psk));
    pa.connection.tfc = true;  // decided locally, never negotiated
    net.b.policies.peers.push_back(ResolvedPeer{pb, {}});
    net.start();
    initiate(net, pa);
    BOOST_REQUIRE(net.a.installed.size() == 1u);
    BOOST_TEST(net.a.installed.begin()->second.tfc);
    BOOST_TEST(!net.b.installed.begin()->second.tfc);
    net.check_pairs();
}
