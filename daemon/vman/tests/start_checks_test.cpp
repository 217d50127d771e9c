#include <boost/test/unit_test.hpp>

#include "daemon/vman/start_checks.hpp"

using namespace qvpn;
using namespace qvpn::vman;
using namespace qvpn::policy;

namespace {

// System A of the seed's branch office scenario.
ConnectionPolicy branch_office() {
    ConnectionPolicy p;
    p.connection.name = "HRgw2FINgw:L1";
    p.connection.group = "HRgw2FINgw";
    p.connection.local_id = {IdType::IPv4, "192.0.2.227"};
    p.connection.remote_id = {IdType::IPv4, "198.51.100.250"};
    p.connection.local = {EndpointType::IPv4Subnet, "10.6.0.0", "255.255.0.0"};
    p.connection.remote = {EndpointType::IPv4Subnet, "10.196.8.0", "255.255.255.0"};
    p.group.name = "HRgw2FINgw";
    p.group.role = SystemRole::Gw2Gw;
    p.data.mode = Mode::Tunnel;
    return p;
}

SystemView system_a() {
    SystemView s;
    s.is_local = [](const IpAddress& a) {
        return a == *IpAddress::parse("192.0.2.227") || a == *IpAddress::parse("10.6.11.1") ||
               a == *IpAddress::parse("2001:db8::227");
    };
    s.resolve = [](const std::string& h, int) -> std::optional<IpAddress> {
        if (h == "finance.example") {
            return IpAddress::parse("198.51.100.250");
        }
        return std::nullopt;
    };
    return s;
}

PolicyFilterView loaded_view() {
    PolicyFilterView f;
    f.rules_loaded = true;
    f.filter_loaded = true;
    f.scopes = {{*IpRange::subnet(*IpAddress::parse("10.6.0.0"), "16"),
                 *IpRange::subnet(*IpAddress::parse("10.196.8.0"), "24")}};
    return f;
}

FilterSource src(PolicyFilterView v) {
    return [v] { return Result<PolicyFilterView>(v); };
}

FilterSource loaded() { return src(loaded_view()); }

const CheckFailure& failed(const CheckResult& r) {
    BOOST_REQUIRE(std::holds_alternative<CheckFailure>(r));
    return std::get<CheckFailure>(r);
}

void expect(const CheckResult& r, const char* id, int reason, const char* rc = nullptr) {
    const CheckFailure& f = failed(r);
    BOOST_TEST(f.detail.id == id);
    BOOST_TEST(f.reason == reason);
    if (rc != nullptr) {
        BOOST_TEST(f.detail.value(2) == rc);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(branch_office_passes) {
    auto r = check_dynamic_start(branch_office(), system_a(), loaded(), {});
    BOOST_REQUIRE(std::holds_alternative<StartPlan>(r));
    const auto& plan = std::get<StartPlan>(r);
    BOOST_TEST(plan.local_endpoint.to_string() == "192.0.2.227");
    BOOST_TEST(plan.remote_data.to_string() == "10.196.8.0/24");
    BOOST_TEST(!plan.dynamic_policy_filter);
}

BOOST_AUTO_TEST_CASE(tcp8604_reason_codes) {
    auto p = branch_office();
    p.group.initiator = Initiator::Remote;
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 1, "5");

    p = branch_office();
    p.connection.remote_id = {IdType::Fqdn, "nowhere.example"};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 4, "1");
    p.connection.remote_id = {IdType::Fqdn, "finance.example"};
    BOOST_TEST(std::holds_alternative<StartPlan>(check_dynamic_start(p, system_a(), loaded(), {})));

    p = branch_office();
    p.connection.local_id = {IdType::Fqdn, "hr.example"};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 1, "2");

    p = branch_office();
    p.connection.remote_id = {IdType::KeyId, "abcd"};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 4, "9");

    p = branch_office();
    p.group.role = SystemRole::Host2Gw;  // local host with a subnet
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 1, "6");

    p = branch_office();
    p.connection.remote = {EndpointType::IPv6Subnet, "2001:db8:8::", "64"};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 1, "8");

    expect(check_dynamic_start(branch_office(), system_a(), src(PolicyFilterView{}), {}), "TCP8604", 1,
           "3");
}

BOOST_AUTO_TEST_CASE(endpoint_messages) {
    auto p = branch_office();
    p.connection.local_id = {IdType::IPv4, "192.0.2.99"};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8620", 2);

    p = branch_office();
    p.data.mode = Mode::Transport;
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8622", 1);

    // Host to host whose data endpoint differs from its connection endpoint.
    p = branch_office();
    p.group.role = SystemRole::Host2Host;
    p.connection.local = {EndpointType::IPv4, "10.6.11.1", ""};
    p.connection.remote = {EndpointType::IPv4, "198.51.100.250", ""};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8626", 1);

    // Host whose data endpoint is its connection endpoint but not ours.
    p.connection.local_id = {IdType::IPv4, "192.0.2.98"};
    p.connection.local = {EndpointType::IPv4, "192.0.2.98", ""};
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8621", 2);
}

