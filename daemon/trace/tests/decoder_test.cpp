// Decoder: every protocol it knows, and every branch where a header is cut
// short or says something impossible.
#define BOOST_TEST_MODULE trace_decoder
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "daemon/trace/decoder.hpp"
#include "daemon/trace/tests/frames.hpp"

using namespace qvpn;
using namespace qvpn::trace;
using namespace qvpn::trace::test;

namespace {

Bytes eth_ip4(const Bytes& ip) {
    return ethernet(mac_bytes(2), mac_bytes(1), 0x0800, ip);
}
Bytes eth_ip6(const Bytes& ip) {
    return ethernet(mac_bytes(2), mac_bytes(1), 0x86dd, ip);
}

DecodedFrame eth(const Bytes& b) {
    return decode(LinkType::Ethernet, b);
}

void expect_truncated(const DecodedFrame& f, const std::string& layer, size_t have, size_t need) {
    BOOST_REQUIRE_MESSAGE(f.truncated.has_value(), "expected " + layer + " truncated");
    BOOST_TEST(f.truncated->layer == layer);
    BOOST_TEST(f.truncated->have == have);
    BOOST_TEST(f.truncated->need == need);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ethernet_ipv4_udp) {
    Bytes payload = filler(10);
    Bytes f = eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(1234, 53, payload)));
    DecodedFrame d = eth(f);
    BOOST_TEST(!d.truncated.has_value());
    BOOST_TEST(d.malformed.empty());
    BOOST_REQUIRE(d.layers.size() == 3u);
    const auto& e = std::get<EthernetHeader>(d.layers[0]);
    BOOST_TEST(e.src.to_string() == "02:00:5e:10:00:01");
    BOOST_TEST(e.dst.to_string() == "02:00:5e:10:00:02");
    BOOST_TEST(e.ethertype == 0x0800);
    const auto& ip = std::get<Ipv4Header>(d.layers[1]);
    BOOST_TEST(ip.src.to_string() == "192.0.2.1");
    BOOST_TEST(ip.dst.to_string() == "192.0.2.2");
    BOOST_TEST(ip.protocol == 17);
    BOOST_TEST(ip.total_length == 20 + 8 + 10);
    BOOST_TEST(ip.dont_fragment);
    BOOST_TEST(ip.id == 0x1234);
    const auto& u = std::get<UdpHeader>(d.layers[2]);
    BOOST_TEST(u.src_port == 1234);
    BOOST_TEST(u.dst_port == 53);
    BOOST_TEST(u.length == 18);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 8u);
    BOOST_TEST(user_data_offset(LinkType::Ethernet, f) == 42u);
}

BOOST_AUTO_TEST_CASE(ethernet_padding_is_not_udp_payload) {
    // A keepalive is 1 byte of UDP payload; Ethernet pads the frame to 60.
    Bytes f = eth_ip4(ipv4("198.51.100.1", "198.51.100.2", 17, udp(4500, 4500, {0xff})));
    f.resize(60, 0);
    DecodedFrame d = eth(f);
    BOOST_TEST(d.find<NattKeepalive>() != nullptr);
    BOOST_TEST(d.find<EspHeader>() == nullptr);
}

BOOST_AUTO_TEST_CASE(vlan_tags) {
    ByteWriter w;
    w.bytes(mac_bytes(2)).bytes(mac_bytes(1)).u16(0x88a8).u16(0x0064).u16(0x8100).u16(0x20c8);
    w.u16(0x0800).bytes(ipv4("10.0.0.1", "10.0.0.2", 1, icmp_echo(8, 7, 1, {})));
    DecodedFrame d = eth(w.take());
    const auto* e = d.find<EthernetHeader>();
    BOOST_REQUIRE(e != nullptr);
    BOOST_TEST(e->vlan_ids == std::vector<uint16_t>({100, 200}));
    BOOST_TEST(e->ethertype == 0x0800);
    BOOST_TEST(d.find<IcmpMessage>() != nullptr);
}

BOOST_AUTO_TEST_CASE(vlan_tag_truncated) {
    ByteWriter w;
    w.bytes(mac_bytes(2)).bytes(mac_bytes(1)).u16(0x8100).u16(0x0064);
    DecodedFrame d = eth(w.take());
    expect_truncated(d, "802.1Q tag", 2, 4);
    BOOST_TEST(d.find<EthernetHeader>() != nullptr);
}

