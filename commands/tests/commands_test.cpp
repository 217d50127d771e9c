#define BOOST_TEST_MODULE config_commands
// The configuration commands as an operator runs them: each test runs the
// built executables with its own QVPN_ROOT and checks exit codes, message
// IDs, displays, and that failing commands leave the database unchanged.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands/tests/run_command.hpp"
#include "core/policy/tests/test_support.hpp"

using namespace qvpn;
using namespace qvpn::policy;
using namespace qvpn::policy::test;
using qvpn::test::Run;
using qvpn::test::run;
using qvpn::test::run_as_nobody;
using Args = std::vector<std::string>;

namespace {

struct Sys : TempRoot {
    std::string root() const { return dir.string(); }
    Run operator()(const std::string& cmd, Args args = {}) const {
        return run(root(), cmd, std::move(args));
    }
    PolicyDb db() const { return open_rw(*this); }
};

// The seed's branch office wizard on System A.
Args branch_office_args() {
    return {"NAME(HRgw2FINgw)",
            "SCENARIO(*GW2GW)",
            "PSK('topsecretstuff')",
            "LCLKEYSVR(*IPV4 192.0.2.227)",
            "RMTKEYSVR(*IPV4 198.51.100.250)",
            "LCLDTAEP(*IPV4SUBNET 10.6.0.0 255.255.0.0)",
            "RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)",
            "LIND(TRLINE)"};
}

Args with(Args a, std::initializer_list<std::string> more) {
    a.insert(a.end(), more);
    return a;
}

Args without(Args a, const std::string& prefix) {
    std::erase_if(a, [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
    return a;
}

#define CHECK_RUN(r, want_rc, want_id)                                                     \
    do {                                                                                   \
        const Run& r_ = (r);                                                               \
        BOOST_CHECK_MESSAGE(r_.rc == (want_rc), "rc " << r_.rc << " stderr: " << r_.err     \
                                                      << " stdout: " << r_.out);           \
        if (std::string(want_id).size() != 0) {                                            \
            BOOST_CHECK_MESSAGE(r_.err_has(want_id) || r_.out.find(std::string(want_id) + ":") != std::string::npos, \
                                "expected " << (want_id) << " in: " << r_.err << r_.out);  \
        }                                                                                  \
    } while (0)

nlohmann::json json_of(const Run& r) {
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    return nlohmann::json::parse(r.out);
}

void write_file(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

}  // namespace

// --- the wizard -------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(wizard)

BOOST_AUTO_TEST_CASE(branch_office_creates_four_objects_in_one_go) {
    Sys a;
    Run r = a("CRTVPNCNN", branch_office_args());
    CHECK_RUN(r, 0, "CFG0010");
    PolicyDb db = a.db();
    auto k = db.load_key_policy("HRgw2FINgw");
    REQUIRE_OK(k);
    BOOST_TEST(k->has_psk);
    BOOST_TEST(k->created_by == "HRgw2FINgw");
    BOOST_TEST((k->transforms == key_transforms(SecurityLevel::Balanced)));
    auto d = db.load_data_policy("HRgw2FINgw");
    REQUIRE_OK(d);
    BOOST_TEST((d->transforms == data_transforms(SecurityLevel::Balanced)));
    BOOST_TEST((d->pfs == DhGroup::Grp19));
    BOOST_TEST((d->mode == Mode::Tunnel));
    auto cp = db.resolve("HRgw2FINgw");
    REQUIRE_OK(cp);
    BOOST_TEST(cp->connection.name == "HRgw2FINgw:L1");
    BOOST_TEST(cp->group.lines.at(0) == "TRLINE");

    auto j = json_of(a("DSPVPNCNN", {"CNN(hrgw2fingw:l1)", "--json"}));
    BOOST_TEST(j["remote_data_endpoint"] == "*IPV4SUBNET 10.196.8.0 255.255.255.0");
    BOOST_TEST(j["key_policy"] == "HRgw2FINgw");
    BOOST_TEST(j["status"]["state"] == "*IDLE");
    auto kp = json_of(a("DSPVPNKEYP", {"HRgw2FINgw", "OUTPUT(*JSON)"}));
    BOOST_TEST(kp["psk"] == "*SET");
    BOOST_TEST(kp.dump().find("topsecretstuff") == std::string::npos);

    // The same name again: nothing more is created.
    std::string before = dump(a.db().path());
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 1, "PDB0102");
    BOOST_TEST(dump(a.db().path()) == before);
}

BOOST_AUTO_TEST_CASE(levels_scenarios_and_overrides) {
    Sys a;
    // *HIGHEST on both policies, host to host: transport mode by default,
    // data endpoints are the key servers.
    CHECK_RUN(a("CRTVPNCNN", {"MyCo2TheirCo", "*HOST2HOST", "KEYPCY(*HIGHEST)",
                              "DTAPCY(*HIGHEST)", "PSK('s3cret')",
                              "LCLKEYSVR(*IPV4 192.0.2.1)", "RMTKEYSVR(*IPV4 198.51.100.6)",
                              "INITIATOR(*LOCAL)"}),
              0, "CFG0010");
    PolicyDb db = a.db();
    auto d = db.load_data_policy("MyCo2TheirCo");
    BOOST_TEST((d->mode == Mode::Transport));
    BOOST_TEST((d->pfs == DhGroup::Grp20));
    BOOST_TEST((d->transforms == data_transforms(SecurityLevel::Highest)));
    auto c = db.load_connection("MyCo2TheirCo:L1");
    BOOST_TEST(c->remote.address == "198.51.100.6");
    BOOST_TEST((db.load_group("MyCo2TheirCo")->initiator == Initiator::Local));

    // Explicit transforms replace the level's; PFS and IKEv1 too.
    CHECK_RUN(a("CRTVPNCNN", {"NAME(Custom)", "SCENARIO(*GW2GW)", "KEYPCY(*MINIMUM)",
                              "KEYTFM((*AESCBC256 *SHA384 *GRP20) (*3DES *SHA1 *GRP14))",
                              "DTATFM((*ESP *AESCBC256 *HMACSHA384) (*AH *NONE *HMACSHA256))",
                              "PFS(*NONE)", "IKEVER(*V1)", "PSK(abc)",
                              "LCLKEYSVR(*FQDN gw.example.com)", "RMTKEYSVR(*IPV4 203.0.113.9)",
                              "LCLDTAEP(*IPV4RANGE 10.1.0.1 10.1.0.9)", "RMTDTAEP(*ANY)",
                              "PROTOCOL(*UDP)", "LCLPORT(1701)", "ONDEMAND(*YES)", "ESN(*YES)",
                              "JRN(*CNNACT)", "POLICYFTR(*RULES)"}),
              0, "");
    auto k = db.load_key_policy("Custom");
    BOOST_REQUIRE(k->transforms.size() == 2u);
    BOOST_TEST((k->transforms[1].encryption == Encr::TripleDes));
    auto cc = db.load_connection("Custom:L1");
    BOOST_TEST(cc->ike_version == 1);
    BOOST_TEST(cc->protocol == 17);
    BOOST_TEST(cc->local_port == 1701);
    BOOST_TEST(cc->on_demand);
    BOOST_TEST(cc->esn);
    BOOST_TEST((db.load_data_policy("Custom")->pfs == DhGroup::None));

    // The seed's remote users: *ANYIP answers only.
    CHECK_RUN(a("CRTVPNCNN", {"NAME(SalesToRemote)", "SCENARIO(*HOST2HOST)", "PSK('mycokey')",
                              "LCLKEYSVR(*IPV4 192.0.2.1)", "RMTKEYSVR(*ANYIP)", "LCLPORT(1701)",
                              "PROTOCOL(*UDP)"}),
              0, "");
    auto g = db.load_group("SalesToRemote");
    BOOST_TEST((g->initiator == Initiator::Remote));
    BOOST_TEST((db.load_connection("SalesToRemote:L1")->remote.type == EndpointType::Any));

    // An existing key policy is reused; its remote key server must fit.
    CHECK_RUN(a("CRTVPNCNN", {"NAME(Second)", "SCENARIO(*HOST2HOST)", "KEYPCY(MyCo2TheirCo)",
                              "LCLKEYSVR(*IPV4 192.0.2.1)"}),
              0, "");
    BOOST_TEST(db.load_group("Second")->key_policies.at(0) == "MyCo2TheirCo");
}

struct WizardError {
    Args args;
    int rc;
    std::string id;
};

BOOST_AUTO_TEST_CASE(checks_refuse_and_change_nothing) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    Args base = without(without(branch_office_args(), "NAME("), "PSK(");
    base.push_back("NAME(Other)");
    const std::vector<WizardError> cases{
        {base, 2, "CFG0001"},                                             // no PSK
        {with(base, {"PSK(x)", "AUTH(*RSA)", "CERT(SYSA)"}), 2, "CFG0002"},
        {with(base, {"AUTH(*ECDSA)"}), 2, "CFG0003"},
        {with(base, {"PSK(x)", "CERT(SYSA)"}), 2, "CFG0004"},
        {with(base, {"AUTH(*RSA)", "CERT(NOSUCH)"}), 1, "DCM0001"},
        {with(base, {"AUTH(*ECDSA)", "CERT(X)", "IKEVER(*V1)"}), 2, "CFG0006"},
        {with(base, {"PSK(x)", "DTATFM((*ESP *AESGCM128 *HMACSHA256))"}), 2, "PDB0127"},
        {with(base, {"PSK(x)", "MODE(*TRANSPORT)"}), 2, "PDB012F"},
        {with(base, {"PSK(x)", "KEYPCY(HRgw2FINgw)"}), 2, "CFG0007"},
        {with(without(base, "RMTKEYSVR"), {"KEYPCY(HRgw2FINgw)", "RMTKEYSVR(*IPV4 203.0.113.1)"}),
         2, "CFG000A"},
        {with(without(base, "RMTKEYSVR"), {"PSK(x)", "RMTKEYSVR(*ANYIP)", "ONDEMAND(*YES)"}), 2,
         "CFG000B"},
        {with(without(base, "NAME("), {"PSK(x)", "NAME(" + std::string(38, 'N') + ")"}), 2,
         "CFG0009"},
        {with(without(base, "LCLKEYSVR"), {"PSK(x)"}), 2, "CPD0072"},
        {with(without(base, "RMTKEYSVR"), {"PSK(x)"}), 2, "CPD0072"},
        {with(without(without(base, "LCLDTAEP"), "LCLKEYSVR"),
              {"PSK(x)", "LCLKEYSVR(*FQDN gw.example)"}),
         2, "CFG0005"},
        {with(base, {"PSK(x)", "SCENARIO(*HOST2GW)"}), 2, "CPD0078"},
        {with(without(base, "SCENARIO"), {"PSK(x)", "SCENARIO(*HOST2GW)"}), 2, "PDB0130"},
        {with(base, {"PSK(x)", "BOGUS(1)"}), 2, "CPD0043"},
        {with(base, {"PSK(x)", "LCLPORT(70000)"}), 2, "CPD0076"},
        {with(base, {"PSK(x)", "IKEVER(*V3)"}), 2, "CPD0084"},
        {with(base, {"PSK('" + std::string(129, 'k') + "')"}), 2, "CPD0075"},
        {with(base, {"PSK(x)", "DTAPCY(NOSUCH)"}), 1, "PDB0103"},
    };
    std::string before = dump(a.db().path());
    for (const auto& c : cases) {
        std::string line;
        for (const auto& x : c.args) {
            line += x + " ";
        }
        BOOST_TEST_CONTEXT(line) {
            Run r = a("CRTVPNCNN", c.args);
            CHECK_RUN(r, c.rc, c.id);
            BOOST_TEST(dump(a.db().path()) == before);
        }
    }
}

BOOST_AUTO_TEST_CASE(actftr_without_lodipftr_creates_objects_then_fails) {
    Sys a;
    // A copy of CRTVPNCNN in a directory of its own has no LODIPFTR beside it.
    fs::path alone = a.dir / "alone";
    fs::create_directories(alone);
    fs::copy_file(qvpn::test::bin_dir() + "/CRTVPNCNN", alone / "CRTVPNCNN");
    Args args = with(branch_office_args(), {"ACTFTR(*YES)", "OTHERTRAFFIC(*DENY)"});
    args.insert(args.begin(), (alone / "CRTVPNCNN").string());
    Run r = qvpn::test::run_argv(a.root(), args);
    CHECK_RUN(r, 1, "CFG0011");
    BOOST_TEST(r.out_has("CFG0010"));
    PolicyDb db = a.db();
    REQUIRE_OK(db.load_group("HRgw2FINgw"));
    BOOST_TEST(!db.attributes()->generated_permit_other);
}

BOOST_AUTO_TEST_CASE(actftr_runs_lodipftr_after_the_commit) {
    Sys a;
    fs::path dir = a.dir / "bin";
    fs::create_directories(dir);
    fs::copy_file(qvpn::test::bin_dir() + "/CRTVPNCNN", dir / "CRTVPNCNN");
    fs::path log = a.dir / "lodipftr.args";
    // LODIPFTR stand-in: records its parameters and whether the group was
    // already committed when it ran.
    write_file(dir / "LODIPFTR",
               "#!/bin/sh\necho \"$@\" > " + log.string() + "\n" +
                   "sqlite3 \"$QVPN_ROOT/policy.db\" 'select name from dyn_group' >> " +
                   log.string() + "\nexit ${LODIPFTR_RC:-0}\n");
    fs::permissions(dir / "LODIPFTR", fs::perms::owner_all);
    Args args = with(branch_office_args(), {"ACTFTR(*YES)"});
    args.insert(args.begin(), (dir / "CRTVPNCNN").string());
    Run r = qvpn::test::run_argv(a.root(), args);
    CHECK_RUN(r, 0, "");
    std::ifstream in(log);
    std::string params, group;
    std::getline(in, params);
    std::getline(in, group);
    BOOST_TEST(params == "OPTION(*LOAD) LIND(*ALL) INCVPN(*YES)");
    BOOST_TEST(group == "HRgw2FINgw");
    BOOST_TEST(a.db().attributes()->generated_permit_other);

    setenv("LODIPFTR_RC", "3", 1);
    args = with(without(branch_office_args(), "NAME("), {"NAME(Two)", "ACTFTR(*YES)"});
    args = without(args, "RMTKEYSVR");
    args.push_back("RMTKEYSVR(*IPV4 203.0.113.2)");
    args.insert(args.begin(), (dir / "CRTVPNCNN").string());
    r = qvpn::test::run_argv(a.root(), args);
    unsetenv("LODIPFTR_RC");
    CHECK_RUN(r, 1, "CFG0012");
}

BOOST_AUTO_TEST_CASE(dltvpncnn_removes_exactly_what_the_wizard_made) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    CHECK_RUN(a("CRTVPNDTAP", {"KEEPME"}), 0, "");
    CHECK_RUN(a("CRTVPNDKG", {"DKG(Manual)", "DTAPCY(KEEPME)"}), 0, "");

