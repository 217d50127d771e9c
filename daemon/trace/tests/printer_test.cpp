// The PRTCMNTRC pieces: selections, the printout, the JSON form and pcap.
#define BOOST_TEST_MODULE trace_printer
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "daemon/trace/pcap_writer.hpp"
#include "daemon/trace/printer.hpp"
#include "daemon/trace/selection.hpp"
#include "daemon/trace/tests/frames.hpp"

using namespace qvpn;
using namespace qvpn::trace;
using namespace qvpn::trace::test;

namespace {

Bytes eth4(const char* src, const char* dst, uint8_t proto, const Bytes& payload) {
    return ethernet(mac_bytes(2), mac_bytes(1), 0x0800, ipv4(src, dst, proto, payload));
}

DecodedFrame d(const Bytes& b) {
    return decode(LinkType::Ethernet, b);
}

Selection addr1(const char* a) {
    Selection s;
    s.address1 = IpAddress::parse(a);
    return s;
}

struct Utc {
    Utc() {
        setenv("TZ", "UTC", 1);
        tzset();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(select_by_one_address) {
    Selection s = addr1("10.50.21.1");
    BOOST_TEST(selected(d(eth4("10.50.21.1", "10.50.21.9", 17, udp(500, 500, {}))), s));
    BOOST_TEST(selected(d(eth4("10.50.21.9", "10.50.21.1", 17, udp(500, 500, {}))), s));
    BOOST_TEST(!selected(d(eth4("10.50.21.8", "10.50.21.9", 17, udp(500, 500, {}))), s));
    // ARP about the address is selected too: the seed's reason for FMTBCD(*NO).
    Bytes who_has =
        ethernet(broadcast_mac(), mac_bytes(1), 0x0806, arp(1, 1, "10.50.21.9", "10.50.21.1"));
    BOOST_TEST(selected(d(who_has), s));
    s.broadcasts = false;
    BOOST_TEST(!selected(d(who_has), s));
}

BOOST_AUTO_TEST_CASE(select_between_two_addresses) {
    Selection s = addr1("192.0.2.1");
    s.address2 = IpAddress::parse("192.0.2.2");
    BOOST_TEST(selected(d(eth4("192.0.2.1", "192.0.2.2", 1, icmp_echo(8, 1, 1, {}))), s));
    BOOST_TEST(selected(d(eth4("192.0.2.2", "192.0.2.1", 1, icmp_echo(0, 1, 1, {}))), s));
    BOOST_TEST(!selected(d(eth4("192.0.2.1", "192.0.2.3", 1, icmp_echo(8, 1, 1, {}))), s));
    BOOST_TEST(!selected(d(eth4("192.0.2.1", "192.0.2.1", 1, icmp_echo(8, 1, 1, {}))), s));
    Bytes v6 = ethernet(mac_bytes(2), mac_bytes(1), 0x86dd,
                        ipv6("2001:db8::1", "2001:db8::2", 17, udp(1, 2, {})));
    Selection s6 = addr1("2001:db8::2");
    BOOST_TEST(selected(d(v6), s6));
    BOOST_TEST(!selected(d(v6), s));
}

BOOST_AUTO_TEST_CASE(select_by_port_and_broadcast) {
    Selection s;
    s.port = 500;
    BOOST_TEST(selected(d(eth4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, ike_sa_init(1)))), s));
    BOOST_TEST(selected(d(eth4("192.0.2.1", "192.0.2.2", 17, udp(40000, 500, {}))), s));
    BOOST_TEST(
        !selected(d(eth4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, esp(1, 1, filler(8))))), s));
    BOOST_TEST(selected(d(eth4("192.0.2.1", "192.0.2.2", 6, tcp(500, 80, 2, {}))), s));
    BOOST_TEST(!selected(d(eth4("192.0.2.1", "192.0.2.2", 50, esp(1, 1, filler(8)))), s));
    BOOST_TEST(!selected(
        d(ethernet(broadcast_mac(), mac_bytes(1), 0x0806, arp(1, 1, "192.0.2.1", "192.0.2.2"))),
        s));

    Selection nb;
    nb.broadcasts = false;
    Bytes bcast = ethernet(broadcast_mac(), mac_bytes(1), 0x0800,
                           ipv4("192.0.2.1", "192.0.2.255", 17, udp(68, 67, {})));
    BOOST_TEST(!selected(d(bcast), nb));
    Bytes limited = ipv4("192.0.2.1", "255.255.255.255", 17, udp(68, 67, {}));
    BOOST_TEST(!selected(decode(LinkType::Raw, limited), nb));
    BOOST_TEST(selected(d(eth4("192.0.2.1", "192.0.2.2", 17, udp(1, 2, {}))), nb));
    BOOST_TEST(Selection{}.to_cl() == "*NONE");
    Selection all = addr1("10.50.21.1");
    all.port = 500;
    all.broadcasts = false;
    BOOST_TEST(all.to_cl() == "TCPIPADR(10.50.21.1 *ALL) SLTPORT(500) FMTBCD(*NO)");
}