BOOST_AUTO_TEST_CASE(ethernet_truncated) {
    expect_truncated(eth(filler(13)), "Ethernet", 13, 14);
    BOOST_TEST(eth(filler(13)).layers.empty());
}

BOOST_AUTO_TEST_CASE(ethernet_other_types_stay_data) {
    DecodedFrame d = eth(ethernet(mac_bytes(2), mac_bytes(1), 0x0042, filler(30)));
    BOOST_TEST(d.layers.size() == 1u);
    BOOST_TEST(d.user_data_offset == 14u);
}

BOOST_AUTO_TEST_CASE(arp_request_and_reply) {
    Bytes req =
        ethernet(broadcast_mac(), mac_bytes(1), 0x0806, arp(1, 1, "192.0.2.1", "192.0.2.2"));
    DecodedFrame d = eth(req);
    const auto* a = d.find<ArpPacket>();
    BOOST_REQUIRE(a != nullptr);
    BOOST_TEST(a->ethernet_ipv4);
    BOOST_TEST(a->operation == 1);
    BOOST_TEST(a->sender_ip.to_string() == "192.0.2.1");
    BOOST_TEST(a->target_ip.to_string() == "192.0.2.2");
    BOOST_TEST(a->sender_mac.to_string() == "02:00:5e:10:00:01");
    BOOST_TEST(d.find<EthernetHeader>()->dst.is_broadcast());
    BOOST_TEST(d.user_data_offset == 14u + 28u);

    DecodedFrame r =
        eth(ethernet(mac_bytes(1), mac_bytes(2), 0x0806, arp(2, 2, "192.0.2.2", "192.0.2.1")));
    BOOST_TEST(r.find<ArpPacket>()->operation == 2);
}

BOOST_AUTO_TEST_CASE(arp_other_hardware) {
    ByteWriter w;
    w.u16(6).u16(0x0800).u8(6).u8(4).u16(1).zeros(20);
    DecodedFrame d = eth(ethernet(broadcast_mac(), mac_bytes(1), 0x0806, w.take()));
    const auto* a = d.find<ArpPacket>();
    BOOST_REQUIRE(a != nullptr);
    BOOST_TEST(!a->ethernet_ipv4);
    BOOST_TEST(a->hardware_type == 6);
}

BOOST_AUTO_TEST_CASE(arp_truncated) {
    Bytes body = arp(1, 1, "192.0.2.1", "192.0.2.2");
    expect_truncated(
        eth(ethernet(broadcast_mac(), mac_bytes(1), 0x0806, Bytes(body.begin(), body.begin() + 6))),
        "ARP", 6, 8);
    expect_truncated(eth(ethernet(broadcast_mac(), mac_bytes(1), 0x0806,
                                  Bytes(body.begin(), body.begin() + 20))),
                     "ARP", 20, 28);
}

BOOST_AUTO_TEST_CASE(ipv4_options_and_truncation) {
    Bytes opts_ip = ipv4("192.0.2.1", "192.0.2.2", 17, udp(1, 2, {}), 0, 6);
    // Insert 4 option bytes after the fixed header (IHL 6 says 24 bytes).
    opts_ip.insert(opts_ip.begin() + 20, {1, 1, 1, 0});
    opts_ip[3] = static_cast<uint8_t>(opts_ip.size());
    DecodedFrame d = eth(eth_ip4(opts_ip));
    BOOST_TEST(d.find<Ipv4Header>()->header_length == 24);
    BOOST_TEST(d.find<UdpHeader>() != nullptr);

    Bytes cut(opts_ip.begin(), opts_ip.begin() + 22);
    DecodedFrame t = eth(eth_ip4(cut));
    expect_truncated(t, "IPv4 options", 22, 24);
    BOOST_TEST(t.find<Ipv4Header>() != nullptr);

    Bytes short_ip(opts_ip.begin(), opts_ip.begin() + 19);
    expect_truncated(eth(eth_ip4(short_ip)), "IPv4", 19, 20);
}

