// The VPN-generated rules, the active-rules state and rules::ActiveRules,
// and the pure parts of the journal job (prefixes, packet headers, the token
// bucket). No root needed: nothing here touches nftables.
#define BOOST_TEST_MODULE rules_state
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/msg/catalog.hpp"
#include "rules/active_rules.hpp"
#include "rules/generate.hpp"
#include "rules/journal_job.hpp"
#include "rules/parser.hpp"
#include "rules/session.hpp"
#include "rules/store.hpp"
#include "rules/tests/mem_files.hpp"
#include "rules/tests/policy_fixture.hpp"
#include "rules/vpn_config.hpp"

using namespace qvpn;
using namespace qvpn::rules;
namespace fs = std::filesystem;

namespace {

struct TempRoot {
    fs::path dir;
    TempRoot() {
        char tmpl[] = "/tmp/qv-ru-state-XXXXXX";
        dir = mkdtemp(tmpl);
        setenv("QVPN_ROOT", dir.c_str(), 1);
    }
    ~TempRoot() {
        unsetenv("QVPN_ROOT");
        fs::remove_all(dir);
    }
};

Parsed parse_checked(const std::string& text) {
    test::MemFiles fs;
    Parsed p = parse_text("/rulegen/qvpn_generated.i3p", text, fs);
    if (p.ok()) {
        check(p);
    }
    for (const auto& e : p.errors) {
        BOOST_TEST_MESSAGE(msgcat::line(e));
    }
    return p;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

VpnConfig branch_office_config() {
    VpnConfig cfg;
    policy::DynamicGroup g;
    g.name = "HRgw2FINgw";
    g.lines = {"TRLINE"};
    g.journaling = policy::Journaling::IpTraffic;
    cfg.groups.push_back(g);
    policy::DynamicConnection c;
    c.name = "HRgw2FINgw:L1";
    c.group = "HRgw2FINgw";
    c.local_id = {policy::IdType::IPv4, "192.0.2.227"};
    c.remote_id = {policy::IdType::IPv4, "198.51.100.250"};
    c.local = {policy::EndpointType::IPv4Subnet, "10.6.0.0", "255.255.0.0"};
    c.remote = {policy::EndpointType::IPv4Subnet, "10.196.8.0", "255.255.255.0"};
    cfg.connections.push_back(c);
    return cfg;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(generated_rules)

BOOST_AUTO_TEST_CASE(branch_office_gateway_rules_parse_and_say_what_the_group_says) {
    VpnConfig cfg = branch_office_config();
    GeneratedRules g = generate_rules(cfg, {"ETH0"});
    BOOST_TEST_MESSAGE(g.text);
    BOOST_CHECK_EQUAL(g.policy_filters, 1u);
    BOOST_REQUIRE_EQUAL(g.lines.size(), 1u);
    BOOST_CHECK_EQUAL(g.lines[0], "TRLINE");
    Parsed p = parse_checked(g.text);
    BOOST_REQUIRE(p.ok());
    BOOST_CHECK(p.warnings.empty());
    // 4 pre-IPSec rules (500 and 4500, both ways), 1 policy filter, permit other.
    BOOST_REQUIRE_EQUAL(p.doc.filters.size(), 6u);
    const Filter& pre = p.doc.filters[0];
    BOOST_CHECK_EQUAL(pre.set, "preipsec_HRgw2FINgw");
    BOOST_CHECK(pre.direction == Direction::Outbound);
    BOOST_CHECK(pre.match.src.contains(*IpAddress::parse("192.0.2.227")));
    BOOST_CHECK(pre.match.dst.contains(*IpAddress::parse("198.51.100.250")));
    BOOST_CHECK(pre.match.sport == NumSet::of({{500, 500}}, 65535));
    const Filter& pol = p.doc.filters[4];
    BOOST_CHECK(pol.action == Action::Ipsec);
    BOOST_CHECK_EQUAL(pol.connection, "HRgw2FINgw");
    BOOST_CHECK(pol.journal);  // *IPTRAFFIC
    BOOST_CHECK(pol.fragments == Fragments::All);
    BOOST_CHECK(pol.match.src.covers(*IpRange::subnet(*IpAddress::parse("10.6.0.0"), "16")));
    BOOST_CHECK(!pol.match.src.contains(*IpAddress::parse("10.7.0.1")));
    BOOST_CHECK(pol.match.dst.covers(*IpRange::subnet(*IpAddress::parse("10.196.8.0"), "24")));
    BOOST_CHECK(pol.match.proto.all);
    const Filter& other = p.doc.filters[5];
    BOOST_CHECK_EQUAL(other.set, kPermitOtherSet);
    BOOST_CHECK(other.direction == Direction::Both);
    BOOST_REQUIRE_EQUAL(p.doc.interfaces.size(), 1u);
    const auto& sets = p.doc.interfaces[0].sets;
    BOOST_REQUIRE_EQUAL(sets.size(), 3u);
    BOOST_CHECK_EQUAL(sets[0].first, "preipsec_HRgw2FINgw");
    BOOST_CHECK_EQUAL(sets[1].first, "policy_HRgw2FINgw");
    BOOST_CHECK_EQUAL(sets[2].first, kPermitOtherSet);
}

BOOST_AUTO_TEST_CASE(without_permit_other_and_with_all_lines) {
    VpnConfig cfg = branch_office_config();
    cfg.groups[0].lines.clear();  // *ALL
    cfg.groups[0].journaling = policy::Journaling::ConnectionActivity;
    cfg.attributes.generated_permit_other = false;
    GeneratedRules g = generate_rules(cfg, {"ETH0", "ETH1"});
    Parsed p = parse_checked(g.text);
    BOOST_REQUIRE(p.ok());
    BOOST_CHECK_EQUAL(p.doc.filters.size(), 5u);
    BOOST_CHECK(!p.doc.filters[4].journal);  // *CNNACT journals no traffic
    BOOST_REQUIRE_EQUAL(p.doc.interfaces.size(), 2u);
    BOOST_CHECK_EQUAL(p.doc.interfaces[1].name, "ETH1");
    BOOST_CHECK_EQUAL(p.doc.interfaces[1].sets.size(), 2u);
}

BOOST_AUTO_TEST_CASE(manual_connection_ranges_names_and_empty_groups) {
    VpnConfig cfg;
    policy::DynamicGroup empty;
    empty.name = "NOCNN";
    cfg.groups.push_back(empty);  // a group without connections generates nothing
    policy::ManualConnection m;
    m.name = "Branch#2";          // # starts a comment: the name must be quoted
    m.local = {policy::EndpointType::IPv4Range, "10.1.1.1", "10.1.1.9"};
    m.remote = {policy::EndpointType::IPv6Subnet, "2001:db8::", "32"};
    m.ip_protocol = 17;
    m.remote_port = 53;
    m.lines = {"ETH0"};
    cfg.manual.push_back(m);
    GeneratedRules g = generate_rules(cfg, {"ETH0"});
    Parsed p = parse_checked(g.text);
    // The local range is IPv4 and the remote subnet IPv6: the checks refuse it.
    BOOST_REQUIRE_EQUAL(p.errors.size(), 1u);
    BOOST_CHECK_EQUAL(p.errors[0].id, "RUL0145");
    cfg.manual[0].remote = {policy::EndpointType::IPv4Subnet, "10.2.0.0", "255.255.0.0"};
    p = parse_checked(generate_rules(cfg, {"ETH0"}).text);
    BOOST_REQUIRE(p.ok());
    BOOST_REQUIRE_EQUAL(p.doc.filters.size(), 2u);
    const Filter& f = p.doc.filters[0];
    BOOST_CHECK_EQUAL(f.connection, "Branch#2");
    BOOST_CHECK(f.match.src.contains(*IpAddress::parse("10.1.1.9")));
    BOOST_CHECK(!f.match.src.contains(*IpAddress::parse("10.1.1.10")));
    BOOST_CHECK(f.match.proto == NumSet::of({{17, 17}}, 255));
    BOOST_CHECK(f.match.dport == NumSet::of({{53, 53}}, 65535));
    BOOST_CHECK(f.match.sport.all);
}

BOOST_AUTO_TEST_CASE(nothing_to_generate) {
    VpnConfig cfg = branch_office_config();
    cfg.groups[0].policy_filter = policy::PolicyFilter::Rules;
    GeneratedRules g = generate_rules(cfg, {"ETH0"});
    BOOST_CHECK_EQUAL(g.policy_filters, 0u);
    BOOST_CHECK(g.text.empty());
}

BOOST_AUTO_TEST_CASE(configuration_read_through_the_policy_database) {
    TempRoot root;
    test::FixtureOptions o;
    o.line = "TRLINE";
    o.interface = "eth7";
    o.manual = true;
    o.active = "HRgw2FINgw:L1";
    Status st = test::write_branch_office(o);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : msgcat::line(st.error())));
    auto cfg = read_vpn_config();
    BOOST_REQUIRE(cfg.ok());
    BOOST_CHECK_EQUAL(cfg->interface_of("trline"), "eth7");
    BOOST_CHECK_EQUAL(cfg->interface_of("eth3"), "eth3");
    BOOST_CHECK(cfg->has_definition("hrgw2fingw"));
    BOOST_CHECK(cfg->has_definition("MANCNN"));
    BOOST_CHECK(!cfg->has_definition("HRgw2FINgw:L1"));
    BOOST_REQUIRE_EQUAL(cfg->states.size(), 1u);
    BOOST_CHECK_EQUAL(definition_of(cfg->states[0]), "HRgw2FINgw");
    GeneratedRules g = generate_rules(*cfg, {});
    BOOST_CHECK_EQUAL(g.policy_filters, 2u);
    BOOST_CHECK(parse_checked(g.text).ok());
}

BOOST_AUTO_TEST_CASE(no_policy_database_is_an_empty_configuration) {
    TempRoot root;
    auto cfg = read_vpn_config();
    BOOST_REQUIRE(cfg.ok());
    BOOST_CHECK(cfg->groups.empty() && cfg->lines.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(state)

// Write one unit with the rules of `text` applied to the lines it names.
void record(Store& s, const std::string& text, const std::string& iface) {
    Parsed p = parse_checked(text);
    BOOST_REQUIRE(p.ok());
    auto id = s.next_unit_id();
    BOOST_REQUIRE(id.ok());
    StoredUnit u;
    u.id = *id;
    u.file = "/etc/rules.i3p";
    u.files = {u.file};
    u.loaded_at = "2026-12-03T17:40:01Z";
    u.body = "chain u" + std::to_string(*id) + "_x {}\n";
    std::vector<StoredRule> rules;
    for (const auto& f : p.doc.filters) {
        StoredRule r;
        r.number = f.number;
        r.set = f.set;
        r.action = f.action;
        r.direction = f.direction;
        r.connection = f.connection;
        r.location = p.doc.where(f.loc);
        r.match = f.match;
        r.srcaddr = f.src.op + " " + f.src.value;
        rules.push_back(r);
    }
    BOOST_REQUIRE(s.add_unit(u, rules).ok());
    for (const auto& fi : p.doc.interfaces) {
        StoredLine l;
        l.plan.line = fi.name;
        l.plan.interface = iface;
        l.plan.unit = *id;
        l.plan.chain = "u" + std::to_string(*id) + "_L0";
        l.plan.sets[0][0] = {"u1_S0_i"};
        for (const auto& [set, loc] : fi.sets) {
            l.sets.push_back(set);
        }
        l.loaded_at = u.loaded_at;
        BOOST_REQUIRE(s.put_line(l).ok());
    }
}

const char* kRules = R"(
FILTER SET pre ACTION = PERMIT PROTOCOL = UDP DSTPORT = 500
FILTER SET pol ACTION = IPSEC SRCADDR = 10.6.0.0/16 DSTADDR = 10.196.8.0/24 %
   CONNECTION_DEFINITION = HRgw2FINgw
FILTER SET pol ACTION = IPSEC SRCADDR = 10.6.1.5 DSTADDR = 10.99.0.1 PROTOCOL = TCP DSTPORT = 443 %
   CONNECTION_DEFINITION = Other
FILTER_INTERFACE LINE = TRLINE SET = pre, pol
)";

BOOST_AUTO_TEST_CASE(round_trip_and_active_rules_answers) {
    TempRoot root;
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        record(*s, kRules, "eth0");
        BOOST_REQUIRE(s->commit().ok());
    }
    auto st = Store::open(state_path(), false)->read();
    BOOST_REQUIRE(st.ok());
    auto ar = std::optional<ActiveRules>(ActiveRules::from_state(*st));
    BOOST_CHECK(!ar->empty());
    BOOST_REQUIRE_EQUAL(ar->policy_filters().size(), 2u);
    const PolicyFilter& pf = ar->policy_filters()[0];
    BOOST_CHECK_EQUAL(pf.connection, "HRgw2FINgw");
    BOOST_CHECK_EQUAL(pf.rule, 2);
    BOOST_CHECK_EQUAL(pf.order, 0);
    BOOST_CHECK_EQUAL(pf.location, "/rulegen/qvpn_generated.i3p:3:1");
    BOOST_REQUIRE_EQUAL(pf.lines.size(), 1u);
    BOOST_CHECK_EQUAL(pf.lines[0], "TRLINE");
    BOOST_CHECK_EQUAL(pf.interfaces[0], "eth0");
    BOOST_CHECK(ar->has_policy_filter("hrgw2fingw"));
    BOOST_CHECK(!ar->has_policy_filter("Nobody"));
    BOOST_CHECK((ar->connections() == std::vector<std::string>{"HRgw2FINgw", "Other"}));

    auto sc = pf.scopes();
    BOOST_REQUIRE_EQUAL(sc.size(), 1u);
    BOOST_CHECK_EQUAL(sc[0].first.to_string(), "10.6.0.0/16");
    BOOST_CHECK_EQUAL(sc[0].second.to_string(), "10.196.8.0/24");

    // TCP8628's question: do the data endpoints fall inside?
    DataEndpoints ep{*IpRange::subnet(*IpAddress::parse("10.6.0.0"), "16"),
                     *IpRange::subnet(*IpAddress::parse("10.196.8.0"), "24")};
    BOOST_CHECK(ar->covering("HRgw2FINgw", ep) == &pf);
    DataEndpoints wider = ep;
    wider.remote = *IpRange::subnet(*IpAddress::parse("10.196.0.0"), "16");
    BOOST_CHECK(ar->covering("HRgw2FINgw", wider) == nullptr);
    DataEndpoints host{IpRange::single(*IpAddress::parse("10.6.1.5")),
                       IpRange::single(*IpAddress::parse("10.99.0.1")), 6, 0, 443};
    BOOST_CHECK(ar->covering("Other", host) != nullptr);
    host.protocol = 0;  // any protocol is more than TCP port 443
    BOOST_CHECK(ar->covering("Other", host) == nullptr);
    host.protocol = 6;
    host.remote_port = 80;
    BOOST_CHECK(ar->covering("Other", host) == nullptr);
}

BOOST_AUTO_TEST_CASE(scopes_of_a_filter_for_any_address) {
    PolicyFilter pf;
    auto sc = pf.scopes();  // SRCADDR = * DSTADDR = *: both versions
    BOOST_REQUIRE_EQUAL(sc.size(), 2u);
    BOOST_CHECK(sc[0].first == IpRange::any(4) && sc[0].second == IpRange::any(4));
    BOOST_CHECK(sc[1].first == IpRange::any(6) && sc[1].second == IpRange::any(6));
    pf.match.family = 6;
    pf.match.dst = AddrSet::of({*IpRange::subnet(*IpAddress::parse("2001:db8::"), "32")});
    sc = pf.scopes();
    BOOST_REQUIRE_EQUAL(sc.size(), 1u);
    BOOST_CHECK(sc[0].first == IpRange::any(6));
}

BOOST_AUTO_TEST_CASE(rollback_leaves_the_file_byte_identical) {
    TempRoot root;
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        record(*s, kRules, "eth0");
        BOOST_REQUIRE(s->commit().ok());
    }
    auto snapshot = [] {
        return file_bytes(state_path()) + "|" + file_bytes(state_path() + "-wal");
    };
    std::string before = snapshot();
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        BOOST_REQUIRE(s->remove_line("TRLINE").ok());
        BOOST_REQUIRE(s->prune_units().ok());
        s->rollback();
    }
    BOOST_CHECK(snapshot() == before);
    auto st = Store::open(state_path(), false)->read();
    BOOST_REQUIRE(st.ok());
    BOOST_CHECK_EQUAL(ActiveRules::from_state(*st).policy_filters().size(), 2u);
}

