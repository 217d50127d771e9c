#define BOOST_TEST_MODULE core_base
#include <boost/test/unit_test.hpp>

#include "core/base/bytes.hpp"
#include "core/base/text.hpp"

using namespace qvpn;

BOOST_AUTO_TEST_CASE(reader_reads_network_order) {
    Bytes b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    ByteReader r(b);
    BOOST_TEST(r.u8() == 0x01);
    BOOST_TEST(r.u16() == 0x0203);
    BOOST_TEST(r.u32() == 0x04050607u);
    BOOST_TEST(r.remaining() == 2u);
    BOOST_TEST(!r.failed());
}

BOOST_AUTO_TEST_CASE(reader_fails_sticky_when_short) {
    Bytes b = {0x01, 0x02, 0x03};
    ByteReader r(b);
    BOOST_TEST(r.u16() == 0x0102);
    BOOST_TEST(r.u32() == 0u);
    BOOST_TEST(r.failed());
    BOOST_TEST(r.u8() == 0u);  // stays failed even though one byte is left
    BOOST_TEST(r.remaining() == 0u);
    BOOST_TEST(r.bytes(1).empty());
}

BOOST_AUTO_TEST_CASE(writer_round_trips_and_patches) {
    ByteWriter w;
    w.u8(1).u16(0xBEEF).u24(0x123456).u32(0xCAFEBABE).u64(0x0102030405060708ULL);
    w.patch_u16(1, 0x1111);
    ByteReader r(w.data());
    BOOST_TEST(r.u8() == 1);
    BOOST_TEST(r.u16() == 0x1111);
    BOOST_TEST(r.u24() == 0x123456u);
    BOOST_TEST(r.u32() == 0xCAFEBABEu);
    BOOST_TEST(r.u64() == 0x0102030405060708ULL);
    BOOST_TEST(r.at_end());
}

BOOST_AUTO_TEST_CASE(hex_forms) {
    BOOST_TEST(to_hex(Bytes{0x00, 0xAB, 0xff}) == "00abff");
    auto a = from_hex("00ABff");
    BOOST_REQUIRE(a.ok());
    BOOST_TEST((*a == Bytes{0x00, 0xAB, 0xFF}));
    auto b = from_hex("0x0102");
    BOOST_REQUIRE(b.ok());
    BOOST_TEST(b->size() == 2u);
    auto c = from_hex("X'0A0B'");
    BOOST_REQUIRE(c.ok());
    BOOST_TEST((*c == Bytes{0x0A, 0x0B}));
    BOOST_TEST(!from_hex("abc").ok());
    BOOST_TEST(from_hex("zz").error().id == "QVP0002");
}

BOOST_AUTO_TEST_CASE(secret_bytes_wipe_and_slice) {
    SecretBytes s(Bytes{1, 2, 3, 4, 5});
    SecretBytes part = s.slice(1, 3);
    BOOST_TEST(part.size() == 3u);
    BOOST_TEST(part.data()[0] == 2);
    BOOST_TEST(s.slice(4, 2).empty());
    s.wipe();
    BOOST_TEST(s.empty());
}

BOOST_AUTO_TEST_CASE(text_helpers) {
    BOOST_TEST(iequals("HRgw2FINgw", "hrGW2fingw"));
    BOOST_TEST(!iequals("abc", "abcd"));
    BOOST_TEST(to_upper("*all") == "*ALL");
    BOOST_TEST(trim("  x y ") == "x y");
    long long n = 0;
    BOOST_TEST(parse_int("3600", n));
    BOOST_TEST(n == 3600);
    BOOST_TEST(!parse_int("36x", n));
    BOOST_TEST(!parse_int("", n));
    auto parts = split("a,b,,c", ',');
    BOOST_TEST(parts.size() == 4u);
}

BOOST_AUTO_TEST_CASE(result_carries_message) {
    auto f = []() -> Result<int> { return fail("TCP8050", "STRVPNCNN"); };
    auto r = f();
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error().id == "TCP8050");
    BOOST_TEST(r.error().value(1) == "STRVPNCNN");
    BOOST_TEST(r.error().value(2) == "");
    auto g = []() -> Result<int> { return 7; };
    BOOST_TEST(*g() == 7);
    auto h = [&]() -> Status {
        QVPN_ASSIGN(int v, f());
        (void)v;
        return {};
    };
    BOOST_TEST(h().error().id == "TCP8050");
}

#include "core/base/ip.hpp"

BOOST_AUTO_TEST_CASE(ip_addresses_and_ranges) {
    auto a = IpAddress::parse("10.6.11.1");
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(a->is_v4());
    BOOST_TEST(a->to_string() == "10.6.11.1");
    auto net = IpRange::subnet(*IpAddress::parse("10.6.0.0"), "255.255.0.0");
    BOOST_REQUIRE(net.has_value());
    BOOST_TEST(net->to_string() == "10.6.0.0/16");
    BOOST_TEST(net->contains(*a));
    BOOST_TEST(!net->contains(*IpAddress::parse("10.7.0.1")));
    BOOST_TEST(!IpRange::subnet(*IpAddress::parse("10.6.0.0"), "255.0.255.0").has_value());
    auto r = IpRange{*IpAddress::parse("10.0.0.5"), *IpAddress::parse("10.0.0.9")};
    BOOST_TEST(r.to_string() == "10.0.0.5-10.0.0.9");
    BOOST_TEST(r.overlaps(*IpRange::subnet(*IpAddress::parse("10.0.0.8"), "30")));
    auto v6 = IpAddress::parse("2001:db8::1");
    BOOST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->is_v6());
    BOOST_TEST(IpRange::prefix(*v6, 64).to_string() == "2001:db8::/64");
    BOOST_TEST(!r.overlaps(IpRange::single(*v6)));
    BOOST_TEST(IpAddress::parse("255.255.255.255")->next().to_string() == "255.255.255.255");
    BOOST_TEST(IpAddress::parse("10.0.0.255")->next().to_string() == "10.0.1.0");
    BOOST_TEST(!IpAddress::parse("10.0.0").has_value());
}
