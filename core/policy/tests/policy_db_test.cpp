#define BOOST_TEST_MODULE policy_db
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/policy/checks.hpp"
#include "core/policy/policy_db.hpp"
#include "core/policy/secret_box.hpp"
#include "core/policy/sqlite.hpp"

using namespace qvpn;
using namespace qvpn::policy;
namespace fs = std::filesystem;

namespace {

struct TempRoot {
    fs::path dir;
    TempRoot() {
        char tmpl[] = "/tmp/qv-fd-pdb-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~TempRoot() { fs::remove_all(dir); }
    std::string db() const { return (dir / "policy.db").string(); }
};

PolicyDb open_rw(const TempRoot& t) {
    auto r = PolicyDb::open(t.db(), Access::ReadWrite);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().id));
    return std::move(*r);
}

#define REQUIRE_OK(expr)                                                       \
    do {                                                                       \
        auto&& r_ = (expr);                                                    \
        BOOST_REQUIRE_MESSAGE(r_.ok(), #expr << " failed: "                    \
                                             << (r_.ok() ? "" : r_.error().id) \
                                             << " " << (r_.ok() ? "" : r_.error().value(1))); \
    } while (0)

#define CHECK_FAILS(expr, msgid)                                          \
    do {                                                                  \
        auto&& r_ = (expr);                                               \
        BOOST_CHECK(!r_.ok());                                            \
        if (!r_.ok()) {                                                   \
            BOOST_CHECK_EQUAL(r_.error().id, msgid);                      \
        }                                                                 \
    } while (0)

SecretBytes secret(std::string_view s) { return SecretBytes(as_view(s)); }

KeyPolicy key_policy(std::string name, std::string remote, std::string psk = "topsecretstuff") {
    KeyPolicy k;
    k.name = std::move(name);
    k.remote = {IdType::IPv4, std::move(remote)};
    k.auth = AuthMethod::Psk;
    k.psk = secret(psk);
    k.transforms = key_transforms(SecurityLevel::Balanced);
    return k;
}

DataPolicy data_policy(std::string name) {
    DataPolicy d;
    d.name = std::move(name);
    d.pfs = DhGroup::Grp19;
    d.transforms = data_transforms(SecurityLevel::Balanced);
    return d;
}

DynamicGroup group(std::string name, std::string data, std::vector<std::string> keys) {
    DynamicGroup g;
    g.name = std::move(name);
    g.data_policy = std::move(data);
    g.key_policies = std::move(keys);
    return g;
}

DynamicConnection connection(std::string name, std::string grp, std::string local,
                             std::string remote) {
    DynamicConnection c;
    c.name = std::move(name);
    c.group = std::move(grp);
    c.local_id = {IdType::IPv4, std::move(local)};
    c.remote_id = {IdType::IPv4, std::move(remote)};
    c.local = {EndpointType::IPv4Subnet, "10.6.0.0", "255.255.0.0"};
    c.remote = {EndpointType::IPv4Subnet, "10.196.8.0", "255.255.255.0"};
    return c;
}

// The seed's branch office, System A side.
void branch_office(PolicyDb& db) {
    REQUIRE_OK(db.transaction([&]() -> Status {
        QVPN_TRY(db.create_key_policy(key_policy("HRgw2FINgw", "198.51.100.250")));
        QVPN_TRY(db.create_data_policy(data_policy("HRgw2FINgw")));
        QVPN_TRY(db.create_group(group("HRgw2FINgw", "HRgw2FINgw", {"HRgw2FINgw"})));
        return db.create_connection(
            connection("HRgw2FINgw:L1", "HRgw2FINgw", "192.0.2.227", "198.51.100.250"));
    }));
}

long long count(PolicyDb& db, const std::string& table) {
    auto v = db.database().scalar("SELECT count(*) FROM " + table);
    return v.ok() && *v ? **v : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schema)

BOOST_AUTO_TEST_CASE(new_database_has_current_schema_wal_and_foreign_keys) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    auto v = db.schema_version();
    REQUIRE_OK(v);
    BOOST_TEST(*v == code_schema_version());
    auto st = db.database().prepare("PRAGMA journal_mode");
    REQUIRE_OK(st);
    REQUIRE_OK(st->step());
    BOOST_TEST(st->text(0) == "wal");
    auto fk = db.database().scalar("PRAGMA foreign_keys");
    REQUIRE_OK(fk);
    BOOST_TEST(**fk == 1);
    struct stat sb{};
    BOOST_REQUIRE(::stat(t.db().c_str(), &sb) == 0);
    BOOST_TEST((sb.st_mode & 0777) == 0660u);
}

