#include "daemon/sa/xfrm/xfrm_backend.hpp"

#include <cerrno>
#include <cstring>

#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/joblog/joblog.hpp"
#include "daemon/sa/socket_opts.hpp"

namespace qvpn::sa::xfrm {

namespace {

Failure state_fail(const StateSpec& s, const std::string& conn, const Ack& a) {
    return fail(msg("XFR0102", s.name(), spi_hex(s.spi), conn, a.text()).with_errno(a.err));
}

Failure policy_fail(const PolicySpec& p, const std::string& conn, const Ack& a) {
    const char* d = p.dir == XFRM_POLICY_OUT ? "out" : p.dir == XFRM_POLICY_IN ? "in" : "fwd";
    return fail(msg("XFR0103", d, p.describe(), conn, a.text()).with_errno(a.err));
}

std::string proto_name(uint8_t proto) {
    return proto == IPPROTO_ESP ? "ESP" : proto == IPPROTO_AH ? "AH" : "IPCOMP";
}

}  // namespace

bool XfrmBackend::PolicyKey::operator<(const PolicyKey& o) const {
    auto tie = [](const PolicyKey& k) {
        return std::tuple(k.dir, k.sel.family, k.sel.proto, k.sel.src.addr, k.sel.src.len,
                          k.sel.dst.addr, k.sel.dst.len, k.sel.sport.port, k.sel.sport.mask,
                          k.sel.dport.port, k.sel.dport.mask);
    };
    return tie(*this) < tie(o);
}

XfrmBackend::XfrmBackend(const BackendOptions& opts, NlSocket req, NlSocket ev,
                         us::Routing routing)
    : opts_(opts), req_(std::move(req)), ev_(std::move(ev)), routing_(std::move(routing)) {}

XfrmBackend::~XfrmBackend() {
    Status s = remove_all();
    (void)s;  // already logged
    if (epoll_fd_ >= 0) {
        close(epoll_fd_);
    }
    if (timer_fd_ >= 0) {
        close(timer_fd_);
    }
}

Result<std::unique_ptr<XfrmBackend>> XfrmBackend::create(const BackendOptions& opts) {
    QVPN_ASSIGN(NlSocket req, NlSocket::open());
    QVPN_ASSIGN(NlSocket ev, NlSocket::open({XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE}));
    QVPN_ASSIGN(us::Routing routing, us::Routing::open(0, opts.route_table, opts.rule_priority,
                                                       kBypassMark, kBypassMarkMask));
    QVPN_TRY(routing.add_rules());
    std::unique_ptr<XfrmBackend> b(
        new XfrmBackend(opts, std::move(req), std::move(ev), std::move(routing)));
    b->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    b->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (b->epoll_fd_ < 0 || b->timer_fd_ < 0) {
        int e = errno;
        return fail(msg("XFR0101", std::string("epoll/timerfd: ") + std::strerror(e)).with_errno(e));
    }
    for (int fd : {b->ev_.fd(), b->timer_fd_}) {
        epoll_event ee{};
        ee.events = EPOLLIN;
        ee.data.fd = fd;
        epoll_ctl(b->epoll_fd_, EPOLL_CTL_ADD, fd, &ee);
    }
    return b;
}

void XfrmBackend::log(const Msg& m, const std::string& conn) {
    if (opts_.log) {
        joblog::Fields f;
        f.conn = conn;
        opts_.log->message(m, f);
    }
}

void XfrmBackend::debug(const std::string& text) {
    if (opts_.log) {
        opts_.log->debug("xfrm", text);
    }
}

Status XfrmBackend::probe() {
    QVPN_ASSIGN(NlSocket s, NlSocket::open());
    IpAddress lo = IpAddress::v4(0x7f000001);
    StateSpec cbc;
    cbc.proto = IPPROTO_ESP;
    cbc.spi = 0x5156fffe;
    cbc.src = cbc.dst = lo;
    cbc.reqid = kReqidLast;
    cbc.mode = XFRM_MODE_TUNNEL;
    cbc.enc = "cbc(aes)";
    cbc.enc_key = SecretBytes(16);
    cbc.enc_key_bits = 128;
    cbc.auth = "hmac(sha256)";
    cbc.auth_key = SecretBytes(32);
    cbc.auth_trunc_bits = 128;
    StateSpec gcm = cbc;
    gcm.enc.clear();
    gcm.auth.clear();
    gcm.aead = "rfc4106(gcm(aes))";
    gcm.enc_key = SecretBytes(20);
    gcm.enc_key_bits = 160;
    gcm.aead_icv_bits = 128;
    for (const StateSpec* st : {&cbc, &gcm}) {
        // A leftover of an interrupted probe would make the add fail.
        (void)s.transact(state_delete_msg(IPPROTO_ESP, st->spi, lo).get());
        QVPN_ASSIGN(NlMsg m, state_msg(*st, false));
        QVPN_ASSIGN(Ack a, s.transact(m.get()));
        if (a.err) {
            return fail(msg("XFR0102", "ESP", spi_hex(st->spi), "*PROBE",
                            (st == &gcm ? "rfc4106(gcm(aes)): " : "cbc(aes)/hmac(sha256): ") +
                                a.text())
                            .with_errno(a.err));
        }
        (void)s.transact(state_delete_msg(IPPROTO_ESP, st->spi, lo).get());
    }
    return ok();
}

// ---------------------------------------------------------------- routes

Result<std::vector<Prefix>> XfrmBackend::add_routes(const Plan& p) {
    std::vector<Prefix> done;
    if (p.mode != Mode::Tunnel) {
        return done;  // transport mode protects traffic the main table routes already
    }
    QVPN_ASSIGN(auto nh, routing_.route_to(p.remote));
    for (const auto& ts : p.ts_remote) {
        std::vector<IpRange> local;
        for (const auto& l : p.ts_local) {
            if (l.addrs.from.family() == ts.addrs.from.family()) {
                local.push_back(l.addrs);
            }
        }
        std::optional<IpAddress> src;
        if (!local.empty()) {
            if (auto a = routing_.local_address_in(local)) {
                src = *a;
            }
        }
        us::Routing::NextHop via = nh;
        if (ts.addrs.from.family() != p.remote.family()) {
            via.gateway.reset();  // an inner family the gateway does not speak
        }
        for (const auto& pre : range_to_prefixes(ts.addrs)) {
            Status s = routing_.acquire_route_via(pre, via, src ? &*src : nullptr);
            if (!s.ok()) {
                release_routes(done);
                return s.failure();
            }
            done.push_back(pre);
        }
    }
    return done;
}

void XfrmBackend::release_routes(const std::vector<Prefix>& routes) {
    for (const auto& r : routes) {
        routing_.release_route(r);
    }
}

// ---------------------------------------------------------------- install

Status XfrmBackend::add_states(const ChildSa& sa, Undo& undo) {
    QVPN_ASSIGN(auto states, states_for(sa));
    for (const auto& s : states) {
        QVPN_ASSIGN(NlMsg m, state_msg(s, false));
        QVPN_ASSIGN(Ack a, req_.transact(m.get()));
        if (a.err) {
            return state_fail(s, sa.conn, a);
        }
        undo.states.push_back({s.proto, s.spi, s.dst, s.inbound});
        debug("added " + s.name() + " state spi " + spi_hex(s.spi) + " " + s.src.to_string() +
              " -> " + s.dst.to_string() + " reqid " + std::to_string(s.reqid));
    }
    return ok();
}

std::optional<PolicySpec> XfrmBackend::spec_for(const PolicyKey& k, uint32_t owner) const {
    auto find_in = [&](const std::vector<PolicySpec>& v) -> std::optional<PolicySpec> {
        for (const auto& p : v) {
            if (p.sel == k.sel && p.dir == k.dir) {
                return p;
            }
        }
        return std::nullopt;
    };
    if (auto c = children_.find(owner); c != children_.end()) {
        if (auto p = find_in(c->second.policies)) {
            return p;
        }
    }
    if (auto t = traps_.find(owner); t != traps_.end()) {
        return find_in(t->second.policies);
    }
    return std::nullopt;
}

Status XfrmBackend::put_policies(const std::string& conn, uint32_t reqid,
                                 const std::vector<PolicySpec>& policies, Undo& undo) {
    for (const auto& p : policies) {
        PolicyKey key{p.sel, p.dir};
        auto it = policy_owner_.find(key);
        bool update = it != policy_owner_.end();
        QVPN_ASSIGN(NlMsg m, policy_msg(p, update));
        QVPN_ASSIGN(Ack a, req_.transact(m.get()));
        if (a.err) {
            return policy_fail(p, conn, a);
        }
        if (update) {
            uint32_t old = it->second;
            if (auto prev = spec_for(key, old)) {
                undo.replaced.push_back({*prev, old});
            }
            it->second = reqid;
        } else {
            undo.created.push_back(p);
            policy_owner_[key] = reqid;
        }
        debug((update ? "updated policy " : "added policy ") + p.describe() + " reqid " +
              std::to_string(reqid));
    }
    return ok();
}

void XfrmBackend::rollback(Undo& undo) {
    for (auto it = undo.replaced.rbegin(); it != undo.replaced.rend(); ++it) {
        if (auto m = policy_msg(it->first, true)) {
            (void)req_.transact(m->get());
        }
        policy_owner_[PolicyKey{it->first.sel, it->first.dir}] = it->second;
    }
    for (auto it = undo.created.rbegin(); it != undo.created.rend(); ++it) {
        if (auto m = policy_delete_msg(it->sel, it->dir)) {
            (void)req_.transact(m->get());
        }
        policy_owner_.erase(PolicyKey{it->sel, it->dir});
    }
    for (auto it = undo.states.rbegin(); it != undo.states.rend(); ++it) {
        (void)req_.transact(state_delete_msg(it->proto, it->spi, it->dst).get());
    }
    undo = Undo{};
}

Status XfrmBackend::install(const ChildSa& sa) {
    QVPN_TRY(validate(sa));
    if (children_.count(sa.reqid)) {
        return fail("XFR0005", sa.reqid);
    }
    QVPN_ASSIGN(auto policies, policies_for(plan_of(sa)));
    Undo undo;
    Status s = add_states(sa, undo);
    if (s.ok()) {
        s = put_policies(sa.conn, sa.reqid, policies, undo);
    }
    std::vector<Prefix> routes;
    if (s.ok()) {
        auto r = add_routes(plan_of(sa));
        if (r) {
            routes = std::move(*r);
        } else {
            s = r.failure();
        }
    }
    if (!s.ok()) {
        rollback(undo);
        log(s.error(), sa.conn);
        return s;
    }
    Child c;
    c.routes = std::move(routes);
    c.conn = sa.conn;
    c.mode = sa.mode;
    c.local = sa.local;
    c.states = std::move(undo.states);
    c.policies = std::move(policies);
    c.outer_proto = sa.ah ? IPPROTO_AH : IPPROTO_ESP;
    children_[sa.reqid] = std::move(c);
    return ok();
}

// ---------------------------------------------------------------- removal

Status XfrmBackend::delete_state(const StateKey& k, uint32_t reqid) {
    auto a = req_.transact(state_delete_msg(k.proto, k.spi, k.dst).get());
    if (!a) {
        return a.failure();
    }
    if (a->err && a->err != ESRCH) {  // ESRCH: gone already (hard expiry)
        return fail(msg("XFR0104", proto_name(k.proto) + " state " + spi_hex(k.spi), reqid,
                        a->text())
                        .with_errno(a->err));
    }
    return ok();
}

Status XfrmBackend::delete_policy(const PolicySpec& p, uint32_t reqid) {
    QVPN_ASSIGN(NlMsg m, policy_delete_msg(p.sel, p.dir));
    QVPN_ASSIGN(Ack a, req_.transact(m.get()));
    if (a.err && a.err != ENOENT) {
        return fail(msg("XFR0104", "policy " + p.describe(), reqid, a.text()).with_errno(a.err));
    }
    return ok();
}

Status XfrmBackend::drop_policies(uint32_t reqid, const std::vector<PolicySpec>& policies,
                                  const std::vector<PolicySpec>& keep) {
    Status first;
    for (const auto& p : policies) {
        PolicyKey key{p.sel, p.dir};
        bool kept = false;
        for (const auto& k : keep) {
            kept = kept || (k.sel == p.sel && k.dir == p.dir);
        }
        auto it = policy_owner_.find(key);
        if (kept || it == policy_owner_.end() || it->second != reqid) {
            continue;  // still needed, or another CHILD_SA's template is installed
        }
        // Hand the selector to another holder: a CHILD_SA first, then a trap
        // (this reqid's own trap included: removing a CHILD_SA re-arms it).
        std::optional<std::pair<PolicySpec, uint32_t>> next;
        for (const auto& [r, c] : children_) {
            if (r == reqid) {
                continue;
            }
            for (const auto& q : c.policies) {
                if (!next && q.sel == p.sel && q.dir == p.dir) {
                    next = {q, r};
                }
            }
        }
        for (const auto& [r, t] : traps_) {
            for (const auto& q : t.policies) {
                if (!next && q.sel == p.sel && q.dir == p.dir) {
                    next = {q, r};
                }
            }
        }
        Status s;
        if (next) {
            auto m = policy_msg(next->first, true);
            if (!m) {
                s = m.failure();
            } else if (auto a = req_.transact(m->get()); !a) {
                s = a.failure();
            } else if (a->err) {
                s = fail(msg("XFR0104", "policy " + p.describe(), reqid, a->text())
                             .with_errno(a->err));
            }
            it->second = next->second;
        } else {
            s = delete_policy(p, reqid);
            policy_owner_.erase(it);
        }
        if (!s.ok() && first.ok()) {
            first = s;
        }
    }
    return first;
}

Status XfrmBackend::remove(uint32_t reqid) {
    auto it = children_.find(reqid);
    if (it == children_.end()) {
        return fail("XFR0006", reqid);
    }
    Status first;
    for (const auto& k : it->second.states) {
        Status s = delete_state(k, reqid);
        if (!s.ok() && first.ok()) {
            first = s;
        }
    }
    std::string conn = it->second.conn;
    std::vector<PolicySpec> policies = std::move(it->second.policies);
    release_routes(it->second.routes);
    // The child must not offer its own policies as the next holder.
    children_.erase(it);
    Status s = drop_policies(reqid, policies, {});
    if (!s.ok() && first.ok()) {
        first = s;
    }
    if (!first.ok()) {
        log(first.error(), conn);
    }
    return first;
}

Status XfrmBackend::replace(uint32_t old_reqid, const ChildSa& sa) {
    auto old = children_.find(old_reqid);
    if (old == children_.end()) {
        return fail("XFR0006", old_reqid);
    }
    if (sa.reqid != old_reqid) {
        QVPN_TRY(install(sa));
        // The old inbound states outlive the CHILD_SA by the grace period.
        std::vector<StateKey> inbound;
        for (const auto& k : old->second.states) {
            if (k.inbound) {
                inbound.push_back(k);
            }
        }
        std::erase_if(old->second.states, [](const StateKey& k) { return k.inbound; });
        retire(old_reqid, inbound);
        return remove(old_reqid);
    }
    // Same reqid: new states beside the old ones (the kernel sends on the
    // newest), policies updated in place, then the old states go.
    QVPN_TRY(validate(sa));
    QVPN_ASSIGN(auto policies, policies_for(plan_of(sa)));
    Undo undo;
    Status s = add_states(sa, undo);
    if (s.ok()) {
        s = put_policies(sa.conn, sa.reqid, policies, undo);
    }
    std::vector<Prefix> routes;
    if (s.ok()) {
        auto r = add_routes(plan_of(sa));
        if (r) {
            routes = std::move(*r);
        } else {
            s = r.failure();
        }
    }
    if (!s.ok()) {
        // Policies owned by this reqid were only re-written with the same
        // reqid; restoring them from the registry is what rollback does.
        rollback(undo);
        log(s.error(), sa.conn);
        return s;
    }
    Child& c = old->second;
    release_routes(c.routes);
    c.routes = std::move(routes);
    Status first;
    std::vector<StateKey> inbound;
    for (const auto& k : c.states) {
        if (k.inbound) {
            inbound.push_back(k);
            continue;
        }
        Status d = delete_state(k, old_reqid);
        if (!d.ok() && first.ok()) {
            first = d;
        }
    }
    retire(old_reqid, inbound);
    std::vector<PolicySpec> old_policies = std::move(c.policies);
    c.policies = policies;
    c.states = std::move(undo.states);
    c.conn = sa.conn;
    c.mode = sa.mode;
    c.local = sa.local;
    c.outer_proto = sa.ah ? IPPROTO_AH : IPPROTO_ESP;
    Status d = drop_policies(old_reqid, old_policies, policies);
    if (!d.ok() && first.ok()) {
        first = d;
    }
    return first;
}

void XfrmBackend::retire(uint32_t reqid, const std::vector<StateKey>& states) {
    auto until = std::chrono::steady_clock::now() + opts_.rekey_grace;
    for (const auto& k : states) {
        retirees_.push_back({k, reqid, until});
    }
    if (opts_.rekey_grace.count() <= 0) {
        reap(true);
    }
    arm_timer();
}

void XfrmBackend::reap(bool all) {
    auto now = std::chrono::steady_clock::now();
    std::vector<Retiree> keep;
    for (const auto& r : retirees_) {
        if (!all && r.until > now) {
            keep.push_back(r);
            continue;
        }
        Status s = delete_state(r.key, r.reqid);
        if (!s.ok()) {
            log(s.error());
        }
    }
    retirees_ = std::move(keep);
    arm_timer();
}

void XfrmBackend::arm_timer() {
    if (timer_fd_ < 0) {
        return;
    }
    itimerspec its{};
    if (!retirees_.empty()) {
        auto next = retirees_.front().until;
        for (const auto& r : retirees_) {
            next = std::min(next, r.until);
        }
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      next - std::chrono::steady_clock::now())
                      .count();
        ns = std::max<int64_t>(ns, 1'000'000);
        its.it_value.tv_sec = ns / 1'000'000'000;
        its.it_value.tv_nsec = ns % 1'000'000'000;
    }
    timerfd_settime(timer_fd_, 0, &its, nullptr);
}