    // Active: refused.
    REQUIRE_OK(a.db().set_state({.name = "HRgw2FINgw:L1", .state = ConnectionState::Starting,
                                 .group = "HRgw2FINgw"}));
    std::string before = dump(a.db().path());
    CHECK_RUN(a("DLTVPNCNN", {"HRgw2FINgw"}), 1, "PDB0111");
    BOOST_TEST(dump(a.db().path()) == before);
    REQUIRE_OK(a.db().reset_states());

    // A connection the wizard did not make: refused.
    CHECK_RUN(a("CRTVPNDKC", {"CNN(HRgw2FINgw:L2)", "DKG(HRgw2FINgw)",
                              "LCLKEYSVR(*IPV4 192.0.2.227)", "RMTKEYSVR(*IPV4 198.51.100.250)",
                              "LCLDTAEP(*IPV4 10.6.0.9)", "RMTDTAEP(*IPV4 10.196.8.9)"}),
              0, "");
    CHECK_RUN(a("DLTVPNCNN", {"HRgw2FINgw"}), 1, "CFG0014");
    CHECK_RUN(a("DLTVPNDKC", {"HRgw2FINgw:L2"}), 0, "CFG0022");
    // A group the wizard did not make: refused.
    CHECK_RUN(a("DLTVPNCNN", {"Manual"}), 1, "CFG0013");

