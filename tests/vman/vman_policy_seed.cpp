// Test tool: write one of the configurations the vman integration tests
// start, straight through the policy database API (the configuration
// commands are another team's and may not be built).
//
//   vman_policy_seed <variant> [interface]
//     interface: line TRLINE is created on it and the group applies to TRLINE
//     branch-a      the seed's branch office, System A (192.0.2.227)
//     branch-c      the same, System C (198.51.100.250)
//     remote-init   branch-a with INITIATOR(*REMOTE)
//     fqdn          branch-a with a remote key server name that does not resolve
//     keyid         branch-a with a *KEYID remote key server
//     local-fqdn    branch-a with a local key server name that does not resolve
//     npf           host to host with no policy filter (POLICYFTR(*NONE)),
//                   started by this system, single data endpoints
//     npf-both      npf, but either system may start it
//     npf-ondemand  npf, started on demand (armed when the server starts)
//     manual-a      manual connection MANUAL1, gateway to gateway with no policy
//                   filter, data endpoints 10.6.11.1 and 10.196.8.5, ESP
//                   AES-CBC-128 / HMAC-SHA-256 in tunnel mode (System A)
//     manual-c      the mirror image on System C
//     manual-ahesp-a, manual-ahesp-c  manual-a and manual-c with AH (HMAC-SHA-256,
//                   SPIs 3003/4004) and ESP together
//     manual-ah-a, manual-ah-c  MANUALAH: host to host, transport mode, AH
//                   alone (HMAC-SHA-256, SPIs 5005/6006)
//     manual-overlap manual-a plus MANUAL2, whose data endpoints are the same
//     host-diff     npf whose local key server is named localhost: its
//                   connection endpoint (127.0.0.1) is not its data endpoint
//     host-c        npf with System C's addresses (a host's data endpoint
//                   that is not on this system)
#include <cstdio>
#include <cstring>
#include <string>

#include "core/base/paths.hpp"
#include "core/msg/catalog.hpp"
#include "core/policy/policy_db.hpp"

using namespace qvpn;
using namespace qvpn::policy;