// ---------------------------------------------------------------- traps

Status XfrmBackend::install_trap(const Trap& trap) {
    QVPN_TRY(validate(trap));
    if (traps_.count(trap.reqid)) {
        return fail("XFR0109", trap.conn, trap.reqid);
    }
    QVPN_ASSIGN(auto policies, policies_for(plan_of(trap)));
    // Selectors a CHILD_SA holds keep the CHILD_SA's templates; the trap
    // takes them over when the CHILD_SA goes.
    std::vector<PolicySpec> todo;
    for (const auto& p : policies) {
        auto it = policy_owner_.find(PolicyKey{p.sel, p.dir});
        if (it == policy_owner_.end() || !children_.count(it->second)) {
            todo.push_back(p);
        }
    }
    Undo undo;
    Status s = put_policies(trap.conn, trap.reqid, todo, undo);
    std::vector<Prefix> routes;
    if (s.ok()) {
        auto r = add_routes(plan_of(trap));
        if (r) {
            routes = std::move(*r);
        } else {
            s = r.failure();
        }
    }
    if (!s.ok()) {
        rollback(undo);
        log(s.error(), trap.conn);
        return s;
    }
    traps_[trap.reqid] = TrapEntry{trap.conn, std::move(policies), std::move(routes)};
    return ok();
}

