#define BOOST_TEST_MODULE sa_offload
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include <netinet/in.h>

#include "core/base/ip.hpp"
#include "daemon/sa/userspace/ip_hdr.hpp"
#include "daemon/sa/userspace/offload.hpp"
#include "daemon/sa/userspace/packet.hpp"

using namespace qvpn;
using namespace qvpn::sa::us;

namespace {

// A TCP packet (no options but a 12-byte timestamp-like option block) with
// `payload` bytes; IPv4 or IPv6. Checksums left zero.
std::vector<uint8_t> tcp_packet(bool v6, size_t payload, uint32_t seq, uint8_t flags) {
    size_t ip = v6 ? 40 : 20, tcp = 32;
    std::vector<uint8_t> p(ip + tcp + payload, 0);
    if (v6) {
        p[0] = 0x60;
        put_be16(p.data() + 4, uint16_t(tcp + payload));
        p[6] = IPPROTO_TCP;
        p[7] = 64;
        auto s = IpAddress::parse("2001:db8::1"), d = IpAddress::parse("2001:db8::2");
        std::memcpy(p.data() + 8, s->data(), 16);
        std::memcpy(p.data() + 24, d->data(), 16);
    } else {
        p[0] = 0x45;
        put_be16(p.data() + 2, uint16_t(p.size()));
        put_be16(p.data() + 4, 0x1000);
        p[6] = 0x40;
        p[8] = 64;
        p[9] = IPPROTO_TCP;
        uint8_t s[4] = {10, 1, 0, 1}, d[4] = {10, 2, 0, 1};
        std::memcpy(p.data() + 12, s, 4);
        std::memcpy(p.data() + 16, d, 4);
    }
    uint8_t* t = p.data() + ip;
    put_be16(t, 40000);
    put_be16(t + 2, 5201);
    put_be32(t + 4, seq);
    put_be32(t + 8, 777);
    t[12] = uint8_t((tcp / 4) << 4);
    t[13] = flags;
    put_be16(t + 14, 500);
    t[20] = 1;  // NOP NOP TS(10)
    t[21] = 1;
    t[22] = 8;
    t[23] = 10;
    put_be32(t + 24, 0x11111111);
    for (size_t i = 0; i < payload; ++i) {
        p[ip + tcp + i] = uint8_t(i * 13 + seq);
    }
    return p;
}

bool checksums_ok(const uint8_t* p, size_t len) {
    bool v6 = (p[0] >> 4) == 6;
    size_t ip = v6 ? 40 : 20;
    if (!v6 && csum_fold(csum_partial(p, ip, 0)) != 0xffff) {
        return false;
    }
    uint32_t sum = v6 ? csum_partial(p + 8, 32, 0) : csum_partial(p + 12, 8, 0);
    sum += uint32_t(len - ip) + IPPROTO_TCP;
    return csum_fold(csum_partial(p + ip, len - ip, sum)) == 0xffff;
}

}  // namespace

BOOST_AUTO_TEST_CASE(checksum_helpers) {
    // RFC 1071's example: 0001 f203 f4f5 f6f7 sums to 0xddf2.
    uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    BOOST_TEST(csum_fold(csum_partial(d, 8, 0)) == 0xddf2);
    BOOST_TEST(csum_fold(csum_partial(d, 7, 0)) == csum_fold(csum_partial(d, 6, 0) + 0xf600));
    uint8_t h[10];
    VnetHdr v;
    v.flags = 1;
    v.gso_type = 4;
    v.hdr_len = 72;
    v.gso_size = 1360;
    v.csum_start = 40;
    v.csum_offset = 16;
    v.write(h);
    VnetHdr r = VnetHdr::read(h);
    BOOST_TEST(r.gso_size == 1360);
    BOOST_TEST(r.csum_start == 40);
    BOOST_TEST(h[4] == (1360 & 0xff));  // little-endian on the wire to TUN
}

BOOST_AUTO_TEST_CASE(checksum_against_reference) {
    // The word-at-a-time sum equals the RFC 1071 reference for every length
    // and alignment.
    std::vector<uint8_t> d(3000);
    uint32_t x = 7;
    for (auto& b : d) {
        x = x * 1103515245 + 12345;
        b = uint8_t(x >> 16);
    }
    for (size_t off : {size_t(0), size_t(1), size_t(3)}) {
        for (size_t len = 0; len < 300; ++len) {
            uint32_t ref = 0x1234;
            for (size_t i = 0; i < len; i += 2) {
                ref += uint32_t(d[off + i]) << 8 | (i + 1 < len ? d[off + i + 1] : 0);
            }
            BOOST_TEST(csum_fold(csum_partial(d.data() + off, len, 0x1234)) == csum_fold(ref),
                       "len " << len << " off " << off);
        }
    }
    BOOST_TEST(csum_fold(csum_partial(d.data(), 3000, 0)) ==
               csum_fold(csum_partial(d.data() + 1000, 2000, csum_partial(d.data(), 1000, 0))));
}

BOOST_AUTO_TEST_CASE(finish_partial_checksum) {
    auto p = tcp_packet(false, 100, 5, 0x18);
    // What the kernel hands over: the pseudo-header sum in the TCP field.
    uint32_t ps = csum_partial(p.data() + 12, 8, 0) + uint32_t(p.size() - 20) + IPPROTO_TCP;
    put_be16(p.data() + 36, csum_fold(ps));
    put_be16(p.data() + 10, uint16_t(~csum_fold(csum_partial(p.data(), 20, 0))));
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.csum_start = 20;
    h.csum_offset = 16;
    BOOST_REQUIRE(finish_checksum(p.data(), p.size(), h));
    BOOST_TEST(checksums_ok(p.data(), p.size()));
    h.csum_start = 5000;
    BOOST_TEST(!finish_checksum(p.data(), p.size(), h));
}

