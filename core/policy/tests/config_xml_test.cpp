#define BOOST_TEST_MODULE config_xml
#include "core/policy/config_xml.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/policy/tests/test_support.hpp"

using namespace qvpn;
using namespace qvpn::policy;
using namespace qvpn::policy::test;

namespace {

// Cheap scrypt for tests; files still say what they used.
ExportOptions fast(ExportOptions o) {
    o.scrypt_n = 1024;
    return o;
}

std::string export_text(PolicyDb& db, ExportOptions o = {}) {
    auto r = export_config(db, fast(std::move(o)));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().id));
    return *r;
}

Result<ImportResult> import_text(PolicyDb& db, const std::string& xml, ImportOptions o = {}) {
    QVPN_ASSIGN(ConfigDocument d, parse_config(xml));
    return import_config(db, d, o);
}

// A minimal valid file around `body`.
std::string file(const std::string& body) {
    return "<?xml version=\"1.0\"?>\n<qvpnConfiguration xmlns=\"urn:qvpn:config:1\" "
           "version=\"1\">\n" + body + "</qvpnConfiguration>\n";
}

const char* kDataPolicy =
    "  <dataPolicy name=\"D\">\n"
    "    <transform protocol=\"*ESP\" encryption=\"*AESGCM128\"/>\n"
    "  </dataPolicy>\n";

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_between_systems_is_identical) {
    TempRoot a, c;
    PolicyDb da = open_rw(a);
    branch_office(da);
    std::string first = export_text(da);

    PolicyDb dc = open_rw(c);
    auto res = import_text(dc, first);
    REQUIRE_OK(res);
    BOOST_TEST(res->objects == 6);       // line, key, data, group, connection, manual
    BOOST_TEST(res->keys_left_out == 2);  // KEYS(*OMIT): the PSK and the manual keys
    std::string second = export_text(dc);
    BOOST_TEST(first == second);

    // The imported objects are really there, in the same shape.
    auto g = dc.load_group("HRGW2FINGW");
    REQUIRE_OK(g);
    BOOST_TEST(g->from_wizard);
    BOOST_TEST(g->lines.at(0) == "TRLINE");
    auto attrs = dc.attributes();
    REQUIRE_OK(attrs);
    BOOST_TEST(attrs->dpd_seconds == 45);
    BOOST_TEST(!attrs->generated_permit_other);
}

BOOST_AUTO_TEST_CASE(encrypted_keys_travel_and_wrong_passphrase_changes_nothing) {
    TempRoot a, c;
    PolicyDb da = open_rw(a);
    branch_office(da);
    std::string xml = export_text(da, {.keys = true, .passphrase = "correct horse"});
    BOOST_TEST(xml.find("<psk>") != std::string::npos);
    BOOST_TEST(xml.find("topsecretstuff") == std::string::npos);

    PolicyDb dc = open_rw(c);
    std::string before = dump(c.db());
    auto bad = import_text(dc, xml, {.keys = true, .passphrase = "wrong horse"});
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().id == "XML000C");
    BOOST_TEST(dump(c.db()) == before);

    auto good = import_text(dc, xml, {.keys = true, .passphrase = "correct horse"});
    REQUIRE_OK(good);
    BOOST_TEST(good->keys == 2);
    BOOST_TEST(good->keys_left_out == 0);
    auto cp = dc.resolve("HRgw2FINgw:L1");
    REQUIRE_OK(cp);
    BOOST_TEST(std::string(cp->key.psk.view().begin(), cp->key.psk.view().end()) ==
               "topsecretstuff");
    auto mp = dc.resolve_manual("MANUAL1");
    REQUIRE_OK(mp);
    BOOST_TEST(mp->connection.esp.auth_out.view()[0] == 0x44);
}

