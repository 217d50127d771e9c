// The compiler: blocks keep first-match order exactly, the nft text has the
// expected shape, and the implicit permits follow the rules.
#define BOOST_TEST_MODULE rules_compile
#include <boost/test/unit_test.hpp>

#include <random>

#include "core/msg/catalog.hpp"
#include "rules/compile.hpp"
#include "rules/evaluate.hpp"
#include "rules/parser.hpp"
#include "rules/tests/mem_files.hpp"

using namespace qvpn;
using namespace qvpn::rules;

namespace {

Parsed parse_ok(const std::string& text) {
    test::MemFiles fs;
    Parsed p = parse_text("/t/rules.i3p", text, fs);
    if (p.ok()) {
        check(p);
    }
    for (const auto& e : p.errors) {
        BOOST_TEST_MESSAGE(msgcat::line(e));
    }
    BOOST_REQUIRE(p.ok());
    return p;
}

// Interpret a plan the way nftables runs the compiled chain.
const Entry* run_plan(const ChainPlan& plan, const Packet& p) {
    for (const auto& b : plan.blocks) {
        if (!b.map) {
            const Entry& e = plan.entries[b.entries[0]];
            if (matches(e.match, p)) {
                return &e;
            }
            continue;
        }
        const Shape& s = b.shape;
        bool addr = (s.fields & (1 << kSrc | 1 << kDst)) != 0;
        bool icmp = (s.fields & (1 << kItype | 1 << kIcode)) != 0;
        if ((addr || icmp) && p.src.family() != s.family) {
            continue;
        }
        if (icmp && p.proto != (s.family == 6 ? 58 : 1)) {
            continue;
        }
        if (s.starting && !(p.proto == 6 && p.syn && !p.ack)) {
            continue;
        }
        bool ports = (s.fields & (1 << kSport | 1 << kDport)) != 0;
        if (ports && p.proto != 6 && p.proto != 17) {
            continue;  // nft's th would read other bytes; the proto field excludes them
        }
        auto key = packet_key(s, p.src, p.dst, p.proto, p.sport, p.dport, p.icmp_type,
                              p.icmp_code);
        const Entry* hit = nullptr;
        for (size_t i : b.entries) {
            for (const auto& box : plan.entries[i].boxes) {
                if (box_contains(box, key)) {
                    BOOST_REQUIRE_MESSAGE(hit == nullptr || hit == &plan.entries[i],
                                          "two elements of one map match a packet");
                    hit = &plan.entries[i];
                }
            }
        }
        if (hit) {
            return hit;
        }
    }
    return nullptr;
}

struct Gen {
    std::mt19937 rng;
    explicit Gen(unsigned seed) : rng(seed) {}
    int pick(int n) { return int(rng() % unsigned(n)); }

