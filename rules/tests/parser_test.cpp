// The .i3p language: every statement, every keyword, every error.
#define BOOST_TEST_MODULE rules_lang
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/msg/catalog.hpp"
#include "rules/parser.hpp"
#include "rules/tests/mem_files.hpp"

using namespace qvpn;
using namespace qvpn::rules;
using qvpn::rules::test::MemFiles;

namespace {

const std::string kMain = "/r/main.i3p";

Parsed parse(const std::string& text, MemFiles* files = nullptr) {
    MemFiles none;
    MemFiles& fs = files ? *files : none;
    Parsed p = parse_text(kMain, text, fs);
    if (p.ok()) {
        check(p);
    }
    return p;
}

// The one error of `p` must be `id` at `where` ("line:col" in the main file
// unless a file is given).
void expect_error(const Parsed& p, const std::string& id, const std::string& where) {
    BOOST_TEST_INFO("errors: " << p.errors.size());
    for (const auto& e : p.errors) {
        BOOST_TEST_MESSAGE(msgcat::line(e));
    }
    BOOST_REQUIRE_EQUAL(p.errors.size(), 1u);
    BOOST_CHECK_EQUAL(p.errors[0].id, id);
    std::string full = where.find(".i3p") == std::string::npos ? kMain + ":" + where : where;
    BOOST_CHECK_EQUAL(p.errors[0].value(1), full);
}

void expect_ok(const Parsed& p) {
    for (const auto& e : p.errors) {
        BOOST_TEST_MESSAGE(msgcat::line(e));
    }
    BOOST_REQUIRE(p.ok());
}

const char* kFi = "\nFILTER_INTERFACE LINE = ETH0 SET = s\n";

// One FILTER in set s applied to ETH0, with `clauses` added.
Parsed one(const std::string& clauses) {
    return parse("FILTER SET s ACTION = PERMIT " + clauses + kFi);
}

using R = std::vector<std::pair<uint32_t, uint32_t>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(statements)

// The samples of IBM's packet rules topic, with the % marks of wrapped lines
// and the trailing ### comment.
BOOST_AUTO_TEST_CASE(ibm_samples) {
    Parsed p = parse(R"(
FILTER SET TestFilter ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 162.56.39.100
       DSTADDR = * PROTOCOL = * DSTPORT >= 1024 SRCPORT = 80
FILTER SET TestFilter ACTION = PERMIT DIRECTION = OUTBOUND SRCADDR = *
       DSTADDR = 162.56.39.100 PROTOCOL = * DSTPORT = 80 SRCPORT >= 1024
FILTER_INTERFACE LINE = ETH237 SET = TestFilter

FILTER SET all ACTION = PERMIT DIRECTION = INBOUND SRCADDR = * DSTADDR %
       = * PROTOCOL = TCP/STARTING DSTPORT = * SRCPORT = * FRAGMENTS %
       = HEADERS JRN = FULL
FILTER SET all ACTION = PERMIT DIRECTION = INBOUND SRCADDR = * DSTADDR % = *
       PROTOCOL = TCP DSTPORT = * SRCPORT = * FRAGMENTS = NONE % JRN = OFF
FILTER SET all ACTION = PERMIT DIRECTION = INBOUND SRCADDR = * DSTADDR % = *
       PROTOCOL = ICMP TYPE = * CODE = * FRAGMENTS = NONE JRN % = OFF
FILTER_INTERFACE LINE = ETHLINE SET = all ###Ethernet line ETHLINE
)");
    expect_ok(p);
    BOOST_REQUIRE_EQUAL(p.doc.filters.size(), 5u);
    const Filter& f1 = p.doc.filters[0];
    BOOST_CHECK_EQUAL(f1.number, 1);
    BOOST_CHECK_EQUAL(f1.set, "TestFilter");
    BOOST_CHECK(f1.direction == Direction::Inbound);
    BOOST_CHECK_EQUAL(f1.match.src.family, 4);
    BOOST_CHECK(f1.match.src.contains(*IpAddress::parse("162.56.39.100")));
    BOOST_CHECK(f1.match.dst.all);
    // PROTOCOL = * with ports: TCP and UDP.
    BOOST_CHECK(f1.match.proto == NumSet::of({{6, 6}, {17, 17}}, 255));
    BOOST_CHECK(f1.match.dport == NumSet::of({{1024, 65535}}, 65535));
    BOOST_CHECK(f1.match.sport == NumSet::of({{80, 80}}, 65535));
    const Filter& f3 = p.doc.filters[2];
    BOOST_CHECK(f3.match.starting);
    BOOST_CHECK(f3.match.proto == NumSet::of({{6, 6}}, 255));
    BOOST_CHECK(f3.fragments == Fragments::Headers);
    BOOST_CHECK(f3.journal);
    BOOST_CHECK(!p.doc.filters[3].journal);
    BOOST_CHECK(p.doc.filters[4].match.proto == NumSet::of({{1, 1}}, 255));
    BOOST_REQUIRE_EQUAL(p.doc.interfaces.size(), 2u);
    BOOST_CHECK_EQUAL(p.doc.interfaces[1].name, "ETHLINE");
    BOOST_CHECK(p.warnings.empty());
}

BOOST_AUTO_TEST_CASE(filter_defaults) {
    Parsed p = one("");
    expect_ok(p);
    const Filter& f = p.doc.filters[0];
    BOOST_CHECK(f.direction == Direction::Both);
    BOOST_CHECK(f.fragments == Fragments::None);
    BOOST_CHECK(!f.journal);
    BOOST_CHECK(f.match.src.all && f.match.dst.all && f.match.proto.all);
    BOOST_CHECK(f.match.sport.all && f.match.dport.all);
    BOOST_CHECK_EQUAL(f.match.family, 0);
    BOOST_CHECK(f.applies(true) && f.applies(false));
}

BOOST_AUTO_TEST_CASE(keywords_are_case_insensitive_and_set_takes_either_form) {
    Parsed p = parse("filter set = web action = deny direction = outbound\n"
                     "filter_interface line = eth0 set web\n");
    expect_ok(p);
    BOOST_CHECK(p.doc.filters[0].action == Action::Deny);
    BOOST_CHECK(p.doc.filters[0].direction == Direction::Outbound);
    BOOST_CHECK(!p.doc.filters[0].applies(true));
}

BOOST_AUTO_TEST_CASE(port_operators) {
    struct Case {
        const char* clause;
        R ranges;
    };
    const Case cases[] = {
        {"DSTPORT = 80", {{80, 80}}},
        {"DSTPORT <> 80", {{0, 79}, {81, 65535}}},
        {"DSTPORT != 80", {{0, 79}, {81, 65535}}},
        {"DSTPORT < 1024", {{0, 1023}}},
        {"DSTPORT > 1023", {{1024, 65535}}},
        {"DSTPORT <= 1023", {{0, 1023}}},
        {"DSTPORT >= 1024", {{1024, 65535}}},
        {"DSTPORT = 6000-6063", {{6000, 6063}}},
        {"DSTPORT <> 6000-6063", {{0, 5999}, {6064, 65535}}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.clause) {
            Parsed p = one(std::string("PROTOCOL = TCP ") + c.clause);
            expect_ok(p);
            BOOST_CHECK(p.doc.filters[0].match.dport == NumSet::of(c.ranges, 65535));
        }
    }
    // Operators that select everything leave the port unconstrained.
    Parsed all = one("PROTOCOL = UDP SRCPORT >= 0");
    expect_ok(all);
    BOOST_CHECK(all.doc.filters[0].match.sport.all);
}

BOOST_AUTO_TEST_CASE(protocols_by_name_and_number) {
    const std::pair<const char*, uint32_t> cases[] = {
        {"TCP", 6}, {"udp", 17}, {"ICMP", 1}, {"ICMPV6", 58}, {"ESP", 50},
        {"AH", 51}, {"GRE", 47}, {"47", 47}, {"0", 0}, {"255", 255}};
    for (auto [name, n] : cases) {
        BOOST_TEST_CONTEXT(name) {
            Parsed p = one(std::string("PROTOCOL = ") + name);
            expect_ok(p);
            BOOST_CHECK(p.doc.filters[0].match.proto == NumSet::of({{n, n}}, 255));
        }
    }
}

BOOST_AUTO_TEST_CASE(icmp_type_and_code) {
    Parsed p = one("PROTOCOL = ICMP TYPE = 8 CODE = 0");
    expect_ok(p);
    const Match& m = p.doc.filters[0].match;
    BOOST_CHECK(m.icmp_type == NumSet::of({{8, 8}}, 255));
    BOOST_CHECK(m.icmp_code == NumSet::of({{0, 0}}, 255));
    BOOST_CHECK_EQUAL(m.family, 4);
    Parsed v6 = one("PROTOCOL = ICMPV6 TYPE >= 128 SRCADDR = 2001:db8::1");
    expect_ok(v6);
    BOOST_CHECK_EQUAL(v6.doc.filters[0].match.family, 6);
    BOOST_CHECK(v6.doc.filters[0].match.icmp_type == NumSet::of({{128, 255}}, 255));
}

BOOST_AUTO_TEST_CASE(fragments_values) {
    const std::pair<const char*, Fragments> cases[] = {{"NONE", Fragments::None},
                                                       {"HEADERS", Fragments::Headers},
                                                       {"ALL", Fragments::All},
                                                       {"*", Fragments::All}};
    for (auto [v, f] : cases) {
        Parsed p = one(std::string("FRAGMENTS = ") + v);
        expect_ok(p);
        BOOST_CHECK(p.doc.filters[0].fragments == f);
    }
}

BOOST_AUTO_TEST_CASE(addresses_literal_and_negated) {
    Parsed p = one("SRCADDR = 10.1.0.0/16 DSTADDR <> 192.0.2.7");
    expect_ok(p);
    const Match& m = p.doc.filters[0].match;
    BOOST_CHECK(m.src.contains(*IpAddress::parse("10.1.255.255")));
    BOOST_CHECK(!m.src.contains(*IpAddress::parse("10.2.0.0")));
    BOOST_CHECK(!m.dst.contains(*IpAddress::parse("192.0.2.7")));
    BOOST_CHECK(m.dst.contains(*IpAddress::parse("192.0.2.8")));
    BOOST_CHECK(m.dst.contains(*IpAddress::parse("0.0.0.0")));
    BOOST_CHECK(m.dst.contains(*IpAddress::parse("255.255.255.255")));
    BOOST_CHECK(!m.dst.contains(*IpAddress::parse("2001:db8::1")));
    Parsed r = one("SRCADDR = 192.0.2.1-192.0.2.9 DSTADDR = 2001:db8::/32");
    // An IPv4 range with an IPv6 destination never matches anything.
    expect_error(r, "RUL0145", "1:70");
}

BOOST_AUTO_TEST_CASE(ipv6_filter) {
    Parsed p = one("SRCADDR = 2001:db8::1 DSTADDR = 2001:db8:1::/48 PROTOCOL = TCP DSTPORT = 22");
    expect_ok(p);
    const Match& m = p.doc.filters[0].match;
    BOOST_CHECK_EQUAL(m.family, 6);
    BOOST_CHECK(m.dst.contains(*IpAddress::parse("2001:db8:1:ffff::5")));
}

BOOST_AUTO_TEST_CASE(address_statement_forms) {
    Parsed p = parse(R"(
ADDRESS host IP = 10.1.1.1 TYPE = TRUSTED
ADDRESS net IP = 10.6.0.0 MASK = 255.255.0.0 TYPE = UNTRUSTED
ADDRESS net6 IP = 2001:db8:: MASK = 32
ADDRESS pfx IP = 10.7.0.0/24
ADDRESS pool IP = 10.8.0.10 THROUGH 10.8.0.20 TYPE = BORDER
FILTER SET s ACTION = PERMIT SRCADDR = host DSTADDR = NET
FILTER SET s ACTION = PERMIT SRCADDR = pool DSTADDR <> pfx
FILTER SET s ACTION = DENY SRCADDR = net6
FILTER_INTERFACE LINE = ETH0 SET = s
)");
    expect_ok(p);
    BOOST_CHECK_EQUAL(p.doc.addresses.size(), 5u);
    BOOST_CHECK(p.doc.addresses.at("POOL").type == AddressType::Border);
    BOOST_CHECK(p.doc.addresses.at("NET").type == AddressType::Untrusted);
    const Match& m0 = p.doc.filters[0].match;
    BOOST_CHECK(m0.dst.contains(*IpAddress::parse("10.6.200.1")));
    BOOST_CHECK(!m0.dst.contains(*IpAddress::parse("10.5.0.1")));
    const Match& m1 = p.doc.filters[1].match;
    BOOST_CHECK(m1.src.contains(*IpAddress::parse("10.8.0.20")));
    BOOST_CHECK(!m1.src.contains(*IpAddress::parse("10.8.0.21")));
    BOOST_CHECK(!m1.dst.contains(*IpAddress::parse("10.7.0.9")));
    BOOST_CHECK(m1.dst.contains(*IpAddress::parse("10.7.1.0")));
    BOOST_CHECK(p.doc.filters[2].match.src.contains(*IpAddress::parse("2001:db8:ff::1")));
}

BOOST_AUTO_TEST_CASE(service_statement) {
    Parsed p = parse(R"(
SERVICE web PROTOCOL = TCP DSTPORT = 443 SRCPORT >= 1024
SERVICE ping PROTOCOL = ICMP TYPE = 8 CODE = 0
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SERVICE = WEB
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND SERVICE = ping
FILTER_INTERFACE LINE = ETH0 SET = s
)");
    expect_ok(p);
    const Match& m = p.doc.filters[0].match;
    BOOST_CHECK(m.proto == NumSet::of({{6, 6}}, 255));
    BOOST_CHECK(m.dport == NumSet::of({{443, 443}}, 65535));
    BOOST_CHECK(m.sport == NumSet::of({{1024, 65535}}, 65535));
    BOOST_CHECK(p.doc.filters[1].match.icmp_type == NumSet::of({{8, 8}}, 255));
}

BOOST_AUTO_TEST_CASE(filter_interface_forms) {
    Parsed p = parse(R"(
FILTER SET a ACTION = PERMIT
FILTER SET b ACTION = DENY
FILTER SET c ACTION = DENY
FILTER_INTERFACE LINE = ETH0 SET = a, b
FILTER_INTERFACE LINE = ETH0 SET = c
FILTER_INTERFACE PPP_FILTER_ID = dialin SET = a
)");
    expect_ok(p);
    BOOST_REQUIRE_EQUAL(p.doc.interfaces.size(), 3u);
    BOOST_CHECK_EQUAL(p.doc.interfaces[0].sets.size(), 2u);
    BOOST_CHECK_EQUAL(p.doc.interfaces[0].sets[1].first, "b");
    BOOST_CHECK(p.doc.interfaces[2].ppp);
    BOOST_CHECK_EQUAL(p.doc.interfaces[2].name, "dialin");
}

BOOST_AUTO_TEST_CASE(ipsec_policy_filter) {
    Parsed p = parse(R"(
FILTER SET preipsec ACTION = PERMIT DIRECTION = * SRCADDR = * DSTADDR = * PROTOCOL = UDP %
       SRCPORT = 500 DSTPORT = 500
FILTER SET policy ACTION = IPSEC SRCADDR = 10.6.0.0/16 DSTADDR = 10.196.8.0/24 PROTOCOL = TCP %
       SRCPORT = * DSTPORT = 443 JRN = FULL CONNECTION_DEFINITION = HRgw2FINgw
FILTER_INTERFACE LINE = ETH0 SET = preipsec, policy
)");
    expect_ok(p);
    const Filter& f = p.doc.filters[1];
    BOOST_CHECK(f.action == Action::Ipsec);
    BOOST_CHECK(f.direction == Direction::Outbound);
    BOOST_CHECK_EQUAL(f.connection, "HRgw2FINgw");
    // Inbound, the mirror applies: remote subnet to local subnet, from port 443.
    Match in = f.match_for(true);
    BOOST_CHECK(in.src.contains(*IpAddress::parse("10.196.8.9")));
    BOOST_CHECK(in.dst.contains(*IpAddress::parse("10.6.1.5")));
    BOOST_CHECK(in.sport == NumSet::of({{443, 443}}, 65535));
    BOOST_CHECK(in.dport.all);
    BOOST_CHECK(f.applies(true) && f.applies(false));
}

BOOST_AUTO_TEST_CASE(include_expands_in_place_and_numbers_rules_through) {
    MemFiles fs;
    fs.files["/r/common/ike.i3p"] =
        "FILTER SET pre ACTION = PERMIT PROTOCOL = UDP DSTPORT = 500\nINCLUDE 'more.i3p'\n";
    fs.files["/r/common/more.i3p"] = "ADDRESS peer IP = 192.0.2.2\n";
    Parsed p = parse("FILTER SET pre ACTION = DENY PROTOCOL = ICMP\n"
                     "INCLUDE FILE = common/ike.i3p\n"
                     "FILTER SET pre ACTION = PERMIT SRCADDR = peer\n"
                     "FILTER_INTERFACE LINE = ETH0 SET = pre\n",
                     &fs);
    expect_ok(p);
    BOOST_REQUIRE_EQUAL(p.doc.filters.size(), 3u);
    BOOST_CHECK_EQUAL(p.doc.filters[1].number, 2);
    BOOST_CHECK_EQUAL(p.doc.where(p.doc.filters[1].loc), "/r/common/ike.i3p:1:1");
    BOOST_CHECK_EQUAL(p.doc.filters[2].number, 3);
    BOOST_CHECK_EQUAL(p.doc.files.size(), 3u);
}

BOOST_AUTO_TEST_CASE(unused_set_is_a_warning) {
    Parsed p = parse("FILTER SET a ACTION = PERMIT\nFILTER SET spare ACTION = DENY\n"
                     "FILTER_INTERFACE LINE = ETH0 SET = a\n");
    expect_ok(p);
    BOOST_REQUIRE_EQUAL(p.warnings.size(), 1u);
    BOOST_CHECK_EQUAL(p.warnings[0].id, "RUL0149");
    BOOST_CHECK_EQUAL(p.warnings[0].value(1), kMain + ":2:12");
    BOOST_CHECK_EQUAL(msgcat::severity(p.warnings[0]), 10);
}

// The example of qvpn-rules(5) and the seeds of the fuzz corpus that are
// meant to be valid.
BOOST_AUTO_TEST_CASE(man_page_example_and_valid_seeds) {
    const char* src = std::getenv("QVPN_SOURCE_DIR");
    BOOST_REQUIRE(src != nullptr);
    std::string dir = std::string(src) + "/rules/tests/corpus/rules_parser/";
    DiskFiles fs;
    Parsed p = load_rules_file(dir + "man_example.i3p", fs);
    expect_ok(p);
    BOOST_CHECK_EQUAL(p.doc.filters.size(), 8u);
    BOOST_CHECK(p.doc.filters[2].action == Action::Ipsec);
    BOOST_CHECK(p.doc.filters[2].match.dst.contains(*IpAddress::parse("10.196.8.200")));
    BOOST_CHECK(p.doc.filters[5].match.starting);
    expect_ok(load_rules_file(dir + "ibm_samples.i3p", fs));
}

BOOST_AUTO_TEST_CASE(crlf_line_ends) {
    Parsed p = parse("FILTER SET a ACTION = PERMIT\r\nFILTER_INTERFACE LINE = ETH0 SET = a\r\n");
    expect_ok(p);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(rul0101_bad_character) {
    expect_error(one("JRN = OFF ;"), "RUL0101", "1:40");
    expect_error(parse("FILTER SET a ACTION = PERMIT\n  \x01\n" + std::string(kFi)), "RUL0101",
                 "2:3");
    expect_error(one("JRN = OFF !"), "RUL0101", "1:40");
}

BOOST_AUTO_TEST_CASE(rul0102_unterminated_string) {
    expect_error(one("JRN = OFF 'abc"), "RUL0102", "1:40");
}

BOOST_AUTO_TEST_CASE(rul0103_unknown_statement) {
    expect_error(parse("FILTR SET s ACTION = PERMIT"), "RUL0103", "1:1");
    expect_error(parse("= 5"), "RUL0103", "1:1");
}

BOOST_AUTO_TEST_CASE(rul0104_keyword_not_valid) {
    expect_error(one("COLOR = RED"), "RUL0104", "1:30");
    expect_error(parse("FILTER_INTERFACE LINE = A SET = s PORT = 1\nFILTER SET s ACTION = DENY"),
                 "RUL0104", "1:35");
    expect_error(parse("ADDRESS a IP = 10.0.0.1 PORT = 5"), "RUL0104", "1:25");
    expect_error(parse("SERVICE a SRCADDR = 10.0.0.1"), "RUL0104", "1:11");
    expect_error(parse("INCLUDE x.i3p EXTRA"), "RUL0104", "1:15");
}

BOOST_AUTO_TEST_CASE(rul0105_keyword_twice) {
    expect_error(one("JRN = OFF JRN = FULL"), "RUL0105", "1:40");
    expect_error(parse("FILTER SET s ACTION = DENY\n"
                       "FILTER_INTERFACE LINE = A PPP_FILTER_ID = B SET = s"),
                 "RUL0105", "2:27");
}

BOOST_AUTO_TEST_CASE(rul0106_expected) {
    expect_error(one("DSTPORT 80"), "RUL0106", "1:38");
    expect_error(one("PROTOCOL ="), "RUL0106", "2:1");
    expect_error(parse("ADDRESS = 1"), "RUL0106", "1:9");
    expect_error(parse("FILTER SET s ACTION" + std::string(kFi)), "RUL0106", "2:1");
}

BOOST_AUTO_TEST_CASE(rul0107_value_not_valid) {
    expect_error(parse("FILTER SET s ACTION = ALLOW" + std::string(kFi)), "RUL0107", "1:23");
    expect_error(one("DIRECTION = IN"), "RUL0107", "1:42");
    expect_error(one("FRAGMENTS = SOME"), "RUL0107", "1:42");
    expect_error(one("JRN = ON"), "RUL0107", "1:36");
    expect_error(one("PROTOCOL = XYZ"), "RUL0107", "1:41");
    expect_error(one("PROTOCOL = 256"), "RUL0107", "1:41");
    expect_error(one("PROTOCOL = TCP DSTPORT = 65536"), "RUL0107", "1:55");
    expect_error(one("PROTOCOL = TCP DSTPORT = http"), "RUL0107", "1:55");
    expect_error(one("PROTOCOL = ICMP TYPE = 300"), "RUL0107", "1:53");
    expect_error(parse("ADDRESS a IP = 10.0.0.300"), "RUL0107", "1:16");
    expect_error(parse("ADDRESS a IP = 10.0.0.1 MASK = 255.0.255.0"), "RUL0107", "1:32");
    expect_error(parse("ADDRESS a IP = 10.0.0.1 THROUGH 2001:db8::1"), "RUL0107", "1:33");
    expect_error(parse("ADDRESS a IP = 10.0.0.1 TYPE = FRIENDLY"), "RUL0107", "1:32");
}

BOOST_AUTO_TEST_CASE(rul0108_required) {
    expect_error(parse("FILTER ACTION = PERMIT"), "RUL0108", "1:1");
    expect_error(parse("FILTER SET s"), "RUL0108", "1:1");
    expect_error(parse("FILTER SET s ACTION = DENY\nFILTER_INTERFACE SET = s"), "RUL0108", "2:1");
    expect_error(parse("FILTER SET s ACTION = DENY\nFILTER_INTERFACE LINE = A"), "RUL0108", "2:1");
    expect_error(parse("ADDRESS a TYPE = TRUSTED"), "RUL0108", "1:1");
}

BOOST_AUTO_TEST_CASE(rul0109_nat) {
    expect_error(parse("HIDE 10.0.0.0 BEHIND x"), "RUL0109", "1:1");
    expect_error(parse("MAPNAT a TO b"), "RUL0109", "1:1");
}

BOOST_AUTO_TEST_CASE(rul0110_operator) {
    expect_error(one("SRCADDR < 10.0.0.1"), "RUL0110", "1:38");
    expect_error(one("PROTOCOL <> TCP"), "RUL0110", "1:39");
    expect_error(one("PROTOCOL = TCP DSTPORT > 1-5"), "RUL0110", "1:55");
    expect_error(one("PROTOCOL = TCP DSTPORT <> *"), "RUL0110", "1:56");
    expect_error(one("SRCADDR <> *"), "RUL0110", "1:41");
}

BOOST_AUTO_TEST_CASE(rul0111_empty) {
    expect_error(one("PROTOCOL = TCP DSTPORT = 90-80"), "RUL0111", "1:55");
    expect_error(one("PROTOCOL = TCP DSTPORT < 0"), "RUL0111", "1:55");
    expect_error(one("PROTOCOL = TCP DSTPORT > 65535"), "RUL0111", "1:55");
    expect_error(parse("ADDRESS a IP = 10.0.0.9 THROUGH 10.0.0.1"), "RUL0111", "1:33");
    expect_error(one("SRCADDR <> 0.0.0.0/0"), "RUL0111", "1:41");
}

BOOST_AUTO_TEST_CASE(rul0120_include_depth) {
    MemFiles fs;
    for (int i = 0; i < 10; ++i) {
        fs.files["/r/i" + std::to_string(i) + ".i3p"] =
            "INCLUDE i" + std::to_string(i + 1) + ".i3p\n";
    }
    fs.files["/r/i10.i3p"] = "";
    Parsed p = parse("INCLUDE i0.i3p", &fs);
    expect_error(p, "RUL0120", "/r/i6.i3p:1:1");
}

BOOST_AUTO_TEST_CASE(rul0121_include_cycle) {
    MemFiles fs;
    fs.files["/r/a.i3p"] = "INCLUDE b.i3p\n";
    fs.files["/r/b.i3p"] = "\n  INCLUDE 'main.i3p'\n";
    fs.files[kMain] = "";
    Parsed p = parse("INCLUDE a.i3p", &fs);
    expect_error(p, "RUL0121", "/r/b.i3p:2:11");
}

BOOST_AUTO_TEST_CASE(rul0122_include_missing) {
    expect_error(parse("INCLUDE FILE = nothere.i3p"), "RUL0122", "1:16");
}

BOOST_AUTO_TEST_CASE(rul0130_address_name) {
    expect_error(one("SRCADDR = branch"), "RUL0130", "1:40");
}

BOOST_AUTO_TEST_CASE(rul0131_service_name) {
    expect_error(one("SERVICE = web"), "RUL0131", "1:40");
}

BOOST_AUTO_TEST_CASE(rul0132_defined_twice) {
    expect_error(parse("ADDRESS a IP = 10.0.0.1\nADDRESS A IP = 10.0.0.2"), "RUL0132", "2:9");
    Parsed p = parse("SERVICE w PROTOCOL = TCP\nSERVICE w PROTOCOL = UDP");
    expect_error(p, "RUL0132", "2:9");
    BOOST_CHECK_EQUAL(p.errors[0].value(4), kMain + ":1:9");
}

BOOST_AUTO_TEST_CASE(rul0133_set_not_defined) {
    expect_error(parse("FILTER SET a ACTION = PERMIT\nFILTER_INTERFACE LINE = E SET = a, bb"),
                 "RUL0133", "2:36");
}

BOOST_AUTO_TEST_CASE(rul0134_set_twice_on_line) {
    expect_error(parse("FILTER SET a ACTION = PERMIT\nFILTER_INTERFACE LINE = E SET = a\n"
                       "FILTER_INTERFACE LINE = e SET = A"),
                 "RUL0134", "3:33");
}

BOOST_AUTO_TEST_CASE(rul0140_ipsec_without_connection) {
    expect_error(parse("FILTER SET s ACTION = IPSEC DIRECTION = OUTBOUND" + std::string(kFi)),
                 "RUL0140", "1:1");
}

BOOST_AUTO_TEST_CASE(rul0141_ipsec_not_outbound) {
    expect_error(parse("FILTER SET s ACTION = IPSEC DIRECTION = INBOUND "
                       "CONNECTION_DEFINITION = g" + std::string(kFi)),
                 "RUL0141", "1:29");
    expect_error(parse("FILTER SET s ACTION = IPSEC DIRECTION = * "
                       "CONNECTION_DEFINITION = g" + std::string(kFi)),
                 "RUL0141", "1:29");
}

BOOST_AUTO_TEST_CASE(rul0142_connection_on_permit) {
    expect_error(one("CONNECTION_DEFINITION = g"), "RUL0142", "1:54");
}

BOOST_AUTO_TEST_CASE(rul0143_ports_without_tcp_udp) {
    expect_error(one("PROTOCOL = ICMP DSTPORT = 80"), "RUL0143", "1:56");
    expect_error(one("PROTOCOL = ESP SRCPORT = 80"), "RUL0143", "1:55");
}

BOOST_AUTO_TEST_CASE(rul0144_type_without_icmp) {
    expect_error(one("PROTOCOL = TCP TYPE = 8"), "RUL0144", "1:52");
    expect_error(one("CODE = 0"), "RUL0144", "1:37");
}

BOOST_AUTO_TEST_CASE(rul0145_mixed_versions) {
    expect_error(one("SRCADDR = 10.0.0.1 DSTADDR = 2001:db8::1"), "RUL0145", "1:59");
}

BOOST_AUTO_TEST_CASE(rul0146_icmp_version) {
    expect_error(one("SRCADDR = 2001:db8::1 PROTOCOL = ICMP TYPE = 8"), "RUL0146", "1:63");
    expect_error(one("DSTADDR = 10.0.0.1 PROTOCOL = ICMPV6 CODE = 0"), "RUL0146", "1:60");
}

BOOST_AUTO_TEST_CASE(rul0147_service_with_protocol_and_through_with_mask) {
    Parsed p = parse("SERVICE w PROTOCOL = TCP\nFILTER SET s ACTION = PERMIT SERVICE = w "
                     "DSTPORT = 80" + std::string(kFi));
    expect_error(p, "RUL0147", "2:52");
    expect_error(parse("ADDRESS a IP = 10.0.0.1 THROUGH 10.0.0.5 MASK = 24"), "RUL0147", "1:49");
}

BOOST_AUTO_TEST_CASE(rul0171_file_too_large) {
    std::string path = "/tmp/qv-ru-rules-big-" + std::to_string(getpid()) + ".i3p";
    {
        std::ofstream out(path);
    }
    std::filesystem::resize_file(path, kMaxFileBytes + 1);
    DiskFiles fs;
    Parsed p = parse_file(path, fs);
    std::filesystem::remove(path);
    BOOST_REQUIRE_EQUAL(p.errors.size(), 1u);
    BOOST_CHECK_EQUAL(p.errors[0].id, "RUL0171");
}

BOOST_AUTO_TEST_CASE(rul0172_too_many_errors) {
    std::string text;
    for (int i = 0; i < 300; ++i) {
        text += "FILTER SET s ACTION = MAYBE\n";
    }
    Parsed p = parse(text);
    BOOST_CHECK_EQUAL(p.errors.size(), kMaxErrors);
    BOOST_CHECK_EQUAL(p.errors.back().id, "RUL0172");
}

BOOST_AUTO_TEST_CASE(missing_main_file) {
    DiskFiles fs;
    Parsed p = parse_file("/nonexistent/qv-ru.i3p", fs);
    BOOST_REQUIRE_EQUAL(p.errors.size(), 1u);
    BOOST_CHECK_EQUAL(p.errors[0].id, "QVP0004");
}

BOOST_AUTO_TEST_CASE(independent_errors_are_all_reported) {
    Parsed p = parse("FILTER SET s ACTION = ALLOW\nFILTER SET s ACTION = PERMIT JRN = HALF\n"
                     "FILTER SET s ACTION = DENY\nBOGUS\n");
    BOOST_CHECK_EQUAL(p.errors.size(), 3u);
}

BOOST_AUTO_TEST_CASE(every_rul_message_is_in_the_catalog) {
    for (const char* id : {"RUL0001", "RUL0101", "RUL0102", "RUL0103", "RUL0104", "RUL0105",
                           "RUL0106", "RUL0107", "RUL0108", "RUL0109", "RUL0110", "RUL0111",
                           "RUL0120", "RUL0121", "RUL0122", "RUL0130", "RUL0131", "RUL0132",
                           "RUL0133", "RUL0134", "RUL0140", "RUL0141", "RUL0142", "RUL0143",
                           "RUL0144", "RUL0145", "RUL0146", "RUL0147", "RUL0148", "RUL0149",
                           "RUL0150", "RUL0151", "RUL0152", "RUL0153", "RUL0160", "RUL0161",
                           "RUL0162", "RUL0171", "RUL0172", "TCP5B28"}) {
        BOOST_TEST_CONTEXT(id) {
            BOOST_CHECK(msgcat::builtin().find(id) != nullptr);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