BOOST_AUTO_TEST_CASE(reopen_keeps_data_and_version) {
    TempRoot t;
    {
        PolicyDb db = open_rw(t);
        REQUIRE_OK(db.create_data_policy(data_policy("D1")));
    }
    PolicyDb db = open_rw(t);
    auto v = db.list_data_policies();
    REQUIRE_OK(v);
    BOOST_TEST(v->size() == 1u);
}

BOOST_AUTO_TEST_CASE(newer_schema_is_refused) {
    TempRoot t;
    {
        PolicyDb db = open_rw(t);
        REQUIRE_OK(db.database().exec("UPDATE schema_version SET version = 999"));
    }
    auto r = PolicyDb::open(t.db(), Access::ReadWrite);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "PDB0002");
    BOOST_TEST(r.error().value(2) == "999");
}

BOOST_AUTO_TEST_CASE(migrates_an_empty_file_and_reports_missing_for_read_only) {
    TempRoot t;
    auto ro = PolicyDb::open(t.db(), Access::ReadOnly);
    BOOST_REQUIRE(!ro.ok());
    BOOST_TEST(ro.error().id == "PDB0001");
    {
        auto raw = sql::Database::open(t.db(), true);
        REQUIRE_OK(raw);
    }
    auto r = PolicyDb::open(t.db(), Access::ReadOnly);
    REQUIRE_OK(r);
    auto v = r->schema_version();
    REQUIRE_OK(v);
    BOOST_TEST(*v == code_schema_version());
    CHECK_FAILS(r->create_data_policy(data_policy("X")), "PDB0006");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(objects)

BOOST_AUTO_TEST_CASE(key_policy_crud_and_case_insensitive_names) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    KeyPolicy k = key_policy("HRgw2FINgw", "198.51.100.250");
    k.text = "to finance";
    REQUIRE_OK(db.create_key_policy(k));
    CHECK_FAILS(db.create_key_policy(key_policy("hrGW2finGW", "198.51.100.1")), "PDB0102");

    auto back = db.load_key_policy("HRGW2FINGW");
    REQUIRE_OK(back);
    BOOST_TEST(back->name == "HRgw2FINgw");  // stored as typed
    BOOST_TEST(back->has_psk);
    BOOST_TEST(back->psk.empty());           // never decrypted by load
    BOOST_TEST(back->text == "to finance");
    BOOST_TEST(back->transforms.size() == 2u);
    BOOST_TEST((back->transforms[1] == KeyTransform{Encr::AesCbc128, Hash::Sha256, DhGroup::Grp14}));

    back->lifetime_minutes = 120;
    back->transforms = key_transforms(SecurityLevel::Highest);
    REQUIRE_OK(db.update_key_policy(*back));  // keeps the stored PSK
    auto again = db.load_key_policy("hrgw2fingw");
    REQUIRE_OK(again);
    BOOST_TEST(again->lifetime_minutes == 120);
    BOOST_TEST(again->has_psk);
    BOOST_TEST(again->transforms.size() == 1u);

    auto all = db.list_key_policies();
    REQUIRE_OK(all);
    BOOST_TEST(all->size() == 1u);
    REQUIRE_OK(db.delete_key_policy("HRGW2finGW"));
    CHECK_FAILS(db.load_key_policy("HRgw2FINgw"), "PDB0101");
    CHECK_FAILS(db.delete_key_policy("HRgw2FINgw"), "PDB0101");
    BOOST_TEST(count(db, "key_transform") == 0);
}