BOOST_AUTO_TEST_CASE(ipv4_bad_header_length) {
    Bytes ip = ipv4("192.0.2.1", "192.0.2.2", 17, udp(1, 2, {}), 0, 4);
    DecodedFrame d = eth(eth_ip4(ip));
    BOOST_TEST(d.malformed == "IPv4 header length 16");
    BOOST_TEST(d.find<UdpHeader>() == nullptr);
}

BOOST_AUTO_TEST_CASE(ipv4_fragments) {
    // First fragment: the UDP header is there. A later one: no transport header.
    DecodedFrame first =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, filler(40)), 0x2000)));
    BOOST_TEST(first.find<Ipv4Header>()->more_fragments);
    BOOST_TEST(first.find<UdpHeader>() != nullptr);
    DecodedFrame later = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, filler(40), 0x0005)));
    BOOST_TEST(later.find<Ipv4Header>()->fragment_offset == 40);
    BOOST_TEST(later.find<UdpHeader>() == nullptr);
    BOOST_TEST(later.user_data_offset == 14u + 20u);
}

BOOST_AUTO_TEST_CASE(raw_link_and_bad_version) {
    DecodedFrame d =
        decode(LinkType::Raw, ipv4("10.1.0.1", "10.2.0.1", 1, icmp_echo(8, 1, 2, filler(8))));
    BOOST_TEST(d.layers.size() == 2u);
    BOOST_TEST(d.find<IcmpMessage>()->echo_sequence == 2);
    DecodedFrame bad = decode(LinkType::Raw, Bytes{0x50, 0, 0, 0});
    BOOST_TEST(bad.malformed == "IP version 5");
    expect_truncated(decode(LinkType::Raw, Bytes{}), "IP", 0, 1);
}

BOOST_AUTO_TEST_CASE(icmp_echo_and_other_types) {
    DecodedFrame d =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 1, icmp_echo(8, 0x77, 3, filler(56)))));
    const auto* m = d.find<IcmpMessage>();
    BOOST_REQUIRE(m != nullptr);
    BOOST_TEST(!m->v6);
    BOOST_TEST(m->echo);
    BOOST_TEST(m->echo_id == 0x77);
    BOOST_TEST(m->echo_sequence == 3);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 8u);
    ByteWriter unreach;
    unreach.u8(3).u8(3).u16(0).u32(0);
    DecodedFrame u = eth(eth_ip4(ipv4("192.0.2.2", "192.0.2.1", 1, unreach.take())));
    BOOST_TEST(!u.find<IcmpMessage>()->echo);
    BOOST_TEST(u.find<IcmpMessage>()->code == 3);
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 1, filler(7)))), "ICMP", 7, 8);
}

BOOST_AUTO_TEST_CASE(ipv6_icmpv6) {
    DecodedFrame d =
        eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 58, icmp_echo(128, 9, 4, filler(8)))));
    const auto* h = d.find<Ipv6Header>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(h->src.to_string() == "2001:db8::1");
    BOOST_TEST(h->upper_protocol == 58);
    const auto* m = d.find<IcmpMessage>();
    BOOST_REQUIRE(m != nullptr);
    BOOST_TEST(m->v6);
    BOOST_TEST(m->echo);
    BOOST_TEST(m->echo_sequence == 4);
    expect_truncated(eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 58, filler(4)))), "ICMPv6", 4,
                     8);
    Bytes v6 = ipv6("2001:db8::1", "2001:db8::2", 58, {});
    expect_truncated(eth(eth_ip6(Bytes(v6.begin(), v6.begin() + 39))), "IPv6", 39, 40);
}