Status XfrmBackend::remove_trap(uint32_t reqid) {
    auto it = traps_.find(reqid);
    if (it == traps_.end()) {
        return fail("XFR0006", reqid);
    }
    std::vector<PolicySpec> policies = std::move(it->second.policies);
    std::string conn = it->second.conn;
    release_routes(it->second.routes);
    traps_.erase(it);
    // A CHILD_SA of the same reqid keeps its policies.
    std::vector<PolicySpec> keep;
    if (auto c = children_.find(reqid); c != children_.end()) {
        keep = c->second.policies;
    }
    Status s = drop_policies(reqid, policies, keep);
    if (!s.ok()) {
        log(s.error(), conn);
    }
    return s;
}

Status XfrmBackend::remove_all() {
    reap(true);
    Status first;
    while (!children_.empty()) {
        Status s = remove(children_.begin()->first);
        if (!s.ok() && first.ok()) {
            first = s;
        }
    }
    while (!traps_.empty()) {
        Status s = remove_trap(traps_.begin()->first);
        if (!s.ok() && first.ok()) {
            first = s;
        }
    }
    return first;
}

// ---------------------------------------------------------------- queries

Result<ChildCounters> XfrmBackend::counters(uint32_t reqid) {
    auto it = children_.find(reqid);
    if (it == children_.end()) {
        return fail("XFR0006", reqid);
    }
    ChildCounters out;
    for (const auto& k : it->second.states) {
        if (k.proto != it->second.outer_proto) {
            continue;
        }
        StateInfo info;
        bool got = false;
        auto a = req_.query(state_get_msg(k.proto, k.spi, k.dst).get(), [&](const nlmsghdr* h) {
            if (h->nlmsg_type == XFRM_MSG_NEWSA) {
                got = parse_state(h, info);
            }
        });
        if (!a) {
            return fail(msg("XFR0107", reqid, a.error().value(1)).with_errno(a.error().sys_errno));
        }
        if (a->err) {
            return fail(msg("XFR0107", reqid, a->text()).with_errno(a->err));
        }
        if (!got) {
            return fail(msg("XFR0107", reqid, "the kernel's answer cannot be parsed"));
        }
        (k.inbound ? out.in : out.out) = info.counters;
    }
    return out;
}