BOOST_AUTO_TEST_CASE(certificates_travel_with_their_keys_only_when_encrypted) {
    TempRoot a, c, e;
    PolicyDb da = open_rw(a);
    TestCert ca = make_cert("Test CA", "EC", "P-256");
    TestCert sys = make_cert("systemA", "EC", "P-384");
    auto ica = import_certificate("CA1", CertKind::Ca, CertFormat::Pem, as_view(ca.cert_pem), {},
                                  "");
    auto isys = import_certificate("SYSA", CertKind::System, CertFormat::Pem,
                                   as_view(sys.cert_pem), as_view(sys.key_pem), "");
    REQUIRE_OK(ica);
    REQUIRE_OK(isys);
    REQUIRE_OK(da.add_certificate(ica->info, ica->private_key));
    REQUIRE_OK(da.add_certificate(isys->info, isys->private_key));
    KeyPolicy k = key_policy("CERTPOL", "198.51.100.250");
    k.auth = AuthMethod::Ecdsa;
    k.psk = SecretBytes();
    k.has_psk = false;
    k.cert_label = "SYSA";
    REQUIRE_OK(da.create_key_policy(k));

    std::string omit = export_text(da);
    BOOST_TEST(omit.find("<privateKey>") == std::string::npos);
    PolicyDb dc = open_rw(c);
    // Without its key the system certificate cannot come along, and the key
    // policy using it then has nothing to refer to: nothing is imported.
    std::string before = dump(c.db());
    auto r = import_text(dc, omit);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "DCM0001");
    BOOST_TEST(dump(c.db()) == before);

    std::string enc = export_text(da, {.keys = true, .passphrase = "a long passphrase"});
    PolicyDb de = open_rw(e);
    auto ok = import_text(de, enc, {.keys = true, .passphrase = "a long passphrase"});
    REQUIRE_OK(ok);
    auto ck = de.certificate_key("sysa");
    REQUIRE_OK(ck);
    BOOST_TEST(ck->info.curve == "P-384");
    REQUIRE_OK(to_private_key(*ck));
    // Importing the same CA again is no conflict.
    auto again = import_text(de, file(std::string("  <certificate label=\"CA1\" type=\"*CA\">"
                                                  "<pem>") + ca.cert_pem + "</pem></certificate>\n"));
    REQUIRE_OK(again);
}

BOOST_AUTO_TEST_CASE(group_selection_exports_and_imports_what_groups_use) {
    TempRoot a, c;
    PolicyDb da = open_rw(a);
    branch_office(da);
    REQUIRE_OK(da.create_data_policy(data_policy("Other")));
    DynamicGroup g;
    g.name = "Other";
    g.data_policy = "Other";
    REQUIRE_OK(da.create_group(g));

    std::string xml = export_text(da, {.groups = {"hrgw2fingw"}});
    BOOST_TEST(xml.find("name=\"Other\"") == std::string::npos);
    BOOST_TEST(xml.find("<attributes") == std::string::npos);
    BOOST_TEST(xml.find("MANUAL1") == std::string::npos);
    BOOST_TEST(xml.find("<line name=\"TRLINE\"") != std::string::npos);

    std::string all = export_text(da);
    PolicyDb dc = open_rw(c);
    REQUIRE_OK(import_text(dc, all, {.groups = {"Other"}}));
    BOOST_TEST(dc.list_groups()->size() == 1u);
    BOOST_TEST(!*dc.key_policy_exists("HRgw2FINgw"));
    auto missing = import_text(dc, all, {.groups = {"NoSuchGroup"}});
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().id == "XML000E");
    auto dup = import_text(dc, all, {.groups = {"Other"}});
    BOOST_REQUIRE(!dup.ok());
    BOOST_TEST(dup.error().id == "PDB0104");
}

BOOST_AUTO_TEST_CASE(replace_replaces_the_whole_configuration) {
    TempRoot a, c;
    PolicyDb da = open_rw(a);
    branch_office(da);
    std::string xml = export_text(da);
    PolicyDb dc = open_rw(c);
    REQUIRE_OK(dc.create_data_policy(data_policy("LocalOnly")));
    REQUIRE_OK(import_text(dc, xml, {.replace = true}));
    BOOST_TEST(!*dc.data_policy_exists("LocalOnly"));
    BOOST_TEST(export_text(dc) == xml);
    // An active connection blocks the replacement.
    REQUIRE_OK(dc.set_state({.name = "HRgw2FINgw:L1", .state = ConnectionState::Enabled,
                             .group = "HRgw2FINgw"}));
    std::string before = dump(c.db());
    auto r = import_text(dc, xml, {.replace = true});
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "PDB0111");
    BOOST_TEST(dump(c.db()) == before);
}

