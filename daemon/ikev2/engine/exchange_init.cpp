// IKE_SA_INIT (RFC 7296 1.2):
//
//   Initiator                         Responder
//   HDR, SAi1, KEi, Ni,
//     N(NAT_DETECTION_*), N(IKEV2_FRAGMENTATION_SUPPORTED),
//     N(SIGNATURE_HASH_ALGORITHMS)  -->
//                               <--  HDR, SAr1, KEr, Nr, [CERTREQ], N(...)
//
// with the detours of 2.6 (COOKIE: the responder keeps no state and asks
// for the request again with a cookie) and 1.3/2.7 (INVALID_KE_PAYLOAD: the
// initiator retries with the group the responder names).
#include <algorithm>

#include "daemon/ike/auth/auth.hpp"
#include "daemon/ike/crypto/keymat.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"
#include "daemon/ikev2/engine/natd.hpp"

namespace qvpn::ikev2 {

namespace crypto = ike::crypto;

Status derive_ike_sa_keys(IkeSa& sa, const crypto::Prf& prf, ByteView skeyseed) {
    ByteWriter si, sr;
    QVPN_ASSIGN(crypto::IkeKeys k, crypto::derive_ike_keys(sa.suite, prf, skeyseed, sa.ni, sa.nr,
                                                          sa.spi_i, sa.spi_r));
    QVPN_ASSIGN(crypto::Cipher cipher,
                crypto::Cipher::create(sa.suite.encr.id, sa.suite.encr.key_bits));
    std::optional<crypto::Integrity> integ;
    if (sa.suite.integ != ike::IntegId::NONE) {
        QVPN_ASSIGN(integ, crypto::Integrity::create(sa.suite.integ));
    }
    SkDirection from_i{k.sk_ei, k.sk_ai};
    SkDirection from_r{k.sk_er, k.sk_ar};
    sa.sk = sa.initiator ? SkCrypto{cipher, integ, from_i, from_r}
                         : SkCrypto{cipher, integ, from_r, from_i};
    sa.prf = prf;
    sa.sk_d = k.sk_d;
    sa.sk_pi = k.sk_pi;
    sa.sk_pr = k.sk_pr;
    return ok();
}

namespace {

Payload nonce_payload(const Bytes& n) { return make_payload(PayloadType::NONCE, NoncePayload{n}); }

Bytes u16_bytes(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }

std::vector<Bytes> all_notify_data(const std::vector<Payload>& p, NotifyType t) {
    std::vector<Bytes> out;
    for (const auto& x : p) {
        if (const auto* n = std::get_if<NotifyPayload>(&x.body); n && n->type == t) {
            out.push_back(n->data);
        }
    }
    return out;
}

// The capabilities a peer announces in IKE_SA_INIT.
void read_capabilities(IkeSa& sa, const std::vector<Payload>& p) {
    sa.peer_fragmentation = find_notify(p, NotifyType::IKEV2_FRAGMENTATION_SUPPORTED) != nullptr;
    sa.peer_http_cert = find_notify(p, NotifyType::HTTP_CERT_LOOKUP_SUPPORTED) != nullptr;
    if (const auto* n = find_notify(p, NotifyType::SIGNATURE_HASH_ALGORITHMS)) {
        sa.peer_sig_hashes = true;
        if (auto h = ike::auth::decode_hash_algorithms(n->data)) {
            sa.peer_hashes = *h;
        }
    }
    if (const auto* cr = find_body<CertReqPayload>(p, PayloadType::CERTREQ)) {
        sa.peer_certreq = true;
        sa.peer_certreq_data = cr->data;
    }
}

}  // namespace

// --- initiator -------------------------------------------------------------------------

void Engine::start_init(IkeSa& sa) {
    if (sa.ni.empty()) {
        sa.ni.resize(cfg_.nonce_len);
        rng_.fill(sa.ni);
    }
    if (!sa.dh) {
        auto g = crypto::DhGroup::create(sa.suites.front().dh);
        auto pair = g ? g->generate(rng_) : Result<crypto::DhKeyPair>(g.failure());
        if (!pair) {
            fail(sa, reason::kPhase1Failure, pair.error());
            return;
        }
        sa.dh = std::move(*pair);
    }

    // HDR, [N(COOKIE)], SAi1, KEi, Ni, N(NAT_D), ... -->
    std::vector<Payload> p;
    if (!sa.cookie.empty()) {
        p.push_back(make_notify(NotifyType::COOKIE, sa.cookie));  // RFC 7296 2.6: first
    }
    p.push_back(make_payload(PayloadType::SA, ike_proposals(sa.suites, {})));
    p.push_back(make_payload(PayloadType::KE,
                             KePayload{static_cast<uint16_t>(sa.dh->group().id()),
                                       sa.dh->public_value()}));
    p.push_back(nonce_payload(sa.ni));
    p.push_back(make_notify(NotifyType::NAT_DETECTION_SOURCE_IP, natd_hash(sa.spi_i, 0, sa.local)));
    p.push_back(
        make_notify(NotifyType::NAT_DETECTION_DESTINATION_IP, natd_hash(sa.spi_i, 0, sa.remote)));
    if (cfg_.fragmentation) {
        p.push_back(make_notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED));
    }
    p.push_back(make_notify(NotifyType::SIGNATURE_HASH_ALGORITHMS,
                            ike::auth::encode_hash_algorithms(ike::auth::supported_hashes())));
    set_state(sa, IkeState::InitSent);
    Request req;
    req.kind = RequestKind::IkeSaInit;
    send_request(sa, std::move(req), ExchangeType::IKE_SA_INIT, std::move(p));
}