int XfrmBackend::event_fd() const { return epoll_fd_; }

std::vector<SaEvent> XfrmBackend::events() {
    std::vector<SaEvent> out;
    uint64_t expirations = 0;
    if (read(timer_fd_, &expirations, sizeof expirations) == sizeof expirations) {
        reap(false);
    }
    bool complete = ev_.drain([&](const nlmsghdr* h) {
        if (h->nlmsg_type == XFRM_MSG_ACQUIRE) {
            AcquireInfo a;
            if (!parse_acquire(h, a)) {
                log(msg("XFR0105", "acquire"));
                return;
            }
            if (!is_qvpn_reqid(a.reqid)) {
                return;
            }
            SaEvent e;
            e.kind = SaEvent::Kind::Acquire;
            e.reqid = a.reqid;
            if (auto t = traps_.find(a.reqid); t != traps_.end()) {
                e.conn = t->second.conn;
            }
            e.src = a.flow.src;
            e.dst = a.flow.dst;
            e.ip_proto = a.flow.proto;
            e.src_port = a.flow.src_port;
            e.dst_port = a.flow.dst_port;
            out.push_back(std::move(e));
        } else if (h->nlmsg_type == XFRM_MSG_EXPIRE) {
            StateInfo s;
            bool hard = false;
            if (!parse_state(h, s, &hard)) {
                log(msg("XFR0105", "expire"));
                return;
            }
            if (!is_qvpn_reqid(s.reqid) || (s.proto != IPPROTO_ESP && s.proto != IPPROTO_AH)) {
                return;
            }
            for (const auto& r : retirees_) {
                if (r.key.proto == s.proto && r.key.spi == s.spi && r.key.dst == s.dst) {
                    return;  // replaced on purpose; going away anyway
                }
            }
            SaEvent e;
            e.kind = hard ? SaEvent::Kind::HardExpire : SaEvent::Kind::SoftExpire;
            e.reqid = s.reqid;
            e.proto = s.proto == IPPROTO_AH ? IpsecProto::Ah : IpsecProto::Esp;
            e.spi = s.spi;
            if (auto c = children_.find(s.reqid); c != children_.end()) {
                e.conn = c->second.conn;
                e.inbound = s.dst == c->second.local;
                if (hard) {
                    // The kernel deleted the state itself.
                    auto& st = c->second.states;
                    std::erase_if(st, [&](const StateKey& k) {
                        return k.proto == s.proto && k.spi == s.spi && k.dst == s.dst;
                    });
                }
            }
            out.push_back(std::move(e));
        }
    });
    if (!complete) {
        log(msg("XFR0108", "receive buffer overrun"));
    }
    return out;
}