BOOST_AUTO_TEST_CASE(ipv6_extension_headers) {
    // Hop-by-hop (8 bytes), fragment (first fragment), then UDP.
    ByteWriter ext;
    ext.u8(44).u8(0).zeros(6);                 // hop-by-hop -> fragment
    ext.u8(17).u8(0).u16(0x0001).u32(0xabcd);  // fragment offset 0, M=1 -> UDP
    ext.bytes(udp(500, 500, filler(4)));
    DecodedFrame d = eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 0, ext.take())));
    const auto* h = d.find<Ipv6Header>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(h->extension_headers == std::vector<uint8_t>({0, 44}));
    BOOST_TEST(h->fragment);
    BOOST_TEST(h->more_fragments);
    BOOST_TEST(h->upper_protocol == 17);
    BOOST_TEST(d.find<UdpHeader>() != nullptr);

    // A later fragment: no UDP header to decode.
    ByteWriter later;
    later.u8(17).u8(0).u16(0x0010).u32(0xabcd).bytes(filler(8));
    DecodedFrame l = eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 44, later.take())));
    BOOST_TEST(l.find<Ipv6Header>()->fragment_offset == 16);
    BOOST_TEST(l.find<UdpHeader>() == nullptr);

    // Destination options longer than what was captured.
    ByteWriter longopt;
    longopt.u8(17).u8(1).zeros(6);  // says 16 bytes, only 8 there
    expect_truncated(eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 60, longopt.take()))),
                     "IPv6 extension header", 8, 16);
    expect_truncated(eth(eth_ip6(ipv6("2001:db8::1", "2001:db8::2", 43, filler(5)))),
                     "IPv6 extension header", 5, 8);
}

BOOST_AUTO_TEST_CASE(tcp_header_and_options) {
    DecodedFrame d =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 6, tcp(40000, 443, 0x012, filler(5), 6))));
    const auto* t = d.find<TcpHeader>();
    BOOST_REQUIRE(t != nullptr);
    BOOST_TEST(t->src_port == 40000);
    BOOST_TEST(t->dst_port == 443);
    BOOST_TEST(t->flags == 0x012);
    BOOST_TEST(tcp_flags_text(t->flags) == "ACK SYN");
    BOOST_TEST(t->header_length == 24);
    BOOST_TEST(t->sequence == 1000u);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 24u);
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 6, filler(19)))), "TCP", 19, 20);
    Bytes opt = tcp(1, 2, 0x002, {}, 8);
    DecodedFrame to =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 6, Bytes(opt.begin(), opt.begin() + 24))));
    expect_truncated(to, "TCP options", 24, 32);
    DecodedFrame bad = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 6, tcp(1, 2, 0x002, {}, 4))));
    BOOST_TEST(bad.malformed == "TCP header length 16");
}

BOOST_AUTO_TEST_CASE(udp_truncated) {
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, filler(7)))), "UDP", 7, 8);
}

BOOST_AUTO_TEST_CASE(esp_raw) {
    DecodedFrame d =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 50, esp(0xc0ffee01, 7, filler(48)))));
    const auto* e = d.find<EspHeader>();
    BOOST_REQUIRE(e != nullptr);
    BOOST_TEST(e->spi == 0xc0ffee01u);
    BOOST_TEST(e->sequence == 7u);
    BOOST_TEST(!e->udp_encapsulated);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 8u);
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 50, filler(6)))), "ESP", 6, 8);
}

BOOST_AUTO_TEST_CASE(esp_in_udp_4500) {
    DecodedFrame d = eth(eth_ip4(
        ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, esp(0xcafe0001, 42, filler(64))))));
    const auto* e = d.find<EspHeader>();
    BOOST_REQUIRE(e != nullptr);
    BOOST_TEST(e->udp_encapsulated);
    BOOST_TEST(e->spi == 0xcafe0001u);
    BOOST_TEST(e->sequence == 42u);
    BOOST_TEST(d.find<IkeHeader>() == nullptr);
    // Only one port needs to be 4500 (a NAT maps the other).
    DecodedFrame nat =
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(31337, 4500, esp(5, 1, filler(16))))));
    BOOST_TEST(nat.find<EspHeader>() != nullptr);
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, {1, 2, 3})))),
                     "UDP-encapsulated ESP", 3, 8);
    expect_truncated(
        eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, {0, 0, 0, 1, 9})))),
        "UDP-encapsulated ESP", 5, 8);
}

BOOST_AUTO_TEST_CASE(natt_keepalive) {
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, {0xff}))));
    BOOST_TEST(d.find<NattKeepalive>() != nullptr);
    BOOST_TEST(d.find<EspHeader>() == nullptr);
    // An empty UDP datagram on 4500 is neither.
    DecodedFrame empty = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, {}))));
    BOOST_TEST(empty.layers.size() == 3u);
    BOOST_TEST(!empty.truncated.has_value());
}

