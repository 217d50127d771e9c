#define BOOST_TEST_MODULE sa_selector
#include <boost/test/unit_test.hpp>

#include "daemon/sa/sa_json.hpp"
#include "daemon/sa/selector.hpp"

using namespace qvpn;
using namespace qvpn::sa;

namespace {

TrafficSelector ts(const char* range, uint8_t proto = 0, uint16_t from = 0,
                   uint16_t to = 65535) {
    TrafficSelector t;
    t.addrs = *parse_ip_range(range);
    t.ip_proto = proto;
    t.port_from = from;
    t.port_to = to;
    return t;
}

Bytes v4_packet(const char* src, const char* dst, uint8_t proto, uint16_t sport,
                uint16_t dport, uint16_t frag = 0) {
    Bytes p(28, 0);
    p[0] = 0x45;
    p[3] = 28;
    p[6] = uint8_t(frag >> 8);
    p[7] = uint8_t(frag);
    p[8] = 64;
    p[9] = proto;
    auto s = IpAddress::parse(src)->v4_host_order();
    auto d = IpAddress::parse(dst)->v4_host_order();
    for (int i = 0; i < 4; ++i) {
        p[12 + i] = uint8_t(s >> (24 - 8 * i));
        p[16 + i] = uint8_t(d >> (24 - 8 * i));
    }
    p[20] = uint8_t(sport >> 8);
    p[21] = uint8_t(sport);
    p[22] = uint8_t(dport >> 8);
    p[23] = uint8_t(dport);
    return p;
}

Bytes v6_packet(const char* src, const char* dst, uint8_t proto, uint16_t sport,
                uint16_t dport, bool with_ext) {
    Bytes p(40, 0);
    p[0] = 0x60;
    p[6] = with_ext ? 0 : proto;  // hop-by-hop first
    p[7] = 64;
    auto s = IpAddress::parse(src);
    auto d = IpAddress::parse(dst);
    std::copy(s->data(), s->data() + 16, p.begin() + 8);
    std::copy(d->data(), d->data() + 16, p.begin() + 24);
    if (with_ext) {
        Bytes ext(8, 0);
        ext[0] = proto;
        ext[1] = 0;
        p.insert(p.end(), ext.begin(), ext.end());
    }
    Bytes l4 = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
                0, 0, 0, 0};
    p.insert(p.end(), l4.begin(), l4.end());
    return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(flow_parsing) {
    PacketFlow f;
    Bytes p = v4_packet("10.1.0.1", "10.2.0.1", 6, 1234, 80);
    BOOST_REQUIRE(parse_flow(p, f));
    BOOST_TEST(f.src.to_string() == "10.1.0.1");
    BOOST_TEST(f.dst.to_string() == "10.2.0.1");
    BOOST_TEST(f.proto == 6);
    BOOST_TEST(f.src_port == 1234);
    BOOST_TEST(f.dst_port == 80);
    BOOST_TEST(f.ports_known);

    Bytes frag = v4_packet("10.1.0.1", "10.2.0.1", 17, 1, 2, 0x0010);  // offset 16*8
    BOOST_REQUIRE(parse_flow(frag, f));
    BOOST_TEST(!f.ports_known);

    Bytes icmp = v4_packet("10.1.0.1", "10.2.0.1", 1, 0x0800, 0);
    BOOST_REQUIRE(parse_flow(icmp, f));
    BOOST_TEST(f.src_port == 0x0800);
    BOOST_TEST(f.dst_port == 0x0800);

    Bytes v6 = v6_packet("2001:db8:1::1", "2001:db8:2::1", 17, 500, 4500, true);
    BOOST_REQUIRE(parse_flow(v6, f));
    BOOST_TEST(f.proto == 17);
    BOOST_TEST(f.dst_port == 4500);
    BOOST_TEST(f.dst.to_string() == "2001:db8:2::1");

    // Truncated and non-IP input is refused, never read past the end.
    for (size_t n = 0; n < 20; ++n) {
        BOOST_TEST(!parse_flow(ByteView(p.data(), n), f));
    }
    Bytes bad_ihl = p;
    bad_ihl[0] = 0x4f;
    BOOST_TEST(!parse_flow(ByteView(bad_ihl.data(), 28), f));
    Bytes v5 = p;
    v5[0] = 0x55;
    BOOST_TEST(!parse_flow(v5, f));
    // Ports cut off: flow known, ports opaque.
    BOOST_REQUIRE(parse_flow(ByteView(p.data(), 21), f));
    BOOST_TEST(!f.ports_known);
}

BOOST_AUTO_TEST_CASE(pairs_and_matching) {
    auto pairs = selector_pairs({ts("10.1.0.0/24"), ts("2001:db8:1::/48")},
                                {ts("10.2.0.0/24", 17, 4000, 4999), ts("2001:db8:2::/48"),
                                 ts("10.3.0.0/16", 6)});
    BOOST_REQUIRE(pairs.size() == 3u);  // v4 x v4 (2), v6 x v6 (1)
    PacketFlow f;
    BOOST_REQUIRE(parse_flow(v4_packet("10.1.0.9", "10.2.0.3", 17, 53, 4444), f));
    BOOST_TEST(matches_outbound(pairs[0], f));
    BOOST_TEST(!matches_inbound(pairs[0], f));
    BOOST_REQUIRE(parse_flow(v4_packet("10.2.0.3", "10.1.0.9", 17, 4444, 53), f));
    BOOST_TEST(matches_inbound(pairs[0], f));
    BOOST_REQUIRE(parse_flow(v4_packet("10.1.0.9", "10.2.0.3", 17, 53, 5000), f));
    BOOST_TEST(!matches_outbound(pairs[0], f));  // port out of range
    BOOST_REQUIRE(parse_flow(v4_packet("10.1.0.9", "10.2.0.3", 6, 53, 4444), f));
    BOOST_TEST(!matches_outbound(pairs[0], f));  // protocol
    // Non-initial fragment: ports opaque, matches the port-restricted pair.
    BOOST_REQUIRE(parse_flow(v4_packet("10.1.0.9", "10.2.0.3", 17, 0, 0, 0x0020), f));
    BOOST_TEST(matches_outbound(pairs[0], f));
    BOOST_REQUIRE(parse_flow(v4_packet("10.1.0.9", "10.3.7.7", 6, 1, 2), f));
    BOOST_TEST(matches_outbound(pairs[1], f));
    BOOST_TEST(pairs[1].proto == 6);
    BOOST_REQUIRE(parse_flow(v6_packet("2001:db8:1::5", "2001:db8:2::5", 58, 0x8000, 0, false),
                             f));
    BOOST_TEST(matches_outbound(pairs[2], f));
    BOOST_TEST(!matches_outbound(pairs[0], f));
    // Conflicting protocols make no pair.
    BOOST_TEST(selector_pairs({ts("10.1.0.0/24", 6)}, {ts("10.2.0.0/24", 17)}).empty());
    BOOST_TEST(specificity(pairs[0]) > specificity(pairs[1]));
}

BOOST_AUTO_TEST_CASE(prefixes_from_ranges) {
    auto p = range_to_prefixes(*parse_ip_range("10.0.0.0/8"));
    BOOST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0].len == 8);
    p = range_to_prefixes(*parse_ip_range("10.0.0.1-10.0.0.6"));
    // .1/32 .2/31 .4/31 .6/32
    BOOST_REQUIRE(p.size() == 4u);
    BOOST_TEST(p[0].addr.to_string() == "10.0.0.1");
    BOOST_TEST(p[0].len == 32);
    BOOST_TEST(p[1].len == 31);
    BOOST_TEST(p[2].addr.to_string() == "10.0.0.4");
    BOOST_TEST(p[3].addr.to_string() == "10.0.0.6");
    p = range_to_prefixes(*parse_ip_range("0.0.0.0-255.255.255.255"));
    BOOST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0].len == 0);
    p = range_to_prefixes(*parse_ip_range("255.255.255.254-255.255.255.255"));
    BOOST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0].len == 31);
    p = range_to_prefixes(*parse_ip_range("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    BOOST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0].len == 0);
    p = range_to_prefixes(*parse_ip_range("2001:db8::1-2001:db8::ffff"));
    BOOST_TEST(p.size() == 16u);
    p = range_to_prefixes(*parse_ip_range("::1-::1:0:0:0:0"));  // crosses the 64-bit halves
    BOOST_TEST(p.back().addr.to_string() == "0:0:0:1::");
    BOOST_TEST(p.back().len == 128);
    // Every decomposition covers exactly the range: check by walking v4 ranges.
    for (auto [a, b] : {std::pair{"10.0.0.3", "10.0.1.17"}, {"0.0.0.1", "0.0.0.200"}}) {
        IpRange r{*IpAddress::parse(a), *IpAddress::parse(b)};
        uint64_t covered = 0;
        IpAddress expect = r.from;
        for (const auto& pr : range_to_prefixes(r)) {
            BOOST_TEST((pr.addr == expect));
            uint64_t n = uint64_t(1) << (32 - pr.len);
            covered += n;
            expect = IpAddress::v4(uint32_t(pr.addr.v4_host_order() + n));
        }
        BOOST_TEST(covered == uint64_t(r.to.v4_host_order() - r.from.v4_host_order() + 1));
    }
}

BOOST_AUTO_TEST_CASE(port_masks) {
    BOOST_TEST((ports_to_masks(0, 65535) == std::vector<PortMask>{{0, 0}}));
    BOOST_TEST((ports_to_masks(80, 80) == std::vector<PortMask>{{80, 0xffff}}));
    BOOST_TEST((ports_to_masks(1024, 2047) == std::vector<PortMask>{{1024, 0xfc00}}));
    auto m = ports_to_masks(1000, 2000);
    uint32_t total = 0;
    uint32_t next = 1000;
    for (const auto& pm : m) {
        BOOST_TEST(pm.port == next);
        uint32_t n = 0x10000u - pm.mask;
        total += n;
        next += n;
    }
    BOOST_TEST(total == 1001u);
    BOOST_TEST(ports_to_masks(65535, 65535).size() == 1u);
    BOOST_TEST(ports_to_masks(1, 65535).size() == 16u);
}
