// IKE_AUTH with the first CHILD_SA (RFC 7296 1.2, 2.15):
//
//   Initiator                         Responder
//   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH,
//            [N(INITIAL_CONTACT)], [N(USE_TRANSPORT_MODE)],
//            [N(IPCOMP_SUPPORTED)], SAi2, TSi, TSr}  -->
//                               <--  HDR, SK {IDr, [CERT,] AUTH,
//                                            [N(USE_TRANSPORT_MODE)], SAr2, TSi, TSr}
//
// AUTH signs the peer's view of the first exchange: for the initiator
// RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload), for the
// responder RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload).
#include <algorithm>

#include "daemon/ike/auth/auth.hpp"
#include "daemon/ike/identity.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"

namespace qvpn::ikev2 {

namespace crypto = ike::crypto;

namespace {

// RFC 7296 2.15: the ID payload without its generic header.
Bytes id_rest(const IdPayload& id) {
    ByteWriter w;
    w.u8(static_cast<uint8_t>(id.type)).u8(0).u16(0).bytes(id.data);
    return w.take();
}

bool is_ip_type(policy::IdType t) { return t == policy::IdType::IPv4 || t == policy::IdType::IPv6; }

}  // namespace

Result<Bytes> Engine::signed_octets(IkeSa& sa, bool ours, const IdPayload& id) {
    // Who signs: the initiator covers message 1 and Nr, the responder
    // message 2 and Ni; the MAC key is the signer's SK_p.
    bool signer_is_initiator = ours ? sa.initiator : !sa.initiator;
    const Bytes& message = signer_is_initiator ? sa.init_request : sa.init_response;
    const Bytes& nonce = signer_is_initiator ? sa.nr : sa.ni;
    const SecretBytes& key = signer_is_initiator ? sa.sk_pi : sa.sk_pr;
    QVPN_ASSIGN(SecretBytes mac, sa.prf->compute(key, id_rest(id)));
    ByteWriter w;
    w.bytes(message).bytes(nonce).bytes(mac.view());
    return w.take();
}

Result<IdPayload> Engine::our_id(IkeSa& sa) {
    policy::Identity id = sa.policy.connection.local_id;
    // An address identity without a value is the address we speak from.
    if (is_ip_type(id.type) && id.value.empty()) {
        id.type = sa.local.addr.is_v4() ? policy::IdType::IPv4 : policy::IdType::IPv6;
        id.value = sa.local.addr.to_string();
    }
    QVPN_ASSIGN(ike::IkeIdentity w, ike::to_wire(id));
    return IdPayload{w.type, w.data};
}

Result<AuthPayload> Engine::make_auth(IkeSa& sa, const IdPayload& id) {
    QVPN_ASSIGN(Bytes octets, signed_octets(sa, true, id));
    if (sa.policy.key.auth == policy::AuthMethod::Psk) {
        if (sa.policy.key.psk.empty()) {
            return qvpn::fail("IKE090A", sa.policy.key.name);
        }
        QVPN_ASSIGN(Bytes mic, ike::auth::psk_auth(*sa.prf, sa.policy.key.psk, octets));
        return AuthPayload{AuthMethod::SHARED_KEY_MIC, std::move(mic)};
    }
    if (!sa.creds.key) {
        return qvpn::fail("IKE0916", sa.policy.key.name, sa.policy.key.cert_label);
    }
    // RFC 7427: the Digital Signature method when the peer announced hash
    // algorithms we share; the key's classic method otherwise.
    ike::auth::KeyType kt = sa.creds.key->type();
    ike::auth::SignScheme scheme;
    std::optional<ike::HashAlgorithm> hash;
    if (sa.peer_sig_hashes) {
        hash = ike::auth::choose_hash(sa.peer_hashes, kt);
    }
    if (hash) {
        scheme = {AuthMethod::DIGITAL_SIGNATURE, *hash};
    } else if (auto m = ike::auth::classic_method(kt)) {
        scheme = {*m, ike::HashAlgorithm::SHA2_256};
    } else {
        return qvpn::fail("IKE0916", sa.policy.key.name, sa.policy.key.cert_label);
    }
    QVPN_ASSIGN(Bytes sig, ike::auth::sign(scheme, *sa.creds.key, octets));
    return AuthPayload{scheme.method, std::move(sig)};
}

std::vector<Payload> Engine::cert_payloads(IkeSa& sa) {
    std::vector<Payload> out;
    if (sa.policy.key.auth == policy::AuthMethod::Psk || sa.creds.certs.empty()) {
        return out;
    }
    // RFC 7296 3.7: the chain that leads to a CA the peer asked for.
    auto pick = ike::auth::select_for_certreq(sa.creds.certs, sa.peer_certreq_data);
    const auto& chain = sa.creds.certs[pick.value_or(0)];
    out.push_back(make_payload(PayloadType::CERT,
                               CertPayload{CertEncoding::X509_CERT_SIGNATURE, chain.cert.der()}));
    for (const auto& c : chain.chain) {
        out.push_back(make_payload(PayloadType::CERT,
                                   CertPayload{CertEncoding::X509_CERT_SIGNATURE, c.der()}));
    }
    return out;
}

Status Engine::verify_peer_auth(IkeSa& sa, const IdPayload& id, const AuthPayload& auth,
                                const std::vector<Payload>& p,
                                const policy::Identity& peer_id) {
    QVPN_ASSIGN(Bytes octets, signed_octets(sa, false, id));
    const std::string peer = sa.remote.to_string();
    if (sa.policy.key.auth == policy::AuthMethod::Psk) {
        if (auth.method != AuthMethod::SHARED_KEY_MIC) {
            return qvpn::fail("IKE0909", peer, "method " + name(auth.method) + " instead of a preshared key");
        }
        if (sa.policy.key.psk.empty()) {
            return qvpn::fail("IKE090A", sa.policy.key.name);
        }
        if (!ike::auth::psk_verify(*sa.prf, sa.policy.key.psk, octets, auth.data)) {
            return qvpn::fail("IKE0909", peer, "preshared key does not match");
        }
        return ok();
    }

    // Certificates: CERT payloads in order, end entity first; Hash and URL
    // only with "Allow HTTP lookup of certificates".
    std::vector<ike::auth::Certificate> certs;
    for (const auto& x : p) {
        const auto* c = std::get_if<CertPayload>(&x.body);
        if (c == nullptr) {
            continue;
        }
        Bytes der;
        if (c->encoding == CertEncoding::X509_CERT_SIGNATURE) {
            der = c->data;
        } else if (c->encoding == CertEncoding::HASH_AND_URL_X509_CERT) {
            if (!sa.policy.attributes.http_cert_lookup) {
                return qvpn::fail("IKE0913", peer);
            }
            QVPN_ASSIGN(auto hu, ike::auth::parse_hash_and_url(c->data));
            QVPN_ASSIGN(der, policies_.fetch_certificate(hu));
        } else {
            continue;
        }
        QVPN_ASSIGN(auto cert, ike::auth::Certificate::from_der(der));
        certs.push_back(std::move(cert));
    }
    if (certs.empty()) {
        return qvpn::fail("IKE0909", peer, "no certificate was sent");
    }
    auto trust = sa.creds.trust ? sa.creds.trust : sa.init_policy.trust;
    if (!trust) {
        return qvpn::fail("IKE0909", peer, "no trusted certificate authority is configured");
    }
    std::vector<ike::auth::Certificate> rest(certs.begin() + 1, certs.end());
    QVPN_TRY(ike::auth::verify_chain(*trust, certs.front(), rest, clock_.wall()));
    QVPN_TRY(ike::auth::match_identity(certs.front(), peer_id));
    auto kt = certs.front().public_key().type();
    bool rsa = kt == ike::auth::KeyType::Rsa;
    if ((sa.policy.key.auth == policy::AuthMethod::Rsa) != rsa) {
        return qvpn::fail("IKE0909", peer, "certificate key type " +
                                         std::string(ike::auth::key_type_name(kt)) +
                                         " does not fit the key policy");
    }
    return ike::auth::verify(auth.method, certs.front().public_key(), octets, auth.data);
}

// --- initiator -------------------------------------------------------------------------

void Engine::start_auth(IkeSa& sa) {
    auto idi = our_id(sa);
    if (!idi) {
        fail(sa, reason::kPhase1Failure, idi.error());
        return;
    }
    auto auth = make_auth(sa, *idi);
    if (!auth) {
        fail(sa, auth.error().id == "IKE090A" ? reason::kNoLocalPsk : reason::kPhase1Failure,
             auth.error());
        return;
    }
    Request req;
    req.kind = RequestKind::IkeAuth;
    req.reqid = sa.first_reqid;
    auto child = offer_child(sa, req, true);
    if (!child) {
        fail(sa, reason::kPhase2Failure, child.error());
        return;
    }

    // HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, N(...), SAi2, TSi, TSr} -->
    std::vector<Payload> p;
    p.push_back(make_payload(PayloadType::IDi, *idi));
    for (auto& c : cert_payloads(sa)) {
        p.push_back(std::move(c));
    }
    if (sa.policy.key.auth != policy::AuthMethod::Psk && sa.creds.trust) {
        p.push_back(make_payload(PayloadType::CERTREQ,
                                 CertReqPayload{CertEncoding::X509_CERT_SIGNATURE,
                                                sa.creds.trust->certreq_data()}));
        if (sa.policy.attributes.http_cert_lookup) {
            p.push_back(make_notify(NotifyType::HTTP_CERT_LOOKUP_SUPPORTED));
        }
    }
    const policy::Identity& want = sa.policy.connection.remote_id;
    if (want.type != policy::IdType::AnyIp && !want.value.empty()) {
        if (auto idr = ike::to_wire(want)) {
            p.push_back(make_payload(PayloadType::IDr, IdPayload{idr->type, idr->data}));
        }
    }
    p.push_back(make_payload(PayloadType::AUTH, *auth));
    if (!sa.reauth_of) {
        // RFC 7296 2.4: a first IKE SA tells the peer to drop stale state;
        // a reauthentication must not (the old SA is still in use).
        p.push_back(make_notify(NotifyType::INITIAL_CONTACT));
    }
    for (auto& x : *child) {
        p.push_back(std::move(x));
    }
    set_state(sa, IkeState::AuthSent);
    send_request(sa, std::move(req), ExchangeType::IKE_AUTH, std::move(p));
}

void Engine::handle_auth_response(IkeSa& sa, Request& req, const std::vector<Payload>& p) {
    const auto* idr = find_body<IdPayload>(p, PayloadType::IDr);
    const auto* auth = find_body<AuthPayload>(p, PayloadType::AUTH);
    if (auth == nullptr || idr == nullptr) {
        const auto* err = find_error_notify(p);
        if (err != nullptr && err->type == NotifyType::AUTHENTICATION_FAILED) {
            ++counters_.auth_failures;
            fail(sa, reason::kAuthFailed,
                 msg("IKE0909", sa.remote.to_string(), "the peer refused our authentication"));
        } else if (err != nullptr) {
            fail(sa, reason::kPhase1Failure,
                 msg("IKE0906", sa.remote.to_string(), "IKE_AUTH", name(err->type)));
        } else {
            fail(sa, reason::kPhase1Failure,
                 msg("IKE0907", "IKE_AUTH", sa.remote.to_string(), "IDr, AUTH"));
        }
        return;
    }

    // <-- HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}: who is it, and can it prove it?
    auto peer_id = ike::from_wire(ike::IkeIdentity{idr->type, idr->data});
    Status verified = peer_id ? ok() : Status(peer_id.failure());
    if (verified) {
        const policy::Identity& want = sa.policy.connection.remote_id;
        if (!ike::identity_matches(want, *peer_id)) {
            verified = qvpn::fail("IKE090E", ike::identity_text(*peer_id), sa.remote.to_string(),
                            ike::identity_text(want));
        } else {
            verified = verify_peer_auth(sa, *idr, *auth, p, *peer_id);
        }
    }
    if (!verified) {
        ++counters_.auth_failures;
        // RFC 7296 2.21.2: tell the responder, once, then forget the SA.
        Request note;
        note.kind = RequestKind::Notify;
        note.retransmit = false;
        send_request(sa, std::move(note), ExchangeType::INFORMATIONAL,
                     {make_notify(NotifyType::AUTHENTICATION_FAILED)});
        fail(sa, reason::kAuthFailed, verified.error());
        return;
    }
    sa.peer_id = *peer_id;
    established(sa);

    // The first CHILD_SA (or why there is none).
    auto child = accept_child_answer(sa, req, p, true, sa.ni, sa.nr, {});
    if (!child) {
        int code = child.error().notify == ike::notify_code(NotifyType::TS_UNACCEPTABLE)
                       ? reason::kNoPhase2Policy
                       : reason::kPhase2Failure;
        report_child_failure(sa, code, child.error());
        start_delete_ike(sa);
        return;
    }
    std::optional<uint32_t> replaces = reauth_replaces(sa, child->reqid);
    install_child(sa, std::move(*child), replaces);
    finish_reauth(sa);
}

// --- responder -------------------------------------------------------------------------------

void Engine::handle_auth_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p) {
    const std::string peer = sa.remote.to_string();
    auto refuse = [&](Msg why, bool report) {
        ++counters_.auth_failures;
        log(&sa, joblog::Level::Error, why);
        send_response(sa, h, {make_notify(NotifyType::AUTHENTICATION_FAILED)});
        if (report && !sa.conn.empty()) {
            actions_.push_back(Failed{sa.conn, sa.remote, reason::kAuthFailed,
                                      msg("TCP8606", sa.conn, reason::kAuthFailed), why});
        }
        close_sa(sa, "authentication failed", false);
    };

    // RFC 7296 2.16: no AUTH payload means the initiator wants EAP, which
    // this system does not offer.
    const auto* idi = find_body<IdPayload>(p, PayloadType::IDi);
    const auto* auth = find_body<AuthPayload>(p, PayloadType::AUTH);
    if (find(p, PayloadType::EAP) != nullptr || (idi != nullptr && auth == nullptr)) {
        refuse(msg("IKE090D", peer), false);
        return;
    }
    if (idi == nullptr || auth == nullptr) {
        refuse(msg("IKE0907", "IKE_AUTH", peer, "IDi, AUTH"), false);
        return;
    }
    auto peer_id = ike::from_wire(ike::IkeIdentity{idi->type, idi->data});
    if (!peer_id) {
        refuse(peer_id.error(), false);
        return;
    }
    auto resolved = policies_.for_auth(sa.remote.addr, *peer_id);
    if (!resolved) {
        refuse(resolved.error(), false);
        return;
    }
    ResolvedPeer rp = std::move(*resolved);
    if (rp.policy.group.initiator == policy::Initiator::Local) {
        refuse(msg("IKE0912", rp.policy.group.name, peer), false);
        return;
    }
    sa.policy = rp.policy;
    sa.creds = std::move(rp.creds);
    if (sa.policy.connection.remote_id.value.empty() ||
        sa.policy.connection.remote_id.type == policy::IdType::AnyIp) {
        // A rekey or reauthentication started from this side names the
        // peer as it authenticated itself.
        sa.policy.connection.remote_id = *peer_id;
    }
    sa.conn = responder_name(sa, *peer_id);
    sa.policy.connection.name = sa.conn;
    auto allowed = ike_suites(sa.policy.key);
    if (std::find(allowed.begin(), allowed.end(), sa.suite) == allowed.end()) {
        refuse(msg("IKE091B", describe(sa.suite), sa.policy.key.name), true);
        return;
    }
    if (sa.policy.key.auth == policy::AuthMethod::Psk && sa.policy.key.psk.empty()) {
        Msg m = msg("IKE090A", sa.policy.key.name);
        log(&sa, joblog::Level::Error, m);
        send_response(sa, h, {make_notify(NotifyType::AUTHENTICATION_FAILED)});
        actions_.push_back(Failed{sa.conn, sa.remote, reason::kNoRemotePsk,
                                  msg("TCP8606", sa.conn, reason::kNoRemotePsk), m});
        close_sa(sa, "no preshared key", false);
        return;
    }
    if (Status v = verify_peer_auth(sa, *idi, *auth, p, *peer_id); !v) {
        refuse(v.error(), true);
        return;
    }
    sa.peer_id = *peer_id;

    // <-- HDR, SK {IDr, [CERT,] AUTH, [N(...)], SAr2, TSi, TSr}
    auto idr = our_id(sa);
    auto our_auth = idr ? make_auth(sa, *idr) : Result<AuthPayload>(idr.failure());
    if (!our_auth) {
        log(&sa, joblog::Level::Error, our_auth.error());
        send_response(sa, h, {make_notify(NotifyType::AUTHENTICATION_FAILED)});
        actions_.push_back(Failed{sa.conn, sa.remote, reason::kPhase1Failure,
                                  msg("TCP8606", sa.conn, reason::kPhase1Failure),
                                  our_auth.error()});
        close_sa(sa, "authentication failed", false);
        return;
    }
    std::vector<Payload> out;
    out.push_back(make_payload(PayloadType::IDr, *idr));
    for (auto& c : cert_payloads(sa)) {
        out.push_back(std::move(c));
    }
    out.push_back(make_payload(PayloadType::AUTH, *our_auth));

    ChildOutcome child = answer_child(sa, p, true, sa.ni, sa.nr);
    for (auto& x : child.payloads) {
        out.push_back(std::move(x));
    }
    send_response(sa, h, std::move(out));
    established(sa);
    if (child.child) {
        std::optional<uint32_t> replaces = adopt_replaced_child(sa, *child.child);
        install_child(sa, std::move(*child.child), replaces);
    } else {
        report_child_failure(sa, child.reason, child.detail);
    }
    // RFC 7296 2.4: INITIAL_CONTACT: every other IKE SA with this peer
    // identity is stale. Without it, a second IKE SA of the same peer is a
    // reauthentication: the old one goes when the peer deletes it, quietly.
    if (find_notify(p, NotifyType::INITIAL_CONTACT) != nullptr) {
        drop_stale_sas(sa);
    } else {
        for (auto& [k, other] : sas_) {
            if (other.get() != &sa && other->state == IkeState::Established &&
                other->conn == sa.conn && other->peer_id && *other->peer_id == *sa.peer_id) {
                other->replaced_by = sa.our_spi();
            }
        }
    }
}