    CHECK_RUN(a("DLTVPNCNN", {"HRGW2FINGW"}), 0, "CFG0016");
    PolicyDb db = a.db();
    BOOST_TEST(!*db.group_exists("HRgw2FINgw"));
    BOOST_TEST(!*db.key_policy_exists("HRgw2FINgw"));
    BOOST_TEST(!*db.data_policy_exists("HRgw2FINgw"));
    BOOST_TEST(*db.data_policy_exists("KEEPME"));
    BOOST_TEST(*db.group_exists("Manual"));
    CHECK_RUN(a("DLTVPNCNN", {"HRgw2FINgw"}), 1, "PDB0105");
}

BOOST_AUTO_TEST_CASE(dltvpncnn_keeps_a_policy_another_group_now_uses) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    CHECK_RUN(a("CRTVPNDKG", {"DKG(Borrower)", "DTAPCY(HRgw2FINgw)"}), 0, "");
    CHECK_RUN(a("DLTVPNCNN", {"HRgw2FINgw"}), 0, "CFG0015");
    BOOST_TEST(*a.db().data_policy_exists("HRgw2FINgw"));
    BOOST_TEST(!*a.db().key_policy_exists("HRgw2FINgw"));
}

BOOST_AUTO_TEST_SUITE_END()

// --- every object's commands ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(objects)