void Engine::handle_init_response(IkeSa& sa, ByteView data, const Message& m) {
    if (!sa.outstanding || sa.outstanding->kind != RequestKind::IkeSaInit ||
        m.header.message_id != 0) {
        return;
    }
    const auto& p = m.payloads;
    Request req = std::move(*sa.outstanding);
    sa.outstanding.reset();
    cancel(req.timer);

    // <-- HDR, N(COOKIE): repeat the request with the cookie in front.
    if (const auto* c = find_notify(p, NotifyType::COOKIE)) {
        if (++sa.cookie_tries > cfg_.max_cookie_retries || c->data.empty() ||
            c->data.size() > 64) {
            fail(sa, reason::kPhase1Failure,
                 msg("IKE0906", sa.remote.to_string(), "IKE_SA_INIT", name(NotifyType::COOKIE)));
            return;
        }
        debug(&sa, "init", "responder asks for a cookie; retrying");
        sa.cookie = c->data;
        start_init(sa);
        return;
    }

    // <-- HDR, N(INVALID_KE_PAYLOAD): retry with the group the peer wants, if
    // our policy allows it (RFC 7296 1.3).
    if (const auto* ke = find_notify(p, NotifyType::INVALID_KE_PAYLOAD)) {
        auto group = static_cast<ike::DhId>(ke->data.size() == 2 ? ke->data[0] << 8 | ke->data[1]
                                                                  : 0);
        bool allowed = std::any_of(sa.suites.begin(), sa.suites.end(),
                                   [&](const crypto::IkeSuite& s) { return s.dh == group; });
        if (!allowed || group == sa.dh->group().id() || ++sa.ke_tries > cfg_.max_ke_retries) {
            fail(sa, reason::kPhase1Failure,
                 msg("IKE090F", sa.remote.to_string(), static_cast<int>(group)));
            return;
        }
        auto g = crypto::DhGroup::create(group);
        auto pair = g ? g->generate(rng_) : Result<crypto::DhKeyPair>(g.failure());
        if (!pair) {
            fail(sa, reason::kPhase1Failure, pair.error());
            return;
        }
        debug(&sa, "init", "peer wants DH group " + std::to_string(static_cast<int>(group)));
        sa.dh = std::move(*pair);
        start_init(sa);
        return;
    }

    if (const auto* err = find_error_notify(p)) {
        fail(sa, reason::kPhase1Failure,
             msg("IKE0906", sa.remote.to_string(), "IKE_SA_INIT", name(err->type)));
        return;
    }

    // <-- HDR, SAr1, KEr, Nr, [CERTREQ]
    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* ke = find_body<KePayload>(p, PayloadType::KE);
    const auto* nr = find_body<NoncePayload>(p, PayloadType::NONCE);
    if (sa_p == nullptr || ke == nullptr || nr == nullptr || m.header.spi_r == 0) {
        fail(sa, reason::kPhase1Failure,
             msg("IKE0907", "IKE_SA_INIT", sa.remote.to_string(), "SA, KE, Nonce"));
        return;
    }
    auto choice = accept_ike(*sa_p, sa.suites, false);
    if (!choice) {
        fail(sa, reason::kPhase1Failure, choice.error());
        return;
    }
    if (ke->group != static_cast<uint16_t>(choice->suite.dh) ||
        sa.dh->group().id() != choice->suite.dh) {
        fail(sa, reason::kPhase1Failure,
             msg("IKE0901", "IKE", "KE group " + std::to_string(ke->group) +
                                       " differs from the chosen group"));
        return;
    }
    auto g_ir = sa.dh->compute(ke->data);
    if (!g_ir) {
        fail(sa, reason::kPhase1Failure, g_ir.error());
        return;
    }
    sa.spi_r = m.header.spi_r;
    sa.nr = nr->data;
    sa.suite = choice->suite;
    sa.init_response.assign(data.begin(), data.end());
    read_capabilities(sa, p);

    auto prf = crypto::Prf::create(sa.suite.prf);
    auto seed = prf ? crypto::skeyseed(*prf, sa.ni, sa.nr, *g_ir)
                    : Result<SecretBytes>(prf.failure());
    Status keys = seed ? derive_ike_sa_keys(sa, *prf, *seed) : Status(seed.failure());
    if (!keys) {
        fail(sa, reason::kPhase1Failure, keys.error());
        return;
    }

    // RFC 7296 2.23: NAT on the path moves IKE (and ESP) to port 4500.
    auto nat = detect_nat(sa.spi_i, sa.spi_r, sa.local, sa.remote,
                          all_notify_data(p, NotifyType::NAT_DETECTION_SOURCE_IP),
                          [&]() -> const Bytes* {
                              const auto* n = find_notify(p, NotifyType::NAT_DETECTION_DESTINATION_IP);
                              return n ? &n->data : nullptr;
                          }());
    sa.nat_local = nat.local_behind_nat;
    sa.nat_remote = nat.remote_behind_nat;
    if (sa.nat_local || sa.nat_remote) {
        sa.natt = true;
        sa.local.port = 4500;
        sa.remote.port = 4500;
        log(&sa, joblog::Level::Info,
            msg("IKE0A05", sa.conn, sa.remote.addr.to_string(),
                sa.nat_local ? "this system" : "the peer"));
    }
    start_auth(sa);
}