// --- both sides ---------------------------------------------------------------------------

IkeUp Engine::ike_up_action(const IkeSa& sa) const {
    IkeUp up;
    up.conn = sa.conn;
    up.group = sa.policy.group.name;
    up.ike = sa.ike_text();
    up.peer = sa.remote;
    if (auto e = crypto::encr_to_policy(sa.suite.encr)) {
        up.encr = std::string(policy::to_cl(*e));
    }
    if (auto h = crypto::hash_from_prf(sa.suite.prf)) {
        up.prf = std::string(policy::to_cl(*h));
    }
    if (auto g = crypto::dh_to_policy(sa.suite.dh)) {
        up.dh = std::string(policy::to_cl(*g));
    }
    up.auth = std::string(policy::to_cl(sa.policy.key.auth));
    up.lifetime_seconds = sa.lifetime_seconds;
    up.initiator = sa.initiator;
    up.nat_local = sa.nat_local;
    up.nat_remote = sa.nat_remote;
    return up;
}

void Engine::established(IkeSa& sa) {
    cancel(sa.halfopen_timer);
    set_state(sa, IkeState::Established);
    sa.established_at = clock_.now();
    sa.last_heard = sa.established_at;
    ++counters_.ike_established;
    arm_lifetimes(sa);
    log(&sa, joblog::Level::Info,
        msg("IKE0A01", sa.conn, sa.remote.to_string(), describe(sa.suite),
            std::string(policy::to_cl(sa.policy.key.auth))));
    actions_.push_back(ike_up_action(sa));
}