BOOST_AUTO_TEST_CASE(key_policy_commands) {
    Sys a;
    CHECK_RUN(a("CRTVPNKEYP", {"KEYPCY(ToFin)", "RMTKEYSVR(*IPV4 198.51.100.250)",
                               "PSK(topsecretstuff)", "TEXT('to finance')"}),
              0, "CFG0020");
    CHECK_RUN(a("CRTVPNKEYP", {"KEYPCY(tofin)", "RMTKEYSVR(*IPV4 198.51.100.1)", "PSK(x)"}), 1,
              "PDB0102");
    CHECK_RUN(a("CRTVPNKEYP", {"KEYPCY(NoKey)", "RMTKEYSVR(*IPV4 198.51.100.1)"}), 2, "CFG0001");
    CHECK_RUN(a("CHGVPNKEYP", {"KEYPCY(TOFIN)", "KEYTFM(*HIGHEST)", "LIFETIME(120)",
                               "INITMODE(*AGGRESSIVE)"}),
              0, "CFG0021");
    auto j = json_of(a("DSPVPNKEYP", {"ToFin", "--json"}));
    BOOST_TEST(j["lifetime_minutes"] == 120);
    BOOST_TEST(j["initiator_mode"] == "*AGGRESSIVE");
    BOOST_TEST(j["transforms"].size() == 1u);
    BOOST_TEST(j["psk"] == "*SET");
    BOOST_TEST(j["text"] == "to finance");
    // Generic and *ALL lists.
    CHECK_RUN(a("CRTVPNKEYP", {"Other", "RMTKEYSVR(*FQDN peer.example.com)", "PSK(x)"}), 0, "");
    auto list = json_of(a("DSPVPNKEYP", {"TO*", "--json"}));
    BOOST_TEST(list.size() == 1u);
    BOOST_TEST(a("DSPVPNKEYP").out_has("peer.example.com"));
    CHECK_RUN(a("DSPVPNKEYP", {"ZZ*"}), 1, "CFG0026");
    CHECK_RUN(a("DSPVPNKEYP", {"NOSUCH"}), 1, "PDB0101");
    CHECK_RUN(a("DLTVPNKEYP", {"tofin"}), 0, "CFG0022");
    CHECK_RUN(a("DLTVPNKEYP", {"tofin"}), 1, "PDB0101");
}

BOOST_AUTO_TEST_CASE(defaults_seed_new_policies) {
    Sys a;
    CHECK_RUN(a("CHGVPNDFT", {"KEYSECLVL(*HIGHEST)", "DTASECLVL(*MINIMUM)", "KEYLIFE(300)",
                              "DTALIFE(20)", "DTALIFEKB(100000)"}),
              0, "CFG0024");
    auto d = json_of(a("DSPVPNDFT", {"--json"}));
    BOOST_TEST(d["key_level"] == "*HIGHEST");
    BOOST_TEST(d["data_lifetime_kb"] == "100000");
    CHECK_RUN(a("CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 198.51.100.250)", "PSK(x)"}), 0, "");
    CHECK_RUN(a("CRTVPNDTAP", {"D"}), 0, "");
    PolicyDb db = a.db();
    BOOST_TEST((db.load_key_policy("K")->transforms == key_transforms(SecurityLevel::Highest)));
    BOOST_TEST(db.load_key_policy("K")->lifetime_minutes == 300);
    auto dp = db.load_data_policy("D");
    BOOST_TEST((dp->transforms == data_transforms(SecurityLevel::Minimum)));
    BOOST_TEST((dp->pfs == DhGroup::None));
    BOOST_TEST(dp->lifetime_minutes == 20);
    BOOST_TEST(dp->lifetime_kb == 100000);
    CHECK_RUN(a("CHGVPNDFT", {"KEYLIFE(0)"}), 2, "CPD0076");
}

