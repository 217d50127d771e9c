#include "daemon/ikev2/daemon/db_policy_source.hpp"

#include <algorithm>

#include "daemon/ike/identity.hpp"

namespace qvpn::ikev2 {

namespace {

policy::Identity address_identity(const IpAddress& a) {
    return {a.is_v4() ? policy::IdType::IPv4 : policy::IdType::IPv6, a.to_string()};
}

}  // namespace

DbPolicySource::DbPolicySource(std::string db_path) : path_(std::move(db_path)) {}

Result<policy::PolicyDb*> DbPolicySource::db() {
    if (!db_) {
        QVPN_ASSIGN(auto db, policy::PolicyDb::open(path_, policy::Access::ReadOnly));
        db_.emplace(std::move(db));
    }
    return &*db_;
}

Result<std::shared_ptr<const ike::auth::TrustStore>> DbPolicySource::trust() {
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    QVPN_ASSIGN(auto cas, db->trusted_cas());
    auto store = std::make_shared<ike::auth::TrustStore>();
    for (const auto& ca : cas) {
        QVPN_TRY(store->add_der(ca.der));
    }
    return std::shared_ptr<const ike::auth::TrustStore>(store);
}

Result<policy::VpnAttributes> DbPolicySource::attributes() {
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    return db->attributes();
}

Result<policy::ConnectionPolicy> DbPolicySource::resolve(const std::string& conn) {
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    return db->resolve(conn);
}

Result<Credentials> DbPolicySource::credentials(const policy::KeyPolicy& key) {
    Credentials c;
    if (key.auth == policy::AuthMethod::Psk) {
        return c;
    }
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    QVPN_ASSIGN(policy::CertificateKey ck, db->certificate_key(key.cert_label));
    QVPN_ASSIGN(auto cert, ike::auth::Certificate::from_der(ck.info.der));
    QVPN_ASSIGN(auto pk, ike::auth::PrivateKey::from_der(ck.private_key_der));
    // TODO(cert-chain): the store keeps single certificates, so only the end
    // entity is sent; a peer that does not hold our intermediate CA cannot
    // build the chain and answers AUTHENTICATION_FAILED.
    c.certs.push_back(ike::auth::CertChain{cert, {}});
    c.key = pk;
    QVPN_ASSIGN(c.trust, trust());
    return c;
}

Result<InitPolicy> DbPolicySource::for_init(const IpAddress& peer) {
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    InitPolicy ip;
    QVPN_ASSIGN(ip.attributes, db->attributes());

    // A peer known by its address (or *ANYIP) gives its key policy; one
    // that will name itself by FQDN, e-mail or DN in IKE_AUTH could be any
    // group's: offer the transforms of every policy a remote may start.
    QVPN_ASSIGN(auto match, db->find_responder(address_identity(peer), peer));
    std::vector<policy::KeyPolicy> keys;
    if (match) {
        keys.push_back(match->key);
    } else {
        QVPN_ASSIGN(auto groups, db->list_groups());
        for (const auto& g : groups) {
            if (g.initiator == policy::Initiator::Local) {
                continue;
            }
            for (const auto& name : g.key_policies) {
                auto k = db->load_key_policy(name);
                if (k) {
                    keys.push_back(std::move(*k));
                }
            }
        }
    }
    for (const auto& k : keys) {
        for (const auto& t : k.transforms) {
            if (std::find(ip.transforms.begin(), ip.transforms.end(), t) == ip.transforms.end()) {
                ip.transforms.push_back(t);
            }
        }
        ip.certificates = ip.certificates || k.auth != policy::AuthMethod::Psk;
    }
    if (ip.transforms.empty()) {
        return fail("IKE0905", "*ANY", peer.to_string());
    }
    if (ip.certificates) {
        auto t = trust();
        if (t) {
            ip.trust = *t;
        }
    }
    return ip;
}

Result<ResolvedPeer> DbPolicySource::for_auth(const IpAddress& peer, const policy::Identity& id) {
    QVPN_ASSIGN(policy::PolicyDb * db, db());
    QVPN_ASSIGN(auto match, db->find_responder(id, peer));
    if (!match) {
        return fail("IKE0905", ike::identity_text(id), peer.to_string());
    }
    ResolvedPeer r;
    policy::ConnectionPolicy& p = r.policy;
    p.key = match->key;
    p.group = match->group;
    p.data = match->data;
    p.attributes = match->attributes;
    if (match->connection) {
        p.connection = *match->connection;
    } else {
        // No configured connection: the engine names it <group>:R<n>, we
        // answer with our address as identity, and the data endpoints are
        // what the peer proposes.
        // TODO(responder-scope): without a connection the group's policy
        // filter rule is the only limit of the peer's traffic selectors; the
        // rules are not read here, so any selector the peer proposes is
        // accepted and QTOVMAN's policy filter scope check is what refuses a
        // CHILD_SA outside the rule.
        p.connection.group = match->group.name;
        p.connection.local_id = {policy::IdType::IPv4, ""};
        p.connection.remote_id = id;
        p.connection.local = {policy::EndpointType::Any, "", ""};
        p.connection.remote = {policy::EndpointType::Any, "", ""};
    }
    QVPN_ASSIGN(r.creds, credentials(p.key));
    if (p.key.auth != policy::AuthMethod::Psk && !match->connection && r.creds.certs.size() > 0) {
        // With certificates our identity is the certificate's subject.
        p.connection.local_id = {policy::IdType::Dn, r.creds.certs.front().cert.subject_text()};
    }
    return r;
}

Result<Bytes> DbPolicySource::fetch_certificate(const ike::auth::HashAndUrl& h) {
    return ike::auth::fetch_certificate(h.url, h.sha1);
}

}  // namespace qvpn::ikev2