BOOST_AUTO_TEST_CASE(policy_filter_messages) {
    PolicyFilterView other = loaded_view();
    other.filter_loaded = false;
    expect(check_dynamic_start(branch_office(), system_a(), src(other), {}), "TCP8628", 1);

    PolicyFilterView narrow = loaded_view();
    narrow.scopes = {{*IpRange::subnet(*IpAddress::parse("10.6.1.0"), "24"),
                      *IpRange::subnet(*IpAddress::parse("10.196.8.0"), "24")}};
    expect(check_dynamic_start(branch_office(), system_a(), src(narrow), {}), "TCP8624", 1);

    // Rules that cannot be read fail the start with their own message.
    FilterSource broken = [] { return Result<PolicyFilterView>(fail("VMN0021", "x")); };
    expect(check_dynamic_start(branch_office(), system_a(), broken, {}), "VMN0021", 1);
    // ... but only when the checks get that far.
    auto p = branch_office();
    p.data.mode = Mode::Transport;
    expect(check_dynamic_start(p, system_a(), broken, {}), "TCP8622", 1);
}

BOOST_AUTO_TEST_CASE(dynamic_policy_filter_rules) {
    auto p = branch_office();
    p.group.policy_filter = PolicyFilter::None;
    p.group.role = SystemRole::Host2Host;
    p.group.initiator = Initiator::Local;
    p.connection.local = {EndpointType::IPv4, "192.0.2.227", ""};
    p.connection.remote = {EndpointType::IPv4, "198.51.100.250", ""};
    auto ok = check_dynamic_start(p, system_a(), src(PolicyFilterView{}), {});
    BOOST_REQUIRE(std::holds_alternative<StartPlan>(ok));
    BOOST_TEST(std::get<StartPlan>(ok).dynamic_policy_filter);

    p.group.initiator = Initiator::Both;
    expect(check_dynamic_start(p, system_a(), src(PolicyFilterView{}), {}), "TCP8604", 1, "5");
    p.group.initiator = Initiator::Local;
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8604", 1, "8");
}

BOOST_AUTO_TEST_CASE(overlap_with_enabled_connection) {
    std::vector<EnabledView> en = {{"OTHER:L1", *IpRange::subnet(*IpAddress::parse("10.6.5.0"), "24"),
                                    *IpRange::subnet(*IpAddress::parse("10.196.0.0"), "16")}};
    auto r = check_dynamic_start(branch_office(), system_a(), loaded(), en);
    expect(r, "TCP8623", 1);
    BOOST_TEST(failed(r).detail.value(4) == "OTHER:L1");
    // The connection itself is not an overlap.
    en[0].name = "hrgw2fingw:l1";
    BOOST_TEST(std::holds_alternative<StartPlan>(check_dynamic_start(branch_office(), system_a(),
                                                                     loaded(), en)));
}

BOOST_AUTO_TEST_CASE(populate_from_packet) {
    auto p = branch_office();
    p.group.role = SystemRole::Host2Gw;
    p.group.populate_from_packet = true;
    p.connection.local_id = {IdType::IPv4, "10.6.11.1"};
    p.connection.local = {EndpointType::IPv4, "10.6.11.1", ""};
    PolicyFilterView fv = loaded_view();
    fv.scopes = {{IpRange::single(*IpAddress::parse("10.6.11.1")),
                 *IpRange::subnet(*IpAddress::parse("10.196.8.0"), "24")}};
    FilterSource f = src(fv);
    auto r = check_dynamic_start(p, system_a(), f, {}, IpAddress::parse("10.196.8.9"));
    BOOST_REQUIRE(std::holds_alternative<StartPlan>(r));
    BOOST_TEST(std::get<StartPlan>(r).remote_data.to_string() == "10.196.8.9");
    expect(check_dynamic_start(p, system_a(), f, {}, IpAddress::parse("10.1.1.1")), "TCP8604", 1,
           "8");
    p.group.role = SystemRole::Gw2Gw;
    expect(check_dynamic_start(p, system_a(), f, {}, IpAddress::parse("10.196.8.9")), "TCP8604",
           1, "6");
}

BOOST_AUTO_TEST_CASE(nat_pools) {
    auto p = branch_office();
    p.group.local_nat_pool = "POOL1";
    expect(check_dynamic_start(p, system_a(), loaded(), {}), "TCP8608", 1, "1");
}

BOOST_AUTO_TEST_CASE(ipv6_paths) {
    auto p = branch_office();
    p.connection.local_id = {IdType::IPv6, "2001:db8::227"};
    p.connection.remote_id = {IdType::IPv6, "2001:db8::250"};
    p.connection.local = {EndpointType::IPv6Subnet, "2001:db8:6::", "48"};
    p.connection.remote = {EndpointType::IPv6Subnet, "2001:db8:196::", "64"};
    PolicyFilterView fv;
    fv.rules_loaded = fv.filter_loaded = true;
    fv.scopes = {{IpRange::any(6), IpRange::any(6)}};
    FilterSource f = src(fv);
    auto r = check_dynamic_start(p, system_a(), f, {});
    BOOST_REQUIRE(std::holds_alternative<StartPlan>(r));
    BOOST_TEST(std::get<StartPlan>(r).remote_data.to_string() == "2001:db8:196::/64");
    p.connection.local_id = {IdType::IPv4, "192.0.2.227"};
    expect(check_dynamic_start(p, system_a(), f, {}), "TCP8604", 1, "8");
}