BOOST_AUTO_TEST_CASE(data_policy_group_and_connection_commands) {
    Sys a;
    CHECK_RUN(a("CRTVPNDTAP", {"DTAPCY(D1)", "DTATFM((*ESP *AESCBC256 *HMACSHA512))",
                               "PFS(*GRP14)", "IPCOMP(*YES)"}),
              0, "");
    CHECK_RUN(a("CRTVPNKEYP", {"K1", "RMTKEYSVR(*IPV4 198.51.100.250)", "PSK(x)"}), 0, "");
    CHECK_RUN(a("CRTVPNKEYP", {"K2", "RMTKEYSVR(*IPV4 203.0.113.5)", "PSK(y)"}), 0, "");
    CHECK_RUN(a("CRTVPNDKG", {"G1", "DTAPCY(D1)", "KEYPCY(K1 K2)", "LIND(TRLINE ETH1)",
                              "JRN(*ALL)"}),
              0, "");
    CHECK_RUN(a("CRTVPNDKG", {"G0", "DTAPCY(D1)", "POSITION(*FIRST)"}), 0, "");
    CHECK_RUN(a("CRTVPNDKG", {"G2", "DTAPCY(NOSUCH)"}), 1, "PDB0103");
    CHECK_RUN(a("CRTVPNDKG", {"G2", "DTAPCY(D1)", "KEYPCY(K1 K1)"}), 1, "PDB0134");
    auto groups = json_of(a("DSPVPNDKG", {"--json"}));
    BOOST_REQUIRE(groups.size() == 2u);
    BOOST_TEST(groups[0]["name"] == "G0");
    BOOST_TEST(groups[1]["remote_key_servers"].size() == 2u);
    CHECK_RUN(a("CHGVPNDKG", {"G1", "POSITION(1)", "KEYPCY(K2)"}), 0, "");
    groups = json_of(a("DSPVPNDKG", {"--json"}));
    BOOST_TEST(groups[0]["name"] == "G1");

    CHECK_RUN(a("CRTVPNDKC", {"C1", "DKG(G1)", "LCLKEYSVR(*IPV4 192.0.2.227)",
                              "RMTKEYSVR(*IPV4 203.0.113.5)", "LCLDTAEP(*IPV6SUBNET 2001:db8:1:: 48)",
                              "RMTDTAEP(*IPV6 2001:DB8:2::1)", "PROTOCOL(47)"}),
              0, "");
    // K1 left the group: a connection to its remote key server is refused.
    CHECK_RUN(a("CRTVPNDKC", {"C2", "DKG(G1)", "LCLKEYSVR(*IPV4 192.0.2.227)",
                              "RMTKEYSVR(*IPV4 198.51.100.250)"}),
              1, "PDB0140");
    CHECK_RUN(a("CHGVPNDKG", {"G1", "KEYPCY(K1)"}), 1, "PDB0140");
    auto c = json_of(a("DSPVPNDKC", {"c1", "--json"}));
    BOOST_TEST(c["remote_data_endpoint"] == "*IPV6 2001:db8:2::1");
    BOOST_TEST(c["protocol"] == "47");
    CHECK_RUN(a("CHGVPNDKC", {"C1", "ONDEMAND(*YES)", "RMTPORT(443)"}), 0, "");
    BOOST_TEST(a.db().load_connection("C1")->remote_port == 443);
    CHECK_RUN(a("DLTVPNDKG", {"G1"}), 1, "PDB0110");
    CHECK_RUN(a("DLTVPNDTAP", {"D1"}), 1, "PDB0110");
    CHECK_RUN(a("DLTVPNKEYP", {"K2"}), 1, "PDB0110");
    CHECK_RUN(a("DLTVPNDKC", {"C1"}), 0, "");
    CHECK_RUN(a("DLTVPNDKG", {"G1"}), 0, "");
    CHECK_RUN(a("DLTVPNKEYP", {"K2"}), 0, "");
}

BOOST_AUTO_TEST_CASE(manual_connection_commands) {
    Sys a;
    Args ok = {"CNN(MAN1)", "LCLADR(192.0.2.227)", "RMTADR(198.51.100.250)",
               "ESPSPI(4097 4098)",
               "ESPKEYS(00112233445566778899AABBCCDDEEFF 0x00112233445566778899aabbccddeeff "
               "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF "
               "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF)"};
    Args short_key = ok;
    short_key.back() = "ESPKEYS(0011 0011 0011 0011)";
    std::string before = dump(a.db().path());
    CHECK_RUN(a("CRTVPNMNC", short_key), 2, "PDB0132");
    CHECK_RUN(a("CRTVPNMNC", {"CNN(MAN1)", "LCLADR(192.0.2.227)", "RMTADR(198.51.100.250)",
                              "ESPSPI(4097 4098)"}),
              2, "CFG0027");
    CHECK_RUN(a("CRTVPNMNC", with(without(ok, "ESPSPI"), {"ESPSPI(12 4098)"})), 2, "CPD0076");
    BOOST_TEST(dump(a.db().path()) == before);
    CHECK_RUN(a("CRTVPNMNC", ok), 0, "CFG0020");
    auto j = json_of(a("DSPVPNMNC", {"man1", "--json"}));
    BOOST_TEST(j["keys"] == "*SET");
    BOOST_TEST(j["mode"] == "*TRANSPORT");
    BOOST_TEST(j["esp_spi_in"] == 4097);
    BOOST_TEST(j.dump().find("AABBCC") == std::string::npos);
    auto mp = a.db().resolve_manual("MAN1");
    REQUIRE_OK(mp);
    BOOST_TEST(mp->connection.esp.enc_out.size() == 16u);

    // AEAD: authentication *NONE and a salt after the key.
    CHECK_RUN(a("CHGVPNMNC", {"MAN1", "ENCRYPTION(*AESGCM128)"}), 2, "PDB0127");
    CHECK_RUN(a("CHGVPNMNC", {"MAN1", "ENCRYPTION(*AESGCM128)", "AUTHENTICATION(*NONE)"}), 1,
              "PDB0142");
    CHECK_RUN(a("CHGVPNMNC", {"MAN1", "ENCRYPTION(*AESGCM128)", "AUTHENTICATION(*NONE)",
                              "ESPKEYS(00112233445566778899AABBCCDDEEFF01020304 "
                              "00112233445566778899AABBCCDDEEFF01020304)"}),
              0, "CFG0021");
    CHECK_RUN(a("CHGVPNMNC", {"MAN1", "SYSROLE(*GW2GW)"}), 2, "PDB012F");
    CHECK_RUN(a("CRTVPNMNC", with(without(ok, "CNN("), {"CNN(man1)"})), 1, "PDB0108");
    CHECK_RUN(a("DLTVPNMNC", {"MAN1"}), 0, "CFG0022");
}