BOOST_AUTO_TEST_CASE(ah_then_inner_packet) {
    // AH in tunnel mode protecting IPv4/ICMP: the inner headers are decoded.
    Bytes inner = ipv4("10.1.0.1", "10.2.0.1", 1, icmp_echo(8, 1, 1, filler(8)));
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 51, ah(4, 0x2001, 9, 16, inner))));
    const auto* a = d.find<AhHeader>();
    BOOST_REQUIRE(a != nullptr);
    BOOST_TEST(a->spi == 0x2001u);
    BOOST_TEST(a->sequence == 9u);
    BOOST_TEST(a->length == 28);
    BOOST_TEST(a->next_header == 4);
    BOOST_REQUIRE(d.layers.size() == 5u);
    BOOST_TEST(std::get<Ipv4Header>(d.layers[3]).src.to_string() == "10.1.0.1");
    BOOST_TEST(d.find<IcmpMessage>() != nullptr);

    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 51, filler(10)))), "AH", 10, 12);
    Bytes cut = ah(6, 1, 1, 16, {});
    cut.resize(20);
    DecodedFrame icv = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 51, cut)));
    expect_truncated(icv, "AH integrity check value", 20, 28);
    BOOST_TEST(icv.find<AhHeader>() != nullptr);
    ByteWriter bad;
    bad.u8(6).u8(0).u16(0).u32(1).u32(1);  // length field 0 -> 8 bytes, below 12
    BOOST_TEST(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 51, bad.take()))).malformed ==
               "AH length 8");
}

BOOST_AUTO_TEST_CASE(ip_in_ip_nesting_is_bounded) {
    Bytes p = udp(1, 2, {});
    for (int i = 0; i < 20; ++i) {
        p = ipv4("10.0.0.1", "10.0.0.2", i == 0 ? 17 : 4, p);
    }
    DecodedFrame d = decode(LinkType::Raw, p);
    BOOST_TEST(d.layers.size() == 16u);
    BOOST_TEST(d.malformed == "more than 16 nested headers");
}

BOOST_AUTO_TEST_CASE(ikev2_sa_init_on_500) {
    Bytes msg = ike_sa_init(0x1122334455667788ull);
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, msg))));
    const auto* h = d.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(!h->non_esp_marker);
    BOOST_TEST(h->initiator_spi == 0x1122334455667788ull);
    BOOST_TEST(h->responder_spi == 0u);
    BOOST_TEST(h->major_version == 2);
    BOOST_TEST(h->minor_version == 0);
    BOOST_TEST(h->exchange_type == 34);
    BOOST_TEST(ike_exchange_name(2, 34) == "IKE_SA_INIT");
    BOOST_TEST(h->flags == 0x08);
    BOOST_TEST(ike_flags_text(2, h->flags) == "I");
    BOOST_TEST(h->message_id == 0u);
    BOOST_TEST(h->length == msg.size());
    BOOST_REQUIRE(h->payloads.size() == 6u);
    std::vector<uint8_t> types;
    for (const auto& p : h->payloads) {
        types.push_back(p.type);
    }
    BOOST_TEST(types == std::vector<uint8_t>({33, 34, 40, 41, 41, 43}));
    BOOST_TEST(*h->payloads[1].dh_group == 14);
    BOOST_TEST(*h->payloads[3].notify_type == 16388);
    BOOST_TEST(ike_notify_name(2, 16388) == "NAT_DETECTION_SOURCE_IP");
    BOOST_TEST(*h->payloads[4].notify_type == 16389);
    BOOST_TEST(!h->payloads_truncated);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 8u + 28u);
}

BOOST_AUTO_TEST_CASE(ikev2_on_4500_with_marker_and_sk) {
    // IKE_AUTH after NAT-T: non-ESP marker, then the header, then SK.
    Bytes sk = ike_payload(35, filler(80));  // first inner payload IDi
    Bytes msg = ike_header(0xa1ull, 0xb2ull, 46, 0x20, 35, 0x08, 1, sk);
    Bytes marked = cat({Bytes(4, 0), msg});
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, marked))));
    const auto* h = d.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(h->non_esp_marker);
    BOOST_TEST(h->exchange_type == 35);
    BOOST_TEST(h->responder_spi == 0xb2u);
    BOOST_TEST(h->message_id == 1u);
    BOOST_REQUIRE(h->payloads.size() == 1u);
    BOOST_TEST(h->payloads[0].type == 46);
    BOOST_TEST(*h->payloads[0].inner_first == 35);
    BOOST_TEST(d.find<EspHeader>() == nullptr);
    BOOST_TEST(d.user_data_offset == 14u + 20u + 8u + 4u + 28u);
    expect_truncated(eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17,
                                      udp(4500, 4500, cat({Bytes(4, 0), filler(20)}))))),
                     "IKE", 20, 28);
}

