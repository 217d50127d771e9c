// Bad input against the engine: garbage, truncation, unknown critical
// payloads, other versions, tampered and forged messages, replays. Nothing
// may crash, nothing unauthenticated may change an established SA, and what
// a peer can trigger is logged at a limited rate.
#define BOOST_TEST_MODULE ikev2_robustness
#include "daemon/ikev2/tests/exchange_harness.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
using namespace qvpn::ikev2::test;

namespace {

const Endpoint kStranger{*IpAddress::parse("198.51.100.9"), 500};

// A hand-made IKE_SA_INIT request with the given extra payloads.
Bytes init_request(std::vector<Payload> extra, uint8_t version = 0x20) {
    Header h;
    h.spi_i = 0x1122334455667788ULL;
    h.exchange = ExchangeType::IKE_SA_INIT;
    h.flags = kFlagInitiator;
    std::vector<Payload> p;
    SaPayload sa;
    sa.proposals.push_back(Proposal{1, ProtocolId::IKE, {},
                                    {{TransformType::ENCR, 12, 128, false},
                                     {TransformType::PRF, 5, {}, false},
                                     {TransformType::INTEG, 12, {}, false},
                                     {TransformType::DH, 19, {}, false}}});
    p.push_back(make_payload(PayloadType::SA, sa));
    p.push_back(make_payload(PayloadType::KE, KePayload{19, Bytes(64, 1)}));
    p.push_back(make_payload(PayloadType::NONCE, NoncePayload{Bytes(32, 2)}));
    for (auto& x : extra) {
        p.push_back(std::move(x));
    }
    Bytes b = serialize_message(h, p);
    b[17] = version;
    return b;
}

// The answer B sent last (to anyone).
std::optional<Message> last_answer(const Side& s) {
    auto sends = s.of<SendPacket>();
    if (sends.empty()) {
        return std::nullopt;
    }
    auto m = parse_message(sends.back().data);
    if (!m) {
        return std::nullopt;
    }
    return *m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(garbage_and_truncation_never_crash_or_create_state) {
    Net net;
    setup_branch(net);
    SeededRandom rng(5);
    for (size_t len = 0; len < 200; ++len) {
        Bytes junk(len);
        rng.fill(junk);
        net.inject(1, kStranger, junk);
        net.inject(1, kStranger, junk, true);
    }
    // Every prefix of a good request.
    Bytes good = init_request({});
    for (size_t len = 0; len < good.size(); ++len) {
        net.inject(1, kStranger, Bytes(good.begin(), good.begin() + len));
    }
    BOOST_TEST(net.b.engine->status().empty());
    BOOST_TEST(net.b.engine->counters().malformed > 300u);
    // Peer-triggered lines are rate-limited.
    BOOST_TEST(net.b.count_log("IKE0800") <= 5u);
    BOOST_TEST(net.b.count_log("IKE0804") <= 5u);
    BOOST_TEST(net.b.engine->counters().logs_suppressed > 0u);
}

BOOST_AUTO_TEST_CASE(unknown_critical_payload_gets_unsupported_critical_payload) {
    Net net;
    setup_branch(net);
    Payload odd = make_payload(static_cast<PayloadType>(200), UnknownPayload{200, {1, 2, 3}});
    odd.critical = true;
    net.inject(1, kStranger, init_request({odd}));
    auto m = last_answer(net.b);
    BOOST_REQUIRE(m.has_value());
    const auto* n = find_notify(m->payloads, NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD);
    BOOST_REQUIRE(n != nullptr);
    BOOST_TEST(n->data == Bytes{200});
    BOOST_TEST(m->header.is_response());
    BOOST_TEST(net.b.engine->status().empty());

    // Not critical: skipped, and the request is answered normally.
    odd.critical = false;
    net.b.policies.peers.front().policy.key.transforms = {
        {policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    net.inject(1, kStranger, init_request({odd}));
    m = last_answer(net.b);
    BOOST_REQUIRE(m.has_value());
    BOOST_TEST(find_notify(m->payloads, NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD) == nullptr);
}

BOOST_AUTO_TEST_CASE(other_major_version_is_told_ours) {
    Net net;
    setup_branch(net);
    net.inject(1, kStranger, init_request({}, 0x30));
    auto sends = net.b.of<SendPacket>();
    BOOST_REQUIRE(sends.size() == 1u);
    auto m = parse_message(sends[0].data);
    BOOST_REQUIRE(m.ok());
    const auto* n = find_notify(m->payloads, NotifyType::INVALID_MAJOR_VERSION);
    BOOST_REQUIRE(n != nullptr);
    BOOST_TEST(n->data == Bytes{0x20});
    BOOST_TEST(net.b.count_log("IKE0802") == 1u);
}

BOOST_AUTO_TEST_CASE(request_without_key_exchange_gets_invalid_syntax) {
    Net net;
    setup_branch(net);
    Header h;
    h.spi_i = 5;
    h.exchange = ExchangeType::IKE_SA_INIT;
    h.flags = kFlagInitiator;
    net.inject(1, kStranger, serialize_message(h, {make_payload(PayloadType::NONCE,
                                                                 NoncePayload{Bytes(32, 1)})}));
    auto m = last_answer(net.b);
    BOOST_REQUIRE(m.has_value());
    BOOST_TEST(find_notify(m->payloads, NotifyType::INVALID_SYNTAX) != nullptr);
    BOOST_TEST(net.b.engine->status().empty());
}

BOOST_AUTO_TEST_CASE(bad_key_exchange_data_is_refused) {
    Net net;
    setup_branch(net);
    // 64 bytes of 0x01 is no point on P-256 (RFC 6989 checks).
    net.inject(1, kStranger, init_request({}));
    auto m = last_answer(net.b);
    BOOST_REQUIRE(m.has_value());
    BOOST_TEST(find_notify(m->payloads, NotifyType::INVALID_SYNTAX) != nullptr);
    BOOST_TEST(net.b.engine->status().empty());
}

BOOST_AUTO_TEST_CASE(tampered_messages_fail_integrity_and_change_nothing) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    BOOST_REQUIRE(net.b.installed.size() == 1u);
    // Flip a bit in the next CREATE_CHILD_SA request once; the retransmission
    // goes through unharmed.
    bool done = false;
    net.tamper = [&](Packet& p) {
        if (!done && p.sender == 0 && p.data.size() > 60) {
            p.data[p.data.size() - 20] ^= 0x40;
            done = true;
        }
    };
    uint32_t a_in = net.a.installed.begin()->first;
    net.a.engine->expire("HRgw2FINgw:L1", 7, a_in, false);
    net.pump();
    BOOST_TEST(net.b.engine->counters().integrity_failures == 1u);
    BOOST_TEST(net.a.installed.count(a_in) == 1u);  // nothing happened yet
    net.run_for(3s);
    BOOST_TEST(net.a.installed.count(a_in) == 0u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(forged_unprotected_messages_change_nothing) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    auto st = net.b.engine->status();
    BOOST_REQUIRE(st.size() == 1u);
    // Take the real SPIs from the wire and forge clear INFORMATIONAL
    // messages: a DELETE of the IKE SA, INVALID_SPI, AUTHENTICATION_FAILED.
    auto h0 = parse_header(net.delivered[2].data);
    BOOST_REQUIRE(h0.ok());
    for (auto body : std::vector<std::vector<Payload>>{
             {make_payload(PayloadType::DELETE, DeletePayload{ProtocolId::IKE, {}})},
             {make_notify(NotifyType::INVALID_SPI)},
             {make_notify(NotifyType::AUTHENTICATION_FAILED)}}) {
        for (uint32_t mid : {2u, 3u, 100u}) {
            Header h = *h0;
            h.exchange = ExchangeType::INFORMATIONAL;
            h.message_id = mid;
            net.inject(1, net.a.addr, serialize_message(h, body));
            h.flags = kFlagResponse;
            net.inject(0, net.b.addr, serialize_message(h, body));
            // An IKE_SA_INIT "response" out of the blue.
            h.exchange = ExchangeType::IKE_SA_INIT;
            net.inject(0, net.b.addr, serialize_message(h, body));
        }
    }
    net.pump();
    BOOST_TEST(net.a.installed.size() == 1u);
    BOOST_TEST(net.b.installed.size() == 1u);
    BOOST_TEST(net.a.of<IkeDown>().empty());
    BOOST_TEST(net.b.of<IkeDown>().empty());
    BOOST_TEST(net.a.of<Failed>().empty());
    BOOST_TEST(net.b.engine->status().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(replayed_requests_get_the_cached_answer_or_nothing) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    Packet auth_request = net.delivered[2];  // A's IKE_AUTH (message ID 1)
    // The last request: answered again from the cache, nothing changes.
    net.inject(1, auth_request.from, auth_request.data, auth_request.marker);
    net.pump();
    BOOST_TEST(net.b.engine->counters().retransmits_answered == 1u);
    BOOST_TEST(net.b.installed.size() == 1u);
    BOOST_TEST(net.b.of<InstallChild>().size() == 1u);

    // After another exchange it is outside the window: dropped.
    uint32_t a_in = net.a.installed.begin()->first;
    net.a.engine->expire("HRgw2FINgw:L1", 7, a_in, false);
    net.pump();
    net.inject(1, auth_request.from, auth_request.data, auth_request.marker);
    net.pump();
    BOOST_TEST(net.b.engine->counters().out_of_window >= 1u);
    BOOST_TEST(net.b.count_log("IKE0914") >= 1u);
    BOOST_TEST(net.b.of<InstallChild>().size() == 2u);
    net.check_pairs();

    // A retransmitted IKE_SA_INIT of an IKE SA that is established now is
    // not a new negotiation either.
    net.inject(1, net.delivered[0].from, net.delivered[0].data);
    net.pump();
    BOOST_TEST(net.b.engine->status().size() == 1u);
}

BOOST_AUTO_TEST_CASE(responses_to_nothing_are_dropped) {
    Net net;
    setup_branch(net);
    initiate(net, policy_a());
    // B's IKE_AUTH answer again: A has no request in flight.
    Packet answer = net.delivered[3];
    net.inject(0, answer.from, answer.data, answer.marker);
    net.pump();
    BOOST_TEST(net.a.engine->counters().out_of_window == 1u);
    BOOST_TEST(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<InstallChild>().size() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_spis_are_dropped_quietly) {
    Net net;
    setup_branch(net);
    Header h;
    h.spi_i = 1;
    h.spi_r = 2;
    h.exchange = ExchangeType::INFORMATIONAL;
    h.flags = kFlagInitiator;
    h.message_id = 2;
    for (int i = 0; i < 50; ++i) {
        net.inject(1, kStranger, serialize_message(h, {make_payload(PayloadType::SK,
                                                                     SkPayload{PayloadType::NO_NEXT_PAYLOAD,
                                                                               Bytes(48, 0)})}));
    }
    BOOST_TEST(net.b.engine->counters().unknown_spi == 50u);
    BOOST_TEST(net.b.of<SendPacket>().empty());
}