BOOST_AUTO_TEST_CASE(names_longer_than_40_are_refused) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    CHECK_FAILS(db.create_data_policy(data_policy(std::string(41, 'a'))), "PDB0120");
    REQUIRE_OK(db.create_data_policy(data_policy(std::string(40, 'a'))));
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    DataPolicy d = data_policy("D");
    d.transforms = {{Protocol::Esp, Encr::AesGcm128, DataAuth::HmacSha256}};
    CHECK_FAILS(db.create_data_policy(d), "PDB0127");
    d.transforms = {{Protocol::Esp, Encr::AesCbc128, DataAuth::None}};
    CHECK_FAILS(db.create_data_policy(d), "PDB0128");
    d.transforms = {{Protocol::Ah, Encr::AesCbc128, DataAuth::HmacSha1}};
    CHECK_FAILS(db.create_data_policy(d), "PDB0129");
    d.transforms = {{Protocol::Esp, Encr::AesGmac128, DataAuth::None}};
    REQUIRE_OK(db.create_data_policy(d));

    KeyPolicy k = key_policy("K", "not-an-address");
    CHECK_FAILS(db.create_key_policy(k), "PDB0121");
    k = key_policy("K", "198.51.100.1");
    k.transforms = {{Encr::AesGcm128, Hash::Sha256, DhGroup::Grp19}};
    CHECK_FAILS(db.create_key_policy(k), "PDB0125");
    k.transforms = {};
    CHECK_FAILS(db.create_key_policy(k), "PDB0124");
    k = key_policy("K", "198.51.100.1", std::string(129, 'x'));
    CHECK_FAILS(db.create_key_policy(k), "PDB012B");
    BOOST_TEST(count(db, "key_policy") == 0);
}

BOOST_AUTO_TEST_CASE(groups_connections_and_references) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    branch_office(db);

    auto g = db.load_group("hrgw2fingw");
    REQUIRE_OK(g);
    BOOST_TEST(g->position == 1);
    BOOST_TEST(g->key_policies.size() == 1u);
    BOOST_TEST(g->remote_key_servers.at(0).value == "198.51.100.250");
    auto c = db.load_connection("hrgw2fingw:l1");
    REQUIRE_OK(c);
    BOOST_TEST(c->group == "HRgw2FINgw");
    BOOST_TEST(c->remote.address == "10.196.8.0");

    // Referential integrity: nothing in use can go.
    CHECK_FAILS(db.delete_key_policy("HRgw2FINgw"), "PDB0110");
    CHECK_FAILS(db.delete_data_policy("HRgw2FINgw"), "PDB0110");
    CHECK_FAILS(db.delete_group("HRgw2FINgw"), "PDB0110");
    // A connection must name a remote key server its group serves.
    CHECK_FAILS(db.create_connection(connection("X", "HRgw2FINgw", "192.0.2.227", "203.0.113.9")),
                "PDB0140");
    // Dynamic and manual connections share names.
    ManualConnection m;
    m.name = "HRGW2FINGW:L1";
    m.local_address = "192.0.2.227";
    m.remote_address = "198.51.100.250";
    m.local = {EndpointType::IPv4, "192.0.2.227", ""};
    m.remote = {EndpointType::IPv4, "198.51.100.250", ""};
    m.esp.spi_in = 0x1000;
    m.esp.spi_out = 0x2000;
    CHECK_FAILS(db.create_manual_connection(m), "PDB0108");

    REQUIRE_OK(db.delete_connection("HRgw2FINgw:L1"));
    REQUIRE_OK(db.delete_group("HRgw2FINgw"));
    REQUIRE_OK(db.delete_key_policy("HRgw2FINgw"));
    REQUIRE_OK(db.delete_data_policy("HRgw2FINgw"));
    for (const char* tbl : {"key_policy", "data_policy", "dyn_group", "dyn_connection",
                            "group_key_policy", "key_transform", "data_transform"}) {
        BOOST_TEST(count(db, tbl) == 0, tbl);
    }
}

BOOST_AUTO_TEST_CASE(group_order_can_be_changed) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    REQUIRE_OK(db.create_data_policy(data_policy("D")));
    REQUIRE_OK(db.create_group(group("G1", "D", {})));
    REQUIRE_OK(db.create_group(group("G2", "D", {})));
    REQUIRE_OK(db.create_group(group("G0", "D", {}), 1));
    auto names = [&] {
        std::string s;
        auto groups = db.list_groups();
        BOOST_REQUIRE(groups.ok());
        for (const auto& g : *groups) {
            s += g.name + "@" + std::to_string(g.position) + " ";
        }
        return s;
    };
    BOOST_TEST(names() == "G0@1 G1@2 G2@3 ");
    REQUIRE_OK(db.move_group("g2", 1));
    BOOST_TEST(names() == "G2@1 G0@2 G1@3 ");
    REQUIRE_OK(db.delete_group("G0"));
    BOOST_TEST(names() == "G2@1 G1@2 ");
    CHECK_FAILS(db.move_group("nope", 1), "PDB0105");
}