BOOST_AUTO_TEST_CASE(ikev2_ids_and_response_flags) {
    ByteWriter id;
    id.u8(2).zeros(3).bytes(as_view("right.test"));
    Bytes msg = ike_header(1, 2, 36, 0x20, 35, 0x20, 1, ike_payload(0, id.take()));
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.2", "192.0.2.1", 17, udp(500, 500, msg))));
    const auto* h = d.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(ike_flags_text(2, h->flags) == "R");
    BOOST_TEST(*h->payloads[0].id_type == 2);
    BOOST_TEST(h->payloads[0].id_value == "right.test");
    BOOST_TEST(ike_id_type_name(2, 2) == "ID_FQDN");
}

BOOST_AUTO_TEST_CASE(ikev1_main_mode_and_encrypted) {
    // Main Mode message 1: SA, VID; IKEv1 version 0x10, exchange 2.
    Bytes sa = ike_payload(13, filler(40));
    Bytes vid = ike_payload(0, filler(16));
    Bytes mm1 = ike_header(0x0102030405060708ull, 0, 1, 0x10, 2, 0, 0, cat({sa, vid}));
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, mm1))));
    const auto* h = d.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(h->major_version == 1);
    BOOST_TEST(ike_exchange_name(1, h->exchange_type) == "Identity Protection");
    BOOST_REQUIRE(h->payloads.size() == 2u);
    BOOST_TEST(ike_payload_name(1, h->payloads[0].type) == "SA");
    BOOST_TEST(ike_payload_name(1, h->payloads[1].type) == "VID");

    // Main Mode message 5: E flag, ID payload inside the ciphertext.
    Bytes mm5 = ike_header(1, 2, 5, 0x10, 2, 0x01, 0, filler(64));
    DecodedFrame e = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, mm5))));
    BOOST_TEST(e.find<IkeHeader>()->encrypted);
    BOOST_TEST(e.find<IkeHeader>()->payloads.empty());
    BOOST_TEST(ike_flags_text(1, 0x01) == "E");

    // Informational with a notify and an aggressive-mode ID in clear.
    ByteWriter n;
    n.u32(1).u8(1).u8(0).u16(14);
    ByteWriter idv1;
    idv1.u8(1).u8(17).u16(500).bytes(addr("192.0.2.9"));
    Bytes info = ike_header(1, 2, 11, 0x10, 4, 0, 0,
                            cat({ike_payload(5, n.take()), ike_payload(0, idv1.take())}));
    DecodedFrame i = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, info))));
    const auto* ih = i.find<IkeHeader>();
    BOOST_REQUIRE(ih->payloads.size() == 2u);
    BOOST_TEST(*ih->payloads[0].notify_type == 14);
    BOOST_TEST(ike_notify_name(1, 14) == "NO-PROPOSAL-CHOSEN");
    BOOST_TEST(ih->payloads[1].id_value == "192.0.2.9");
}