BOOST_AUTO_TEST_CASE(segment_and_coalesce_round_trip) {
    for (bool v6 : {false, true}) {
        BOOST_TEST_CONTEXT((v6 ? "v6" : "v4")) {
            const uint16_t mss = 1360;
            auto big = tcp_packet(v6, 20000, 1000, 0x18 | 0x01);  // ACK PSH FIN
            std::vector<std::vector<uint8_t>> segs;
            std::vector<uint8_t> cur;
            int n = tcp_segment(
                big.data(), big.size(), mss,
                [&](size_t need) {
                    cur.assign(need, 0);
                    return cur.data();
                },
                [&](size_t len) {
                    cur.resize(len);
                    segs.push_back(cur);
                });
            BOOST_REQUIRE(n == 15);  // 14 full segments and 960 bytes
            size_t ip = v6 ? 40 : 20;
            for (size_t i = 0; i < segs.size(); ++i) {
                const auto& s = segs[i];
                BOOST_TEST(checksums_ok(s.data(), s.size()), "segment " << i);
                BOOST_TEST(get_be32(s.data() + ip + 4) == 1000 + i * mss);
                uint8_t f = s[ip + 13];
                bool last = i + 1 == segs.size();
                BOOST_TEST(((f & 0x09) != 0) == last);  // PSH and FIN only on the last
                if (!v6) {
                    BOOST_TEST(get_be16(s.data() + 4) == 0x1000 + i);
                    BOOST_TEST(get_be16(s.data() + 2) == s.size());
                }
            }
            // Join them again (all but the last, whose FIN stops joining).
            std::vector<uint8_t> buf(70000);
            std::vector<std::vector<uint8_t>> out;
            Coalescer c(buf.data(), buf.size(), [&](uint8_t* p, size_t len) {
                out.emplace_back(p, p + len);
            });
            for (const auto& s : segs) {
                c.add(s.data(), s.size());
            }
            c.flush();
            BOOST_REQUIRE(out.size() == 2u);
            VnetHdr h = VnetHdr::read(out[0].data());
            BOOST_TEST(h.gso_type == (v6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4));
            BOOST_TEST(h.gso_size == mss);
            BOOST_TEST(h.flags == VnetHdr::kNeedsCsum);
            BOOST_TEST(h.csum_start == ip);
            const uint8_t* g = out[0].data() + VnetHdr::kSize;
            size_t glen = out[0].size() - VnetHdr::kSize;
            BOOST_TEST(glen == ip + 32 + 14u * mss);
            BOOST_TEST(std::memcmp(g + ip + 32, big.data() + ip + 32, 14u * mss) == 0);
            if (!v6) {
                BOOST_TEST(get_be16(g + 2) == glen);
                BOOST_TEST(csum_fold(csum_partial(g, 20, 0)) == 0xffff);
            } else {
                BOOST_TEST(get_be16(g + 4) == glen - 40);
            }
            // Partial TCP checksum: completing it gives a valid packet.
            std::vector<uint8_t> whole(g, g + glen);
            BOOST_REQUIRE(finish_checksum(whole.data(), whole.size(), h));
            BOOST_TEST(checksums_ok(whole.data(), whole.size()));
            // The FIN segment went alone, unchanged, with an empty header.
            VnetHdr h2 = VnetHdr::read(out[1].data());
            BOOST_TEST(h2.gso_type == VnetHdr::kGsoNone);
            BOOST_TEST(checksums_ok(out[1].data() + VnetHdr::kSize, out[1].size() - VnetHdr::kSize));
            BOOST_TEST(c.merged() == 13u);
        }
    }
}

BOOST_AUTO_TEST_CASE(coalescing_refuses_what_does_not_belong) {
    std::vector<uint8_t> buf(70000);
    std::vector<size_t> sizes;
    Coalescer c(buf.data(), buf.size(), [&](uint8_t*, size_t len) { sizes.push_back(len); });
    auto a = tcp_packet(false, 1000, 1, 0x10);
    auto gap = tcp_packet(false, 1000, 5000, 0x10);    // not contiguous
    auto b = tcp_packet(false, 1000, 6000, 0x10);       // contiguous with gap
    auto syn = tcp_packet(false, 0, 7000, 0x02);         // control flags
    auto other = tcp_packet(false, 1000, 7000, 0x10);
    put_be16(other.data() + 20, 40001);                 // another flow
    std::vector<uint8_t> udp = a;
    udp[9] = IPPROTO_UDP;
    for (auto* p : {&a, &gap, &b, &syn, &other, &udp}) {
        c.add(p->data(), p->size());
    }
    c.flush();
    // a alone, gap+b joined, syn alone, other alone, udp alone
    BOOST_REQUIRE(sizes.size() == 5u);
    BOOST_TEST(sizes[1] == a.size() + 1000 + VnetHdr::kSize);
    // Truncated or garbage input never joins and never reads past the end.
    Coalescer d(buf.data(), buf.size(), [&](uint8_t*, size_t) {});
    for (size_t cut = 0; cut < a.size(); cut += 9) {
        d.add(a.data(), cut);
    }
    d.flush();
    // tcp_segment refuses non-TCP and fragments
    auto frag = a;
    frag[6] = 0x20;
    int r = tcp_segment(frag.data(), frag.size(), 500, [&](size_t) { return buf.data(); },
                        [](size_t) {});
    BOOST_TEST(r == -1);
    BOOST_TEST(tcp_segment(udp.data(), udp.size(), 500, [&](size_t) { return buf.data(); },
                           [](size_t) {}) == -1);
}
