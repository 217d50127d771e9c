// Shared helpers of the policy tests: temporary state roots, the seed's
// branch office objects, result checks and a row dump for "unchanged"
// checks.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "core/policy/cert_store.hpp"
#include "core/policy/policy_db.hpp"
#include "core/policy/sqlite.hpp"

namespace qvpn::policy::test {

namespace fs = std::filesystem;

struct TempRoot {
    fs::path dir;
    TempRoot() {
        char tmpl[] = "/tmp/qv-fd-test-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~TempRoot() { fs::remove_all(dir); }
    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;
    std::string db() const { return (dir / "policy.db").string(); }
};

#define REQUIRE_OK(expr)                                                                   \
    do {                                                                                   \
        auto&& r_ = (expr);                                                                \
        BOOST_REQUIRE_MESSAGE(r_.ok(), #expr << " failed: " << (r_.ok() ? "" : r_.error().id) \
                                             << " " << (r_.ok() ? "" : r_.error().value(1))  \
                                             << " " << (r_.ok() ? "" : r_.error().value(2))); \
    } while (0)

#define CHECK_FAILS(expr, msgid)                          \
    do {                                                  \
        auto&& r_ = (expr);                               \
        BOOST_CHECK(!r_.ok());                            \
        if (!r_.ok()) {                                   \
            BOOST_CHECK_EQUAL(r_.error().id, msgid);      \
        }                                                 \
    } while (0)

inline PolicyDb open_rw(const TempRoot& t) {
    auto r = PolicyDb::open(t.db(), Access::ReadWrite);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().id));
    return std::move(*r);
}

inline SecretBytes secret(std::string_view s) { return SecretBytes(as_view(s)); }

inline KeyPolicy key_policy(std::string name, std::string remote,
                            std::string psk = "topsecretstuff") {
    KeyPolicy k;
    k.name = std::move(name);
    k.remote = {IdType::IPv4, std::move(remote)};
    k.psk = secret(psk);
    k.has_psk = true;
    k.transforms = key_transforms(SecurityLevel::Balanced);
    return k;
}

inline DataPolicy data_policy(std::string name) {
    DataPolicy d;
    d.name = std::move(name);
    d.pfs = DhGroup::Grp19;
    d.transforms = data_transforms(SecurityLevel::Balanced);
    return d;
}

// The seed's branch office on System A (HRgw2FINgw), with a line and a
// manual connection besides.
inline void branch_office(PolicyDb& db) {
    Status st = db.transaction([&]() -> Status {
        QVPN_TRY(db.create_line({"TRLINE", "qv-fd-a0", "Internet"}));
        QVPN_TRY(db.create_key_policy(key_policy("HRgw2FINgw", "198.51.100.250")));
        QVPN_TRY(db.create_data_policy(data_policy("HRgw2FINgw")));
        DynamicGroup g;
        g.name = "HRgw2FINgw";
        g.data_policy = "HRgw2FINgw";
        g.key_policies = {"HRgw2FINgw"};
        g.lines = {"TRLINE"};
        g.from_wizard = true;
        QVPN_TRY(db.create_group(g));
        DynamicConnection c;
        c.name = "HRgw2FINgw:L1";
        c.group = "HRgw2FINgw";
        c.local_id = {IdType::IPv4, "192.0.2.227"};
        c.remote_id = {IdType::IPv4, "198.51.100.250"};
        c.local = {EndpointType::IPv4Subnet, "10.6.0.0", "255.255.0.0"};
        c.remote = {EndpointType::IPv4Subnet, "10.196.8.0", "255.255.255.0"};
        c.from_wizard = true;
        QVPN_TRY(db.create_connection(c));
        ManualConnection m;
        m.name = "MANUAL1";
        m.local_address = "192.0.2.227";
        m.remote_address = "198.51.100.250";
        m.local = {EndpointType::IPv4, "192.0.2.227", ""};
        m.remote = {EndpointType::IPv4, "198.51.100.250", ""};
        m.esp.spi_in = 0x1001;
        m.esp.spi_out = 0x1002;
        m.esp.enc_in = SecretBytes(Bytes(16, 0x11));
        m.esp.enc_out = SecretBytes(Bytes(16, 0x22));
        m.esp.auth_in = SecretBytes(Bytes(32, 0x33));
        m.esp.auth_out = SecretBytes(Bytes(32, 0x44));
        m.has_keys = true;
        QVPN_TRY(db.create_manual_connection(m));
        VpnAttributes a;
        a.dpd_seconds = 45;
        a.generated_permit_other = false;
        return db.set_attributes(a);
    });
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string() : st.error().id));
}

// Every row of every table, for "the database is unchanged" checks.
inline std::string dump(const std::string& path) {
    auto db = sql::Database::open(path, false);
    if (!db.ok()) {
        return "<no database>";
    }
    std::string out;
    auto tables = db->prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    std::vector<std::string> names;
    while (tables.ok() && *tables->step()) {
        names.push_back(tables->text(0));
    }
    for (const auto& t : names) {
        auto st = db->prepare("SELECT * FROM " + t + " ORDER BY 1, 2");
        out += "[" + t + "]\n";
        while (st.ok() && *st->step()) {
            for (int i = 0; i < st->columns(); ++i) {
                out += st->is_null(i) ? "NULL" : to_hex(as_view(st->text(i)));
                out += "|";
            }
            out += "\n";
        }
    }
    return out;
}

// A self-signed certificate and its key, made with OpenSSL for the tests.
struct TestCert {
    std::string cert_pem;
    std::string key_pem;
};

inline TestCert make_cert(const char* cn, const char* key_alg, const char* param) {
    EVP_PKEY* k = nullptr;
    if (std::string_view(key_alg) == "RSA") {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(std::atoi(param)));
    } else if (std::string_view(key_alg) == "EC") {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param);
    } else {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, key_alg);
    }
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
    X509_set_pubkey(x, k);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, k, std::string_view(key_alg) == "ED25519" ? nullptr : EVP_sha256());
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char* p = nullptr;
    long n = BIO_get_mem_data(b, &p);
    TestCert out;
    out.cert_pem.assign(p, static_cast<size_t>(n));
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
    n = BIO_get_mem_data(b, &p);
    out.key_pem.assign(p, static_cast<size_t>(n));
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
    return out;
}

}  // namespace qvpn::policy::test