namespace {

ManualConnection manual() {
    ManualConnection m;
    m.name = "MANUAL1";
    m.role = SystemRole::Host2Host;
    m.mode = Mode::Transport;
    m.protocol = Protocol::Esp;
    m.local_address = "192.0.2.227";
    m.remote_address = "198.51.100.250";
    m.local = {EndpointType::IPv4, "192.0.2.227", ""};
    m.remote = {EndpointType::IPv4, "198.51.100.250", ""};
    m.encryption = Encr::AesCbc128;
    m.authentication = DataAuth::HmacSha256;
    m.has_keys = true;
    m.esp.spi_in = 0x1000;
    m.esp.spi_out = 0x2000;
    m.esp.enc_in = SecretBytes(16);
    m.esp.enc_out = SecretBytes(16);
    m.esp.auth_in = SecretBytes(32);
    m.esp.auth_out = SecretBytes(32);
    return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(manual_keys) {
    BOOST_TEST(std::holds_alternative<StartPlan>(
        check_manual_start(manual(), system_a(), loaded(), {})) == false);  // filter scope
    PolicyFilterView anyv = loaded_view();
    anyv.scopes = {{IpRange::any(4), IpRange::any(4)}};
    FilterSource any = src(anyv);
    BOOST_TEST(std::holds_alternative<StartPlan>(check_manual_start(manual(), system_a(), any, {})));

    auto m = manual();
    m.esp.enc_out = SecretBytes(15);
    auto r = check_manual_start(m, system_a(), any, {});
    expect(r, "TCP8625", 1);
    BOOST_TEST(failed(r).detail.value(2) == "*AESCBC128");

    m = manual();
    m.encryption = Encr::AesGcm128;  // needs key and 4-byte salt
    m.authentication = DataAuth::None;
    expect(check_manual_start(m, system_a(), any, {}), "TCP8625", 1);
    m.esp.enc_in = SecretBytes(20);
    m.esp.enc_out = SecretBytes(20);
    BOOST_TEST(std::holds_alternative<StartPlan>(check_manual_start(m, system_a(), any, {})));

    m = manual();
    m.esp.auth_in = SecretBytes(20);
    expect(check_manual_start(m, system_a(), any, {}), "TCP8625", 1);

    m = manual();
    m.protocol = Protocol::Ah;
    m.ah.spi_in = 0x3000;
    m.ah.spi_out = 0x4000;
    m.ah.auth_in = SecretBytes(32);
    m.ah.auth_out = SecretBytes(31);
    expect(check_manual_start(m, system_a(), any, {}), "TCP8604", 1, "4");

    m = manual();
    m.esp.spi_in = 7;
    expect(check_manual_start(m, system_a(), any, {}), "TCP8604", 1, "4");

    m = manual();
    m.has_keys = false;
    expect(check_manual_start(m, system_a(), any, {}), "TCP8604", 1, "4");

    m = manual();
    m.role = SystemRole::Gw2Gw;
    expect(check_manual_start(m, system_a(), any, {}), "TCP8622", 1);
}

BOOST_AUTO_TEST_CASE(key_lengths) {
    BOOST_TEST(encr_key_bytes(Encr::TripleDes) == 24u);
    BOOST_TEST(encr_key_bytes(Encr::AesCcm256_8) == 35u);
    BOOST_TEST(encr_key_bytes(Encr::AesCtr128) == 20u);
    BOOST_TEST(auth_key_bytes(DataAuth::HmacSha512) == 64u);
    BOOST_TEST(auth_key_bytes(DataAuth::AesXcbc) == 16u);
}

BOOST_AUTO_TEST_CASE(covers_function_decides_scope) {
    PolicyFilterView v;
    v.rules_loaded = v.filter_loaded = true;
    int asked_proto = -1;
    v.covering = [&](const IpRange& l, const IpRange& r, int proto, int,
                     int) -> std::optional<int> {
        asked_proto = proto;
        if (l.to_string() == "10.6.0.0/16" && r.to_string() == "10.196.8.0/24") {
            return 3;
        }
        return std::nullopt;
    };
    auto p = branch_office();
    p.connection.protocol = 6;
    auto ok = check_dynamic_start(p, system_a(), src(v), {});
    BOOST_REQUIRE(std::holds_alternative<StartPlan>(ok));
    BOOST_TEST(std::get<StartPlan>(ok).filter_rank.value_or(-1) == 3);
    BOOST_TEST(asked_proto == 6);
    p.connection.remote = {EndpointType::IPv4Subnet, "10.196.0.0", "255.255.0.0"};
    expect(check_dynamic_start(p, system_a(), src(v), {}), "TCP8624", 1);
}
