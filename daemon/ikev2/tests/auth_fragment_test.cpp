// Certificate authentication (RSA and ECDSA, RFC 7427 Digital Signature with
// SIGNATURE_HASH_ALGORITHMS, CERTREQ) and IKE fragmentation (RFC 7383) with a
// tiny fragment size, between two engines.
#define BOOST_TEST_MODULE ikev2_auth_fragment
#include "daemon/ikev2/tests/exchange_harness.hpp"

#include <memory>

#include "daemon/ike/auth/cert_fetch.hpp"
#include "daemon/ike/tests/pki.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"
#include "daemon/ikev2/wire/sk.hpp"

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

BOOST_AUTO_TEST_CASE(http_cert_lookup_is_announced_only_when_allowed) {
    Pki k = Pki::make(false);
    for (bool allowed : {false, true}) {
        Net net;
        net.b.policies.attributes.http_cert_lookup = allowed;
        net.b.policies.peers.push_back(
            ResolvedPeer{with_auth(policy_b(), policy::AuthMethod::Rsa), k.creds_b()});
        net.start();
        initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
        BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
        auto m = parse_message(net.delivered[1].data);  // <-- HDR, SAr1, KEr, Nr, CERTREQ, N(...)
        BOOST_REQUIRE(m.ok());
        BOOST_TEST((find_notify(m->payloads, NotifyType::HTTP_CERT_LOOKUP_SUPPORTED) != nullptr) ==
                   allowed);
    }
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

// --- messages changed in flight with the initiator's own keys ------------------------------

namespace qvpn::ikev2 {
// The tests' key to the engine's inside: the initiator's SK keys, so a
// test can play a peer that sends what this engine never would.
struct EngineAccess {
    static std::optional<SkCrypto> sender_keys(Engine& e, uint64_t spi_i) {
        auto it = e.sas_.find(spi_i);
        if (it == e.sas_.end() || !it->second->sk) {
            return std::nullopt;
        }
        return it->second->sk;
    }
};
}  // namespace qvpn::ikev2

namespace {

// Rewrites A's IKE_AUTH request with `edit`, encrypting it again with A's keys.
void rewrite_auth_request(Net& net, std::function<void(std::vector<Payload>&)> edit) {
    net.tamper = [&net, edit](Packet& p) {
        if (p.sender != 0) {
            return;
        }
        auto m = parse_message(p.data);
        if (!m || m->header.exchange != ExchangeType::IKE_AUTH || m->header.is_response()) {
            return;
        }
        auto keys = EngineAccess::sender_keys(*net.a.engine, m->header.spi_i);
        BOOST_REQUIRE(keys.has_value());
        SkCrypto as_receiver{keys->cipher, keys->integ, keys->out, keys->out};
        auto inner = open_sk(p.data, *m, as_receiver);
        BOOST_REQUIRE(inner.ok());
        edit(*inner);
        SeededRandom rng(99);
        auto again = protect(m->header, *inner, *keys, rng);
        BOOST_REQUIRE(again.ok());
        p.data = *again;
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(eap_is_refused_with_authentication_failed) {
    Net net;
    setup_branch(net);
    // HDR, SK {IDi, IDr, EAP, SAi2, TSi, TSr} -->   <-- HDR, SK {N(AUTHENTICATION_FAILED)}
    rewrite_auth_request(net, [](std::vector<Payload>& p) {
        std::erase_if(p, [](const Payload& x) { return x.type == PayloadType::AUTH; });
        p.push_back(make_payload(PayloadType::EAP, EapPayload{{2, 0, 0, 5, 1}}));
    });
    initiate(net, policy_a());
    BOOST_TEST(net.b.count_log("IKE090D") == 1u);
    BOOST_TEST(net.a.of<Failed>().back().reason_code == 24);
    BOOST_TEST(net.b.engine->idle());
}

BOOST_AUTO_TEST_CASE(hash_and_url_certificates_only_when_allowed) {
    Pki k = Pki::make(false);
    const std::string url = "http://192.0.2.1/hr.der";
    auto to_hash_and_url = [&](std::vector<Payload>& p) {
        for (auto& x : p) {
            if (auto* c = std::get_if<CertPayload>(&x.body)) {
                c->encoding = CertEncoding::HASH_AND_URL_X509_CERT;
                c->data = ike::auth::encode_hash_and_url({k.a.sha1(), url});
            }
        }
    };
    for (bool allowed : {false, true}) {
        BOOST_TEST_CONTEXT("allowed " << allowed) {
            Net net;
            net.b.policies.attributes.http_cert_lookup = allowed;
            net.b.policies.urls[url] = k.a.der();
            auto pb = with_auth(policy_b(), policy::AuthMethod::Rsa);
            pb.attributes.http_cert_lookup = allowed;
            net.b.policies.peers.push_back(ResolvedPeer{pb, k.creds_b()});
            EngineConfig whole;  // one SK payload to rewrite, not fragments
            whole.fragmentation = false;
            net.start(whole, whole);
            rewrite_auth_request(net, to_hash_and_url);
            initiate(net, with_auth(policy_a(), policy::AuthMethod::Rsa), 7, k.creds_a());
            if (allowed) {
                BOOST_TEST(net.b.policies.fetches == 1);
                BOOST_REQUIRE(net.a.of<IkeUp>().size() == 1u);
                net.check_pairs();
            } else {
                BOOST_TEST(net.b.policies.fetches == 0);
                BOOST_TEST(net.b.count_log("IKE0913") == 1u);
                BOOST_TEST(net.a.of<Failed>().back().reason_code == 24);
            }
        }
    }
}