Result<CleanupReport> XfrmBackend::cleanup_stale() {
    CleanupReport rep;
    std::vector<StateInfo> stale_states;
    auto a = req_.query(state_dump_msg().get(), [&](const nlmsghdr* h) {
        StateInfo s;
        if (h->nlmsg_type != XFRM_MSG_NEWSA || !parse_state(h, s)) {
            return;
        }
        // IPComp's IPIP companion states go with their IPComp state.
        if (!is_qvpn_reqid(s.reqid) || s.proto == IPPROTO_IPIP || s.proto == IPPROTO_IPV6) {
            return;
        }
        bool ours = false;
        for (const auto& r : retirees_) {
            ours = ours || (r.key.proto == s.proto && r.key.spi == s.spi && r.key.dst == s.dst);
        }
        for (const auto& [r, c] : children_) {
            for (const auto& k : c.states) {
                ours = ours || (k.proto == s.proto && k.spi == s.spi && k.dst == s.dst);
            }
        }
        if (!ours) {
            stale_states.push_back(s);
        }
    });
    if (!a) {
        return a.failure();
    }
    for (const auto& s : stale_states) {
        Status d = delete_state({s.proto, s.spi, s.dst, false}, s.reqid);
        if (d.ok()) {
            ++rep.states;
        } else {
            log(d.error());
        }
    }
    std::vector<PolicyInfo> stale_policies;
    a = req_.query(policy_dump_msg().get(), [&](const nlmsghdr* h) {
        PolicyInfo p;
        if (h->nlmsg_type != XFRM_MSG_NEWPOLICY || !parse_policy(h, p)) {
            return;
        }
        for (uint32_t r : p.tmpl_reqids) {
            if (is_qvpn_reqid(r) && !children_.count(r) && !traps_.count(r)) {
                stale_policies.push_back(p);
                break;
            }
        }
    });
    if (!a) {
        return a.failure();
    }
    for (const auto& p : stale_policies) {
        auto d = req_.transact(policy_delete_by_index_msg(p.index, p.dir).get());
        if (d && (d->err == 0 || d->err == ENOENT)) {
            ++rep.policies;
        } else if (d) {
            log(msg("XFR0104", "policy index " + std::to_string(p.index), 0, d->text()));
        }
    }
    if (rep.states || rep.policies) {
        log(msg("XFR0106", rep.states, rep.policies));
    }
    QVPN_ASSIGN(auto removed, routing_.cleanup_stale());
    rep.routes = removed.first + removed.second;
    if (rep.routes) {
        log(msg("ESP000A", removed.first, removed.second));
    }
    return rep;
}

Status XfrmBackend::prepare_ike_socket(int fd, int family, bool nat_t_port) {
    QVPN_TRY(set_ipsec_bypass(fd, family));
    QVPN_TRY(set_mark(fd, kBypassMark));
    if (nat_t_port) {
        QVPN_TRY(set_udp_encap(fd));
    }
    return ok();
}

void XfrmBackend::input_udp(ByteView, const IpAddress& from, uint16_t from_port,
                            const IpAddress&, uint16_t) {
    // With UDP_ENCAP_ESPINUDP on the socket the kernel consumes ESP-in-UDP
    // itself; one reaching us means the socket was not prepared.
    ++unexpected_udp_;
    debug("unexpected ESP-in-UDP from " + from.to_string() + ":" + std::to_string(from_port));
}

}  // namespace qvpn::sa::xfrm
