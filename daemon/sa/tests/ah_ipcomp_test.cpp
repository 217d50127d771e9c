#define BOOST_TEST_MODULE sa_ah_ipcomp
#include <boost/test/unit_test.hpp>

#include <vector>

#include "daemon/sa/userspace/ah.hpp"
#include "daemon/sa/userspace/ip_hdr.hpp"
#include "daemon/sa/userspace/ipcomp.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using namespace qvpn::sa::us;
using ike::IntegId;

namespace {

struct Buf {
    std::vector<uint8_t> mem = std::vector<uint8_t>(4096);
    Pkt p;
    explicit Buf(ByteView payload) {
        p.buf = mem.data();
        p.cap = mem.size();
        p.reset(256);
        std::memcpy(p.put(payload.size()), payload.data(), payload.size());
    }
    Bytes bytes() const { return Bytes(p.data(), p.data() + p.len); }
};

SaKeys ah_keys(IntegId id, size_t key_len) {
    SaKeys k;
    k.spi = 0xa1a1;
    k.integ = id;
    k.integ_key = SecretBytes(key_len);
    for (size_t i = 0; i < key_len; ++i) {
        k.integ_key.data()[i] = uint8_t(0x30 + i);
    }
    return k;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ah_round_trip_and_tampering) {
    struct A {
        IntegId id;
        size_t key;
        size_t icv;
    } algs[] = {{IntegId::AUTH_HMAC_SHA1_96, 20, 12},       {IntegId::AUTH_HMAC_MD5_96, 16, 12},
                {IntegId::AUTH_AES_XCBC_96, 16, 12},        {IntegId::AUTH_HMAC_SHA2_256_128, 32, 16},
                {IntegId::AUTH_HMAC_SHA2_384_192, 48, 24}, {IntegId::AUTH_HMAC_SHA2_512_256, 64, 32}};
    for (const auto& a : algs) {
        for (bool v6 : {false, true}) {
            for (bool esn : {false, true}) {
                BOOST_TEST_CONTEXT(int(a.id) << (v6 ? " v6" : " v4") << (esn ? " esn" : "")) {
                    SaKeys k = ah_keys(a.id, a.key);
                    auto tx = AhTransform::create(k, esn);
                    auto rx = AhTransform::create(k, esn);
                    BOOST_REQUIRE(tx.ok() && rx.ok());
                    IpAddress src = *IpAddress::parse(v6 ? "2001:db8::1" : "192.0.2.1");
                    IpAddress dst = *IpAddress::parse(v6 ? "2001:db8::2" : "192.0.2.2");
                    Bytes payload(300);
                    for (size_t i = 0; i < payload.size(); ++i) {
                        payload[i] = uint8_t(i);
                    }
                    uint64_t seq = esn ? (uint64_t(3) << 32 | 77) : 77;
                    Buf b(payload);
                    BOOST_REQUIRE((*tx)->seal(b.p, src, dst, k.spi, seq, 4, 0x1234));
                    Bytes wire = b.bytes();
                    size_t ip = v6 ? 0 : kIpv4Hdr;
                    // RFC 4302 2.2: AH is 32-bit aligned with IPv4 (no
                    // padding beyond that), 64-bit aligned with IPv6
                    size_t align = v6 ? 8 : 4;
                    size_t ah_len = size_t(wire[ip + 1] + 2) * 4;
                    BOOST_TEST(ah_len == (12 + a.icv + align - 1) / align * align);
                    uint32_t spi = 0, lo = 0;
                    BOOST_REQUIRE(AhTransform::peek(wire.data() + ip, wire.size() - ip, spi, lo));
                    BOOST_TEST(spi == k.spi);
                    BOOST_TEST(lo == uint32_t(seq));
                    if (!v6) {
                        BOOST_TEST(get_be16(wire.data() + 2) == wire.size());
                        BOOST_TEST(wire[9] == 51);
                        BOOST_TEST(ip_checksum(wire.data(), kIpv4Hdr) == 0);
                    }
                    uint8_t nh = 0;
                    Buf r(wire);
                    BOOST_REQUIRE((((*rx)->open(r.p, src, dst, seq, nh)) ==
                                   AhTransform::Verdict::Ok));
                    BOOST_TEST(nh == 4);
                    BOOST_TEST((r.bytes() == payload));
                    if (!v6) {
                        // Mutable fields (TOS, TTL, flags, checksum) may change.
                        Buf m(wire);
                        m.p.data()[1] = 0xb8;
                        m.p.data()[8] = 3;
                        m.p.data()[6] = 0x40;
                        m.p.data()[10] ^= 0xff;
                        BOOST_TEST((((*rx)->open(m.p, src, dst, seq, nh)) ==
                                    AhTransform::Verdict::Ok));
                        // The identification is not mutable.
                        Buf id(wire);
                        id.p.data()[5] ^= 1;
                        BOOST_TEST((((*rx)->open(id.p, src, dst, seq, nh)) ==
                                    AhTransform::Verdict::Integrity));
                    }
                    // A different source address, payload byte or sequence number fails.
                    Buf s(wire);
                    IpAddress other = *IpAddress::parse(v6 ? "2001:db8::9" : "192.0.2.9");
                    if (!v6) {
                        std::memcpy(s.p.data() + 12, other.data(), 4);
                    }
                    BOOST_TEST((((*rx)->open(s.p, v6 ? other : src, dst, seq, nh)) ==
                                AhTransform::Verdict::Integrity));
                    Buf t(wire);
                    t.p.data()[t.p.len - 1] ^= 1;
                    BOOST_TEST((((*rx)->open(t.p, src, dst, seq, nh)) ==
                                AhTransform::Verdict::Integrity));
                    if (esn) {
                        Buf e(wire);
                        BOOST_TEST((((*rx)->open(e.p, src, dst, seq + (uint64_t(1) << 32), nh)) ==
                                    AhTransform::Verdict::Integrity));
                    }
                    // Truncations are refused without reading past the end.
                    for (size_t cut = 1; cut < wire.size(); cut += 7) {
                        Buf c(ByteView(wire.data(), wire.size() - cut));
                        BOOST_TEST((((*rx)->open(c.p, src, dst, seq, nh)) !=
                                    AhTransform::Verdict::Ok));
                    }
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ah_header_length_checks) {
    SaKeys k = ah_keys(IntegId::AUTH_HMAC_SHA2_256_128, 32);
    auto tx = AhTransform::create(k, false);
    BOOST_REQUIRE(tx.ok());
    IpAddress src = *IpAddress::parse("192.0.2.1"), dst = *IpAddress::parse("192.0.2.2");
    Buf b(Bytes(40, 7));
    BOOST_REQUIRE((*tx)->seal(b.p, src, dst, k.spi, 1, 4, 9));
    Bytes wire = b.bytes();
    uint8_t nh = 0;
    for (uint8_t len : {uint8_t(0), uint8_t(1), uint8_t(4), uint8_t(200)}) {
        Buf m(wire);
        m.p.data()[kIpv4Hdr + 1] = len;
        BOOST_TEST((((*tx)->open(m.p, src, dst, 1, nh)) != AhTransform::Verdict::Ok));
    }
    Buf opts(wire);
    opts.p.data()[0] = 0x46;  // IPv4 options: refused
    BOOST_TEST((((*tx)->open(opts.p, src, dst, 1, nh)) == AhTransform::Verdict::Malformed));
}

BOOST_AUTO_TEST_CASE(ipcomp_deflate) {
    Deflater d;
    BOOST_REQUIRE(d.ok());
    Bytes text(1200);
    for (size_t i = 0; i < text.size(); ++i) {
        text[i] = uint8_t("the quick brown fox "[i % 20]);
    }
    Bytes out(2000), back(2000);
    for (int round = 0; round < 3; ++round) {  // contexts are reused per packet
        size_t n = d.compress(text.data(), text.size(), out.data(), out.size());
        BOOST_REQUIRE(n > 0);
        BOOST_TEST(n < text.size() / 4);
        size_t m = d.decompress(out.data(), n, back.data(), back.size());
        BOOST_REQUIRE(m == text.size());
        BOOST_TEST(std::equal(text.begin(), text.end(), back.begin()));
    }
    // Incompressible input is reported as such (sent without IPComp).
    Bytes noise(500);
    uint32_t x = 1;
    for (auto& c : noise) {
        x = x * 1103515245 + 12345;
        c = uint8_t(x >> 16);
    }
    BOOST_TEST(d.compress(noise.data(), noise.size(), out.data(), out.size()) == 0u);
    // Garbage and truncated streams fail cleanly; so does a result too big.
    BOOST_TEST(d.decompress(noise.data(), noise.size(), back.data(), back.size()) == 0u);
    size_t n = d.compress(text.data(), text.size(), out.data(), out.size());
    BOOST_TEST(d.decompress(out.data(), n / 2, back.data(), back.size()) == 0u);
    BOOST_TEST(d.decompress(out.data(), n, back.data(), 100) == 0u);
}