BOOST_AUTO_TEST_CASE(transport_mode_needs_two_hosts) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    DataPolicy d = data_policy("T");
    d.mode = Mode::Transport;
    REQUIRE_OK(db.create_data_policy(d));
    CHECK_FAILS(db.create_group(group("G", "T", {})), "PDB012F");
    DynamicGroup g = group("G", "T", {});
    g.role = SystemRole::Host2Host;
    REQUIRE_OK(db.create_group(g));
}

BOOST_AUTO_TEST_CASE(lines) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    REQUIRE_OK(db.create_line({"TRLINE", "eth0", "Internet"}));
    CHECK_FAILS(db.create_line({"trline", "eth1", ""}), "PDB010A");
    auto itf = db.line_interface("TrLine");
    REQUIRE_OK(itf);
    BOOST_TEST(*itf == "eth0");
    auto raw = db.line_interface("veth3");
    REQUIRE_OK(raw);
    BOOST_TEST(*raw == "veth3");
    REQUIRE_OK(db.create_data_policy(data_policy("D")));
    DynamicGroup g = group("G", "D", {});
    g.lines = {"TRLINE"};
    REQUIRE_OK(db.create_group(g));
    CHECK_FAILS(db.delete_line("TRLINE"), "PDB0110");
    CHECK_FAILS(db.delete_line("NOLINE"), "CPF2601");
}

BOOST_AUTO_TEST_CASE(manual_connection_keys) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    ManualConnection m;
    m.name = "MAN1";
    m.local_address = "192.0.2.227";
    m.remote_address = "198.51.100.250";
    m.local = {EndpointType::IPv4, "192.0.2.227", ""};
    m.remote = {EndpointType::IPv4, "198.51.100.250", ""};
    m.encryption = Encr::AesCbc128;
    m.authentication = DataAuth::HmacSha256;
    m.esp.spi_in = 0x1001;
    m.esp.spi_out = 0x1002;
    m.esp.enc_in = SecretBytes(Bytes(16, 1));
    m.esp.enc_out = SecretBytes(Bytes(16, 2));
    m.esp.auth_in = SecretBytes(Bytes(32, 3));
    m.esp.auth_out = SecretBytes(Bytes(31, 4));  // one byte short
    CHECK_FAILS(db.create_manual_connection(m), "PDB0132");
    m.esp.auth_out = SecretBytes(Bytes(32, 4));
    REQUIRE_OK(db.create_manual_connection(m));

    auto back = db.load_manual_connection("man1");
    REQUIRE_OK(back);
    BOOST_TEST(back->has_keys);
    BOOST_TEST(back->esp.enc_in.empty());
    auto mp = db.resolve_manual("MAN1");
    REQUIRE_OK(mp);
    BOOST_TEST(mp->connection.esp.auth_out.size() == 32u);
    BOOST_TEST(mp->connection.esp.enc_out.view()[0] == 2);

    // Changing the algorithm without new keys is refused.
    back->encryption = Encr::AesCbc256;
    CHECK_FAILS(db.update_manual_connection(*back), "PDB0142");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(sealed_box_round_trip_and_tamper) {
    TempRoot t;
    std::string dir = (t.dir / "secret").string();
    REQUIRE_OK(crypto::ensure_system_key(dir));
    struct stat sb{};
    BOOST_REQUIRE(::stat(crypto::system_private_path(dir).c_str(), &sb) == 0);
    BOOST_TEST((sb.st_mode & 0777) == 0600u);
    BOOST_REQUIRE(::stat(crypto::system_public_path(dir).c_str(), &sb) == 0);
    BOOST_TEST((sb.st_mode & 0777) == 0644u);

    auto pub = crypto::load_system_public(dir);
    auto priv = crypto::load_system_private(dir);
    REQUIRE_OK(pub);
    REQUIRE_OK(priv);
    auto sealed = crypto::seal(*pub, as_view("topsecretstuff"), "PSK");
    REQUIRE_OK(sealed);
    BOOST_TEST(sealed->size() == crypto::kSealOverhead + 14);
    auto opened = crypto::unseal(*priv, *sealed, "PSK");
    REQUIRE_OK(opened);
    BOOST_TEST(std::string(opened->view().begin(), opened->view().end()) == "topsecretstuff");
    CHECK_FAILS(crypto::unseal(*priv, *sealed, "MANUAL"), "PDB0012");
    Bytes bad = *sealed;
    bad.back() ^= 1;
    CHECK_FAILS(crypto::unseal(*priv, bad, "PSK"), "PDB0012");
    bad.resize(10);
    CHECK_FAILS(crypto::unseal(*priv, bad, "PSK"), "PDB0012");

    // A second call keeps the existing pair.
    REQUIRE_OK(crypto::ensure_system_key(dir));
    auto pub2 = crypto::load_system_public(dir);
    REQUIRE_OK(pub2);
    BOOST_TEST(*pub2 == *pub);
}