    std::string addr() {
        switch (pick(6)) {
            case 0: return "*";
            case 1: return "10.0.0." + std::to_string(pick(8));
            case 2: return "10.0.0." + std::to_string(pick(4) * 4) + "/30";
            case 3: return "10.0.0.0/29";
            case 4: return "n" + std::to_string(pick(3));
            default: return "2001:db8::" + std::to_string(pick(4));
        }
    }
    std::string port_clause(const char* kwd) {
        static const char* ops[] = {"=", "<>", "<", ">", "<=", ">="};
        switch (pick(4)) {
            case 0: return "";
            case 1: return std::string(" ") + kwd + " = " + std::to_string(20 + pick(6));
            case 2: {
                int a = 20 + pick(6);
                return std::string(" ") + kwd + " = " + std::to_string(a) + "-" +
                       std::to_string(a + pick(3));
            }
            default:
                return std::string(" ") + kwd + " " + ops[pick(6)] + " " +
                       std::to_string(20 + pick(6));
        }
    }
    std::string filter(const std::string& set) {
        static const char* actions[] = {"PERMIT", "DENY", "PERMIT", "IPSEC"};
        static const char* dirs[] = {"INBOUND", "OUTBOUND", "*"};
        static const char* frags[] = {"NONE", "HEADERS", "ALL"};
        std::string act = actions[pick(4)];
        std::string f = "FILTER SET " + set + " ACTION = " + act;
        if (act == "IPSEC") {
            f += " CONNECTION_DEFINITION = g" + std::to_string(pick(2));
        } else {
            f += std::string(" DIRECTION = ") + dirs[pick(3)];
        }
        std::string src = addr(), dst = addr();
        bool v6 = src.find(':') != std::string::npos || dst.find(':') != std::string::npos;
        if (v6) {  // keep both addresses of one version
            src = src.find(':') != std::string::npos || src == "*" ? src : "*";
            dst = dst.find(':') != std::string::npos || dst == "*" ? dst : "*";
        }
        f += " SRCADDR = " + src + " DSTADDR = " + dst;
        switch (pick(5)) {
            case 0: break;
            case 1: f += " PROTOCOL = TCP" + port_clause("SRCPORT") + port_clause("DSTPORT"); break;
            case 2: f += " PROTOCOL = UDP" + port_clause("DSTPORT"); break;
            case 3: f += " PROTOCOL = TCP/STARTING" + port_clause("DSTPORT"); break;
            default:
                if (v6) {
                    f += " PROTOCOL = ICMPV6 TYPE = " + std::to_string(128 + pick(2));
                } else {
                    f += " PROTOCOL = ICMP TYPE = " + std::to_string(pick(2) * 8) + " CODE = 0";
                }
        }
        f += std::string(" FRAGMENTS = ") + frags[pick(3)];
        f += pick(5) == 0 ? " JRN = FULL" : "";
        return f + "\n";
    }
    Packet packet() {
        Packet p;
        bool v6 = pick(4) == 0;
        auto a = [&] {
            return v6 ? *IpAddress::parse("2001:db8::" + std::to_string(pick(5)))
                      : *IpAddress::parse("10.0.0." + std::to_string(pick(10)));
        };
        p.src = a();
        p.dst = a();
        static const int protos[] = {6, 17, 1, 58, 50};
        p.proto = protos[pick(5)];
        p.sport = 18 + pick(10);
        p.dport = 18 + pick(10);
        p.icmp_type = pick(2) ? 8 : (v6 ? 128 : 0);
        p.icmp_code = pick(3) == 0 ? 1 : 0;
        p.syn = pick(2);
        p.ack = pick(2);
        p.frag = FragClass(pick(3));
        p.secure = pick(2);
        return p;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(blocks_keep_first_match_order) {
    size_t maps = 0, packets = 0;
    for (unsigned seed = 1; seed <= 60; ++seed) {
        Gen g(seed);
        std::string text = "ADDRESS n0 IP = 10.0.0.2 THROUGH 10.0.0.5\n"
                           "ADDRESS n1 IP = 10.0.0.0 MASK = 255.255.255.252\n"
                           "ADDRESS n2 IP = 10.0.0.7\n";
        int n = 20 + g.pick(60);
        for (int i = 0; i < n; ++i) {
            text += g.filter(i % 7 == 6 ? "b" : "a");
        }
        text += "FILTER_INTERFACE LINE = L SET = a, b\n";
        Parsed p = parse_ok(text);
        std::vector<const Filter*> fa, fb;
        for (const auto& f : p.doc.filters) {
            (f.set == "a" ? fa : fb).push_back(&f);
        }
        for (int d = 0; d < 2; ++d) {
            for (int c = 0; c < 3; ++c) {
                ChainPlan pa = plan_set(fa, d == 0, FragClass(c));
                ChainPlan pb = plan_set(fb, d == 0, FragClass(c));
                for (const auto& b : pa.blocks) {
                    maps += b.map ? 1 : 0;
                }
                for (int k = 0; k < 300; ++k) {
                    Packet pk = g.packet();
                    pk.frag = FragClass(c);
                    Decision want = evaluate(p.doc, {"a", "b"}, Implicit{false, false}, d == 0, pk);
                    const Entry* hit = run_plan(pa, pk);
                    if (!hit) {
                        hit = run_plan(pb, pk);
                    }
                    int got = hit ? hit->filter->number : 0;
                    BOOST_TEST_CONTEXT("seed " << seed << " dir " << d << " class " << c) {
                        BOOST_REQUIRE_EQUAL(got, want.rule);
                    }
                    ++packets;
                }
            }
        }
    }
    BOOST_TEST_MESSAGE("maps used: " << maps << ", packets: " << packets);
    BOOST_CHECK_GT(maps, 20u);  // the generator must exercise the map path
}

BOOST_AUTO_TEST_CASE(disjoint_runs_become_one_map_and_overlaps_split) {
    Parsed p = parse_ok(R"(
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 10.0.0.1 PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = DENY   DIRECTION = INBOUND SRCADDR = 10.0.0.2 PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 10.0.0.3 PROTOCOL = UDP DSTPORT = 53
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 10.0.0.1 PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = DENY   DIRECTION = INBOUND SRCADDR = 10.0.0.0/24 PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 10.0.1.0/24 PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 10.0.2.0/24 PROTOCOL = TCP DSTPORT = 22
FILTER_INTERFACE LINE = ETH0 SET = s
)");
    std::vector<const Filter*> fs;
    for (const auto& f : p.doc.filters) {
        fs.push_back(&f);
    }
    ChainPlan plan = plan_set(fs, true, FragClass::Whole);
    // Rules 1-3 and the repeat of rule 1 (shadowed) form one map; rule 5
    // overlaps rule 1, so 5-7 start the next map.
    BOOST_REQUIRE_EQUAL(plan.blocks.size(), 2u);
    BOOST_CHECK(plan.blocks[0].map);
    BOOST_CHECK(plan.blocks[0].exact);
    BOOST_CHECK_EQUAL(plan.blocks[0].entries.size(), 3u);
    BOOST_CHECK(plan.entries[3].shadowed);
    BOOST_CHECK(plan.blocks[1].map);
    BOOST_CHECK(!plan.blocks[1].exact);
    BOOST_CHECK_EQUAL(plan.blocks[1].entries.size(), 3u);
    // Nothing applies outbound.
    BOOST_CHECK(plan_set(fs, false, FragClass::Whole).entries.empty());
}

BOOST_AUTO_TEST_CASE(unit_text_has_maps_counters_and_rule_chains) {
    Parsed p = parse_ok(R"(
FILTER SET pre ACTION = PERMIT DIRECTION = * PROTOCOL = UDP SRCPORT = 500 DSTPORT = 500
FILTER SET pol ACTION = IPSEC SRCADDR = 10.6.0.0/16 DSTADDR = 10.196.8.0/24 JRN = FULL %
   CONNECTION_DEFINITION = HRgw2FINgw
FILTER SET web ACTION = PERMIT DIRECTION = INBOUND DSTADDR = 10.6.1.1 PROTOCOL = TCP DSTPORT = 80 JRN = FULL
FILTER SET web ACTION = PERMIT DIRECTION = INBOUND DSTADDR = 10.6.1.2 PROTOCOL = TCP DSTPORT = 80
FILTER SET web ACTION = DENY DIRECTION = INBOUND DSTADDR = 10.6.1.3 PROTOCOL = TCP DSTPORT = 80
FILTER_INTERFACE LINE = TRLINE SET = pre, pol, web
)");
    CompiledUnit u = compile_unit(p.doc, {{"TRLINE", "eth0", false, {"pre", "pol", "web"}}},
                                  {.unit = 3, .nflog_group = 77});
    BOOST_TEST_MESSAGE(u.body);
    BOOST_CHECK_EQUAL(u.maps, 1u);
    BOOST_CHECK_EQUAL(u.map_elements, 3u);
    BOOST_CHECK(u.body.find("map u3_m1_i { type ipv4_addr . inet_proto . inet_service : verdict; "
                            "counter;") != std::string::npos);
    BOOST_CHECK(u.body.find("10.6.1.1 . 6 . 80 comment \"r3\" : jump u3_r3_i") !=
                std::string::npos);
    BOOST_CHECK(u.body.find("chain u3_r3_i { log group 77 prefix \"QF 3 3 P I\" accept; }") !=
                std::string::npos);
    // The policy filter: outbound through XFRM, inbound out of it, journaled.
    BOOST_CHECK(u.body.find("rt ipsec exists counter log group 77 prefix \"QF 3 2 I O\" accept") !=
                std::string::npos);
    BOOST_CHECK(
        u.body.find("meta ipsec exists counter log group 77 prefix \"QF 3 2 I I\" accept") !=
        std::string::npos);
    BOOST_CHECK(u.body.find("prefix \"QF 3 2 D I\" drop comment \"r2 clear\"") !=
                std::string::npos);
    BOOST_REQUIRE_EQUAL(u.lines.size(), 1u);
    const LinePlan& lp = u.lines[0];
    BOOST_CHECK_EQUAL(lp.chain, "u3_L0");
    BOOST_CHECK_EQUAL(lp.sets[0][0].size(), 3u);  // in, unfragmented: pre, pol, web
    BOOST_CHECK_EQUAL(lp.sets[1][0].size(), 2u);  // out: pre, pol
    BOOST_CHECK(lp.sets[0][2].empty());           // no FRAGMENTS = ALL rule

    std::string t = compose_table({u.body}, u.lines, Implicit{false, true});
    BOOST_CHECK(t.rfind("table inet qvpn {}\ndelete table inet qvpn\ntable inet qvpn {\n", 0) == 0);
    BOOST_CHECK(t.find("iifname vmap { \"eth0\" : jump u3_L0_i }") != std::string::npos);
    BOOST_CHECK(t.find("oifname vmap { \"eth0\" : jump u3_L0_o }") != std::string::npos);
    BOOST_CHECK(t.find("comment \"ike\"") == std::string::npos);
    BOOST_CHECK(t.find("meta l4proto { esp, ah } counter accept comment \"ipsec\"") !=
                std::string::npos);
    BOOST_CHECK(t.find("ip frag-off & 0x1fff != 0 counter drop comment \"deny\"") !=
                std::string::npos);
    // With no lines, the script only removes the table.
    BOOST_CHECK_EQUAL(compose_table({}, {}, Implicit{}),
                      "table inet qvpn {}\ndelete table inet qvpn\n");
}

BOOST_AUTO_TEST_CASE(ppp_wildcards_follow_the_vmap) {
    LinePlan a{"A", "eth1", false, 1, "u1_L0", {}};
    LinePlan b{"DIALIN", "ppp*", true, 1, "u1_L1", {}};
    std::string t = compose_table({""}, {a, b}, Implicit{});
    BOOST_CHECK(
        t.find("iifname vmap { \"eth1\" : jump u1_L0_i }\n  iifname \"ppp*\" jump u1_L1_i") !=
        std::string::npos);
    BOOST_CHECK(t.find("udp dport { 500, 4500 } counter accept comment \"ike\"") !=
                std::string::npos);
    BOOST_CHECK(t.find("udp sport { 500, 4500 } counter accept comment \"ike\"") !=
                std::string::npos);
}

BOOST_AUTO_TEST_CASE(speaking_about_ike_and_ipsec) {
    Parsed p = parse_ok(R"(
FILTER SET s ACTION = PERMIT PROTOCOL = UDP DSTPORT = 500
FILTER SET s ACTION = PERMIT PROTOCOL = UDP DSTPORT >= 400
FILTER SET s ACTION = PERMIT PROTOCOL = UDP DSTPORT = 501
FILTER SET s ACTION = PERMIT PROTOCOL = * DSTPORT = 500
FILTER SET s ACTION = PERMIT PROTOCOL = TCP DSTPORT = 500
FILTER SET s ACTION = PERMIT PROTOCOL = *
FILTER SET s ACTION = DENY PROTOCOL = ESP
FILTER SET s ACTION = DENY PROTOCOL = 51
FILTER_INTERFACE LINE = E SET = s
)");
    const auto& f = p.doc.filters;
    BOOST_CHECK(speaks_about_ike(f[0]));
    BOOST_CHECK(!speaks_about_ike(f[1]));  // a comparison is not written for IKE
    BOOST_CHECK(!speaks_about_ike(f[2]));
    BOOST_CHECK(speaks_about_ike(f[3]));  // * with ports means TCP and UDP
    BOOST_CHECK(!speaks_about_ike(f[4]));
    BOOST_CHECK(!speaks_about_ike(f[5]));
    BOOST_CHECK(!speaks_about_ipsec(f[5]));
    BOOST_CHECK(speaks_about_ipsec(f[6]));
    BOOST_CHECK(speaks_about_ipsec(f[7]));
}

BOOST_AUTO_TEST_CASE(evaluate_implicit_and_default) {
    Parsed p = parse_ok(
        "FILTER SET s ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = TCP DSTPORT = 22\n"
        "FILTER SET s ACTION = IPSEC DSTADDR = 10.9.0.0/16 CONNECTION_DEFINITION = g\n"
        "FILTER_INTERFACE LINE = E SET = s\n");
    Packet ike;
    ike.src = *IpAddress::parse("192.0.2.2");
    ike.dst = *IpAddress::parse("192.0.2.1");
    ike.proto = 17;
    ike.sport = 500;
    ike.dport = 4500;
    BOOST_CHECK_EQUAL(evaluate(p.doc, {"s"}, Implicit{true, false}, true, ike).why, "ike");
    BOOST_CHECK_EQUAL(evaluate(p.doc, {"s"}, Implicit{false, false}, true, ike).why, "deny");
    Packet ssh = ike;
    ssh.proto = 6;
    ssh.dport = 22;
    Decision d = evaluate(p.doc, {"s"}, Implicit{}, true, ssh);
    BOOST_CHECK(d.accept);
    BOOST_CHECK_EQUAL(d.rule, 1);
    BOOST_CHECK(!evaluate(p.doc, {"s"}, Implicit{}, false, ssh).accept);  // outbound: denied
    Packet vpn = ssh;
    vpn.dst = *IpAddress::parse("10.9.1.1");
    vpn.dport = 443;
    BOOST_CHECK_EQUAL(evaluate(p.doc, {"s"}, Implicit{}, false, vpn).why, "clear");
    vpn.secure = true;
    BOOST_CHECK_EQUAL(evaluate(p.doc, {"s"}, Implicit{}, false, vpn).why, "ipsec");
    // The inbound mirror: from the remote subnet.
    Packet back = vpn;
    std::swap(back.src, back.dst);
    BOOST_CHECK_EQUAL(evaluate(p.doc, {"s"}, Implicit{}, true, back).rule, 2);
}

BOOST_AUTO_TEST_CASE(address_ranges_render_as_prefixes_ranges_or_addresses) {
    Parsed p = parse_ok(R"(
ADDRESS a IP = 10.0.0.0 THROUGH 10.0.0.255
ADDRESS b IP = 10.0.0.1 THROUGH 10.0.0.6
ADDRESS c IP = 2001:db8:1:: MASK = 48
ADDRESS d IP = 10.9.0.0 THROUGH 10.9.1.255
ADDRESS e IP = 10.9.0.0 THROUGH 10.9.2.255
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = a
FILTER SET s ACTION = PERMIT DIRECTION = OUTBOUND DSTADDR = b
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SRCADDR = c
FILTER SET s ACTION = PERMIT DIRECTION = OUTBOUND SRCADDR = d DSTADDR = e
FILTER SET s ACTION = PERMIT DIRECTION = OUTBOUND SRCADDR = 0.0.0.0/0 DSTADDR <> 192.0.2.7
FILTER_INTERFACE LINE = E SET = s
)");
    CompiledUnit u =
        compile_unit(p.doc, {{"E", "eth0", false, {"s"}}}, {.unit = 1, .nflog_group = 1});
    BOOST_TEST_MESSAGE(u.body);
    for (const char* want : {"ip saddr 10.0.0.0/24 ", "ip daddr 10.0.0.1-10.0.0.6 ",
                             "ip6 saddr 2001:db8:1::/48 ", "ip saddr 10.9.0.0/23 ",
                             "ip daddr 10.9.0.0-10.9.2.255 ",
                             "ip daddr { 0.0.0.0-192.0.2.6, 192.0.2.8-255.255.255.255 } "}) {
        BOOST_CHECK_MESSAGE(u.body.find(want) != std::string::npos, want);
    }
}