// --- responder -------------------------------------------------------------------------------

void Engine::handle_init_request(const Endpoint& local, const Endpoint& remote, bool marker,
                                 ByteView data, const Message& m) {
    const Header& h = m.header;
    const auto& p = m.payloads;
    if (h.message_id != 0) {
        return;
    }
    SteadyTime now = clock_.now();

    // RFC 7296 2.1: a retransmitted request gets the same answer again.
    auto key = std::make_pair(remote.to_string(), h.spi_i);
    if (auto it = half_open_.find(key); it != half_open_.end()) {
        IkeSa* sa = find_sa(it->second);
        if (sa != nullptr && sa->state == IkeState::InitDone &&
            std::equal(data.begin(), data.end(), sa->init_request.begin(),
                       sa->init_request.end())) {
            ++counters_.retransmits_answered;
            send_raw(local, remote, marker, sa->init_response);
        }
        return;
    }

    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* ke = find_body<KePayload>(p, PayloadType::KE);
    const auto* ni = find_body<NoncePayload>(p, PayloadType::NONCE);
    if (sa_p == nullptr || ke == nullptr || ni == nullptr) {
        ++counters_.malformed;
        if (rate_ok("IKE0907")) {
            log_peer(remote, joblog::Level::Warning,
                     msg("IKE0907", "IKE_SA_INIT", remote.to_string(), "SA, KE, Nonce"));
        }
        send_clear_notify(local, remote, marker, h, NotifyType::INVALID_SYNTAX, {});
        return;
    }

    // RFC 7296 2.6: past the half-open threshold, no state before a valid
    // cookie. Far past it, not even an answer.
    size_t half = half_open_count();
    if (half >= cfg_.half_open_hard_limit) {
        ++counters_.half_open_dropped;
        return;
    }
    if (half >= static_cast<size_t>(std::max(0, attributes_.half_open_limit))) {
        const auto* c = find_notify(p, NotifyType::COOKIE);
        if (c == nullptr || !cookies_.check(c->data, ni->data, remote.addr, h.spi_i, now)) {
            if (c != nullptr) {
                ++counters_.cookies_refused;
            }
            ++counters_.cookies_sent;
            if (rate_ok("IKE0915")) {
                log_peer(remote, joblog::Level::Warning, msg("IKE0915", half));
            }
            send_clear_notify(local, remote, marker, h, NotifyType::COOKIE,
                              cookies_.make(ni->data, remote.addr, h.spi_i, now));
            return;
        }
    }

    auto ip = policies_.for_init(remote.addr);
    if (!ip) {
        if (rate_ok(ip.error().id)) {
            log_peer(remote, joblog::Level::Error, ip.error());
        }
        send_clear_notify(local, remote, marker, h, NotifyType::NO_PROPOSAL_CHOSEN, {});
        return;
    }
    policy::KeyPolicy kp;
    kp.transforms = ip->transforms;
    auto suites = ike_suites(kp);
    auto choice = select_ike(*sa_p, suites);
    if (!choice) {
        if (rate_ok(choice.error().id)) {
            log_peer(remote, joblog::Level::Error, choice.error());
        }
        send_clear_notify(local, remote, marker, h, NotifyType::NO_PROPOSAL_CHOSEN, {});
        return;
    }
    // RFC 7296 1.3: KEi of another group: name ours, keep nothing.
    if (ke->group != static_cast<uint16_t>(choice->suite.dh)) {
        if (rate_ok("INVALID_KE_PAYLOAD")) {
            log_peer(remote, joblog::Level::Debug,
                     msg("IKE090F", remote.to_string(), static_cast<int>(ke->group)));
        }
        send_clear_notify(local, remote, marker, h, NotifyType::INVALID_KE_PAYLOAD,
                          u16_bytes(static_cast<uint16_t>(choice->suite.dh)));
        return;
    }
    auto group = crypto::DhGroup::create(choice->suite.dh);
    auto pair = group ? group->generate(rng_) : Result<crypto::DhKeyPair>(group.failure());
    auto g_ir = pair ? pair->compute(ke->data) : Result<SecretBytes>(pair.failure());
    if (!g_ir) {
        if (rate_ok(g_ir.error().id)) {
            log_peer(remote, joblog::Level::Warning, g_ir.error());
        }
        send_clear_notify(local, remote, marker, h, NotifyType::INVALID_SYNTAX, {});
        return;
    }

    auto owned = std::make_unique<IkeSa>();
    owned->initiator = false;
    owned->spi_i = h.spi_i;
    owned->spi_r = new_spi();
    owned->local = local;
    owned->remote = remote;
    owned->natt = marker;
    owned->ni = ni->data;
    owned->nr.resize(cfg_.nonce_len);
    rng_.fill(owned->nr);
    owned->dh = std::move(*pair);
    owned->suite = choice->suite;
    owned->suites = suites;
    owned->init_policy = *ip;
    owned->policy.attributes = ip->attributes;
    IkeSa& sa = add_sa(std::move(owned));
    read_capabilities(sa, p);

    auto prf = crypto::Prf::create(sa.suite.prf);
    auto seed = prf ? crypto::skeyseed(*prf, sa.ni, sa.nr, *g_ir)
                    : Result<SecretBytes>(prf.failure());
    Status keys = seed ? derive_ike_sa_keys(sa, *prf, *seed) : Status(seed.failure());
    if (!keys) {
        log(&sa, joblog::Level::Error, keys.error());
        send_clear_notify(local, remote, marker, h, NotifyType::NO_PROPOSAL_CHOSEN, {});
        close_sa(sa, "key derivation failed", false);
        return;
    }

    // The request's NAT_D hashes were made with SPIr = 0 (RFC 7296 2.23).
    const auto* dst = find_notify(p, NotifyType::NAT_DETECTION_DESTINATION_IP);
    auto nat = detect_nat(sa.spi_i, 0, local, remote,
                          all_notify_data(p, NotifyType::NAT_DETECTION_SOURCE_IP),
                          dst ? &dst->data : nullptr);
    sa.nat_local = nat.local_behind_nat;
    sa.nat_remote = nat.remote_behind_nat;

    // <-- HDR, SAr1, KEr, Nr, N(NAT_D), [CERTREQ], [N(...)]
    std::vector<Payload> out;
    out.push_back(make_payload(PayloadType::SA, ike_answer(*choice, {})));
    out.push_back(make_payload(PayloadType::KE,
                               KePayload{static_cast<uint16_t>(choice->suite.dh),
                                         sa.dh->public_value()}));
    out.push_back(nonce_payload(sa.nr));
    out.push_back(make_notify(NotifyType::NAT_DETECTION_SOURCE_IP,
                              natd_hash(sa.spi_i, sa.spi_r, local)));
    out.push_back(make_notify(NotifyType::NAT_DETECTION_DESTINATION_IP,
                              natd_hash(sa.spi_i, sa.spi_r, remote)));
    if (ip->certificates && ip->trust) {
        out.push_back(make_payload(PayloadType::CERTREQ,
                                   CertReqPayload{CertEncoding::X509_CERT_SIGNATURE,
                                                  ip->trust->certreq_data()}));
        if (ip->attributes.http_cert_lookup) {
            out.push_back(make_notify(NotifyType::HTTP_CERT_LOOKUP_SUPPORTED));
        }
    }
    if (cfg_.fragmentation && sa.peer_fragmentation) {
        out.push_back(make_notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED));
    }
    if (sa.peer_sig_hashes) {
        out.push_back(make_notify(NotifyType::SIGNATURE_HASH_ALGORITHMS,
                                  ike::auth::encode_hash_algorithms(ike::auth::supported_hashes())));
    }
    Header rh;
    rh.spi_i = sa.spi_i;
    rh.spi_r = sa.spi_r;
    rh.exchange = ExchangeType::IKE_SA_INIT;
    rh.flags = kFlagResponse;
    rh.message_id = 0;
    sa.init_request.assign(data.begin(), data.end());
    sa.init_response = serialize_message(rh, out);
    sa.last_peer_request = 0;
    sa.last_response = {sa.init_response};
    set_state(sa, IkeState::InitDone);
    half_open_[key] = sa.spi_r;
    sa.halfopen_timer = arm(sa, TimerKind::HalfOpen, now + cfg_.half_open_timeout);
    sa.last_heard = now;
    debug(&sa, "init", "IKE_SA_INIT answered with " + describe(sa.suite));
    send_raw(local, remote, marker, sa.init_response);
}

}  // namespace qvpn::ikev2
