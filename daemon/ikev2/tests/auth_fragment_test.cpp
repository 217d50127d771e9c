// Certificate authentication (RSA and ECDSA, RFC 7427 Digital Signature with
// SIGNATURE_HASH_ALGORITHMS, CERTREQ) and IKE fragmentation (RFC 7383) with a
// tiny fragment size, between two engines.
#define BOOST_TEST_MODULE ikev2_auth_fragment
#include "daemon/ikev2/tests/exchange_harness.hpp"

#include <memory>

#include "daemon/ike/tests/pki.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;
using namespace qvpn::ikev2::test;
namespace pki = qvpn::ike::test;

namespace {

struct Pki {
    ike::auth::PrivateKey ca_key;
    ike::auth::Certificate ca;
    ike::auth::PrivateKey a_key, b_key;
    ike::auth::Certificate a, b;
    std::shared_ptr<ike::auth::TrustStore> trust = std::make_shared<ike::auth::TrustStore>();

    static Pki make(bool ecdsa, const char* a_san = "IP:192.0.2.1") {
        auto ca_key = pki::rsa_key();
        auto ca = pki::make_cert({"/O=qvpn test/CN=Test CA", {}, true}, ca_key, nullptr, ca_key);
        auto a_key = ecdsa ? pki::ec_key("P-256") : pki::rsa_key();
        auto b_key = ecdsa ? pki::ec_key("P-256") : pki::rsa_key();
        auto a = pki::make_cert({"/O=qvpn test/CN=hr", {a_san}}, a_key, &ca, ca_key);
        auto b = pki::make_cert({"/O=qvpn test/CN=fin", {"IP:192.0.2.2"}}, b_key, &ca, ca_key);
        Pki p{ca_key, ca, a_key, b_key, a, b};
        p.trust->add(ca);
        return p;
    }

    Credentials creds_a() const { return {{{a, {}}}, a_key, trust}; }
    Credentials creds_b() const { return {{{b, {}}}, b_key, trust}; }
};

policy::ConnectionPolicy with_auth(policy::ConnectionPolicy p, policy::AuthMethod m) {
    p.key.auth = m;
    p.key.psk = SecretBytes();
    p.key.has_psk = false;
    p.key.cert_label = "TESTCERT";
    return p;
}

EngineConfig tiny_fragments() {
    EngineConfig c;
    c.fragment_size = 300;
    return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(rsa_certificates_with_digital_signature_and_fragments) {
    Pki k = Pki::make(false);
    Net net;
    net.b.policies.peers.push_back(
        ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), k.creds_b()});
    net.start(tiny_fragments(), tiny_fragments());

    // HDR, SAi1, KEi, Ni, N(FRAG), N(SIG_HASH) -->
    //                     <-- HDR, SAr1, KEr, Nr, CERTREQ, N(FRAG), N(SIG_HASH)
    // HDR, SKF(1/n) {IDi, CERT, CERTREQ, IDr, AUTH(14), SAi2, TSi, TSr} -->  ... SKF(n/n) -->
    //                     <-- HDR, SKF(1/m) {IDr, CERT, AUTH(14), SAr2, TSi, TSr} ... SKF(m/m)
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_REQUIRE(net.b.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().auth == "*RSA");
    net.check_pairs();

    size_t fragments = 0;
    for (const auto& p : net.delivered) {
        BOOST_TEST(p.data.size() <= 300u);
        auto m = parse_message(p.data);
        BOOST_REQUIRE(m.ok());
        if (m->payloads.back().type == PayloadType::SKF) {
            ++fragments;
        }
        if (m->header.exchange == ExchangeType::IKE_SA_INIT && m->header.is_response()) {
            BOOST_TEST(find(m->payloads, PayloadType::CERTREQ) != nullptr);
        }
    }
    BOOST_TEST(fragments > 6u);
}

BOOST_AUTO_TEST_CASE(ecdsa_certificates_without_fragmentation) {
    Pki k = Pki::make(true);
    Net net;
    net.b.policies.peers.push_back(
        ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Ecdsa), k.creds_b()});
    net.start();
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Ecdsa), 7, k.creds_a());
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.a.of<IkeUp>().front().auth == "*ECDSA");
    BOOST_TEST(net.delivered.size() == 4u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(fragmentation_only_when_the_peer_supports_it) {
    Pki k = Pki::make(false);
    Net net;
    EngineConfig off = tiny_fragments();
    off.fragmentation = false;
    net.b.policies.peers.push_back(
        ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), k.creds_b()});
    net.start(tiny_fragments(), off);
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    BOOST_TEST(net.delivered.size() == 4u);
    BOOST_TEST(net.delivered[2].data.size() > 300u);
}

BOOST_AUTO_TEST_CASE(lost_fragment_is_recovered_by_retransmission) {
    Pki k = Pki::make(false);
    Net net;
    net.b.policies.peers.push_back(
        ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), k.creds_b()});
    net.start(tiny_fragments(), tiny_fragments());
    int n = 0;
    net.drop = [&](const Packet& p) { return p.sender == 0 && ++n == 4; };  // a middle fragment
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
    BOOST_TEST(net.a.of<IkeUp>().empty());
    net.run_for(5s);
    BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
    net.check_pairs();
}

BOOST_AUTO_TEST_CASE(untrusted_certificate_authority_fails_with_24) {
    Pki k = Pki::make(false);
    Pki other = Pki::make(false);
    Net net;
    Credentials cb = k.creds_b();
    cb.trust = other.trust;  // B trusts another CA only
    net.b.policies.peers.push_back(ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), cb});
    net.start();
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 24);
    bool logged = false;
    for (const auto& l : net.b.of<LogLine>()) {
        logged = logged || l.msg.id == "IKE0111";
    }
    BOOST_TEST(logged);
}

BOOST_AUTO_TEST_CASE(certificate_must_name_the_identity) {
    Pki k = Pki::make(false, "IP:198.51.100.7");  // A's certificate names another address
    Net net;
    net.b.policies.peers.push_back(
        ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), k.creds_b()});
    net.start();
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 24);
    bool logged = false;
    for (const auto& l : net.b.of<LogLine>()) {
        logged = logged || l.msg.id == "IKE0112";
    }
    BOOST_TEST(logged);
}

BOOST_AUTO_TEST_CASE(missing_certificate_material_fails_before_sending) {
    Net net;
    setup_branch(net);
    initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, {});
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 8300);
    BOOST_TEST(net.a.of<Failed>().back().detail.id == "IKE0916");
    BOOST_TEST(net.delivered.empty());
}
