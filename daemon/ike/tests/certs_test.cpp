#include <boost/test/unit_test.hpp>

#include <openssl/pem.h>

#include "daemon/ike/auth/certs.hpp"
#include "daemon/ike/tests/pki.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::auth;
using qvpn::ike::test::CertSpec;
using qvpn::ike::test::make_cert;

namespace {

// Root CA -> intermediate CA -> end entity, plus an unrelated CA.
struct Pki {
    PrivateKey root_key = qvpn::ike::test::ec_key("P-256");
    PrivateKey inter_key = qvpn::ike::test::ec_key("P-256");
    PrivateKey ee_key = qvpn::ike::test::ec_key("P-256");
    PrivateKey other_key = qvpn::ike::test::ec_key("P-256");
    Certificate root = make_cert({"/C=US/O=qvpn test/CN=Root CA", {}, true}, root_key, nullptr,
                                 root_key);
    Certificate inter = make_cert({"/C=US/O=qvpn test/CN=Intermediate CA", {}, true}, inter_key,
                                  &root, root_key);
    Certificate ee = make_cert({"/C=US/O=qvpn test/OU=Gateways/CN=gw1.example.com",
                                {"DNS:gw1.example.com", "IP:192.0.2.1", "IP:2001:db8::1",
                                 "email:vpn@example.com"},
                                false, -3600, 86400, true},
                               ee_key, &inter, inter_key);
    Certificate other = make_cert({"/C=US/O=elsewhere/CN=Other CA", {}, true}, other_key,
                                  nullptr, other_key);
};

const Pki& pki() {
    static Pki p;
    return p;
}

WallTime now() { return std::chrono::system_clock::now(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(certs)

BOOST_AUTO_TEST_CASE(parse_der_and_pem) {
    const Pki& p = pki();
    auto c = Certificate::from_der(p.ee.der());
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(c->subject_text() == "C=US, O=qvpn test, OU=Gateways, CN=gw1.example.com");
    BOOST_TEST(c->issuer_text() == "C=US, O=qvpn test, CN=Intermediate CA");
    BOOST_TEST(c->sha1().size() == 20u);
    BOOST_TEST(!c->is_ca());
    BOOST_TEST(p.inter.is_ca());
    BOOST_TEST((c->public_key().type() == KeyType::EcP256));
    BOOST_TEST((c->not_before() < now() && now() < c->not_after()));

    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, p.ee.native());
    PEM_write_bio_X509(bio, p.inter.native());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    auto certs = Certificate::from_pem(std::string_view(data, len));
    BIO_free(bio);
    BOOST_REQUIRE(certs.ok());
    BOOST_REQUIRE(certs->size() == 2u);
    BOOST_TEST(certs->at(1).der() == p.inter.der());
}

BOOST_AUTO_TEST_CASE(parse_malformed) {
    const Pki& p = pki();
    auto empty = Certificate::from_der({});
    BOOST_REQUIRE(!empty.ok());
    BOOST_TEST(empty.error().id == "IKE0110");
    BOOST_TEST(empty.error().notify == notify_code(NotifyType::INVALID_SYNTAX));
    Bytes cut(p.ee.der().begin(), p.ee.der().end() - 10);
    BOOST_TEST(Certificate::from_der(cut).error().id == "IKE0110");
    Bytes extra = p.ee.der();
    extra.push_back(0);
    BOOST_TEST(Certificate::from_der(extra).error().id == "IKE0110");
    Bytes flipped = p.ee.der();
    flipped[1] ^= 0x7f;  // outer length
    BOOST_TEST(!Certificate::from_der(flipped).ok());
    BOOST_TEST(Certificate::from_pem("no certificate here").error().id == "IKE0110");
    TrustStore t;
    BOOST_TEST(t.add_der(qvpn::ike::test::b("junk")).error().id == "IKE0110");
}

BOOST_AUTO_TEST_CASE(chain_validates) {
    const Pki& p = pki();
    TrustStore trust;
    trust.add(p.root);
    std::vector<Certificate> inters = {p.inter};
    BOOST_TEST(verify_chain(trust, p.ee, inters, now()).ok());
    // A trusted intermediate is an anchor of its own: the root is not needed.
    TrustStore t2;
    BOOST_TEST(t2.add_der(p.inter.der()).ok());
    BOOST_TEST(verify_chain(t2, p.ee, {}, now()).ok());
}

BOOST_AUTO_TEST_CASE(chain_failures) {
    const Pki& p = pki();
    TrustStore trust;
    trust.add(p.root);
    std::vector<Certificate> inters = {p.inter};

    // Missing intermediate.
    auto r = verify_chain(trust, p.ee, {}, now());
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0111");
    BOOST_TEST(r.error().notify == notify_code(NotifyType::AUTHENTICATION_FAILED));

    // Wrong CA.
    TrustStore wrong;
    wrong.add(p.other);
    BOOST_TEST(verify_chain(wrong, p.ee, inters, now()).error().id == "IKE0111");

    // Expired (the clock is injected: two days ahead) and not yet valid.
    auto later = now() + std::chrono::hours(48);
    auto v = verify_chain(trust, p.ee, inters, later);
    BOOST_REQUIRE(!v.ok());
    BOOST_TEST(v.error().values.at(1) == "certificate has expired");
    auto earlier = now() - std::chrono::hours(2);
    BOOST_TEST(verify_chain(trust, p.ee, inters, earlier).error().values.at(1) ==
               "certificate is not yet valid");

    // A certificate signed by an end entity (not a CA) is refused.
    PrivateKey k = qvpn::ike::test::ec_key("P-256");
    Certificate leaf2 = make_cert({"/CN=leaf2"}, k, &p.ee, p.ee_key);
    std::vector<Certificate> chain2 = {p.ee, p.inter};
    BOOST_TEST(verify_chain(trust, leaf2, chain2, now()).error().id == "IKE0111");

    // A forged certificate: right names, wrong signing key.
    Certificate forged = make_cert({"/C=US/O=qvpn test/CN=forged"}, k, &p.inter, p.other_key);
    BOOST_TEST(verify_chain(trust, forged, inters, now()).error().id == "IKE0111");
}

BOOST_AUTO_TEST_CASE(identity_matching) {
    const Pki& p = pki();
    using policy::IdType;
    auto ok = [&](IdType t, const char* v) { return match_identity(p.ee, {t, v}).ok(); };
    BOOST_TEST(ok(IdType::Fqdn, "gw1.example.com"));
    BOOST_TEST(ok(IdType::Fqdn, "GW1.Example.COM"));
    BOOST_TEST(ok(IdType::IPv4, "192.0.2.1"));
    BOOST_TEST(ok(IdType::IPv6, "2001:db8:0::1"));
    BOOST_TEST(ok(IdType::UserFqdn, "vpn@example.com"));
    BOOST_TEST(ok(IdType::Dn, "C=US, O=qvpn test, OU=Gateways, CN=gw1.example.com"));
    BOOST_TEST(ok(IdType::Dn, "/C=US/O=qvpn test/OU=Gateways/CN=gw1.example.com"));
    BOOST_TEST(ok(IdType::Dn, "cn=GW1.example.com, ou=gateways, o=QVPN  test, c=us"));
    BOOST_TEST(ok(IdType::KeyId, qvpn::to_hex(p.ee.spki_sha1()).c_str()));

    BOOST_TEST(!ok(IdType::Fqdn, "gw2.example.com"));
    BOOST_TEST(!ok(IdType::Fqdn, "example.com"));
    BOOST_TEST(!ok(IdType::IPv4, "192.0.2.2"));
    BOOST_TEST(!ok(IdType::IPv4, "not an address"));
    BOOST_TEST(!ok(IdType::UserFqdn, "other@example.com"));
    BOOST_TEST(!ok(IdType::Dn, "C=US, O=qvpn test, CN=gw1.example.com"));
    BOOST_TEST(!ok(IdType::KeyId, "0102030405"));
    BOOST_TEST(!ok(IdType::AnyIp, ""));
    auto r = match_identity(p.ee, {IdType::Fqdn, "gw2.example.com"});
    BOOST_TEST(r.error().id == "IKE0112");
    BOOST_TEST(r.error().notify == notify_code(NotifyType::AUTHENTICATION_FAILED));
    // The CN is not a dNSName: a certificate with no SAN does not match its CN.
    BOOST_TEST(!match_identity(p.inter, {IdType::Fqdn, "Intermediate CA"}).ok());
}

BOOST_AUTO_TEST_CASE(certreq_and_selection) {
    const Pki& p = pki();
    TrustStore trust;
    trust.add(p.root);
    trust.add(p.other);
    Bytes data = trust.certreq_data();
    BOOST_TEST(data.size() == 40u);
    auto hashes = parse_certreq(data);
    BOOST_REQUIRE(hashes.ok());
    BOOST_TEST((hashes->at(0) == p.root.spki_sha1()));
    BOOST_TEST((hashes->at(1) == p.other.spki_sha1()));
    auto bad = parse_certreq(Bytes(21, 0));
    BOOST_TEST(bad.error().id == "IKE0113");
    BOOST_TEST(parse_certreq({})->empty());

    // Ours: first a chain under "other" (self-signed other), then the real one.
    PrivateKey k = qvpn::ike::test::ec_key("P-256");
    Certificate under_other = make_cert({"/CN=alt"}, k, &p.other, p.other_key);
    std::vector<CertChain> ours = {{under_other, {p.other}}, {p.ee, {p.inter, p.root}}};

    TrustStore peer_root;
    peer_root.add(p.root);
    BOOST_TEST(*select_for_certreq(ours, peer_root.certreq_data()) == 1u);
    TrustStore peer_inter;
    peer_inter.add(p.inter);
    BOOST_TEST(*select_for_certreq(ours, peer_inter.certreq_data()) == 1u);
    TrustStore peer_other;
    peer_other.add(p.other);
    BOOST_TEST(*select_for_certreq(ours, peer_other.certreq_data()) == 0u);
    BOOST_TEST(*select_for_certreq(ours, {}) == 0u);
    BOOST_TEST(!select_for_certreq(ours, Bytes(20, 0xab)).has_value());
    BOOST_TEST(!select_for_certreq(ours, Bytes(19, 0xab)).has_value());
    BOOST_TEST(!select_for_certreq({}, data).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