BOOST_AUTO_TEST_CASE(line_commands) {
    Sys a;
    CHECK_RUN(a("CRTLINETH", {"TRLINE", "eth0", "TEXT('Internet')"}), 0, "");
    CHECK_RUN(a("CRTLINETH", {"LIND(trline)", "RSRCNAME(eth1)"}), 1, "PDB010A");
    CHECK_RUN(a("CRTLINETH", {"LIND(TOOLONGLINENAME1)", "RSRCNAME(eth1)"}), 2, "CPD0075");
    CHECK_RUN(a("CRTLINETH", {"LIND(L2)"}), 2, "CPD0072");
    CHECK_RUN(a("CHGLINETH", {"TRLINE", "RSRCNAME(qv-fd-a0)"}), 0, "");
    auto j = json_of(a("DSPLIND", {"TRLINE", "--json"}));
    BOOST_TEST(j["resource"] == "qv-fd-a0");
    CHECK_RUN(a("DSPLIND", {"NOLINE"}), 1, "CPF2601");
    CHECK_RUN(a("CRTVPNDTAP", {"D"}), 0, "");
    CHECK_RUN(a("CRTVPNDKG", {"G", "DTAPCY(D)", "LIND(TRLINE)"}), 0, "");
    CHECK_RUN(a("DLTLIND", {"TRLINE"}), 1, "PDB0110");
    CHECK_RUN(a("CHGVPNDKG", {"G", "LIND(*ALL)"}), 0, "");
    CHECK_RUN(a("DLTLIND", {"TRLINE"}), 0, "CFG0022");
}

BOOST_AUTO_TEST_CASE(attributes_and_system_values) {
    Sys a;
    CHECK_RUN(a("CHGVPNA", {"IKESAREKEY(*YES)", "DPDITV(10)", "OTHERTRAFFIC(*DENY)"}), 0,
              "CFG0023");
    auto j = json_of(a("DSPVPNA", {"--json"}));
    BOOST_TEST(j["ikesa_rekey"] == true);
    BOOST_TEST(j["dpd_seconds"] == 10);
    BOOST_TEST(j["other_traffic"] == "*DENY");
    BOOST_TEST(j["half_open_limit"] == 200);
    CHECK_RUN(a("CHGVPNA", {"DPDITV(3601)"}), 2, "CPD0076");
    CHECK_RUN(a("CHGVPNA", {"DPDITV(abc)"}), 2, "CPD0077");

    CHECK_RUN(a("CHGSYSVAL", {"QVPNDTAPTH", "*userspace"}), 0, "CFG0025");
    CHECK_RUN(a("CHGSYSVAL", {"SYSVAL(QCMNTRCMAX)", "VALUE(16M)"}), 0, "");
    CHECK_RUN(a("CHGSYSVAL", {"QNOSUCH", "1"}), 2, "PDB0020");
    CHECK_RUN(a("CHGSYSVAL", {"QRETSVRSEC", "2"}), 2, "CPD0084");
    auto s = json_of(a("DSPSYSVAL", {"QCMNTRCMAX", "--json"}));
    BOOST_TEST(s["value"] == "16777216");
    BOOST_TEST(a("DSPSYSVAL").out_has("*USERSPACE"));

    // QRETSVRSEC '0' erases keys and refuses new ones: the seed's two errors.
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    Run r = a("CHGSYSVAL", {"QRETSVRSEC", "'0'"});
    CHECK_RUN(r, 0, "PDB0016");
    BOOST_TEST(r.err.find("1 stored keys") != std::string::npos);
    BOOST_TEST(json_of(a("DSPVPNKEYP", {"HRgw2FINgw", "--json"}))["psk"] == "*NONE");
    CHECK_RUN(a("CHGVPNKEYP", {"HRgw2FINgw", "PSK(again)"}), 1, "PDB0013");
    CHECK_RUN(a("CHGSYSVAL", {"QRETSVRSEC", "1"}), 0, "");
    CHECK_RUN(a("CHGVPNKEYP", {"HRgw2FINgw", "PSK(again)"}), 0, "");
}

BOOST_AUTO_TEST_CASE(in_use_objects_cannot_change) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    REQUIRE_OK(a.db().set_state({.name = "HRgw2FINgw:L1", .state = ConnectionState::Enabled,
                                 .group = "HRgw2FINgw"}));
    std::string before = dump(a.db().path());
    Run r = a("CHGVPNDTAP", {"HRgw2FINgw", "PFS(*GRP20)"});
    CHECK_RUN(r, 1, "PDB0111");
    BOOST_TEST(r.err.find("HRgw2FINgw:L1") != std::string::npos);
    CHECK_RUN(a("CHGVPNKEYP", {"HRgw2FINgw", "PSK(other)"}), 1, "PDB0111");
    CHECK_RUN(a("CHGVPNDKG", {"HRgw2FINgw", "JRN(*ALL)"}), 1, "PDB0111");
    CHECK_RUN(a("DLTVPNDKC", {"HRgw2FINgw:L1"}), 1, "PDB0111");
    BOOST_TEST(dump(a.db().path()) == before);

    // WRKVPNCNN shows the states, including a responder connection known
    // only from the state table.
    REQUIRE_OK(a.db().set_state({.name = "HRgw2FINgw:R1", .state = ConnectionState::Enabled,
                                 .group = "HRgw2FINgw"}));
    auto list = json_of(a("WRKVPNCNN", {"--json"}));
    BOOST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0]["status"]["state"] == "*ENABLED");
    BOOST_TEST(list[1]["name"] == "HRgw2FINgw:R1");
    Run text = a("WRKVPNCNN");
    BOOST_TEST(text.out_has("*ENABLED"));
}

BOOST_AUTO_TEST_SUITE_END()

// --- bad input, authority ---------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(bad_input)

struct Case {
    std::string cmd;
    Args args;
    int rc;
    std::string id;
};