namespace {

SecretBytes key(size_t n, uint8_t fill) {
    SecretBytes k(n);
    for (size_t i = 0; i < n; ++i) {
        k.data()[i] = static_cast<uint8_t>(fill + i);
    }
    return k;
}

Status seed_manual(PolicyDb& db, bool c_side, const std::string& name = "MANUAL1",
                   Protocol protocol = Protocol::Esp) {
    ManualConnection m;
    m.name = name;
    m.role = SystemRole::Gw2Gw;
    m.mode = Mode::Tunnel;
    m.protocol = protocol;
    m.local_address = c_side ? "198.51.100.250" : "192.0.2.227";
    m.remote_address = c_side ? "192.0.2.227" : "198.51.100.250";
    DataEndpoint a{EndpointType::IPv4, "10.6.11.1", ""};
    DataEndpoint c{EndpointType::IPv4, "10.196.8.5", ""};
    m.local = c_side ? c : a;
    m.remote = c_side ? a : c;
    m.encryption = Encr::AesCbc128;
    m.authentication = DataAuth::HmacSha256;
    m.policy_filter = PolicyFilter::None;
    m.journaling = Journaling::All;
    m.has_keys = true;
    // A -> C uses SPI 0x1001 and keys filled from 0x10; C -> A 0x2002 / 0x20.
    uint32_t a_to_c = 0x1001, c_to_a = 0x2002;
    m.esp.spi_out = c_side ? c_to_a : a_to_c;
    m.esp.spi_in = c_side ? a_to_c : c_to_a;
    m.esp.enc_out = key(16, c_side ? 0x20 : 0x10);
    m.esp.enc_in = key(16, c_side ? 0x10 : 0x20);
    m.esp.auth_out = key(32, c_side ? 0x60 : 0x50);
    m.esp.auth_in = key(32, c_side ? 0x50 : 0x60);
    if (protocol == Protocol::AhEsp) {
        // AH: A -> C SPI 0x3003, C -> A 0x4004, HMAC-SHA-256 keys of their own.
        m.ah_authentication = DataAuth::HmacSha256;
        m.ah.spi_out = c_side ? 0x4004 : 0x3003;
        m.ah.spi_in = c_side ? 0x3003 : 0x4004;
        m.ah.auth_out = key(32, c_side ? 0xa0 : 0x90);
        m.ah.auth_in = key(32, c_side ? 0x90 : 0xa0);
    }
    return db.create_manual_connection(m);
}

// Host to host in transport mode with AH alone (HMAC-SHA-256, SPIs
// 5005/6006): the connection endpoints are the data endpoints.
Status seed_manual_ah(PolicyDb& db, bool c_side) {
    ManualConnection m;
    m.name = "MANUALAH";
    m.role = SystemRole::Host2Host;
    m.mode = Mode::Transport;
    m.protocol = Protocol::Ah;
    m.local_address = c_side ? "198.51.100.250" : "192.0.2.227";
    m.remote_address = c_side ? "192.0.2.227" : "198.51.100.250";
    m.local = {EndpointType::IPv4, m.local_address, ""};
    m.remote = {EndpointType::IPv4, m.remote_address, ""};
    m.encryption = Encr::None;
    m.authentication = DataAuth::HmacSha256;
    m.policy_filter = PolicyFilter::None;
    m.journaling = Journaling::All;
    m.has_keys = true;
    m.ah.spi_out = c_side ? 0x6006 : 0x5005;
    m.ah.spi_in = c_side ? 0x5005 : 0x6006;
    m.ah.auth_out = key(32, c_side ? 0xc0 : 0xb0);
    m.ah.auth_in = key(32, c_side ? 0xb0 : 0xc0);
    return db.create_manual_connection(m);
}

Status seed(const std::string& variant, const std::string& itf) {
    QVPN_TRY(paths::ensure());
    QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), Access::ReadWrite));
    if (variant == "manual-overlap") {
        QVPN_TRY(seed_manual(db, false));
        return seed_manual(db, false, "MANUAL2");
    }
    if (variant == "manual-ah-a" || variant == "manual-ah-c") {
        return seed_manual_ah(db, variant == "manual-ah-c");
    }
    if (variant == "manual-ahesp-a" || variant == "manual-ahesp-c") {
        return seed_manual(db, variant == "manual-ahesp-c", "MANUAL1", Protocol::AhEsp);
    }
    if (variant.rfind("manual", 0) == 0) {
        return seed_manual(db, variant == "manual-c");
    }
    bool c_side = variant == "branch-c" || variant == "host-c";
    std::string me = c_side ? "198.51.100.250" : "192.0.2.227";
    std::string peer = c_side ? "192.0.2.227" : "198.51.100.250";
    DataEndpoint a_net{EndpointType::IPv4Subnet, "10.6.0.0", "255.255.0.0"};
    DataEndpoint c_net{EndpointType::IPv4Subnet, "10.196.8.0", "255.255.255.0"};

    Identity remote{IdType::IPv4, peer};
    if (variant == "fqdn") {
        remote = {IdType::Fqdn, "finance.invalid"};
    } else if (variant == "keyid") {
        remote = {IdType::KeyId, "0a0b0c0d"};
    }

    KeyPolicy k;
    k.name = "HRgw2FINgwBS";
    k.remote = remote;
    k.psk = SecretBytes(as_view("topsecretstuff"));
    k.has_psk = true;
    k.transforms = {{Encr::AesCbc128, Hash::Sha256, DhGroup::Grp19}};
    QVPN_TRY(db.create_key_policy(k));

    DataPolicy d;
    d.name = "HRgw2FINgwBS";
    d.transforms = {{Protocol::Esp, Encr::AesCbc128, DataAuth::HmacSha256}};
    QVPN_TRY(db.create_data_policy(d));

    DynamicGroup g;
    if (!itf.empty()) {
        QVPN_TRY(db.create_line({"TRLINE", itf, "Internet"}));
        g.lines = {"TRLINE"};
    }
    g.name = "HRgw2FINgw";
    bool npf = variant.rfind("npf", 0) == 0 || variant.rfind("host", 0) == 0;
    g.role = npf ? SystemRole::Host2Host : SystemRole::Gw2Gw;
    if (variant == "remote-init") {
        g.initiator = Initiator::Remote;
    } else if (npf && variant != "npf-both") {
        g.initiator = Initiator::Local;
    }
    if (npf) {
        g.policy_filter = PolicyFilter::None;
    }
    g.data_policy = d.name;
    g.journaling = Journaling::All;
    g.key_policies = {k.name};
    QVPN_TRY(db.create_group(g));

    DynamicConnection c;
    c.name = "HRgw2FINgw:L1";
    c.group = g.name;
    c.local_id = {IdType::IPv4, me};
    c.remote_id = remote;
    c.local = c_side ? c_net : a_net;
    c.remote = c_side ? a_net : c_net;
    if (npf) {
        c.local = {EndpointType::IPv4, me, ""};
        c.remote = {EndpointType::IPv4, peer, ""};
    }
    if (variant == "host-diff") {
        c.local_id = {IdType::Fqdn, "localhost"};
    }
    if (variant == "local-fqdn") {
        c.local_id = {IdType::Fqdn, "hr.invalid"};
    }
    c.on_demand = variant == "npf-ondemand";
    return db.create_connection(c);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: vman_policy_seed VARIANT [ifname] (see the source)\n");
        return 2;
    }
    auto s = seed(argv[1], argc == 3 ? argv[2] : "");
    if (!s.ok()) {
        std::fprintf(stderr, "%s\n", msgcat::line(s.error()).c_str());
        return 1;
    }
    return 0;
}