BOOST_AUTO_TEST_CASE(passphrase_box_round_trip) {
    crypto::ScryptParams p;
    p.salt = crypto::random_bytes(16);
    p.n = 1024;
    auto k = crypto::derive_passphrase_key("correct horse", p);
    REQUIRE_OK(k);
    auto b = crypto::box(*k, as_view("secret"), "PSK HRgw2FINgw");
    REQUIRE_OK(b);
    auto o = crypto::unbox(*k, *b, "PSK HRgw2FINgw");
    REQUIRE_OK(o);
    BOOST_TEST(o->size() == 6u);
    auto wrong = crypto::derive_passphrase_key("wrong horse", p);
    REQUIRE_OK(wrong);
    CHECK_FAILS(crypto::unbox(*wrong, *b, "PSK HRgw2FINgw"), "PDB0012");
    p.n = 1000;  // not a power of two
    CHECK_FAILS(crypto::derive_passphrase_key("x", p), "PDB0014");
    p.n = 1u << 24;
    CHECK_FAILS(crypto::derive_passphrase_key("x", p), "PDB0014");
}

BOOST_AUTO_TEST_CASE(psk_is_stored_encrypted_and_resolved) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    branch_office(db);
    auto blob = db.database().prepare("SELECT psk FROM key_policy");
    REQUIRE_OK(blob);
    REQUIRE_OK(blob->step());
    Bytes stored = blob->blob(0);
    std::string as_text(stored.begin(), stored.end());
    BOOST_TEST(as_text.find("topsecretstuff") == std::string::npos);

    auto cp = db.resolve("hrgw2fingw");  // the group's single connection
    REQUIRE_OK(cp);
    BOOST_TEST(cp->connection.name == "HRgw2FINgw:L1");
    BOOST_TEST(std::string(cp->key.psk.view().begin(), cp->key.psk.view().end()) ==
               "topsecretstuff");
    BOOST_TEST(cp->data.name == "HRgw2FINgw");
    BOOST_TEST((cp->data.pfs == DhGroup::Grp19));
}

BOOST_AUTO_TEST_CASE(qretsvrsec_zero_refuses_and_erases_keys) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    auto v = db.system_value("qretsvrsec");
    REQUIRE_OK(v);
    BOOST_TEST(*v == "1");
    branch_office(db);

    int erased = -1;
    REQUIRE_OK(db.set_system_value("QRETSVRSEC", "0", &erased));
    BOOST_TEST(erased == 1);
    auto k = db.load_key_policy("HRgw2FINgw");
    REQUIRE_OK(k);
    BOOST_TEST(!k->has_psk);
    CHECK_FAILS(db.resolve("HRgw2FINgw:L1"), "PDB0017");
    CHECK_FAILS(db.create_key_policy(key_policy("K2", "203.0.113.1")), "PDB0013");
    BOOST_TEST(count(db, "key_policy") == 1);

    REQUIRE_OK(db.set_system_value("QRETSVRSEC", "1"));
    k->psk = secret("newsecret");
    k->has_psk = true;
    REQUIRE_OK(db.update_key_policy(*k));
    REQUIRE_OK(db.resolve("HRgw2FINgw:L1"));
    CHECK_FAILS(db.set_system_value("QRETSVRSEC", "2"), "CPD0084");
    CHECK_FAILS(db.set_system_value("QNOSUCH", "2"), "PDB0020");
}

BOOST_AUTO_TEST_CASE(other_system_values) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    REQUIRE_OK(db.set_system_value("QVPNDTAPTH", "*userspace"));
    auto dp = db.data_path();
    REQUIRE_OK(dp);
    BOOST_TEST((*dp == DataPath::Userspace));
    REQUIRE_OK(db.set_system_value("QCMNTRCMAX", "16M"));
    BOOST_TEST(*db.system_value("QCMNTRCMAX") == "16777216");
    CHECK_FAILS(db.set_system_value("QCMNTRCMAX", "1K"), "CPD0076");
    BOOST_TEST(*db.system_value("QVPNJRNRET") == "30");
    CHECK_FAILS(db.set_system_value("QVPNJRNRET", "0"), "CPD0076");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(states)