BOOST_AUTO_TEST_CASE(no_state_is_no_rules) {
    TempRoot root;
    auto ar = ActiveRules::load();
    BOOST_REQUIRE(ar.ok());
    BOOST_CHECK(ar->empty());
    BOOST_CHECK(!fs::exists(state_path()));  // reading creates nothing
}

BOOST_AUTO_TEST_CASE(watch_reads_again_only_after_a_change) {
    TempRoot root;
    ActiveRulesWatch watch;
    // No state file: no rules, and the same snapshot while there is none.
    auto a = watch.current();
    BOOST_REQUIRE(a.ok());
    BOOST_CHECK((*a)->empty());
    auto b = watch.current();
    BOOST_REQUIRE(b.ok());
    BOOST_CHECK(a->get() == b->get());
    BOOST_CHECK(!fs::exists(state_path()));
    // A load written: read again. The state names no kernel table here, so
    // the snapshot is the stale one; what counts is that it was read anew.
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        record(*s, kRules, "eth0");
        BOOST_REQUIRE(s->commit().ok());
    }
    auto c = watch.current();
    BOOST_REQUIRE(c.ok());
    BOOST_CHECK(c->get() != b->get());
    BOOST_CHECK((*c)->stale());
    auto d = watch.current();
    BOOST_REQUIRE(d.ok());
    BOOST_CHECK(c->get() == d->get());
    // A rolled-back change is no change; a committed one is.
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        BOOST_REQUIRE(s->remove_line("TRLINE").ok());
        s->rollback();
    }
    auto e = watch.current();
    BOOST_REQUIRE(e.ok());
    BOOST_CHECK(e->get() == d->get());
    {
        auto s = Store::open(state_path(), true);
        BOOST_REQUIRE(s.ok());
        BOOST_REQUIRE(s->begin().ok());
        BOOST_REQUIRE(s->remove_line("TRLINE").ok());
        BOOST_REQUIRE(s->prune_units().ok());
        BOOST_REQUIRE(s->commit().ok());
    }
    auto f = watch.current();
    BOOST_REQUIRE(f.ok());
    BOOST_CHECK(f->get() != e->get());
    BOOST_CHECK((*f)->empty() && !(*f)->stale());
    // The state removed: read again, no rules.
    for (const char* sfx : {"", "-wal", "-shm"}) {
        fs::remove(state_path() + sfx);
    }
    auto g = watch.current();
    BOOST_REQUIRE(g.ok());
    BOOST_CHECK(g->get() != f->get());
    BOOST_CHECK((*g)->empty());
}