BOOST_AUTO_TEST_CASE(every_error_has_its_id_and_changes_nothing) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    CHECK_RUN(a("CRTLINETH", {"TRLINE", "eth0"}), 0, "");
    const std::vector<Case> cases{
        {"CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)", "COLOR(red)"}, 2, "CPD0043"},
        {"CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)", "AUTH(*PASSWORD)"}, 2,
         "CPD0084"},
        {"CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)", "LIFETIME(forever)"}, 2,
         "CPD0077"},
        {"CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)", "LIFETIME(99999)"}, 2,
         "CPD0076"},
        {"CRTVPNKEYP", {std::string(41, 'K'), "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)"}, 2,
         "CPD0075"},
        {"CRTVPNKEYP", {"K", "PSK(x)"}, 2, "CPD0072"},
        {"CRTVPNKEYP", {"K", "RMTKEYSVR(*IPV4 not.an.address)", "PSK(x)"}, 2, "PDB0121"},
        {"CRTVPNKEYP", {"HRGW2FINGW", "RMTKEYSVR(*IPV4 1.2.3.4)", "PSK(x)"}, 1, "PDB0102"},
        {"CHGVPNKEYP", {"NOSUCH", "PSK(x)"}, 1, "PDB0101"},
        {"DLTVPNKEYP", {"HRgw2FINgw"}, 1, "PDB0110"},
        {"DLTVPNDTAP", {"HRgw2FINgw"}, 1, "PDB0110"},
        {"DLTVPNDKG", {"HRgw2FINgw"}, 1, "PDB0110"},
        {"DLTLIND", {"NOLINE"}, 1, "CPF2601"},
        {"CRTVPNDTAP", {"D", "DTATFM((*ESP *AESCBC128))"}, 2, "PDB0128"},
        {"CRTVPNDTAP", {"D", "DTATFM((*ESP *AESCBC128 *HMACSHA1) *ESP)"}, 2, "CPD0071"},
        {"CRTVPNDTAP", {"D", "DTATFM(*DFT (*ESP *AESCBC128 *HMACSHA1))"}, 2, "CPD0082"},
        {"CRTVPNDKC", {"C", "DKG(NOSUCH)", "LCLKEYSVR(*IPV4 192.0.2.1)",
                       "RMTKEYSVR(*IPV4 198.51.100.250)"},
         1, "PDB0105"},
        {"CRTVPNDKC", {"C", "DKG(HRgw2FINgw)", "LCLKEYSVR(*ANYIP)",
                       "RMTKEYSVR(*IPV4 198.51.100.250)"},
         2, "CPD0084"},
        {"CRTVPNDKC", {"HRGW2FINGW:L1", "DKG(HRgw2FINgw)", "LCLKEYSVR(*IPV4 192.0.2.1)",
                       "RMTKEYSVR(*IPV4 198.51.100.250)"},
         1, "PDB0108"},
        {"CRTVPNDKG", {"G", "DTAPCY(HRgw2FINgw)", "LIND(*ALL TRLINE)"}, 2, "CPD0082"},
        {"DSPVPNDKG", {"NOSUCH"}, 1, "PDB0105"},
        {"DSPVPNCNN", {"NOSUCH"}, 1, "PDB010D"},
        {"CPYVPNCFGF", {"*EXPORT", "/nonexistent/dir/x.xml"}, 1, "QVP0005"},
        {"CPYVPNCFGF", {"*IMPORT", "/nonexistent/x.xml"}, 1, "QVP0004"},
        {"CPYVPNCFGF", {"*EXPORT", "/tmp/x.xml", "KEYS(*ENCRYPT)"}, 2, "XML0012"},
        {"CPYVPNCFGF", {"*EXPORT", "/tmp/x.xml", "KEYS(*ENCRYPT)", "PASSPHRASE(short)"}, 2,
         "XML0013"},
        {"CPYVPNCFGF", {"*IMPORT", "/tmp/x.xml", "GRP(A)", "REPLACE(*YES)"}, 2, "XML0014"},
        {"ADDDCMCRT", {"LABEL(X)", "FROMSTMF(/nonexistent.pem)"}, 1, "QVP0004"},
        {"RMVDCMCRT", {"NOSUCH"}, 1, "DCM0001"},
        {"DSPVPNA", {"EXTRA"}, 2, "CPD0080"},
    };
    std::string before = dump(a.db().path());
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.cmd << " " << (c.args.empty() ? "" : c.args[0])) {
            Run r = a(c.cmd, c.args);
            CHECK_RUN(r, c.rc, c.id);
            if (c.rc == 2) {
                BOOST_TEST(r.err_has("CPF0001"));
            }
            BOOST_TEST(dump(a.db().path()) == before);
        }
    }
}