BOOST_AUTO_TEST_CASE(exports_validate_against_the_schema) {
    const char* src = std::getenv("QVPN_SOURCE_DIR");
    if (src == nullptr || std::system("command -v xmllint >/dev/null 2>&1") != 0) {
        BOOST_TEST_MESSAGE("xmllint or QVPN_SOURCE_DIR missing: schema check not run");
        return;
    }
    TempRoot a;
    PolicyDb da = open_rw(a);
    branch_office(da);
    for (bool keys : {false, true}) {
        std::string xml = export_text(da, {.keys = keys, .passphrase = "correct horse"});
        std::string path = (a.dir / "x.xml").string();
        std::ofstream(path) << xml;
        std::string cmd = "xmllint --noout --schema " + std::string(src) +
                          "/core/policy/qvpn-config.xsd " + path + " 2>&1";
        BOOST_TEST(std::system(cmd.c_str()) == 0);
    }
}

// --- malformed files --------------------------------------------------------------------

struct Bad {
    std::string xml;
    std::string msgid;
    std::string line;
};

BOOST_AUTO_TEST_CASE(malformed_files_report_line_element_and_reason) {
    const std::vector<Bad> cases{
        {"<qvpnConfiguration version=\"1\">\n  <line name=\"a\"\n", "XML0001", "2"},
        {"", "XML0001", ""},
        {"<other version=\"1\"/>", "XML0002", "1"},
        {file("  <bogus/>\n"), "XML0002", "3"},
        {file("  <line resource=\"eth0\"/>\n"), "XML0003", "3"},
        {file("  <line name=\"A\" resource=\"eth0\" colour=\"red\"/>\n"), "XML0006", "3"},
        {file("  <dataPolicy name=\"D\" mode=\"*TUNNELL\">\n"
              "    <transform protocol=\"*ESP\" encryption=\"*AESGCM128\"/>\n"
              "  </dataPolicy>\n"),
         "XML0004", "3"},
        {file("  <dataPolicy name=\"D\">\n"
              "    <transform protocol=\"*ESP\" encryption=\"*AESGCM128\" "
              "authentication=\"*HMACSHA1\"/>\n"
              "  </dataPolicy>\n"),
         "XML0005", "3"},
        {file(std::string(kDataPolicy) + kDataPolicy), "XML0009", "6"},
        {file(std::string(kDataPolicy) + "  <line name=\"A\" resource=\"eth0\"/>\n"), "XML0016",
         "6"},
        {file("  <dataPolicy name=\"" + std::string(41, 'x') + "\">\n"
              "    <transform protocol=\"*ESP\" encryption=\"*AESGCM128\"/>\n"
              "  </dataPolicy>\n"),
         "XML0005", "3"},
        {"<qvpnConfiguration version=\"2\"/>", "XML000A", ""},
        {file("  <keyPolicy name=\"K\" authentication=\"*PSK\">\n"
              "    <transform encryption=\"*AESCBC128\" hash=\"*SHA256\" dhGroup=\"*GRP19\"/>\n"
              "  </keyPolicy>\n"),
         "XML0007", "3"},
        {file("  <keyPolicy name=\"K\" authentication=\"*PSK\">\n"
              "    <remoteKeyServer type=\"*IPV4\" value=\"198.51.100.1\"/>\n"
              "    <psk>00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff</psk>\n"
              "    <transform encryption=\"*AESCBC128\" hash=\"*SHA256\" dhGroup=\"*GRP19\"/>\n"
              "  </keyPolicy>\n"),
         "XML0007", "2"},
        {file("  <keyProtection kdf=\"scrypt\" n=\"1000\" r=\"8\" p=\"1\" salt=\"0011223344556677\"/>\n"),
         "XML0004", "3"},
        {file("  <line name=\"A\" resource=\"eth0\">text</line>\n"), "XML0002", "3"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.xml) {
            auto r = parse_config(c.xml);
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == c.msgid);
            if (!c.line.empty()) {
                BOOST_TEST(r.error().value(1) == c.line);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(references_are_checked_by_the_import_and_nothing_is_left) {
    TempRoot t;
    PolicyDb db = open_rw(t);
    std::string xml = file(std::string(kDataPolicy) +
                           "  <group name=\"G\" role=\"*GW2GW\" dataPolicy=\"D\">\n"
                           "    <remoteKeyServer keyPolicy=\"Missing\"/>\n"
                           "  </group>\n");
    std::string before = dump(t.db());
    auto r = import_text(db, xml);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "PDB0101");
    BOOST_TEST(dump(t.db()) == before);
}