BOOST_AUTO_TEST_CASE(match_json_round_trip_and_bad_json) {
    Parsed p = parse_checked(
        "FILTER SET s ACTION = PERMIT SRCADDR <> 2001:db8::/32 PROTOCOL = TCP/STARTING "
        "DSTPORT <> 22\nFILTER_INTERFACE LINE = E SET = s\n");
    BOOST_REQUIRE(p.ok());
    const Match& m = p.doc.filters[0].match;
    auto back = match_from_json(match_to_json(m));
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK(*back == m);
    BOOST_CHECK(!match_from_json("{\"family\":4,\"src\":[[\"10.0.0.1\"]]}").ok());
    BOOST_CHECK(!match_from_json("not json").ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(journal_job)

BOOST_AUTO_TEST_CASE(prefixes) {
    auto p = parse_log_prefix("QF 3 12 I O");
    BOOST_REQUIRE(p);
    BOOST_CHECK_EQUAL(p->unit, 3);
    BOOST_CHECK_EQUAL(p->rule, 12);
    BOOST_CHECK_EQUAL(p->action, 'I');
    BOOST_CHECK(!p->inbound);
    for (const char* bad : {"", "QF 3 12 I", "QF 3 12 X O", "QF 0 1 P I", "QF 1 1 P X",
                            "XX 1 1 P I", "QF a 1 P I", "QF 1 100000 P I", "QF 1 1 PP I"}) {
        BOOST_CHECK_MESSAGE(!parse_log_prefix(bad), bad);
    }
}

Bytes hex(const std::string& h) { return *from_hex(h); }

BOOST_AUTO_TEST_CASE(ipv4_headers) {
    // IPv4 TCP 192.0.2.2:40000 -> 192.0.2.1:22
    Bytes tcp = hex("450000280001000040060000c0000202c0000201" "9c400016");
    auto h = decode_packet(tcp);
    BOOST_REQUIRE(h);
    BOOST_CHECK_EQUAL(h->src, "192.0.2.2");
    BOOST_CHECK_EQUAL(h->dst, "192.0.2.1");
    BOOST_CHECK_EQUAL(h->protocol, 6);
    BOOST_CHECK_EQUAL(h->sport, 40000);
    BOOST_CHECK_EQUAL(h->dport, 22);
    // ICMP echo request: type and code.
    auto icmp = decode_packet(hex("450000280001000040010000c0000202c0000201" "0800"));
    BOOST_REQUIRE(icmp);
    BOOST_CHECK_EQUAL(icmp->sport, 8);
    BOOST_CHECK_EQUAL(icmp->dport, 0);
    // A later fragment has no transport header.
    auto frag = decode_packet(hex("450000280001001040110000c0000202c0000201" "9c400035"));
    BOOST_REQUIRE(frag);
    BOOST_CHECK_EQUAL(frag->protocol, 17);
    BOOST_CHECK_EQUAL(frag->sport, 0);
    // Cut short: the address header is not complete.
    BOOST_CHECK(!decode_packet(hex("4500002800010000400600")));
    BOOST_CHECK(!decode_packet(hex("")));
    BOOST_CHECK(!decode_packet(hex("75000000")));
    // IHL below 5 is not a header.
    BOOST_CHECK(!decode_packet(hex("440000280001000040060000c0000202c0000201")));
    // Transport header cut short: addresses and protocol only.
    auto cut = decode_packet(hex("450000280001000040060000c0000202c0000201" "9c"));
    BOOST_REQUIRE(cut);
    BOOST_CHECK_EQUAL(cut->sport, 0);
}

BOOST_AUTO_TEST_CASE(ipv6_headers_through_extension_headers) {
    std::string base = "6000000000083c40" "20010db8000000000000000000000002"
                       "20010db8000000000000000000000001";
    // destination options (8 bytes) -> UDP 5353 -> 53
    auto h = decode_packet(hex(base + "1100000000000000" "14e90035"));
    BOOST_REQUIRE(h);
    BOOST_CHECK_EQUAL(h->family, 6);
    BOOST_CHECK_EQUAL(h->src, "2001:db8::2");
    BOOST_CHECK_EQUAL(h->protocol, 17);
    BOOST_CHECK_EQUAL(h->dport, 53);
    // fragment header, offset 8: a later fragment
    std::string fragbase = "60000000000a2c40" + base.substr(16);
    auto f = decode_packet(hex(fragbase + "1100000800000001" "14e90035"));
    BOOST_REQUIRE(f);
    BOOST_CHECK_EQUAL(f->protocol, 17);
    BOOST_CHECK_EQUAL(f->dport, 0);
    BOOST_CHECK(!decode_packet(hex("6000000000083c40" "20010db8")));
}

BOOST_AUTO_TEST_CASE(action_entries_carry_every_tf_field) {
    LogPrefix p{1, 7, 'D', true};
    PacketHeader h{4, "192.0.2.2", "192.0.2.1", 17, 40000, 9};
    journal::TfEntry e = action_entry(p, h, "TRLINE");
    BOOST_CHECK_EQUAL(e.revt, "A");
    BOOST_CHECK_EQUAL(e.line, "TRLINE");
    BOOST_CHECK_EQUAL(e.pdir, "I");
    BOOST_CHECK_EQUAL(e.rnum, "7");
    BOOST_CHECK_EQUAL(e.act, "DENY");
    BOOST_CHECK_EQUAL(e.prot, "17");
    BOOST_CHECK_EQUAL(e.srca, "192.0.2.2");
    BOOST_CHECK_EQUAL(e.srcp, "40000");
    BOOST_CHECK_EQUAL(e.dsta, "192.0.2.1");
    BOOST_CHECK_EQUAL(e.dstp, "9");
    BOOST_CHECK_EQUAL(action_entry({1, 2, 'I', false}, {4, "a", "b", 50, 0, 0}, "X").act, "IPSEC");
    BOOST_CHECK_EQUAL(action_entry({1, 2, 'I', false}, {4, "a", "b", 50, 0, 0}, "X").srcp, "");
}

BOOST_AUTO_TEST_CASE(token_bucket_bounds_the_rate) {
    TokenBucket b(10, 5);  // 10 per second, bursts of 5
    SteadyTime t0{};
    int taken = 0;
    for (int i = 0; i < 20; ++i) {
        taken += b.take(t0) ? 1 : 0;
    }
    BOOST_CHECK_EQUAL(taken, 5);
    BOOST_CHECK(!b.take(t0 + std::chrono::milliseconds(50)));
    BOOST_CHECK(b.take(t0 + std::chrono::milliseconds(110)));
    taken = 0;
    for (int i = 0; i < 100; ++i) {
        taken += b.take(t0 + std::chrono::seconds(10)) ? 1 : 0;
    }
    BOOST_CHECK_EQUAL(taken, 5);  // never more than the burst
}

BOOST_AUTO_TEST_CASE(limits_from_the_environment) {
    setenv("QVPN_IPFJRN_RATE", "50", 1);
    setenv("QVPN_IPFJRN_MAX_MB", "3", 1);
    setenv("QVPN_NFLOG_GROUP", "99", 1);
    JobLimits l = JobLimits::from_env();
    BOOST_CHECK_EQUAL(l.rate, 50.0);
    BOOST_CHECK_EQUAL(l.max_bytes, 3u << 20);
    BOOST_CHECK_EQUAL(nflog_group(), 99);
    setenv("QVPN_NFLOG_GROUP", "70000", 1);
    BOOST_CHECK_EQUAL(nflog_group(), 7301);
    unsetenv("QVPN_IPFJRN_RATE");
    unsetenv("QVPN_IPFJRN_MAX_MB");
    unsetenv("QVPN_NFLOG_GROUP");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(proc_net_tcp_addresses) {
    IpAddress a;
    int port = 0;
    BOOST_REQUIRE(parse_proc_address("0100007F:0016", a, port));
    BOOST_CHECK_EQUAL(a.to_string(), "127.0.0.1");
    BOOST_CHECK_EQUAL(port, 22);
    BOOST_REQUIRE(parse_proc_address("B80D0120000000000000000001000000:01BB", a, port));
    BOOST_CHECK_EQUAL(a.to_string(), "2001:db8::1");
    BOOST_CHECK_EQUAL(port, 443);
    BOOST_REQUIRE(parse_proc_address("0000000000000000FFFF00000202000C:0016", a, port));
    BOOST_CHECK_EQUAL(a.to_string(), "12.0.2.2");
    BOOST_CHECK(!parse_proc_address("0100007F", a, port));
    BOOST_CHECK(!parse_proc_address("01007F:0016", a, port));
}