BOOST_AUTO_TEST_CASE(state_api_and_in_use_checks) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    branch_office(db);
    REQUIRE_OK(db.set_state({.name = "HRgw2FINgw:L1",
                             .type = ConnectionType::Dynamic,
                             .state = ConnectionState::Enabled,
                             .group = "HRgw2FINgw"}));
    auto s = db.get_state("hrgw2fingw:l1");
    REQUIRE_OK(s);
    BOOST_REQUIRE(s->has_value());
    BOOST_TEST(((*s)->state == ConnectionState::Enabled));
    BOOST_TEST((*s)->since > 0);

    // Everything the active connection uses is locked.
    auto k = db.load_key_policy("HRgw2FINgw");
    REQUIRE_OK(k);
    CHECK_FAILS(db.update_key_policy(*k), "PDB0111");
    auto d = db.load_data_policy("HRgw2FINgw");
    CHECK_FAILS(db.update_data_policy(*d), "PDB0111");
    auto g = db.load_group("HRgw2FINgw");
    CHECK_FAILS(db.update_group(*g), "PDB0111");
    auto c = db.load_connection("HRgw2FINgw:L1");
    CHECK_FAILS(db.update_connection(*c), "PDB0111");
    CHECK_FAILS(db.delete_connection("HRgw2FINgw:L1"), "PDB0111");
    CHECK_FAILS(db.erase_configuration(), "PDB0111");

    // A responder connection of the group counts too.
    REQUIRE_OK(db.set_state({.name = "HRgw2FINgw:L1", .state = ConnectionState::Error,
                             .group = "HRgw2FINgw", .error_msgid = "TCP8606",
                             .error_values = {"HRgw2FINgw:L1", "8306"}}));
    REQUIRE_OK(db.update_group(*g));
    REQUIRE_OK(db.set_state({.name = "HRgw2FINgw:R1", .state = ConnectionState::OnDemand,
                             .group = "HRgw2FINgw"}));
    CHECK_FAILS(db.update_group(*g), "PDB0111");
    auto all = db.list_states();
    REQUIRE_OK(all);
    BOOST_REQUIRE(all->size() == 2u);
    BOOST_TEST(all->at(0).error_values.size() == 2u);
    BOOST_TEST(all->at(0).error_time > 0);
    REQUIRE_OK(db.reset_states());
    REQUIRE_OK(db.update_group(*g));
    REQUIRE_OK(db.clear_state("HRgw2FINgw:R1"));
    BOOST_TEST(db.list_states()->size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lookups)

BOOST_AUTO_TEST_CASE(first_group_in_order_wins) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    branch_office(db);
    // A second group serving the same remote key server with another key.
    REQUIRE_OK(db.create_key_policy(key_policy("Other", "198.51.100.250", "otherkey")));
    REQUIRE_OK(db.create_data_policy(data_policy("Other")));
    REQUIRE_OK(db.create_group(group("Other", "Other", {"Other"})));

    auto cp = db.resolve("HRgw2FINgw:L1");
    REQUIRE_OK(cp);
    BOOST_TEST(cp->key.name == "HRgw2FINgw");
    REQUIRE_OK(db.move_group("Other", 1));
    cp = db.resolve("HRgw2FINgw:L1");
    REQUIRE_OK(cp);
    BOOST_TEST(cp->key.name == "Other");  // the seed's "key connection group changes"
    BOOST_TEST(cp->group.name == "HRgw2FINgw");

    auto m = db.find_responder({IdType::IPv4, "198.51.100.250"}, *IpAddress::parse("198.51.100.250"));
    REQUIRE_OK(m);
    BOOST_REQUIRE(m->has_value());
    BOOST_TEST((*m)->group.name == "Other");
    BOOST_TEST(!(*m)->connection.has_value());
}