BOOST_AUTO_TEST_CASE(summaries) {
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 17,
                                    udp(500, 500, ike_sa_init(0x1122334455667788ull))))) ==
               "192.0.2.1 > 192.0.2.2 IKEv2 IKE_SA_INIT request msgid 0 "
               "1122334455667788/0000000000000000");
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 17,
                                    udp(4500, 4500, esp(0xc1d2e3f4, 3, filler(20)))))) ==
               "192.0.2.1 > 192.0.2.2 UDP-encapsulated ESP spi 0xc1d2e3f4 seq 3");
    BOOST_TEST(
        frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 50, esp(0xc1d2e3f4, 3, filler(20))))) ==
        "192.0.2.1 > 192.0.2.2 ESP spi 0xc1d2e3f4 seq 3");
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 1, icmp_echo(8, 5, 6, {})))) ==
               "192.0.2.1 > 192.0.2.2 ICMP echo-request id 5 seq 6");
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, {0xff})))) ==
               "192.0.2.1 > 192.0.2.2 NAT-T keepalive");
    BOOST_TEST(frame_summary(d(ethernet(broadcast_mac(), mac_bytes(1), 0x0806,
                                        arp(1, 1, "192.0.2.1", "192.0.2.2")))) ==
               "ARP request who-has 192.0.2.2 tell 192.0.2.1");
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 17, filler(3)))) ==
               "192.0.2.1 > 192.0.2.2 IPv4 UDP (17) [UDP truncated]");
    BOOST_TEST(frame_summary(d(eth4("192.0.2.1", "192.0.2.2", 6, tcp(1, 2, 0x12, {})))) ==
               "192.0.2.1 > 192.0.2.2 TCP 1 > 2 ACK SYN");
}

