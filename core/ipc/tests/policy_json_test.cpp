#include <boost/test/unit_test.hpp>

#include "core/ipc/policy_json.hpp"

using namespace qvpn;
using namespace qvpn::policy;

namespace {

// The seed's branch office connection as System A sees it.
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
    p.group.lines = {"TRLINE"};
    p.group.journaling = Journaling::All;
    p.group.key_policies = {"HRgw2FINgwBS"};
    p.group.remote_key_servers = {{IdType::IPv4, "198.51.100.250"}};
    p.group.position = 1;
    p.key.name = "HRgw2FINgwBS";
    p.key.remote = {IdType::IPv4, "198.51.100.250"};
    p.key.psk = SecretBytes(as_view("topsecretstuff"));
    p.key.has_psk = true;
    p.key.transforms = {{Encr::AesCbc128, Hash::Sha256, DhGroup::Grp19},
                        {Encr::AesGcm256, Hash::Sha384, DhGroup::Grp20}};
    p.data.name = "HRgw2FINgwBS";
    p.data.pfs = DhGroup::Grp14;
    p.data.transforms = {{Protocol::Esp, Encr::AesCbc128, DataAuth::HmacSha256}};
    return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(policy_round_trip) {
    ConnectionPolicy p = branch_office();
    auto j = qvpn::ipc::policy_to_json(p);
    BOOST_TEST(j["group"]["role"] == "*GW2GW");
    BOOST_TEST(j["key"]["transforms"][1]["encryption"] == "*AESGCM256");
    BOOST_TEST(j["key"]["psk"] == "746f707365637265747374756666");
    auto back = qvpn::ipc::policy_from_json(j);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->connection.name == "HRgw2FINgw:L1");
    BOOST_TEST((back->connection.local == p.connection.local));
    BOOST_TEST((back->connection.remote_id == p.connection.remote_id));
    BOOST_TEST((back->group.journaling == Journaling::All));
    BOOST_TEST(back->group.lines.at(0) == "TRLINE");
    BOOST_TEST(back->group.key_policies.at(0) == "HRgw2FINgwBS");
    BOOST_TEST(back->group.position == 1);
    BOOST_TEST(back->key.psk.size() == 14u);
    BOOST_TEST(equal_ct(back->key.psk.view(), as_view("topsecretstuff")));
    BOOST_TEST((back->key.transforms == p.key.transforms));
    BOOST_TEST((back->data.transforms == p.data.transforms));
    BOOST_TEST((back->data.pfs == DhGroup::Grp14));
    // The JSON text survives a dump/parse cycle unchanged.
    BOOST_TEST(qvpn::ipc::policy_to_json(*back) == j);
}

BOOST_AUTO_TEST_CASE(policy_errors_name_the_field) {
    auto j = qvpn::ipc::policy_to_json(branch_office());
    j["data"]["mode"] = "*SIDEWAYS";
    auto r = qvpn::ipc::policy_from_json(j);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IPC0003");
    BOOST_TEST(r.error().value(2) == "policy field data.mode");

    auto j2 = qvpn::ipc::policy_to_json(branch_office());
    j2["connection"].erase("remote");
    BOOST_TEST(qvpn::ipc::policy_from_json(j2).error().value(2) ==
               "policy field connection.remote");
    auto j3 = qvpn::ipc::policy_to_json(branch_office());
    j3["key"]["psk"] = "xyz";
    BOOST_TEST(qvpn::ipc::policy_from_json(j3).error().value(2) == "policy field key.psk");
    BOOST_TEST(!qvpn::ipc::policy_from_json(nlohmann::json::array()).ok());
}
