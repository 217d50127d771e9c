#include "rules/tests/policy_fixture.hpp"

#include "core/base/paths.hpp"
#include "core/policy/checks.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::rules::test {

using namespace qvpn::policy;

Status write_branch_office(const FixtureOptions& o) {
    QVPN_TRY(paths::ensure());
    QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), Access::ReadWrite));
    return db.transaction([&]() -> Status {
        if (!o.interface.empty()) {
            QVPN_TRY(db.create_line({o.line, o.interface, "rules test line"}));
        }
        KeyPolicy k;
        k.name = "HRgw2FINgw";
        k.remote = {IdType::IPv4, o.remote_ks};
        k.psk = SecretBytes(as_view("topsecretstuff"));
        k.has_psk = true;
        k.transforms = key_transforms(SecurityLevel::Balanced);
        QVPN_TRY(db.create_key_policy(k));
        DataPolicy d;
        d.name = "HRgw2FINgw";
        d.transforms = data_transforms(SecurityLevel::Balanced);
        QVPN_TRY(db.create_data_policy(d));
        DynamicGroup g;
        g.name = "HRgw2FINgw";
        g.data_policy = "HRgw2FINgw";
        g.key_policies = {"HRgw2FINgw"};
        g.journaling = o.journaling;
        if (!o.line.empty()) {
            g.lines = {o.line};
        }
        QVPN_TRY(db.create_group(g));
        DynamicConnection c;
        c.name = "HRgw2FINgw:L1";
        c.group = "HRgw2FINgw";
        c.local_id = {IdType::IPv4, o.local_ks};
        c.remote_id = {IdType::IPv4, o.remote_ks};
        c.local = {EndpointType::IPv4Subnet, o.local_net, o.local_mask};
        c.remote = {EndpointType::IPv4Subnet, o.remote_net, o.remote_mask};
        QVPN_TRY(db.create_connection(c));
        if (o.manual) {
            ManualConnection m;
            m.name = "MANCNN";
            m.local_address = o.local_ks;
            m.remote_address = o.remote_ks;
            m.local = {EndpointType::IPv4, o.local_ks, ""};
            m.remote = {EndpointType::IPv4, o.remote_ks, ""};
            m.esp.spi_in = 0x1001;   // keys are optional; SPIs are not
            m.esp.spi_out = 0x1002;
            m.ip_protocol = 6;
            m.remote_port = 23;
            if (!o.line.empty()) {
                m.lines = {o.line};
            }
            QVPN_TRY(db.create_manual_connection(m));
        }
        VpnAttributes a;
        QVPN_ASSIGN(a, db.attributes());
        a.generated_permit_other = o.permit_other;
        QVPN_TRY(db.set_attributes(a));
        if (!o.active.empty()) {
            ConnectionStatus s;
            s.name = o.active;
            s.group = o.active == "MANCNN" ? "" : "HRgw2FINgw";
            s.type = o.active == "MANCNN" ? ConnectionType::Manual : ConnectionType::Dynamic;
            s.state = ConnectionState::Enabled;
            QVPN_TRY(db.set_state(s));
        }
        return {};
    });
}

Status set_connection_state(const std::string& name, const std::string& state) {
    QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), Access::ReadWrite));
    auto st = from_cl<ConnectionState>(state);
    if (!st) {
        return fail("QVP0003", "rules_policy_fixture", "unknown state " + state);
    }
    ConnectionStatus s;
    s.name = name;
    bool manual = name.find(':') == std::string::npos;
    s.type = manual ? ConnectionType::Manual : ConnectionType::Dynamic;
    s.group = manual ? "" : name.substr(0, name.find(':'));
    s.state = *st;
    return db.set_state(s);
}

}  // namespace qvpn::rules::test