BOOST_AUTO_TEST_CASE(anyip_serves_unknown_peers) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    branch_office(db);
    auto none = db.find_responder({IdType::Fqdn, "roadwarrior.example"},
                                  *IpAddress::parse("203.0.113.7"));
    REQUIRE_OK(none);
    BOOST_TEST(!none->has_value());

    KeyPolicy any = key_policy("Remote", "");
    any.remote = {IdType::AnyIp, ""};
    any.psk = secret("mycokey");
    REQUIRE_OK(db.create_key_policy(any));
    REQUIRE_OK(db.create_data_policy(data_policy("Remote")));
    REQUIRE_OK(db.create_group(group("SalesToRemote", "Remote", {"Remote"})));

    auto m = db.find_responder({IdType::Fqdn, "roadwarrior.example"},
                               *IpAddress::parse("203.0.113.7"));
    REQUIRE_OK(m);
    BOOST_REQUIRE(m->has_value());
    BOOST_TEST((*m)->group.name == "SalesToRemote");
    BOOST_TEST((*m)->key.psk.size() == 7u);
    // The exact identifier still wins over *ANYIP.
    auto exact = db.find_responder({IdType::IPv4, "198.51.100.250"},
                                   *IpAddress::parse("198.51.100.250"));
    REQUIRE_OK(exact);
    BOOST_TEST((*exact)->group.name == "HRgw2FINgw");
    BOOST_REQUIRE((*exact)->connection.has_value());
    BOOST_TEST((*exact)->connection->name == "HRgw2FINgw:L1");

    CHECK_FAILS(db.resolve("nosuch"), "PDB010D");
    CHECK_FAILS(db.resolve("SalesToRemote"), "PDB0041");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(concurrency)

// Two processes write at once, each in many transactions of several
// statements; afterwards every transaction is there completely.
BOOST_AUTO_TEST_CASE(two_writers_keep_the_database_consistent) {
    TempRoot t;
    { PolicyDb db = open_rw(t); }
    constexpr int kEach = 40;
    pid_t kids[2];
    for (int w = 0; w < 2; ++w) {
        kids[w] = fork();
        BOOST_REQUIRE(kids[w] >= 0);
        if (kids[w] == 0) {
            auto r = PolicyDb::open(t.db(), Access::ReadWrite);
            if (!r.ok()) {
                _exit(10);
            }
            for (int i = 0; i < kEach; ++i) {
                std::string n = "W" + std::to_string(w) + "_" + std::to_string(i);
                Status st = r->transaction([&]() -> Status {
                    QVPN_TRY(r->create_data_policy(data_policy(n)));
                    QVPN_TRY(r->create_key_policy(
                        key_policy(n, "198.51.100." + std::to_string(i + 1))));
                    return r->create_group(group(n, n, {n}));
                });
                if (!st.ok()) {
                    _exit(20);
                }
            }
            _exit(0);
        }
    }
    for (pid_t k : kids) {
        int status = 0;
        BOOST_REQUIRE(waitpid(k, &status, 0) == k);
        BOOST_TEST(WIFEXITED(status));
        BOOST_TEST(WEXITSTATUS(status) == 0);
    }
    PolicyDb db = open_rw(t);
    BOOST_TEST(count(db, "data_policy") == 2 * kEach);
    BOOST_TEST(count(db, "key_policy") == 2 * kEach);
    BOOST_TEST(count(db, "dyn_group") == 2 * kEach);
    BOOST_TEST(count(db, "group_key_policy") == 2 * kEach);
    BOOST_TEST(count(db, "key_transform") == 2 * 2 * kEach);
    auto seqs = db.database().scalar("SELECT count(DISTINCT seq) FROM dyn_group");
    BOOST_TEST(**seqs == 2 * kEach);
    auto ok = db.database().prepare("PRAGMA integrity_check");
    REQUIRE_OK(ok);
    REQUIRE_OK(ok->step());
    BOOST_TEST(ok->text(0) == "ok");
    auto fk = db.database().prepare("PRAGMA foreign_key_check");
    REQUIRE_OK(fk);
    auto row = fk->step();
    REQUIRE_OK(row);
    BOOST_TEST(!*row);
}

// A failing transaction leaves nothing behind.
BOOST_AUTO_TEST_CASE(failed_transaction_rolls_back) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    Status st = db.transaction([&]() -> Status {
        QVPN_TRY(db.create_data_policy(data_policy("D")));
        QVPN_TRY(db.create_key_policy(key_policy("K", "198.51.100.1")));
        return db.create_group(group("G", "D", {"K", "missing"}));
    });
    BOOST_TEST(!st.ok());
    BOOST_TEST(st.error().id == "PDB0101");
    BOOST_TEST(count(db, "data_policy") == 0);
    BOOST_TEST(count(db, "key_policy") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