std::string Engine::responder_name(IkeSa& sa, const policy::Identity& peer_id) {
    // core/ipc/README.md: what a peer starts is "<group>:R<n>", even when a
    // configured connection lends it its data endpoints; configured names
    // belong to connections this system starts. The same peer coming back
    // (reauthentication, a restart) keeps its name.
    for (const auto& [k, other] : sas_) {
        if (other.get() != &sa && !other->initiator && other->state != IkeState::Closed &&
            other->peer_id && *other->peer_id == peer_id &&
            other->policy.group.name == sa.policy.group.name && !other->conn.empty()) {
            return other->conn;
        }
    }
    return sa.policy.group.name + ":R" + std::to_string(++responder_seq_);
}

std::optional<uint32_t> Engine::adopt_replaced_child(IkeSa& sa, ChildSaState& child) {
    // A peer that authenticates anew brings the same traffic again: the new
    // CHILD_SA takes over the reqid (and so the policies) of the old one.
    for (const auto& [k, other] : sas_) {
        if (other.get() == &sa || other->state == IkeState::Closed || other->conn != sa.conn) {
            continue;
        }
        for (auto& c : other->children) {
            if ((c.state == ChildState::Installed || c.state == ChildState::Rekeying) &&
                c.sa.ts_local == child.sa.ts_local && c.sa.ts_remote == child.sa.ts_remote) {
                child.reqid = c.reqid;
                return c.spi_in;
            }
        }
    }
    child.reqid = new_reqid();
    return std::nullopt;
}

void Engine::drop_stale_sas(IkeSa& sa) {
    for (auto& [k, other] : sas_) {
        if (other.get() == &sa || other->state == IkeState::Closed || !other->peer_id ||
            !sa.peer_id || !(*other->peer_id == *sa.peer_id) || other->conn != sa.conn) {
            continue;
        }
        other->replaced_by = sa.our_spi();
        close_sa(*other, "replaced (INITIAL_CONTACT)", true);
    }
}

}  // namespace qvpn::ikev2