BOOST_AUTO_TEST_CASE(not_authorized_callers_get_tcp8050_and_change_nothing) {
    Sys a;
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    // nobody must be able to reach the state root's parent to run at all.
    ::chmod(a.root().c_str(), 0755);
    std::string before = dump(a.db().path());
    for (const auto& [cmd, args] :
         std::vector<std::pair<std::string, Args>>{{"DLTVPNCNN", {"HRgw2FINgw"}},
                                                   {"CRTVPNCNN", branch_office_args()},
                                                   {"CHGSYSVAL", {"QRETSVRSEC", "0"}},
                                                   {"DSPVPNKEYP", {"*ALL"}},
                                                   {"CPYVPNCFGF", {"*EXPORT", "/tmp/qv-fd-x"}},
                                                   {"ADDDCMCRT", {"X", "/etc/hostname"}}}) {
        BOOST_TEST_CONTEXT(cmd) {
            Run r = run_as_nobody(a.root(), cmd, args);
            BOOST_TEST(r.rc == 3);
            BOOST_TEST(r.err_has("TCP8050"));
            BOOST_TEST(dump(a.db().path()) == before);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// --- certificates and CPYVPNCFGF ------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(certificate_commands) {
    Sys a;
    TestCert ca = make_cert("Test CA", "EC", "P-256");
    TestCert sys = make_cert("systemA", "EC", "P-384");
    TestCert other = make_cert("other", "EC", "P-384");
    write_file(a.dir / "ca.pem", ca.cert_pem);
    write_file(a.dir / "sys.pem", sys.cert_pem);
    write_file(a.dir / "sys.key", sys.key_pem);
    write_file(a.dir / "both.pem", sys.cert_pem + sys.key_pem);
    write_file(a.dir / "other.key", other.key_pem);
    auto p = [&](const char* f) { return (a.dir / f).string(); };

    CHECK_RUN(a("ADDDCMCRT", {"LABEL(CA1)", "TYPE(*CA)", "FROMSTMF(" + p("ca.pem") + ")"}), 0,
              "CFG0020");
    CHECK_RUN(a("ADDDCMCRT", {"SYSA", p("sys.pem"), "KEYSTMF(" + p("other.key") + ")"}), 1,
              "DCM0011");
    CHECK_RUN(a("ADDDCMCRT", {"SYSA", p("sys.pem")}), 1, "DCM0003");
    CHECK_RUN(a("ADDDCMCRT", {"SYSA", p("both.pem"), "TEXT('System A')"}), 0, "CFG0020");
    CHECK_RUN(a("ADDDCMCRT", {"sysa", p("both.pem")}), 1, "DCM0002");
    auto j = json_of(a("DSPDCMCRT", {"SYSA", "--json"}));
    BOOST_TEST(j["subject"] == "CN=systemA");
    BOOST_TEST(j["issuer"] == "CN=systemA");
    BOOST_TEST(j["key_type"] == "*ECDSA");
    BOOST_TEST(j["curve"] == "P-384");
    BOOST_TEST(j["private_key"] == "*SET");
    auto cas = json_of(a("DSPDCMCRT", {"TYPE(*CA)", "--json"}));
    BOOST_TEST(cas.size() == 1u);

    // The wizard with a certificate: ECDSA matches, RSA does not.
    Args cert_args = without(branch_office_args(), "PSK(");
    CHECK_RUN(a("CRTVPNCNN", with(cert_args, {"AUTH(*RSA)", "CERT(SYSA)"})), 1, "PDB0141");
    CHECK_RUN(a("CRTVPNCNN", with(cert_args, {"AUTH(*ECDSA)", "CERT(SYSA)"})), 0, "");
    CHECK_RUN(a("RMVDCMCRT", {"SYSA"}), 1, "PDB0110");
    CHECK_RUN(a("RMVDCMCRT", {"CA1"}), 0, "CFG0022");
}

BOOST_AUTO_TEST_CASE(cpyvpncfgf_round_trip_and_malformed_files) {
    Sys a, c;
    CHECK_RUN(a("CRTLINETH", {"TRLINE", "qv-fd-a0"}), 0, "");
    CHECK_RUN(a("CRTVPNCNN", branch_office_args()), 0, "");
    CHECK_RUN(a("CRTVPNCNN", {"NAME(MyCo2TheirCo)", "SCENARIO(*HOST2HOST)", "PSK(s)",
                              "LCLKEYSVR(*IPV4 192.0.2.227)", "RMTKEYSVR(*IPV4 198.51.100.6)"}),
              0, "");
    CHECK_RUN(a("CHGVPNA", {"DPDITV(15)"}), 0, "");
    std::string f1 = (a.dir / "a.xml").string();
    std::string f2 = (a.dir / "c.xml").string();
    CHECK_RUN(a("CPYVPNCFGF", {"OPTION(*EXPORT)", "STMF(" + f1 + ")"}), 0, "XML0010");
    CHECK_RUN(a("CPYVPNCFGF", {"*EXPORT", f1}), 1, "XML0015");
    Run imp = c("CPYVPNCFGF", {"*IMPORT", f1});
    CHECK_RUN(imp, 0, "XML0011");
    BOOST_TEST(imp.err_has("XML000B"));  // keys were omitted
    CHECK_RUN(c("CPYVPNCFGF", {"*EXPORT", f2}), 0, "");
    std::ifstream i1(f1), i2(f2);
    std::string s1((std::istreambuf_iterator<char>(i1)), {});
    std::string s2((std::istreambuf_iterator<char>(i2)), {});
    BOOST_TEST(s1 == s2);

    // With keys, the PSK arrives.
    std::string fk = (a.dir / "k.xml").string();
    CHECK_RUN(a("CPYVPNCFGF", {"*EXPORT", fk, "KEYS(*ENCRYPT)", "PASSPHRASE('correct horse')"}),
              0, "");
    CHECK_RUN(c("CPYVPNCFGF", {"*IMPORT", fk, "REPLACE(*YES)", "KEYS(*ENCRYPT)",
                               "PASSPHRASE('correct horse')"}),
              0, "");
    BOOST_TEST(c.db().load_key_policy("HRgw2FINgw")->has_psk);

    // A damaged file: line, element, reason; nothing imported.
    std::string bad = s1;
    bad.replace(bad.find("*AESGCM128"), 10, "*AESGCM999");
    std::string fb = (a.dir / "bad.xml").string();
    write_file(fb, bad);
    Sys e;
    CHECK_RUN(e("DSPVPNA"), 0, "");
    std::string before = dump(e.db().path());
    Run r = e("CPYVPNCFGF", {"*IMPORT", fb});
    CHECK_RUN(r, 1, "XML0004");
    BOOST_TEST(r.err.find("Line ") != std::string::npos);
    BOOST_TEST(r.err.find("<transform>") != std::string::npos);
    BOOST_TEST(dump(e.db().path()) == before);
    write_file(fb, s1.substr(0, s1.size() / 2));
    CHECK_RUN(e("CPYVPNCFGF", {"*IMPORT", fb}), 1, "XML0001");
    BOOST_TEST(dump(e.db().path()) == before);

    // One group only.
    CHECK_RUN(e("CPYVPNCFGF", {"*IMPORT", f1, "GRP(MyCo2TheirCo)"}), 0, "");
    auto groups = json_of(e("DSPVPNDKG", {"--json"}));
    BOOST_TEST(groups.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
