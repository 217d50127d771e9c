#include "daemon/ikev2/engine/engine.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "daemon/ikev2/engine/ike_sa.hpp"

namespace qvpn::ikev2 {

// --- small helpers -----------------------------------------------------------------

std::string Endpoint::to_string() const {
    std::string a = addr.to_string();
    return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

namespace {

// The words behind a TCP8606 reason code, for ike_down and child_down.
std::string reason_text(int code) {
    switch (code) {
    case reason::kAuthFailed: return "authentication failed";
    case reason::kPhase1Failure: return "IKE SA negotiation failed";
    case reason::kNoLocalPsk: return "no local preshared key";
    case reason::kNoPhase1Policy: return "no remote key policy";
    case reason::kNoRemotePsk: return "no remote preshared key";
    case reason::kPhase1Timeout: return "IKE SA negotiation timed out";
    case reason::kPhase2Failure: return "CHILD_SA negotiation failed";
    case reason::kNoPhase2Policy: return "no remote data policy";
    case reason::kPhase2Timeout: return "CHILD_SA negotiation timed out";
    case reason::kNetworkError: return "network error";
    case reason::kPeerNotResponding: return "peer not responding";
    }
    return "failed";
}

}  // namespace

std::string hex32(uint32_t v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

std::string IkeSa::ike_text() const { return hex64(spi_i) + "/" + hex64(spi_r); }

ChildSaState* IkeSa::child_by_in(uint32_t spi) {
    for (auto& c : children) {
        if (c.spi_in == spi && c.state != ChildState::Closed) {
            return &c;
        }
    }
    return nullptr;
}

ChildSaState* IkeSa::child_by_out(uint32_t spi) {
    for (auto& c : children) {
        if (c.spi_out == spi && c.state != ChildState::Closed) {
            return &c;
        }
    }
    return nullptr;
}

ChildSaState* IkeSa::child_by_reqid(uint32_t reqid) {
    for (auto& c : children) {
        if (c.reqid == reqid &&
            (c.state == ChildState::Installed || c.state == ChildState::Rekeying ||
             c.state == ChildState::Creating)) {
            return &c;
        }
    }
    return nullptr;
}

void IkeSa::drop_closed_children() {
    children.erase(std::remove_if(children.begin(), children.end(),
                                  [](const ChildSaState& c) {
                                      return c.state == ChildState::Closed;
                                  }),
                   children.end());
}

Result<Bytes> PolicySource::fetch_certificate(const ike::auth::HashAndUrl& h) {
    return qvpn::fail("IKE0913", h.url);
}

// --- construction -------------------------------------------------------------------

Engine::Engine(const Clock& clock, Random& rng, PolicySource& policies, EngineConfig cfg)
    : clock_(clock),
      rng_(rng),
      policies_(policies),
      cfg_(cfg),
      cookies_(rng, cfg.cookie_rotation),
      next_reqid_(cfg.responder_reqid_base) {}

Engine::~Engine() = default;

IkeSa* Engine::find_sa(uint64_t our_spi) {
    auto it = sas_.find(our_spi);
    if (it == sas_.end() || it->second->state == IkeState::Closed) {
        return nullptr;
    }
    return it->second.get();
}

IkeSa& Engine::add_sa(std::unique_ptr<IkeSa> sa) {
    uint64_t key = sa->our_spi();
    auto& slot = sas_[key];
    slot = std::move(sa);
    return *slot;
}

uint64_t Engine::new_spi() {
    for (;;) {
        uint8_t b[8];
        rng_.fill(b);
        uint64_t v = 0;
        for (uint8_t x : b) {
            v = v << 8 | x;
        }
        if (v != 0 && sas_.count(v) == 0) {
            return v;
        }
    }
}

uint32_t Engine::new_child_spi() {
    for (;;) {
        uint32_t v = rng_.u32();
        // SPIs 1-255 are reserved (RFC 4303 2.1).
        if (v < 256) {
            continue;
        }
        bool used = false;
        for (const auto& [k, sa] : sas_) {
            for (const auto& c : sa->children) {
                used = used || c.spi_in == v;
            }
        }
        if (!used) {
            return v;
        }
    }
}

uint32_t Engine::new_reqid() { return next_reqid_++; }

// --- timers ---------------------------------------------------------------------------

TimerId Engine::arm(IkeSa& sa, TimerKind kind, SteadyTime when, uint32_t child) {
    TimerId id = next_timer_++;
    timers_[id] = TimerRef{sa.our_spi(), kind, child};
    actions_.push_back(ArmTimer{id, when});
    return id;
}

void Engine::cancel(TimerId& id) {
    if (id == 0) {
        return;
    }
    if (timers_.erase(id) != 0) {
        actions_.push_back(CancelTimer{id});
    }
    id = 0;
}

void Engine::cancel_all_timers(IkeSa& sa) {
    for (TimerId* t : {&sa.halfopen_timer, &sa.rekey_timer, &sa.expire_timer, &sa.dpd_timer,
                       &sa.keepalive_timer, &sa.retry_timer, &sa.linger_timer}) {
        cancel(*t);
    }
    if (sa.outstanding) {
        cancel(sa.outstanding->timer);
    }
    for (auto& c : sa.children) {
        cancel(c.rekey_timer);
        cancel(c.expire_timer);
    }
}

void Engine::on_timer(TimerId id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) {
        return;
    }
    TimerRef ref = it->second;
    timers_.erase(it);
    IkeSa* sa = find_sa(ref.spi);
    if (sa == nullptr) {
        return;
    }
    SteadyTime now = clock_.now();
    switch (ref.kind) {
    case TimerKind::Retransmit:
        if (sa->outstanding && sa->outstanding->timer == id) {
            sa->outstanding->timer = 0;
            retransmit(*sa);
        }
        break;
    case TimerKind::HalfOpen:
        sa->halfopen_timer = 0;
        if (sa->state == IkeState::InitDone) {
            ++counters_.half_open_dropped;
            debug(sa, "init", "half-open IKE SA dropped: no IKE_AUTH in time");
            close_sa(*sa, "half-open timeout", false);
        }
        break;
    case TimerKind::IkeRekey:
        sa->rekey_timer = 0;
        if (sa->state == IkeState::Established) {
            if (sa->policy.attributes.ikesa_rekey) {
                start_rekey_ike(*sa);
            } else if (sa->local_conn) {
                start_reauth(*sa);
            } else {
                // Reauthentication is the job of the side that started the
                // connection: the peer may accept no connection from us. If
                // it never does, the hard lifetime ends this IKE SA.
                debug(sa, "rekey", "waiting for the peer to reauthenticate");
            }
        }
        break;
    case TimerKind::IkeExpire:
        sa->expire_timer = 0;
        if (sa->state == IkeState::Established) {
            log(sa, joblog::Level::Info, msg("IKE0A03", sa->conn, "lifetime expired"));
            for (auto& c : sa->children) {
                if (c.state != ChildState::Closed) {
                    remove_child(*sa, c, "lifetime expired");
                }
            }
            start_delete_ike(*sa);
        }
        break;
    case TimerKind::ChildRekey: {
        ChildSaState* c = sa->child_by_in(ref.child);
        if (c != nullptr) {
            c->rekey_timer = 0;
        }
        if (c != nullptr && c->state == ChildState::Installed &&
            sa->state == IkeState::Established) {
            uint32_t spi = c->spi_in;
            uint32_t reqid = c->reqid;
            enqueue(*sa, [this, spi, reqid](IkeSa& s) { start_create_child(s, reqid, spi); });
        }
        break;
    }
    case TimerKind::ChildExpire: {
        ChildSaState* c = sa->child_by_in(ref.child);
        if (c != nullptr) {
            c->expire_timer = 0;
            expire(sa->conn, c->reqid, c->spi_in, true);
        }
        break;
    }
    case TimerKind::Dpd: {
        sa->dpd_timer = 0;
        auto interval = std::chrono::seconds(sa->policy.attributes.dpd_seconds);
        if (sa->state != IkeState::Established || interval.count() <= 0) {
            break;
        }
        // RFC 7296 2.4: only ask when nothing was heard for a whole interval
        // and no request of ours is already probing the peer.
        if (now - sa->last_heard >= interval && !sa->outstanding && sa->queue.empty()) {
            start_dpd(*sa);
        }
        SteadyTime next = std::max(sa->last_heard, now - interval) + interval;
        sa->dpd_timer = arm(*sa, TimerKind::Dpd, std::max(next, now + std::chrono::seconds(1)));
        break;
    }
    case TimerKind::Keepalive:
        sa->keepalive_timer = 0;
        if (sa->natt && sa->nat_local &&
            (sa->state == IkeState::Established || sa->state == IkeState::Rekeyed)) {
            // RFC 3948 4: a one-octet 0xFF UDP payload keeps the NAT mapping.
            send_raw(sa->local, sa->remote, false, Bytes{0xff});
            sa->keepalive_timer = arm(*sa, TimerKind::Keepalive, now + cfg_.keepalive);
        }
        break;
    case TimerKind::Retry:
        sa->retry_timer = 0;
        if (sa->state != IkeState::Established) {
            break;
        }
        if (ref.child == 0) {
            start_rekey_ike(*sa);
        } else if (ChildSaState* c = sa->child_by_in(ref.child);
                   c != nullptr && c->state == ChildState::Installed) {
            uint32_t spi = c->spi_in;
            uint32_t reqid = c->reqid;
            enqueue(*sa, [this, spi, reqid](IkeSa& s) { start_create_child(s, reqid, spi); });
        }
        break;
    case TimerKind::RekeyedLinger:
        sa->linger_timer = 0;
        if (sa->state == IkeState::Rekeyed) {
            // The peer rekeyed this IKE SA and never deleted the old one.
            close_sa(*sa, "replaced by a rekeyed IKE SA", false);
        }
        break;
    }
    purge_closed();
}

// --- states -------------------------------------------------------------------------------

void Engine::set_state(IkeSa& sa, IkeState to) {
    if (sa.state == to) {
        return;
    }
    if (!transition_allowed(sa.state, to)) {
        // A broken invariant of this engine, not bad input: say so loudly
        // and take the SA down rather than run on in an unknown state.
        assert(!"illegal IKE SA transition");
        log(&sa, joblog::Level::Error,
            msg("QVP0003", "QTOKVPNIK2",
                "IKE SA transition " + std::string(state_name(sa.state)) + " -> " +
                    std::string(state_name(to))));
        sa.state = IkeState::Closed;
        closed_.push_back(sa.our_spi());
        return;
    }
    debug(&sa, "state", std::string(state_name(sa.state)) + " -> " + std::string(state_name(to)));
    sa.state = to;
    if (to == IkeState::Closed) {
        closed_.push_back(sa.our_spi());
    }
}

void Engine::set_state(IkeSa& sa, ChildSaState& c, ChildState to) {
    if (c.state == to) {
        return;
    }
    if (!transition_allowed(c.state, to)) {
        assert(!"illegal CHILD_SA transition");
        log(&sa, joblog::Level::Error,
            msg("QVP0003", "QTOKVPNIK2",
                "CHILD_SA transition " + std::string(state_name(c.state)) + " -> " +
                    std::string(state_name(to))),
            c.spi_in);
        c.state = ChildState::Closed;
        closed_.push_back(sa.our_spi());
        return;
    }
    debug(&sa, "child",
          "CHILD_SA " + hex32(c.spi_in) + " " + std::string(state_name(c.state)) + " -> " +
              std::string(state_name(to)));
    c.state = to;
    if (to == ChildState::Rekeyed) {
        c.replaced = true;
    }
    if (to == ChildState::Closed) {
        closed_.push_back(sa.our_spi());
    }
}

void Engine::close_sa(IkeSa& sa, const std::string& reason, bool remove_children) {
    if (sa.state == IkeState::Closed) {
        return;
    }
    cancel_all_timers(sa);
    for (auto& c : sa.children) {
        if (c.state == ChildState::Closed) {
            continue;
        }
        if (remove_children && !c.removed) {
            c.removed = true;
            actions_.push_back(RemoveChild{sa.conn, c.reqid, c.spi_in, reason, c.replaced});
            ++counters_.children_deleted;
        }
        set_state(sa, c, ChildState::Closed);
    }
    bool was_up = sa.established_at != SteadyTime{} && !sa.replaced_by;
    set_state(sa, IkeState::Closed);
    if (was_up) {
        actions_.push_back(IkeDown{sa.conn, sa.ike_text(), reason});
        log(&sa, joblog::Level::Info, msg("IKE0A03", sa.conn, reason));
    }
    sa.outstanding.reset();
    sa.queue.clear();
}

void Engine::fail(IkeSa& sa, int reason_code, Msg detail) {
    log(&sa, joblog::Level::Error, detail);
    Failed f;
    f.conn = sa.conn;
    f.peer = sa.remote;
    f.reason_code = reason_code;
    f.report = msg("TCP8606", sa.conn, reason_code);
    f.detail = detail;
    actions_.push_back(std::move(f));
    close_sa(sa, reason_text(reason_code), true);
}

size_t Engine::half_open_count() const {
    size_t n = 0;
    for (const auto& [k, sa] : sas_) {
        n += sa->state == IkeState::InitDone ? 1 : 0;
    }
    return n;
}

void Engine::purge_closed() {
    if (closed_.empty()) {
        return;
    }
    std::vector<uint64_t> closed;
    closed.swap(closed_);
    bool erased = false;
    for (uint64_t spi : closed) {
        auto it = sas_.find(spi);
        if (it == sas_.end()) {
            continue;  // listed twice, gone already
        }
        if (it->second->state == IkeState::Closed) {
            cancel_all_timers(*it->second);
            sas_.erase(it);
            erased = true;
        } else {
            it->second->drop_closed_children();
        }
    }
    if (erased) {
        for (auto it = half_open_.begin(); it != half_open_.end();) {
            it = sas_.count(it->second) == 0 ? half_open_.erase(it) : std::next(it);
        }
    }
}

// --- logging ----------------------------------------------------------------------------

void Engine::log(const IkeSa* sa, joblog::Level level, Msg m, uint32_t child) {
    LogLine l;
    l.level = level;
    l.msg = std::move(m);
    if (sa != nullptr) {
        l.fields.conn = sa->conn;
        l.fields.peer = sa->remote.to_string();
        l.fields.ike = sa->ike_text();
    }
    if (child != 0) {
        l.fields.child = hex32(child);
    }
    actions_.push_back(std::move(l));
}

void Engine::log_peer(const Endpoint& peer, joblog::Level level, Msg m) {
    LogLine l;
    l.level = level;
    l.msg = std::move(m);
    l.fields.peer = peer.to_string();
    actions_.push_back(std::move(l));
}

void Engine::debug(const IkeSa* sa, std::string_view component, std::string text) {
    LogLine l;
    l.level = joblog::Level::Debug;
    l.component = std::string(component);
    l.text = std::move(text);
    if (sa != nullptr) {
        l.fields.conn = sa->conn;
        l.fields.peer = sa->remote.to_string();
        l.fields.ike = sa->ike_text();
    }
    actions_.push_back(std::move(l));
}

bool Engine::rate_ok(const std::string& msgid) {
    SteadyTime now = clock_.now();
    LogBucket& b = log_buckets_[msgid];
    if (b.count == 0 || now - b.start >= cfg_.log_period) {
        if (b.suppressed > 0) {
            debug(nullptr, "log",
                  msgid + ": " + std::to_string(b.suppressed) + " similar lines suppressed");
        }
        b = LogBucket{now, 0, 0};
    }
    if (++b.count <= cfg_.log_burst) {
        return true;
    }
    ++b.suppressed;
    ++counters_.logs_suppressed;
    return false;
}

// --- the connection manager's requests -------------------------------------------------------

void Engine::initiate(const policy::ConnectionPolicy& policy, uint32_t reqid,
                      const Endpoint& local, const Endpoint& remote, Credentials creds) {
    const std::string& conn = policy.connection.name;
    for (auto& [k, s] : sas_) {
        if (s->conn == conn && s->state != IkeState::Closed && s->state != IkeState::Rekeyed &&
            s->state != IkeState::Deleting) {
            debug(s.get(), "init", "connection already has an IKE SA");
            if (s->state == IkeState::Established && s->child_by_reqid(reqid) == nullptr) {
                acquire(conn, reqid);
            }
            return;
        }
    }

    auto sa = std::make_unique<IkeSa>();
    sa->initiator = true;
    sa->local_conn = true;
    sa->spi_i = new_spi();
    sa->conn = conn;
    sa->policy = policy;
    sa->creds = std::move(creds);
    sa->first_reqid = reqid;
    sa->local = local;
    sa->remote = remote;
    IkeSa& s = add_sa(std::move(sa));
    log(&s, joblog::Level::Info, msg("IKE0A00", conn, remote.to_string()));

    // Check what can be checked before anything goes on the wire.
    std::vector<std::string> skipped;
    s.suites = ike_suites(policy.key, &skipped);
    for (const auto& x : skipped) {
        debug(&s, "proposal", "key policy transform left out: " + x);
    }
    if (s.suites.empty()) {
        fail(s, reason::kPhase1Failure, msg("IKE0919", policy.key.name));
    } else if (policy.key.auth == policy::AuthMethod::Psk && policy.key.psk.empty()) {
        fail(s, reason::kNoLocalPsk, msg("IKE090A", policy.key.name));
    } else if (policy.key.auth != policy::AuthMethod::Psk &&
               (!s.creds.key || s.creds.certs.empty())) {
        fail(s, reason::kPhase1Failure, msg("IKE0916", policy.key.name, policy.key.cert_label));
    } else if (child_offers(policy.data).empty()) {
        fail(s, reason::kPhase2Failure, msg("IKE0908", policy.data.name));
    } else if (auto ts = connection_selectors(policy, local.addr, remote.addr); !ts) {
        fail(s, reason::kPhase2Failure, ts.error());
    } else {
        start_init(s);
    }
    purge_closed();
}

bool Engine::acquire(const std::string& conn, uint32_t reqid) {
    for (auto& [k, s] : sas_) {
        if (s->conn != conn || s->state == IkeState::Closed || s->state == IkeState::Rekeyed ||
            s->state == IkeState::Deleting) {
            continue;
        }
        if (s->state == IkeState::Established && s->child_by_reqid(reqid) == nullptr) {
            enqueue(*s, [this, reqid](IkeSa& x) { start_create_child(x, reqid, std::nullopt); });
        }
        purge_closed();
        return true;
    }
    return false;
}

void Engine::expire(const std::string& conn, uint32_t reqid, uint32_t spi, bool hard) {
    for (auto& [k, s] : sas_) {
        if (s->conn != conn || s->state == IkeState::Closed) {
            continue;
        }
        ChildSaState* c = s->child_by_in(spi);
        if (c == nullptr) {
            c = s->child_by_out(spi);
        }
        if (c == nullptr || c->reqid != reqid) {
            continue;
        }
        if (!hard) {
            if (c->state == ChildState::Installed && s->state == IkeState::Established) {
                cancel(c->rekey_timer);
                uint32_t in = c->spi_in;
                enqueue(*s, [this, reqid, in](IkeSa& x) { start_create_child(x, reqid, in); });
            }
            break;
        }
        // Hard: the SA is gone from the backend; tell the peer, and keep the
        // connection up with a fresh CHILD_SA when nothing replaced it.
        bool live = c->state == ChildState::Installed || c->state == ChildState::Rekeying;
        uint32_t in = c->spi_in;
        ProtocolId proto = c->choice.proto;
        cancel(c->rekey_timer);
        cancel(c->expire_timer);
        bool recreate = live && s->local_conn && s->state == IkeState::Established;
        // A rekey in flight brings the successor (either side's connection).
        bool successor = recreate || c->state == ChildState::Rekeying;
        if (!c->removed) {
            c->removed = true;
            actions_.push_back(
                RemoveChild{s->conn, c->reqid, in, "lifetime expired", c->replaced || successor});
            ++counters_.children_deleted;
        }
        log(s.get(), joblog::Level::Info, msg("IKE0A12", s->conn, "lifetime expired"), in);
        if (c->state == ChildState::Closed || c->delete_sent) {
            break;
        }
        c->delete_sent = true;
        set_state(*s, *c, ChildState::Deleting);
        IkeSa& sa = *s;
        enqueue(sa, [this, in, proto](IkeSa& x) { start_delete_children(x, {in}, proto); });
        if (recreate) {
            enqueue(sa, [this, reqid](IkeSa& x) { start_create_child(x, reqid, std::nullopt); });
        }
        break;
    }
    purge_closed();
}

void Engine::installed(const std::string& conn, uint32_t reqid, bool ok) {
    if (ok) {
        return;
    }
    for (auto& [k, s] : sas_) {
        if (s->conn != conn || s->state == IkeState::Closed) {
            continue;
        }
        ChildSaState* c = nullptr;
        for (auto it = s->children.rbegin(); it != s->children.rend(); ++it) {
            if (it->reqid == reqid && it->state != ChildState::Closed) {
                c = &*it;
                break;
            }
        }
        if (c == nullptr) {
            continue;
        }
        Msg detail = msg("IKE091A", conn, hex32(c->spi_in));
        log(s.get(), joblog::Level::Error, detail, c->spi_in);
        Failed f{conn, s->remote, reason::kPhase2Failure, msg("TCP8606", conn,
                                                              reason::kPhase2Failure), detail};
        actions_.push_back(std::move(f));
        uint32_t in = c->spi_in;
        ProtocolId proto = c->choice.proto;
        c->delete_sent = true;
        set_state(*s, *c, c->state == ChildState::Creating ? ChildState::Closed
                                                           : ChildState::Deleting);
        enqueue(*s, [this, in, proto](IkeSa& x) { start_delete_children(x, {in}, proto); });
        break;
    }
    purge_closed();
}

void Engine::terminate(const std::string& conn) {
    for (auto& [k, s] : sas_) {
        if (s->conn != conn || s->state == IkeState::Closed) {
            continue;
        }
        for (auto& c : s->children) {
            if (c.state != ChildState::Closed) {
                remove_child(*s, c, "ended");
            }
        }
        if (s->state == IkeState::Established || s->state == IkeState::Rekeyed) {
            // Deleting the IKE SA deletes its CHILD_SAs with it (RFC 7296 1.4.1).
            s->queue.clear();
            start_delete_ike(*s);
        } else if (s->state != IkeState::Deleting) {
            close_sa(*s, "ended", false);
        }
    }
    purge_closed();
}

void Engine::shutdown() {
    shutting_down_ = true;
    std::vector<std::string> conns;
    for (auto& [k, s] : sas_) {
        if (std::find(conns.begin(), conns.end(), s->conn) == conns.end()) {
            conns.push_back(s->conn);
        }
    }
    for (const auto& c : conns) {
        terminate(c);
    }
}

bool Engine::idle() const { return sas_.empty(); }

std::vector<Action> Engine::take_actions() {
    purge_closed();
    return std::exchange(actions_, {});
}

std::vector<IkeSaStatus> Engine::status() const {
    std::vector<IkeSaStatus> out;
    for (const auto& [k, sa] : sas_) {
        if (sa->state == IkeState::Closed) {
            continue;
        }
        IkeSaStatus s;
        s.conn = sa->conn;
        s.ike = sa->ike_text();
        s.state = std::string(state_name(sa->state));
        s.peer = sa->remote.to_string();
        s.initiator = sa->initiator;
        if (sa->prf) {
            s.algorithms = describe(sa->suite);
        }
        for (const auto& c : sa->children) {
            if (c.state == ChildState::Closed) {
                continue;
            }
            ChildStatus cs;
            cs.reqid = c.reqid;
            cs.spi_in = c.spi_in;
            cs.spi_out = c.spi_out;
            cs.state = std::string(state_name(c.state));
            cs.protocol = c.choice.proto == ProtocolId::AH ? "AH" : "ESP";
            cs.algorithms = describe(c.choice);
            cs.ts_local = to_string(c.sa.ts_local);
            cs.ts_remote = to_string(c.sa.ts_remote);
            s.children.push_back(std::move(cs));
        }
        out.push_back(std::move(s));
    }
    return out;
}

// --- lifetimes --------------------------------------------------------------------------------

SteadyTime Engine::rekey_time(uint64_t lifetime_seconds) {
    // RFC 7296 2.8: rekey ahead of the hard lifetime, at a randomised time
    // so the two peers seldom start at once (the seed: lifetimes are
    // managed independently of the peer).
    auto life = std::chrono::milliseconds(lifetime_seconds * 1000);
    auto margin = life * cfg_.rekey_margin_percent / 100;
    auto jitter_max = life * cfg_.jitter_percent / 100;
    auto jitter = jitter_max.count() > 0
                      ? std::chrono::milliseconds(rng_.u32() % (jitter_max.count() + 1))
                      : std::chrono::milliseconds(0);
    return clock_.now() + life - margin - jitter;
}

void Engine::arm_lifetimes(IkeSa& sa) {
    cancel(sa.rekey_timer);
    cancel(sa.expire_timer);
    sa.lifetime_seconds = static_cast<uint64_t>(std::max(1, sa.policy.key.lifetime_minutes)) * 60;
    sa.rekey_timer = arm(sa, TimerKind::IkeRekey, rekey_time(sa.lifetime_seconds));
    sa.expire_timer = arm(sa, TimerKind::IkeExpire,
                          clock_.now() + std::chrono::seconds(sa.lifetime_seconds));
    cancel(sa.dpd_timer);
    if (sa.policy.attributes.dpd_seconds > 0) {
        sa.dpd_timer = arm(sa, TimerKind::Dpd,
                           clock_.now() + std::chrono::seconds(sa.policy.attributes.dpd_seconds));
    }
    cancel(sa.keepalive_timer);
    if (sa.natt && sa.nat_local) {
        sa.keepalive_timer = arm(sa, TimerKind::Keepalive, clock_.now() + cfg_.keepalive);
    }
}

void Engine::arm_child_lifetimes(IkeSa& sa, ChildSaState& c) {
    cancel(c.rekey_timer);
    cancel(c.expire_timer);
    uint64_t life = c.sa.lifetime.hard_seconds;
    if (life == 0) {
        return;
    }
    SteadyTime soft = rekey_time(life);
    c.sa.lifetime.soft_seconds =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                  soft - clock_.now()).count());
    c.rekey_timer = arm(sa, TimerKind::ChildRekey, soft, c.spi_in);
    c.expire_timer = arm(sa, TimerKind::ChildExpire, clock_.now() + std::chrono::seconds(life),
                         c.spi_in);
}

}  // namespace qvpn::ikev2