BOOST_AUTO_TEST_CASE(ike_payload_chain_problems) {
    // Sliced by USRDTA: the header says 300 bytes, 40 are captured.
    Bytes msg = ike_sa_init(7);
    Bytes frame = eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, msg)));
    frame.resize(14 + 20 + 8 + 40);
    DecodedFrame sliced = eth(frame);
    const auto* h = sliced.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(h->payloads_truncated);
    BOOST_TEST(sliced.malformed.empty());

    // A payload of length 2 (below its own header).
    Bytes bad = ike_header(1, 0, 33, 0x20, 34, 0x08, 0, Bytes{0, 0, 0, 2});
    DecodedFrame b = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, bad))));
    BOOST_TEST(b.malformed == "IKE payload length 2");

    // A chain that claims a next payload after the message ends.
    Bytes runs = ike_header(1, 0, 33, 0x20, 34, 0x08, 0, ike_payload(34, filler(4)));
    DecodedFrame r = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, runs))));
    BOOST_TEST(r.malformed == "IKE payload chain runs past the message");

    // A payload longer than the message it is in.
    Bytes longer = ike_header(1, 0, 33, 0x20, 34, 0x08, 0, Bytes{0, 0, 0, 200, 1, 2, 3, 4});
    DecodedFrame l = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, longer))));
    BOOST_TEST(l.malformed == "IKE payload runs past the message");

    // Payload walking is off on the capture path.
    DecodedFrame off =
        decode(LinkType::Ethernet, eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, msg))),
               DecodeOptions{.ike_payloads = false});
    BOOST_TEST(off.find<IkeHeader>()->payloads.empty());
}

BOOST_AUTO_TEST_CASE(ike_payload_count_is_bounded) {
    Bytes chain;
    for (int i = 0; i < 100; ++i) {
        chain = cat({chain, ike_payload(i == 99 ? 0 : 43, {})});
    }
    Bytes msg = ike_header(1, 0, 43, 0x20, 37, 0x08, 5, chain);
    DecodedFrame d = eth(eth_ip4(ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, msg))));
    BOOST_TEST(d.find<IkeHeader>()->payloads.size() == 64u);
}

BOOST_AUTO_TEST_CASE(names) {
    BOOST_TEST(ethertype_name(0x86dd) == "IPv6");
    BOOST_TEST(ip_proto_name(50) == "ESP");
    BOOST_TEST(ip_proto_name(200).empty());
    BOOST_TEST(icmp_type_name(8) == "echo-request");
    BOOST_TEST(icmpv6_type_name(135) == "neighbor-solicitation");
    BOOST_TEST(ike_exchange_name(2, 37) == "INFORMATIONAL");
    BOOST_TEST(ike_exchange_name(1, 32) == "Quick Mode");
    BOOST_TEST(ike_payload_name(2, 46) == "SK");
    BOOST_TEST(ike_notify_name(2, 16430) == "IKEV2_FRAGMENTATION_SUPPORTED");
    BOOST_TEST(ike_notify_name(1, 36136) == "R-U-THERE");
    BOOST_TEST(ike_flags_text(2, 0x28) == "I R");
    BOOST_TEST(tcp_flags_text(0) == "none");
}

// A real IKE_SA_INIT request from strongSwan 5.9.8, captured by the trace
// job on a veth line (daemon/trace/tests/corpus: first byte 0 = Ethernet).
BOOST_AUTO_TEST_CASE(real_strongswan_ike_sa_init) {
    const char* src = std::getenv("QVPN_SOURCE_DIR");
    BOOST_REQUIRE(src != nullptr);
    std::ifstream in(
        std::string(src) + "/daemon/trace/tests/corpus/trace_decoder/real-ikev2-sa-init-request",
        std::ios::binary);
    Bytes file((std::istreambuf_iterator<char>(in)), {});
    BOOST_REQUIRE(file.size() > 100u);
    ByteView frame = ByteView(file).subspan(1);
    DecodedFrame d = decode(LinkType::Ethernet, frame);
    BOOST_TEST(!d.truncated.has_value());
    BOOST_TEST(d.malformed.empty());
    const auto* h = d.find<IkeHeader>();
    BOOST_REQUIRE(h != nullptr);
    ByteReader spi(frame.subspan(42, 8));
    BOOST_TEST(h->initiator_spi == spi.u64());
    BOOST_TEST(h->responder_spi == 0u);
    BOOST_TEST(h->exchange_type == 34);
    BOOST_TEST(h->flags == 0x08);
    BOOST_TEST(h->length == frame.size() - 42u);
    std::vector<uint16_t> seen;
    for (const auto& p : h->payloads) {
        seen.push_back(p.notify_type ? *p.notify_type : p.type);
    }
    // SA KE Nonce N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP)
    BOOST_TEST(seen == std::vector<uint16_t>({33, 34, 40, 16388, 16389, 16430, 16431, 16406}));
    BOOST_TEST(*h->payloads[1].dh_group == 14);
}