BOOST_AUTO_TEST_CASE(frame_text_formats_ike) {
    Utc utc;
    Bytes f = eth4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, ike_sa_init(0xabcdef0011223344ull)));
    FrameRecord rec{.time_ns = 1'764'783'601'123'456'789ull,
                    .direction = Direction::Send,
                    .sliced = false,
                    .original_length = static_cast<uint32_t>(f.size()),
                    .data = f};
    std::string t = frame_text(7, rec, d(f), PrintOptions{});
    BOOST_TEST_MESSAGE(t);
    BOOST_TEST(t.find("     7   S ") == 0u);
    BOOST_TEST(t.find("17:40:01.123456") != std::string::npos);
    BOOST_TEST(t.find("IPv4 . . . . : 192.0.2.1 -> 192.0.2.2") != std::string::npos);
    BOOST_TEST(t.find("UDP  . . . . : 500 -> 500") != std::string::npos);
    BOOST_TEST(t.find("version 2.0  IKE_SA_INIT (34)") != std::string::npos);
    BOOST_TEST(t.find("ispi abcdef0011223344  rspi 0000000000000000") != std::string::npos);
    BOOST_TEST(t.find("msgid 0  flags I  length") != std::string::npos);
    BOOST_TEST(t.find("payloads SA KE(group 14) Nonce N(NAT_DETECTION_SOURCE_IP) "
                      "N(NAT_DETECTION_DESTINATION_IP) V") != std::string::npos);
    BOOST_TEST(t.find("Data . . . . :") != std::string::npos);

    std::string raw = frame_text(7, rec, d(f), PrintOptions{.format_tcp = false});
    BOOST_TEST(raw.find("IKE  . . . .") == std::string::npos);
    BOOST_TEST(raw.find("          0000  02 00 5e 10 00 02") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(hex_dump_layout) {
    std::string_view s = "ABCDEFGHIJKLMNOPQ";
    Bytes b(s.begin(), s.end());
    std::string h = hex_dump(b, 2);
    BOOST_TEST(h ==
               "  0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP\n"
               "  0010  51                                                Q\n");
}

BOOST_AUTO_TEST_CASE(json_form) {
    Bytes f = eth4("192.0.2.1", "192.0.2.2", 17, udp(4500, 4500, esp(0x01020304, 9, filler(4))));
    FrameRecord rec{.time_ns = 5,
                    .direction = Direction::Receive,
                    .sliced = true,
                    .original_length = 200,
                    .data = f};
    nlohmann::json j = frame_json(3, rec, d(f), true);
    BOOST_TEST(j["record"] == 3);
    BOOST_TEST(j["direction"] == "*RCV");
    BOOST_TEST(j["length"] == 200);
    BOOST_TEST(j["captured"] == f.size());
    BOOST_TEST(j["sliced"] == true);
    BOOST_TEST(j["layers"].size() == 4u);
    BOOST_TEST(j["layers"][3]["layer"] == "esp");
    BOOST_TEST(j["layers"][3]["spi"] == "01020304");
    BOOST_TEST(j["layers"][3]["udp_encapsulated"] == true);
    BOOST_TEST(j["data"] == "00010203");
    BOOST_TEST(j["time"] == "1970-01-01T00:00:00.000000Z");

    Bytes ike = eth4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, ike_sa_init(0x10)));
    nlohmann::json k = layer_json(d(ike).layers.back());
    BOOST_TEST(k["ispi"] == "0000000000000010");
    BOOST_TEST(k["exchange_name"] == "IKE_SA_INIT");
    BOOST_TEST(k["payloads"][3]["notify_name"] == "NAT_DETECTION_SOURCE_IP");
}

BOOST_AUTO_TEST_CASE(header_text_names_the_trace) {
    Utc utc;
    TraceInfo info;
    info.cfgobj = "TRNLINE";
    info.interface = "eth0";
    info.text = "VPN Problems";
    info.state = TraceState::Full;
    info.start_ns = 1'764'783'601'000'000'000ull;
    FileHeader fh;
    fh.ring.capacity = 2097152;
    fh.full = true;
    fh.trcfull = TraceFull::StopTrace;
    fh.usrdta = 100;
    PrintOptions o;
    o.selection = addr1("10.50.21.1");
    std::string t = header_text(info, fh, o);
    BOOST_TEST(t.find("Configuration object . . . . . :   TRNLINE") != std::string::npos);
    BOOST_TEST(t.find("stopped (buffer full)") != std::string::npos);
    BOOST_TEST(t.find("2097152 bytes") != std::string::npos);
    BOOST_TEST(t.find("*STOPTRC (buffer filled)") != std::string::npos);
    BOOST_TEST(t.find("TCPIPADR(10.50.21.1 *ALL)") != std::string::npos);
    BOOST_TEST(t.find("2025-12-03 17:40:01.000000") != std::string::npos);
    nlohmann::json j = header_json(info, fh);
    BOOST_TEST(j["state"] == "FULL");
    BOOST_TEST(j["full"] == true);
}

BOOST_AUTO_TEST_CASE(pcap_bytes) {
    Bytes h = pcap_file_header(LinkType::Ethernet);
    BOOST_TEST(to_hex(h) ==
               "a1b23c4d00020004000000000000000000040000"
               "00000001");
    ByteWriter w;
    Bytes data{1, 2, 3};
    append_pcap_record(w, FrameRecord{.time_ns = 3'000'000'007ull,
                                      .direction = Direction::Send,
                                      .sliced = true,
                                      .original_length = 60,
                                      .data = data});
    BOOST_TEST(to_hex(w.data()) ==
               "00000003"
               "00000007"
               "00000003"
               "0000003c"
               "010203");
    BOOST_TEST(to_hex(pcap_file_header(LinkType::Raw)).substr(40) == "00000065");
}
