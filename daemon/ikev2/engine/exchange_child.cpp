// CHILD_SAs: what IKE_AUTH and CREATE_CHILD_SA share (offering, answering,
// accepting, installing), and CREATE_CHILD_SA itself (RFC 7296 1.3):
//
//   new CHILD_SA:   HDR, SK {SA, Ni, [KEi], TSi, TSr}  -->
//                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//   rekey CHILD_SA: HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}  -->
//                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//   rekey IKE SA:   HDR, SK {SA, Ni, KEi}  -->
//                                  <--  HDR, SK {SA, Nr, KEr}
//
// A rekey installs the new SA before the old one is deleted (make before
// break); simultaneous rekeys are resolved by RFC 7296 2.8.1: of the two new
// SAs, the one whose exchange holds the lowest of the four nonces is
// redundant and is deleted by the peer that created it.
#include <algorithm>

#include "daemon/ike/crypto/keymat.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"

namespace qvpn::ikev2 {

namespace crypto = ike::crypto;

namespace {

constexpr auto kRekeyedLinger = std::chrono::seconds(60);

uint32_t u32_of(const Bytes& b) {
    return b.size() < 4 ? 0 : uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

uint64_t u64_of(const Bytes& b) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < b.size(); ++i) {
        v = v << 8 | b[i];
    }
    return v;
}

Bytes be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

Bytes be64(uint64_t v) {
    Bytes b(8);
    for (int i = 7; i >= 0; --i) {
        b[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
    return b;
}

bool nonce_less(const Bytes& a, const Bytes& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

const Bytes& lowest(const Bytes& a, const Bytes& b) { return nonce_less(a, b) ? a : b; }

// RFC 7296 2.8.1: true when the lowest of the four nonces is in our exchange.
bool ours_is_redundant(const Bytes& our_ni, const Bytes& our_nr, const Bytes& peer_ni,
                       const Bytes& peer_nr) {
    return nonce_less(lowest(our_ni, our_nr), lowest(peer_ni, peer_nr));
}

IpAddress id_address(const policy::Identity& id, const IpAddress& fallback) {
    if (id.type == policy::IdType::IPv4 || id.type == policy::IdType::IPv6) {
        if (auto a = IpAddress::parse(id.value)) {
            return *a;
        }
    }
    return fallback;
}

Bytes ipcomp_data(uint16_t cpi) {
    return {uint8_t(cpi >> 8), uint8_t(cpi), static_cast<uint8_t>(IpcompId::IPCOMP_DEFLATE)};
}

// The deflate CPI of a peer's IPCOMP_SUPPORTED, if it offers deflate.
std::optional<uint16_t> peer_ipcomp(const std::vector<Payload>& p) {
    for (const auto& x : p) {
        const auto* n = std::get_if<NotifyPayload>(&x.body);
        if (n != nullptr && n->type == NotifyType::IPCOMP_SUPPORTED && n->data.size() == 3 &&
            n->data[2] == static_cast<uint8_t>(IpcompId::IPCOMP_DEFLATE)) {
            return static_cast<uint16_t>(n->data[0] << 8 | n->data[1]);
        }
    }
    return std::nullopt;
}

const TsPayload* ts_of(const std::vector<Payload>& p, PayloadType t) {
    return find_body<TsPayload>(p, t);
}

}  // namespace

// --- shared by IKE_AUTH and CREATE_CHILD_SA ---------------------------------------------

IpAddress Engine::local_host(const IkeSa& sa) const {
    return id_address(sa.policy.connection.local_id, sa.local.addr);
}

IpAddress Engine::remote_host(const IkeSa& sa) const {
    return id_address(sa.policy.connection.remote_id, sa.remote.addr);
}

Result<std::vector<Payload>> Engine::offer_child(IkeSa& sa, Request& req, bool in_ike_auth) {
    std::vector<std::string> skipped;
    req.offers = child_offers(sa.policy.data, &skipped);
    for (const auto& x : skipped) {
        debug(&sa, "proposal", "data policy transform left out: " + x);
    }
    if (req.offers.empty()) {
        return qvpn::fail("IKE0908", sa.policy.data.name);
    }
    QVPN_ASSIGN(OurSelectors ts, connection_selectors(sa.policy, local_host(sa), remote_host(sa)));
    req.ts_i = ts.local;
    req.ts_r = ts.remote;
    req.new_spi = new_child_spi();
    req.transport = sa.policy.data.mode == policy::Mode::Transport;
    req.pfs = in_ike_auth ? ike::DhId::NONE : crypto::dh_from_policy(sa.policy.data.pfs);

    std::vector<Payload> p;
    if (req.transport) {
        p.push_back(make_notify(NotifyType::USE_TRANSPORT_MODE));
    }
    if (sa.policy.data.ipcomp) {
        req.ipcomp_cpi = static_cast<uint16_t>(256 + rng_.u32() % (61440 - 256));
        p.push_back(make_notify(NotifyType::IPCOMP_SUPPORTED, ipcomp_data(req.ipcomp_cpi)));
    }
    p.push_back(make_payload(PayloadType::SA, child_proposals(req.offers, req.new_spi,
                                                               sa.policy.connection.esn, req.pfs)));
    p.push_back(make_payload(PayloadType::TSi, TsPayload{req.ts_i, 0}));
    p.push_back(make_payload(PayloadType::TSr, TsPayload{req.ts_r, 0}));
    return p;
}

ChildSaState Engine::build_child(IkeSa& sa, const ChildChoice& choice, uint32_t spi_in,
                                 crypto::ChildKeys keys, Selectors ts_local, Selectors ts_remote,
                                 bool transport, std::optional<sa::IpComp> ipcomp, bool tfc_ok) {
    ChildSaState c;
    c.choice = choice;
    c.spi_in = spi_in;
    c.spi_out = choice.peer_spi;
    sa::ChildSa& s = c.sa;
    s.conn = sa.conn;
    s.mode = transport ? sa::Mode::Transport : sa::Mode::Tunnel;
    s.local = sa.local.addr;
    s.remote = sa.remote.addr;
    if (sa.natt && (sa.nat_local || sa.nat_remote)) {
        s.encap = sa::Encap{sa.local.port, sa.remote.port};
    }
    s.esp = std::move(keys.esp);
    s.ah = std::move(keys.ah);
    s.ipcomp = ipcomp;
    s.esn = choice.esn;
    s.replay_window = choice.esn ? 128 : 64;
    // TFC padding is ours alone to decide (tunnel mode only), unless the
    // peer said it cannot take it (RFC 7296 3.10.1).
    s.tfc = sa.policy.connection.tfc && !transport && tfc_ok;
    s.ts_local = std::move(ts_local);
    s.ts_remote = std::move(ts_remote);
    s.lifetime.hard_seconds =
        static_cast<uint64_t>(std::max(1, sa.policy.data.lifetime_minutes)) * 60;
    if (sa.policy.data.lifetime_kb > 0) {
        s.lifetime.hard_bytes = static_cast<uint64_t>(sa.policy.data.lifetime_kb) * 1024;
        s.lifetime.soft_bytes =
            s.lifetime.hard_bytes * static_cast<uint64_t>(100 - cfg_.rekey_margin_percent) / 100;
    }
    return c;
}

ChildOutcome Engine::answer_child(IkeSa& sa, const std::vector<Payload>& p,
                                          bool in_ike_auth, const Bytes& ni, const Bytes& nr) {
    ChildOutcome out;
    const std::string peer = sa.remote.to_string();
    auto refuse = [&](NotifyType n, int code, Msg why, Bytes data = {}) {
        out.payloads = {make_notify(n, std::move(data))};
        out.reason = code;
        out.detail = std::move(why);
    };

    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* tsi = ts_of(p, PayloadType::TSi);
    const auto* tsr = ts_of(p, PayloadType::TSr);
    if (sa_p == nullptr || tsi == nullptr || tsr == nullptr) {
        out.reason = reason::kPhase2Failure;
        out.detail = msg("IKE0907", in_ike_auth ? "IKE_AUTH" : "CREATE_CHILD_SA", peer,
                         "SA, TSi, TSr");
        if (!in_ike_auth) {
            out.payloads = {make_notify(NotifyType::INVALID_SYNTAX)};
        }
        return out;
    }
    auto offers = child_offers(sa.policy.data);
    if (offers.empty()) {
        refuse(NotifyType::NO_PROPOSAL_CHOSEN, reason::kPhase2Failure,
               msg("IKE0908", sa.policy.data.name));
        return out;
    }
    ike::DhId pfs = in_ike_auth ? ike::DhId::NONE : crypto::dh_from_policy(sa.policy.data.pfs);
    auto choice = select_child(*sa_p, offers, sa.policy.connection.esn, pfs, in_ike_auth);
    if (!choice) {
        refuse(NotifyType::NO_PROPOSAL_CHOSEN, reason::kPhase2Failure, choice.error());
        return out;
    }

    // PFS: KEi must be of the chosen group (RFC 7296 1.3).
    SecretBytes g_ir;
    std::optional<Payload> ker;
    if (choice->dh != ike::DhId::NONE) {
        const auto* ke = find_body<KePayload>(p, PayloadType::KE);
        if (ke == nullptr) {
            refuse(NotifyType::NO_PROPOSAL_CHOSEN, reason::kPhase2Failure,
                   msg("IKE0907", "CREATE_CHILD_SA", peer, "KE"));
            return out;
        }
        if (ke->group != static_cast<uint16_t>(choice->dh)) {
            uint16_t g = static_cast<uint16_t>(choice->dh);
            refuse(NotifyType::INVALID_KE_PAYLOAD, reason::kPhase2Failure,
                   msg("IKE090F", peer, static_cast<int>(ke->group)), {uint8_t(g >> 8), uint8_t(g)});
            return out;
        }
        auto group = crypto::DhGroup::create(choice->dh);
        auto pair = group ? group->generate(rng_) : Result<crypto::DhKeyPair>(group.failure());
        auto secret = pair ? pair->compute(ke->data) : Result<SecretBytes>(pair.failure());
        if (!secret) {
            refuse(NotifyType::INVALID_SYNTAX, reason::kPhase2Failure, secret.error());
            return out;
        }
        g_ir = std::move(*secret);
        ker = make_payload(PayloadType::KE, KePayload{static_cast<uint16_t>(choice->dh),
                                                      pair->public_value()});
    }

    // RFC 7296 2.9: answer with what our policy allows of what was asked.
    auto ours = connection_selectors(sa.policy, local_host(sa), remote_host(sa));
    if (!ours) {
        refuse(NotifyType::TS_UNACCEPTABLE, reason::kNoPhase2Policy, ours.error());
        return out;
    }
    Selectors ni_ts = narrow(tsi->selectors, ours->remote);
    Selectors nr_ts = narrow(tsr->selectors, ours->local);
    if (ni_ts.empty() || nr_ts.empty()) {
        refuse(NotifyType::TS_UNACCEPTABLE, reason::kNoPhase2Policy,
               msg("IKE090B", peer, to_string(tsi->selectors) + " === " +
                                        to_string(tsr->selectors)));
        return out;
    }

    bool want_transport = sa.policy.data.mode == policy::Mode::Transport;
    bool peer_transport = find_notify(p, NotifyType::USE_TRANSPORT_MODE) != nullptr;
    if (want_transport && !peer_transport) {
        refuse(NotifyType::NO_PROPOSAL_CHOSEN, reason::kPhase2Failure,
               msg("IKE0911", peer, "*TUNNEL", "*TRANSPORT"));
        return out;
    }
    bool transport = want_transport && peer_transport;

    std::optional<sa::IpComp> ipcomp;
    std::vector<Payload> notes;
    if (transport) {
        notes.push_back(make_notify(NotifyType::USE_TRANSPORT_MODE));
    }
    if (auto cpi = peer_ipcomp(p); cpi && sa.policy.data.ipcomp) {
        uint16_t ours_cpi = static_cast<uint16_t>(256 + rng_.u32() % (61440 - 256));
        ipcomp = sa::IpComp{ours_cpi, *cpi};
        notes.push_back(make_notify(NotifyType::IPCOMP_SUPPORTED, ipcomp_data(ours_cpi)));
    }
    bool tfc_ok = find_notify(p, NotifyType::ESP_TFC_PADDING_NOT_SUPPORTED) == nullptr;

    uint32_t spi_in = new_child_spi();
    crypto::ChildProto proto{choice->suite, spi_in, choice->peer_spi};
    auto keys = crypto::derive_child_keys(*sa.prf, sa.sk_d, g_ir, ni, nr,
                                          std::span<const crypto::ChildProto>(&proto, 1), false);
    if (!keys) {
        refuse(NotifyType::NO_PROPOSAL_CHOSEN, reason::kPhase2Failure, keys.error());
        return out;
    }
    out.child = build_child(sa, *choice, spi_in, std::move(*keys), nr_ts, ni_ts, transport, ipcomp,
                            tfc_ok);
    out.payloads.push_back(make_payload(PayloadType::SA, child_answer(*choice, spi_in, in_ike_auth)));
    if (ker) {
        out.payloads.push_back(std::move(*ker));
    }
    out.payloads.push_back(make_payload(PayloadType::TSi, TsPayload{ni_ts, 0}));
    out.payloads.push_back(make_payload(PayloadType::TSr, TsPayload{nr_ts, 0}));
    for (auto& n : notes) {
        out.payloads.push_back(std::move(n));
    }
    return out;
}

Result<ChildSaState> Engine::accept_child_answer(IkeSa& sa, const Request& req,
                                                 const std::vector<Payload>& p, bool in_ike_auth,
                                                 const Bytes& ni, const Bytes& nr,
                                                 ByteView g_ir) {
    const std::string peer = sa.remote.to_string();
    if (const auto* err = find_error_notify(p)) {
        return Failure{msg("IKE0906", peer, in_ike_auth ? "IKE_AUTH" : "CREATE_CHILD_SA",
                           name(err->type))
                           .with_notify(ike::notify_code(err->type))};
    }
    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* tsi = ts_of(p, PayloadType::TSi);
    const auto* tsr = ts_of(p, PayloadType::TSr);
    if (sa_p == nullptr || tsi == nullptr || tsr == nullptr) {
        return qvpn::fail("IKE0907", in_ike_auth ? "IKE_AUTH" : "CREATE_CHILD_SA", peer, "SA, TSi, TSr");
    }
    QVPN_ASSIGN(ChildChoice choice, accept_child(*sa_p, req.offers, req.pfs, in_ike_auth));
    // The answer may narrow our selectors, never widen them (RFC 7296 2.9).
    if (!within(tsi->selectors, req.ts_i) || !within(tsr->selectors, req.ts_r)) {
        return Failure{msg("IKE090B", peer, to_string(tsi->selectors) + " === " +
                                                to_string(tsr->selectors))
                           .with_notify(ike::notify_code(NotifyType::TS_UNACCEPTABLE))};
    }
    bool transport = find_notify(p, NotifyType::USE_TRANSPORT_MODE) != nullptr;
    if (transport != req.transport) {
        return qvpn::fail("IKE0911", peer, transport ? "*TRANSPORT" : "*TUNNEL",
                    req.transport ? "*TRANSPORT" : "*TUNNEL");
    }
    std::optional<sa::IpComp> ipcomp;
    if (auto cpi = peer_ipcomp(p); cpi && req.ipcomp_cpi != 0) {
        ipcomp = sa::IpComp{req.ipcomp_cpi, *cpi};
    }
    bool tfc_ok = find_notify(p, NotifyType::ESP_TFC_PADDING_NOT_SUPPORTED) == nullptr;
    crypto::ChildProto proto{choice.suite, req.new_spi, choice.peer_spi};
    QVPN_ASSIGN(crypto::ChildKeys keys,
                crypto::derive_child_keys(*sa.prf, sa.sk_d, g_ir, ni, nr,
                                          std::span<const crypto::ChildProto>(&proto, 1), true));
    ChildSaState c = build_child(sa, choice, req.new_spi, std::move(keys), tsi->selectors,
                                 tsr->selectors, transport, ipcomp, tfc_ok);
    c.reqid = req.reqid;
    c.sa.reqid = req.reqid;
    return c;
}

void Engine::install_child(IkeSa& sa, ChildSaState c, std::optional<uint32_t> rekey_of) {
    c.sa.conn = sa.conn;
    c.sa.reqid = c.reqid;
    c.established = clock_.now();
    arm_child_lifetimes(sa, c);
    set_state(sa, c, ChildState::Installed);
    ++counters_.children_installed;
    if (rekey_of) {
        ++counters_.children_rekeyed;
        log(&sa, joblog::Level::Info, msg("IKE0A11", sa.conn, hex32(c.spi_in), hex32(*rekey_of)),
            c.spi_in);
    } else {
        log(&sa, joblog::Level::Info,
            msg("IKE0A10", sa.conn, describe(c.choice), hex32(c.spi_in), hex32(c.spi_out),
                to_string(c.sa.ts_local) + " === " + to_string(c.sa.ts_remote)),
            c.spi_in);
    }
    actions_.push_back(InstallChild{sa.conn, c.sa, rekey_of});
    sa.children.push_back(std::move(c));
}

void Engine::discard_child(IkeSa& sa, ChildSaState c, uint32_t rekeyed_spi) {
    // RFC 7296 2.25.1: the CHILD_SA we rekeyed was deleted by the peer while
    // the exchange ran. Either the peer won a simultaneous rekey (2.8.1) and
    // keeps its own new CHILD_SA, or it ended the CHILD_SA: in both cases it
    // expects nothing on ours, so ours is deleted and never installed (a
    // second CHILD_SA under the reqid would take the traffic from the one
    // the peer kept).
    uint32_t spi = c.spi_in;
    ProtocolId proto = c.choice.proto;
    log(&sa, joblog::Level::Info, msg("IKE091D", sa.conn, hex32(rekeyed_spi), hex32(spi)), spi);
    c.removed = true;
    c.replaced = true;
    sa.children.push_back(std::move(c));
    set_state(sa, sa.children.back(), ChildState::Deleting);
    enqueue(sa, [this, spi, proto](IkeSa& x) { start_delete_children(x, {spi}, proto); });
}

void Engine::report_child_failure(IkeSa& sa, int code, const Msg& detail) {
    log(&sa, joblog::Level::Error, detail);
    actions_.push_back(Failed{sa.conn, sa.remote, code, msg("TCP8606", sa.conn, code), detail});
}

void Engine::remove_child(IkeSa& sa, ChildSaState& c, const std::string& why) {
    cancel(c.rekey_timer);
    cancel(c.expire_timer);
    if (!c.removed) {
        c.removed = true;
        ++counters_.children_deleted;
        actions_.push_back(RemoveChild{sa.conn, c.reqid, c.spi_in, why, c.replaced});
        if (!c.replaced) {
            log(&sa, joblog::Level::Info, msg("IKE0A12", sa.conn, why), c.spi_in);
        }
    }
    set_state(sa, c, ChildState::Closed);
}

// --- CREATE_CHILD_SA for CHILD_SAs ---------------------------------------------------------

void Engine::start_create_child(IkeSa& sa, uint32_t reqid, std::optional<uint32_t> rekey_spi) {
    if (sa.state != IkeState::Established) {
        return;
    }
    ChildSaState* old = rekey_spi ? sa.child_by_in(*rekey_spi) : nullptr;
    if (rekey_spi && (old == nullptr || old->state != ChildState::Installed)) {
        return;  // deleted or replaced meanwhile
    }
    if (!rekey_spi && sa.child_by_reqid(reqid) != nullptr) {
        return;  // already there
    }
    Request req;
    req.kind = rekey_spi ? RequestKind::RekeyChild : RequestKind::CreateChild;
    req.reqid = reqid;
    req.rekey_spi = rekey_spi;
    auto child = offer_child(sa, req, false);
    if (!child) {
        report_child_failure(sa, reason::kPhase2Failure, child.error());
        return;
    }
    if (old != nullptr) {
        // Rekey the same traffic: the selectors the old CHILD_SA ended up with.
        req.ts_i = old->sa.ts_local;
        req.ts_r = old->sa.ts_remote;
        for (auto& x : *child) {
            if (x.type == PayloadType::TSi) {
                x.body = TsPayload{req.ts_i, 0};
            } else if (x.type == PayloadType::TSr) {
                x.body = TsPayload{req.ts_r, 0};
            }
        }
    }
    req.nonce.resize(cfg_.nonce_len);
    rng_.fill(req.nonce);
    if (req.pfs != ike::DhId::NONE) {
        auto g = crypto::DhGroup::create(req.pfs);
        auto pair = g ? g->generate(rng_) : Result<crypto::DhKeyPair>(g.failure());
        if (!pair) {
            report_child_failure(sa, reason::kPhase2Failure, pair.error());
            return;
        }
        req.dh = std::move(*pair);
    }

    // HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr} -->
    std::vector<Payload> p;
    if (old != nullptr) {
        p.push_back(make_notify(NotifyType::REKEY_SA, {}, old->choice.proto, be32(old->spi_in)));
        set_state(sa, *old, ChildState::Rekeying);
    }
    for (auto& x : *child) {
        if (x.type == PayloadType::TSi) {
            p.push_back(make_payload(PayloadType::NONCE, NoncePayload{req.nonce}));
            if (req.dh) {
                p.push_back(make_payload(PayloadType::KE,
                                         KePayload{static_cast<uint16_t>(req.pfs),
                                                   req.dh->public_value()}));
            }
        }
        p.push_back(std::move(x));
    }
    debug(&sa, "child", old ? "rekeying CHILD_SA " + hex32(old->spi_in) : "creating a CHILD_SA");
    send_request(sa, std::move(req), ExchangeType::CREATE_CHILD_SA, std::move(p));
}

void Engine::handle_create_child_request(IkeSa& sa, const Header& h,
                                         const std::vector<Payload>& p) {
    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* nonce = find_body<NoncePayload>(p, PayloadType::NONCE);
    // RFC 7296 2.25: nothing new on an IKE SA that is going away.
    if (sa.state != IkeState::Established) {
        send_response(sa, h, {make_notify(NotifyType::TEMPORARY_FAILURE)});
        return;
    }
    if (sa_p == nullptr || nonce == nullptr) {
        send_response(sa, h, {make_notify(NotifyType::INVALID_SYNTAX)});
        return;
    }
    bool ike = std::any_of(sa_p->proposals.begin(), sa_p->proposals.end(),
                           [](const Proposal& x) { return x.protocol == ProtocolId::IKE; });
    if (ike) {
        handle_rekey_ike_request(sa, h, p);
        return;
    }
    // RFC 7296 2.25.2: while our IKE SA rekey is in flight, no CHILD_SA work.
    if (sa.outstanding && sa.outstanding->kind == RequestKind::RekeyIke) {
        send_response(sa, h, {make_notify(NotifyType::TEMPORARY_FAILURE)});
        return;
    }

    ChildSaState* old = nullptr;
    if (const auto* rk = find_notify(p, NotifyType::REKEY_SA)) {
        // The SPI the peer receives on: our outbound SPI of that CHILD_SA.
        old = sa.child_by_out(u32_of(rk->spi));
        if (old == nullptr) {
            send_response(sa, h, {make_notify(NotifyType::CHILD_SA_NOT_FOUND, {}, rk->protocol,
                                              rk->spi)});
            return;
        }
        if (old->state != ChildState::Installed && old->state != ChildState::Rekeying) {
            send_response(sa, h, {make_notify(NotifyType::TEMPORARY_FAILURE)});
            return;
        }
    }

    // <-- HDR, SK {SA, Nr, [KEr], TSi, TSr}
    Bytes nr(cfg_.nonce_len);
    rng_.fill(nr);
    ChildOutcome out = answer_child(sa, p, false, nonce->data, nr);
    if (!out.child) {
        log(&sa, joblog::Level::Warning, out.detail);
        send_response(sa, h, std::move(out.payloads));
        return;
    }
    out.payloads.insert(out.payloads.begin() + 1, make_payload(PayloadType::NONCE,
                                                               NoncePayload{nr}));
    send_response(sa, h, std::move(out.payloads));

    ChildSaState child = std::move(*out.child);
    std::optional<uint32_t> replaces;
    if (old != nullptr) {
        child.reqid = old->reqid;
        replaces = old->spi_in;
        if (old->state == ChildState::Rekeying) {
            // A collision: both of us rekey this CHILD_SA. Decide when our
            // own answer arrives.
            old->peer_successor = child.spi_in;
            old->peer_rekey_ni = nonce->data;
            old->peer_rekey_nr = nr;
        } else {
            // The peer will delete the old one; until then it still carries
            // traffic in flight (its hard lifetime stays armed).
            cancel(old->rekey_timer);
            set_state(sa, *old, ChildState::Rekeyed);
        }
    } else {
        child.reqid = new_reqid();
    }
    install_child(sa, std::move(child), replaces);
}

void Engine::handle_create_child_response(IkeSa& sa, Request& req, const std::vector<Payload>& p) {
    ChildSaState* old = req.rekey_spi ? sa.child_by_in(*req.rekey_spi) : nullptr;
    // The peer deleted the CHILD_SA this exchange rekeys while it ran.
    bool orphan = req.rekey_spi.has_value() && old == nullptr;
    auto give_up = [&](int code, const Msg& why) {
        if (old != nullptr && old->state == ChildState::Rekeying) {
            // The old CHILD_SA carries on until its hard lifetime.
            set_state(sa, *old, ChildState::Installed);
            log(&sa, joblog::Level::Warning, why, old->spi_in);
        } else if ((old == nullptr && !orphan) ||
                   (old != nullptr && old->state == ChildState::Deleting)) {
            // Nothing carries the traffic now (for the second case: the old
            // CHILD_SA reached its hard lifetime while this rekey ran).
            report_child_failure(sa, code, why);
        }
    };

    if (const auto* err = find_error_notify(p)) {
        Msg why = msg("IKE0906", sa.remote.to_string(), "CREATE_CHILD_SA", name(err->type));
        if (err->type == NotifyType::TEMPORARY_FAILURE && old != nullptr) {
            // RFC 7296 2.25: try again a little later.
            set_state(sa, *old, ChildState::Installed);
            auto delay = std::chrono::milliseconds(
                100 + rng_.u32() % std::max<int64_t>(1, cfg_.retry_delay_max.count()));
            cancel(sa.retry_timer);
            sa.retry_timer = arm(sa, TimerKind::Retry, clock_.now() + delay, old->spi_in);
            debug(&sa, "child", "peer busy; rekey retried later");
            return;
        }
        if (err->type == NotifyType::CHILD_SA_NOT_FOUND && old != nullptr) {
            // The peer has no such CHILD_SA any more: ours is useless too.
            uint32_t reqid = old->reqid;
            remove_child(sa, *old, "unknown to the peer");
            if (sa.initiator) {
                enqueue(sa, [this, reqid](IkeSa& x) { start_create_child(x, reqid, std::nullopt); });
            }
            return;
        }
        give_up(err->type == NotifyType::TS_UNACCEPTABLE ? reason::kNoPhase2Policy
                                                         : reason::kPhase2Failure,
                why);
        return;
    }

    const auto* nr = find_body<NoncePayload>(p, PayloadType::NONCE);
    if (nr == nullptr) {
        give_up(reason::kPhase2Failure,
                msg("IKE0907", "CREATE_CHILD_SA", sa.remote.to_string(), "Nonce"));
        return;
    }
    SecretBytes g_ir;
    if (req.pfs != ike::DhId::NONE) {
        const auto* ke = find_body<KePayload>(p, PayloadType::KE);
        auto secret = ke == nullptr || ke->group != static_cast<uint16_t>(req.pfs)
                          ? Result<SecretBytes>(qvpn::fail("IKE0907", "CREATE_CHILD_SA",
                                                     sa.remote.to_string(), "KE"))
                          : req.dh->compute(ke->data);
        if (!secret) {
            give_up(reason::kPhase2Failure, secret.error());
            return;
        }
        g_ir = std::move(*secret);
    }
    auto child = accept_child_answer(sa, req, p, false, req.nonce, nr->data, g_ir);
    if (!child) {
        give_up(child.error().notify == ike::notify_code(NotifyType::TS_UNACCEPTABLE)
                    ? reason::kNoPhase2Policy
                    : reason::kPhase2Failure,
                child.error());
        return;
    }
    if (orphan) {
        discard_child(sa, std::move(*child), *req.rekey_spi);
        return;
    }
    if (old == nullptr || old->state == ChildState::Deleting) {
        // A new CHILD_SA, or the rekey of one whose hard lifetime ran out
        // while the exchange ran: that one is gone from the data path and
        // its DELETE is queued, so the new one stands on its own.
        install_child(sa, std::move(*child), std::nullopt);
        return;
    }

    uint32_t old_spi = old->spi_in;
    ProtocolId proto = old->choice.proto;
    bool collision = old->peer_successor.has_value();
    bool redundant = collision && ours_is_redundant(req.nonce, nr->data, old->peer_rekey_ni,
                                                    old->peer_rekey_nr);
    cancel(old->rekey_timer);
    set_state(sa, *old, ChildState::Rekeyed);
    uint32_t new_spi = child->spi_in;
    install_child(sa, std::move(*child), old_spi);  // `old` is not valid past here
    if (collision) {
        ++counters_.collisions;
        log(&sa, joblog::Level::Info,
            msg("IKE091C", sa.conn, redundant ? "the peer's" : "our", hex32(old_spi)), new_spi);
    }
    if (redundant) {
        // RFC 7296 2.8.1: ours holds the lowest nonce: we delete what we
        // made; the peer deletes the old CHILD_SA.
        if (ChildSaState* mine = sa.child_by_in(new_spi)) {
            mine->delete_sent = true;
            set_state(sa, *mine, ChildState::Rekeyed);
        }
        enqueue(sa, [this, new_spi, proto](IkeSa& x) { start_delete_children(x, {new_spi}, proto); });
        return;
    }
    if (ChildSaState* o = sa.child_by_in(old_spi)) {
        o->delete_sent = true;
    }
    enqueue(sa, [this, old_spi, proto](IkeSa& x) { start_delete_children(x, {old_spi}, proto); });
}

// --- CREATE_CHILD_SA for the IKE SA (RFC 7296 1.3.2) ------------------------------------------

void Engine::start_rekey_ike(IkeSa& sa) {
    if (sa.state != IkeState::Established || sa.rekey_queued) {
        return;
    }
    sa.rekey_queued = true;
    enqueue(sa, [this](IkeSa& s) {
        s.rekey_queued = false;
        if (s.state != IkeState::Established) {
            return;
        }
        Request req;
        req.kind = RequestKind::RekeyIke;
        req.new_ike_spi = new_spi();
        req.nonce.resize(cfg_.nonce_len);
        rng_.fill(req.nonce);
        // Offer the policy's suites with the one in use first.
        auto suites = ike_suites(s.policy.key);
        suites.erase(std::remove(suites.begin(), suites.end(), s.suite), suites.end());
        suites.insert(suites.begin(), s.suite);
        auto g = crypto::DhGroup::create(s.suite.dh);
        auto pair = g ? g->generate(rng_) : Result<crypto::DhKeyPair>(g.failure());
        if (!pair) {
            log(&s, joblog::Level::Error, pair.error());
            return;
        }
        req.dh = std::move(*pair);
        // HDR, SK {SA, Ni, KEi} -->
        std::vector<Payload> p;
        p.push_back(make_payload(PayloadType::SA, ike_proposals(suites, be64(req.new_ike_spi))));
        p.push_back(make_payload(PayloadType::NONCE, NoncePayload{req.nonce}));
        p.push_back(make_payload(PayloadType::KE, KePayload{static_cast<uint16_t>(s.suite.dh),
                                                            req.dh->public_value()}));
        s.suites = suites;
        debug(&s, "rekey", "rekeying the IKE SA");
        send_request(s, std::move(req), ExchangeType::CREATE_CHILD_SA, std::move(p));
    });
}

IkeSa& Engine::make_rekeyed(IkeSa& old, bool we_initiated, uint64_t our_spi, uint64_t peer_spi,
                            const Bytes& ni, const Bytes& nr, const crypto::IkeSuite& suite) {
    auto n = std::make_unique<IkeSa>();
    n->initiator = we_initiated;
    n->local_conn = old.local_conn;
    n->spi_i = we_initiated ? our_spi : peer_spi;
    n->spi_r = we_initiated ? peer_spi : our_spi;
    n->conn = old.conn;
    n->policy = old.policy;
    n->creds = old.creds;
    n->first_reqid = old.first_reqid;
    n->local = old.local;
    n->remote = old.remote;
    n->natt = old.natt;
    n->nat_local = old.nat_local;
    n->nat_remote = old.nat_remote;
    n->ni = ni;
    n->nr = nr;
    n->suite = suite;
    n->suites = old.suites;
    n->init_policy = old.init_policy;
    n->peer_fragmentation = old.peer_fragmentation;
    n->peer_http_cert = old.peer_http_cert;
    n->peer_sig_hashes = old.peer_sig_hashes;
    n->peer_hashes = old.peer_hashes;
    n->peer_id = old.peer_id;
    n->last_heard = clock_.now();
    return add_sa(std::move(n));
}

void Engine::rekeyed_up(IkeSa& n) {
    // Message IDs of the new IKE SA start at zero in both directions.
    set_state(n, IkeState::Established);
    n.established_at = clock_.now();
    ++counters_.ike_rekeyed;
    arm_lifetimes(n);
    log(&n, joblog::Level::Info, msg("IKE0A02", n.conn, n.ike_text()));
    actions_.push_back(ike_up_action(n));
}

void Engine::handle_rekey_ike_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p) {
    if (sa.outstanding && (sa.outstanding->kind == RequestKind::CreateChild ||
                           sa.outstanding->kind == RequestKind::RekeyChild)) {
        send_response(sa, h, {make_notify(NotifyType::TEMPORARY_FAILURE)});
        return;
    }
    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* ni = find_body<NoncePayload>(p, PayloadType::NONCE);
    const auto* ke = find_body<KePayload>(p, PayloadType::KE);
    if (ke == nullptr) {
        send_response(sa, h, {make_notify(NotifyType::INVALID_SYNTAX)});
        return;
    }
    auto choice = select_ike(*sa_p, ike_suites(sa.policy.key));
    if (!choice || choice->peer_spi.size() != 8) {
        log(&sa, joblog::Level::Warning,
            choice ? msg("IKE0901", "IKE", "rekey proposal without an 8-byte SPI")
                   : choice.error());
        send_response(sa, h, {make_notify(NotifyType::NO_PROPOSAL_CHOSEN)});
        return;
    }
    if (ke->group != static_cast<uint16_t>(choice->suite.dh)) {
        uint16_t g = static_cast<uint16_t>(choice->suite.dh);
        send_response(sa, h, {make_notify(NotifyType::INVALID_KE_PAYLOAD,
                                          {uint8_t(g >> 8), uint8_t(g)})});
        return;
    }
    auto group = crypto::DhGroup::create(choice->suite.dh);
    auto pair = group ? group->generate(rng_) : Result<crypto::DhKeyPair>(group.failure());
    auto g_ir = pair ? pair->compute(ke->data) : Result<SecretBytes>(pair.failure());
    if (!g_ir) {
        log(&sa, joblog::Level::Warning, g_ir.error());
        send_response(sa, h, {make_notify(NotifyType::INVALID_SYNTAX)});
        return;
    }
    Bytes nr(cfg_.nonce_len);
    rng_.fill(nr);
    uint64_t our_spi = new_spi();
    auto prf = crypto::Prf::create(choice->suite.prf);
    // RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
    auto seed = crypto::skeyseed_rekey(*sa.prf, sa.sk_d, *g_ir, ni->data, nr);
    if (!prf || !seed) {
        log(&sa, joblog::Level::Error, !prf ? prf.error() : seed.error());
        send_response(sa, h, {make_notify(NotifyType::NO_PROPOSAL_CHOSEN)});
        return;
    }
    IkeSa& n = make_rekeyed(sa, false, our_spi, u64_of(choice->peer_spi), ni->data, nr,
                            choice->suite);
    if (Status k = derive_ike_sa_keys(n, *prf, *seed); !k) {
        log(&sa, joblog::Level::Error, k.error());
        send_response(sa, h, {make_notify(NotifyType::NO_PROPOSAL_CHOSEN)});
        close_sa(n, "key derivation failed", false);
        return;
    }

    // <-- HDR, SK {SA, Nr, KEr}
    send_response(sa, h, {make_payload(PayloadType::SA, ike_answer(*choice, be64(our_spi))),
                          make_payload(PayloadType::NONCE, NoncePayload{nr}),
                          make_payload(PayloadType::KE,
                                       KePayload{static_cast<uint16_t>(choice->suite.dh),
                                                 pair->public_value()})});
    rekeyed_up(n);
    if (sa.outstanding && sa.outstanding->kind == RequestKind::RekeyIke) {
        // A collision: our own rekey is in flight; decide when it answers.
        sa.peer_rekeyed_to = n.our_spi();
        sa.peer_rekey_ni = ni->data;
        sa.peer_rekey_nr = nr;
        return;
    }
    move_children(sa, n);
    sa.replaced_by = n.our_spi();
    set_state(sa, IkeState::Rekeyed);
    cancel(sa.rekey_timer);
    cancel(sa.dpd_timer);
    sa.linger_timer = arm(sa, TimerKind::RekeyedLinger, clock_.now() + kRekeyedLinger);
}

void Engine::handle_rekey_ike_response(IkeSa& sa, Request& req, const std::vector<Payload>& p) {
    IkeSa* peer_made = sa.peer_rekeyed_to ? find_sa(*sa.peer_rekeyed_to) : nullptr;
    auto lost = [&](const Msg& why) {
        log(&sa, joblog::Level::Warning, why);
        if (peer_made != nullptr) {
            // Ours failed but the peer's rekey succeeded: use that one.
            move_children(sa, *peer_made);
            sa.replaced_by = peer_made->our_spi();
            set_state(sa, IkeState::Rekeyed);
            sa.linger_timer = arm(sa, TimerKind::RekeyedLinger, clock_.now() + kRekeyedLinger);
            return;
        }
        if (sa.state == IkeState::Established) {
            // Without a rekey the IKE SA would run into its hard lifetime:
            // authenticate anew instead.
            start_reauth(sa);
        }
    };
    if (const auto* err = find_error_notify(p)) {
        if (err->type == NotifyType::TEMPORARY_FAILURE && peer_made == nullptr) {
            auto delay = std::chrono::milliseconds(
                100 + rng_.u32() % std::max<int64_t>(1, cfg_.retry_delay_max.count()));
            cancel(sa.retry_timer);
            sa.retry_timer = arm(sa, TimerKind::Retry, clock_.now() + delay, 0);
            return;
        }
        lost(msg("IKE0906", sa.remote.to_string(), "CREATE_CHILD_SA", name(err->type)));
        return;
    }
    const auto* sa_p = find_body<SaPayload>(p, PayloadType::SA);
    const auto* nr = find_body<NoncePayload>(p, PayloadType::NONCE);
    const auto* ke = find_body<KePayload>(p, PayloadType::KE);
    if (sa_p == nullptr || nr == nullptr || ke == nullptr) {
        lost(msg("IKE0907", "CREATE_CHILD_SA", sa.remote.to_string(), "SA, Nonce, KE"));
        return;
    }
    auto choice = accept_ike(*sa_p, sa.suites, true);
    if (!choice) {
        lost(choice.error());
        return;
    }
    auto g_ir = ke->group == static_cast<uint16_t>(choice->suite.dh)
                    ? req.dh->compute(ke->data)
                    : Result<SecretBytes>(qvpn::fail("IKE0901", "IKE", "KE of another group"));
    auto prf = crypto::Prf::create(choice->suite.prf);
    auto seed = g_ir ? crypto::skeyseed_rekey(*sa.prf, sa.sk_d, *g_ir, req.nonce, nr->data)
                     : Result<SecretBytes>(g_ir.failure());
    if (!prf || !seed) {
        lost(!prf ? prf.error() : seed.error());
        return;
    }
    IkeSa& n = make_rekeyed(sa, true, req.new_ike_spi, u64_of(choice->peer_spi), req.nonce,
                            nr->data, choice->suite);
    if (Status k = derive_ike_sa_keys(n, *prf, *seed); !k) {
        close_sa(n, "key derivation failed", false);
        lost(k.error());
        return;
    }
    rekeyed_up(n);

    if (peer_made != nullptr) {
        ++counters_.collisions;
        bool redundant = ours_is_redundant(req.nonce, nr->data, sa.peer_rekey_ni, sa.peer_rekey_nr);
        log(&sa, joblog::Level::Info,
            msg("IKE091C", sa.conn, redundant ? "the peer's" : "our", sa.ike_text()));
        if (redundant) {
            // Ours is the one to go: the peer's SA takes the CHILD_SAs, we
            // delete ours, and the peer deletes the old one.
            move_children(sa, *peer_made);
            n.replaced_by = peer_made->our_spi();
            sa.replaced_by = peer_made->our_spi();
            set_state(sa, IkeState::Rekeyed);
            cancel(sa.rekey_timer);
            cancel(sa.dpd_timer);
            sa.linger_timer = arm(sa, TimerKind::RekeyedLinger, clock_.now() + kRekeyedLinger);
            start_delete_ike(n);
            return;
        }
        peer_made->replaced_by = n.our_spi();
        move_children(*peer_made, n);
    }
    move_children(sa, n);
    sa.replaced_by = n.our_spi();
    set_state(sa, IkeState::Rekeyed);
    start_delete_ike(sa);
}

void Engine::move_children(IkeSa& from, IkeSa& to) {
    for (auto& c : from.children) {
        if (c.state == ChildState::Closed) {
            continue;
        }
        cancel(c.rekey_timer);
        cancel(c.expire_timer);
        ChildSaState moved = std::move(c);
        c.state = ChildState::Closed;
        c.removed = true;
        closed_.push_back(from.our_spi());
        SteadyTime now = clock_.now();
        if (moved.rekey_at != SteadyTime{} && moved.state == ChildState::Installed) {
            moved.rekey_timer = arm(to, TimerKind::ChildRekey, std::max(moved.rekey_at, now),
                                    moved.spi_in);
        }
        if (moved.expire_at != SteadyTime{}) {
            moved.expire_timer = arm(to, TimerKind::ChildExpire, std::max(moved.expire_at, now),
                                     moved.spi_in);
        }
        to.children.push_back(std::move(moved));
    }
}

// --- reauthentication (RFC 7296 2.8.3) ------------------------------------------------------

void Engine::start_reauth(IkeSa& sa) {
    if (sa.reauth_started || sa.state != IkeState::Established) {
        return;
    }
    sa.reauth_started = true;
    auto n = std::make_unique<IkeSa>();
    n->initiator = true;
    n->local_conn = sa.local_conn;
    n->spi_i = new_spi();
    n->conn = sa.conn;
    n->policy = sa.policy;
    n->creds = sa.creds;
    n->local = sa.local;
    n->remote = sa.remote;
    n->natt = sa.natt;  // behind a NAT, start on 4500 (RFC 7296 2.23 allows it)
    n->reauth_of = sa.our_spi();
    n->first_reqid = sa.first_reqid;
    for (const auto& c : sa.children) {
        if (c.state == ChildState::Installed || c.state == ChildState::Rekeying) {
            n->first_reqid = c.reqid;
            break;
        }
    }
    n->suites = ike_suites(n->policy.key);
    IkeSa& s = add_sa(std::move(n));
    log(&sa, joblog::Level::Info, msg("IKE0A04", sa.conn, s.ike_text()));
    if (s.suites.empty()) {
        close_sa(s, "no usable transform", false);
        return;
    }
    start_init(s);
}

std::optional<uint32_t> Engine::reauth_replaces(IkeSa& n, uint32_t reqid) {
    if (!n.reauth_of) {
        return std::nullopt;
    }
    IkeSa* old = find_sa(*n.reauth_of);
    if (old == nullptr) {
        return std::nullopt;
    }
    if (ChildSaState* c = old->child_by_reqid(reqid)) {
        return c->spi_in;
    }
    return std::nullopt;
}

void Engine::finish_reauth(IkeSa& n) {
    if (!n.reauth_of) {
        return;
    }
    IkeSa* old = find_sa(*n.reauth_of);
    if (old == nullptr) {
        return;
    }
    // TODO(reauth): only the first CHILD_SA is carried over in IKE_AUTH; any
    // further CHILD_SA of the old IKE SA is re-created with CREATE_CHILD_SA on
    // the new one after the old SA is deleted, so its traffic pauses for about
    // one round trip.
    std::vector<uint32_t> recreate;
    for (auto& c : old->children) {
        if (c.state == ChildState::Closed) {
            continue;
        }
        if (n.child_by_reqid(c.reqid) == nullptr &&
            std::find(recreate.begin(), recreate.end(), c.reqid) == recreate.end()) {
            recreate.push_back(c.reqid);
        }
        if (c.state != ChildState::Rekeyed) {
            set_state(*old, c, ChildState::Rekeyed);
        }
        remove_child(*old, c, "reauthenticated");
    }
    old->replaced_by = n.our_spi();
    log(&n, joblog::Level::Info, msg("IKE0A06", n.conn, old->ike_text(), n.ike_text()));
    start_delete_ike(*old);
    for (uint32_t reqid : recreate) {
        enqueue(n, [this, reqid](IkeSa& x) { start_create_child(x, reqid, std::nullopt); });
    }
}

}  // namespace qvpn::ikev2
