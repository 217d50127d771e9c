#include "daemon/sa/userspace/userspace_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/joblog/joblog.hpp"
#include "daemon/sa/socket_opts.hpp"
#include "daemon/sa/xfrm/xfrm_msg.hpp"

namespace qvpn::sa::us {

namespace {

constexpr auto kHousekeeping = std::chrono::milliseconds(500);
constexpr auto kDropLogInterval = std::chrono::seconds(10);
constexpr size_t kMaxRoutes = 64;  // prefixes per CHILD_SA

std::string hex8(uint32_t v) {
    char b[12];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

int default_workers() {
    unsigned n = std::thread::hardware_concurrency();
    if (n <= 2) {
        return 1;
    }
    return int(std::min(n / 2, 4u));
}

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

}  // namespace

UserspaceBackend::UserspaceBackend(const BackendOptions& opts, Tun tun, Routing routing)
    : opts_(opts), tun_(std::move(tun)), routing_(std::move(routing)) {}

Result<std::unique_ptr<UserspaceBackend>> UserspaceBackend::create(const BackendOptions& opts) {
    if (!crypto_init()) {
        return fail("ESP0009", "the OpenSSL default provider cannot be loaded");
    }
    int workers = opts.workers > 0 ? std::min(opts.workers, 16) : default_workers();
    QVPN_ASSIGN(Tun tun, Tun::open(opts.tun_name, workers, opts.tun_offload));
    QVPN_ASSIGN(Routing routing, Routing::open(tun.ifindex(), opts.route_table,
                                               opts.rule_priority, kBypassMark, kBypassMarkMask));
    QVPN_TRY(routing.link_up(opts.tun_mtu));
    // Packets coming back out of the tunnel arrive on the TUN device with
    // the remote selectors as source; strict reverse-path filtering would
    // want them on the route we just pointed at the device, which holds.
    std::unique_ptr<UserspaceBackend> b(new UserspaceBackend(opts, std::move(tun),
                                                             std::move(routing)));
    QVPN_TRY(b->routing_.add_rules());
    QVPN_TRY(b->open_sockets());
    b->event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->event_fd_ < 0) {
        int e = errno;
        return fail(msg("ESP0009", std::string("eventfd: ") + std::strerror(e)).with_errno(e));
    }
    DatapathConfig cfg;
    cfg.out_workers = workers;
    cfg.in_workers = workers;
    cfg.mtu = opts.tun_mtu;
    cfg.tun_fds = b->tun_.fds();
    cfg.raw_esp4 = b->raw_esp4_;
    cfg.raw_esp6 = b->raw_esp6_;
    cfg.raw_ah4 = b->raw_ah4_;
    cfg.raw_ah6 = b->raw_ah6_;
    cfg.udp4 = b->own_udp4_;
    cfg.udp6 = b->own_udp6_;
    cfg.vnet_hdr = b->tun_.offload();
    UserspaceBackend* self = b.get();
    b->dp_ = std::make_unique<Datapath>(cfg, [self](SaEvent e) { self->push_event(std::move(e)); });
    if (b->own_udp4_ >= 0) {
        b->dp_->set_udp_sender(AF_INET, b->own_udp4_);
    }
    if (b->own_udp6_ >= 0) {
        b->dp_->set_udp_sender(AF_INET6, b->own_udp6_);
    }
    QVPN_TRY(b->dp_->start());
    b->hk_ = std::thread([self] { self->housekeeping(); });
    b->log(msg("ESP0004", b->tun_.name(), workers));
    return b;
}

UserspaceBackend::~UserspaceBackend() {
    {
        std::lock_guard<std::mutex> g(hk_mu_);
        hk_stop_ = true;
    }
    hk_cv_.notify_all();
    if (hk_.joinable()) {
        hk_.join();
    }
    if (dp_) {
        dp_->stop();
    }
    Status s = remove_all();
    (void)s;
    (void)routing_.remove_rules();
    for (int* fd : {&raw_esp4_, &raw_esp6_, &raw_ah4_, &raw_ah6_, &own_udp4_, &own_udp6_,
                    &ike_udp4_, &ike_udp6_, &event_fd_}) {
        close_fd(*fd);
    }
}

void UserspaceBackend::log(const Msg& m, const std::string& conn) {
    if (opts_.log) {
        joblog::Fields f;
        f.conn = conn;
        opts_.log->message(m, f);
    }
}

// ---------------------------------------------------------------- sockets

Status UserspaceBackend::open_sockets() {
    auto big_buffers = [](int fd) {
        int sz = 4 << 20;
        // The forcing variants ignore rmem_max/wmem_max (we run as root).
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        }
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) != 0) {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        }
    };
    auto prepare = [&](int fd, int family) -> Status {
        QVPN_TRY(set_mark(fd, kBypassMark));
        // Where the kernel has XFRM policies of its own, our ESP must not be
        // caught by them.
        (void)set_ipsec_bypass(fd, family);
        big_buffers(fd);
        return ok();
    };
    auto raw = [&](int family, int proto, const char* what) -> Result<int> {
        int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, proto);
        if (fd < 0) {
            int e = errno;
            return fail(msg("ESP0002", what, std::strerror(e)).with_errno(e));
        }
        Status s = prepare(fd, family);
        if (!s.ok()) {
            ::close(fd);
            return s.failure();
        }
        int one = 1;
        if (family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
            int pmtu = IPV6_PMTUDISC_DONT;
            setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
        } else {
            // Outer packets above the path MTU are fragmented, not refused.
            int pmtu = IP_PMTUDISC_DONT;
            setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
            if (proto == IPPROTO_AH) {
                // AH covers the IPv4 identification: we write the header.
                setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
            }
        }
        return fd;
    };
    if (opts_.raw_esp) {
        QVPN_ASSIGN(raw_esp4_, raw(AF_INET, IPPROTO_ESP, "raw IPv4 ESP"));
        QVPN_ASSIGN(raw_ah4_, raw(AF_INET, IPPROTO_AH, "raw IPv4 AH"));
        // IPv6 may be disabled in the namespace; IPv4 then works alone.
        if (auto r = raw(AF_INET6, IPPROTO_ESP, "raw IPv6 ESP")) {
            raw_esp6_ = *r;
        }
        if (auto r = raw(AF_INET6, IPPROTO_AH, "raw IPv6 AH")) {
            raw_ah6_ = *r;
        }
    }
    if (opts_.own_udp_port) {
        for (int family : {AF_INET, AF_INET6}) {
            int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                continue;
            }
            int one = 1;
            if (family == AF_INET6) {
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            }
            sockaddr_storage ss;
            std::memset(&ss, 0, sizeof ss);
            socklen_t len;
            if (family == AF_INET) {
                auto* s = reinterpret_cast<sockaddr_in*>(&ss);
                s->sin_family = AF_INET;
                s->sin_port = htons(opts_.own_udp_port);
                len = sizeof *s;
            } else {
                auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
                s->sin6_family = AF_INET6;
                s->sin6_port = htons(opts_.own_udp_port);
                len = sizeof *s;
            }
            if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || !prepare(fd, family).ok()) {
                int e = errno;
                ::close(fd);
                if (family == AF_INET) {
                    return fail(msg("ESP0002", "UDP " + std::to_string(opts_.own_udp_port),
                                    std::strerror(e))
                                    .with_errno(e));
                }
                continue;
            }
            // Coalesced receive (UDP GRO): one read for a burst of ESP
            // packets; the data path cuts them apart again.
            setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
            (family == AF_INET ? own_udp4_ : own_udp6_) = fd;
        }
    }
    return ok();
}

Status UserspaceBackend::prepare_ike_socket(int fd, int family, bool nat_t_port) {
    QVPN_TRY(set_ipsec_bypass(fd, family));
    QVPN_TRY(set_mark(fd, kBypassMark));
    if (nat_t_port) {
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (d < 0) {
            int e = errno;
            return fail(msg("XFR0110", "F_DUPFD", std::strerror(e)).with_errno(e));
        }
        int& slot = family == AF_INET6 ? ike_udp6_ : ike_udp4_;
        int old = slot;
        slot = d;
        dp_->set_udp_sender(family, d);
        close_fd(old);
    }
    return ok();
}

void UserspaceBackend::input_udp(ByteView datagram, const IpAddress& from, uint16_t,
                                 const IpAddress& to, uint16_t) {
    dp_->input_udp(datagram, from, to);
}

// ---------------------------------------------------------------- SAs

Result<UserspaceBackend::ChildEntry> UserspaceBackend::build(const ChildSa& sa) {
    if (sa.encap && (sa.local.is_v4() ? (ike_udp4_ < 0 && own_udp4_ < 0)
                                      : (ike_udp6_ < 0 && own_udp6_ < 0))) {
        return fail("ESP0006", "ESP in UDP without a port-4500 socket");
    }
    if (!sa.encap && (sa.local.is_v4() ? raw_esp4_ < 0 : raw_esp6_ < 0)) {
        return fail("ESP0006", "raw ESP and AH without raw sockets");
    }
    ChildEntry c;
    c.conn = sa.conn;
    c.mode = sa.mode;
    c.added = std::chrono::system_clock::now();
    int out_slots = dp_->out_slots(), in_slots = dp_->in_slots();

    auto out = std::make_shared<OutSa>();
    out->reqid = sa.reqid;
    out->conn = sa.conn;
    out->mode = sa.mode;
    out->local = sa.local;
    out->remote = sa.remote;
    out->encap = sa.encap;
    out->tfc = sa.tfc;
    out->esn = sa.esn;
    out->life.limits = sa.lifetime;
    out->ip_id.store(uint16_t(sa.reqid * 2654435761u >> 16) | 1);
    if (sa.ipcomp) {
        out->cpi = sa.ipcomp->cpi_out;
    }
    std::vector<SelectorPair> pairs;
    for (const auto& p : selector_pairs(sa.ts_local, sa.ts_remote)) {
        if (sa.mode == Mode::Transport && p.family != sa.local.family()) {
            continue;
        }
        pairs.push_back(p);
    }
    auto make_in = [&](uint8_t proto, const SaKeys& k, bool outer) -> Result<std::shared_ptr<InSa>> {
        auto in = std::make_shared<InSa>();
        in->reqid = sa.reqid;
        in->conn = sa.conn;
        in->proto = proto;
        in->spi = k.spi;
        in->mode = sa.mode;
        in->local = sa.local;
        in->remote = sa.remote;
        in->esn = sa.esn;
        in->ipcomp = sa.ipcomp.has_value();
        in->outer = outer;
        in->pairs = pairs;
        in->replay = ReplayWindow(sa.replay_window, sa.esn);
        in->life.limits = sa.lifetime;
        for (int i = 0; i < in_slots; ++i) {
            if (proto == IPPROTO_ESP) {
                QVPN_ASSIGN(auto t, EspTransform::create(k, sa.esn, false));
                in->esp.push_back(std::move(t));
            } else {
                QVPN_ASSIGN(auto t, AhTransform::create(k, sa.esn));
                in->ah.push_back(std::move(t));
            }
        }
        return in;
    };
    if (sa.esp) {
        out->esp_spi = sa.esp->out.spi;
        for (int i = 0; i < out_slots; ++i) {
            QVPN_ASSIGN(auto t, EspTransform::create(sa.esp->out, sa.esn, true));
            out->esp.push_back(std::move(t));
        }
        QVPN_ASSIGN(auto in, make_in(IPPROTO_ESP, sa.esp->in, !sa.ah));
        c.in.push_back(std::move(in));
    }
    if (sa.ah) {
        out->ah_spi = sa.ah->out.spi;
        for (int i = 0; i < out_slots; ++i) {
            QVPN_ASSIGN(auto t, AhTransform::create(sa.ah->out, sa.esn));
            out->ah.push_back(std::move(t));
        }
        QVPN_ASSIGN(auto in, make_in(IPPROTO_AH, sa.ah->in, true));
        in->inner_esp_spi = sa.esp ? sa.esp->in.spi : 0;
        c.in.push_back(std::move(in));
    }
    c.out = out;
    for (const auto& p : pairs) {
        SpdEntry e;
        e.pair = p;
        e.reqid = sa.reqid;
        e.conn = sa.conn;
        e.rank = specificity(p);
        e.sa = out;
        c.spd.push_back(std::move(e));
    }
    return c;
}

Result<std::vector<Prefix>> UserspaceBackend::add_routes(
    Mode mode, const IpAddress& local_outer, const IpAddress& remote,
    const std::vector<TrafficSelector>& local, const std::vector<TrafficSelector>& remote_ts) {
    std::vector<Prefix> prefixes;
    if (mode == Mode::Transport) {
        prefixes.push_back({remote, remote.is_v4() ? 32 : 128});
    } else {
        for (const auto& ts : remote_ts) {
            for (const auto& p : range_to_prefixes(ts.addrs)) {
                prefixes.push_back(p);
            }
        }
    }
    if (prefixes.size() > kMaxRoutes) {
        return fail("XFR0008", "*ROUTES", prefixes.size(), kMaxRoutes);
    }
    std::vector<Prefix> done;
    for (const auto& p : prefixes) {
        // Prefer a local address inside the local selectors as the source,
        // so local traffic to the tunnel is sourced where the SA expects it.
        std::vector<IpRange> ranges;
        for (const auto& l : local) {
            if (l.addrs.from.family() == p.addr.family()) {
                ranges.push_back(l.addrs);
            }
        }
        std::optional<IpAddress> src;
        if (mode == Mode::Transport) {
            // The SA protects packets between the outer addresses only.
            src = local_outer;
        } else if (!ranges.empty()) {
            if (auto a = routing_.local_address_in(ranges)) {
                src = *a;
            }
        }
        Status s = routing_.acquire_route(p, src ? &*src : nullptr);
        if (!s.ok()) {
            release_routes(done);
            return s.failure();
        }
        done.push_back(p);
    }
    return done;
}

void UserspaceBackend::release_routes(const std::vector<Prefix>& routes) {
    for (const auto& p : routes) {
        routing_.release_route(p);
    }
}

void UserspaceBackend::publish() {
    auto snap = std::make_shared<Snapshot>();
    for (const auto& [r, c] : children_) {
        snap->spd.insert(snap->spd.end(), c.spd.begin(), c.spd.end());
        for (const auto& in : c.in) {
            (in->proto == IPPROTO_AH ? snap->ah_in : snap->esp_in)[in->spi] = in;
        }
    }
    for (const auto& [r, t] : traps_) {
        snap->spd.insert(snap->spd.end(), t.spd.begin(), t.spd.end());
    }
    for (const auto& r : retirees_) {
        // never in the way of a current SA that reuses the SPI
        (r.sa->proto == IPPROTO_AH ? snap->ah_in : snap->esp_in).emplace(r.sa->spi, r.sa);
    }
    // More specific selectors first; at equal rank an installed CHILD_SA
    // before a trap (the trap of the same reqid is filled by it).
    std::stable_sort(snap->spd.begin(), snap->spd.end(),
                     [](const SpdEntry& a, const SpdEntry& b) {
                         if (a.rank != b.rank) {
                             return a.rank > b.rank;
                         }
                         return bool(a.sa) && !b.sa;
                     });
    dp_->publish(std::move(snap));
}

Status UserspaceBackend::install(const ChildSa& sa) {
    QVPN_TRY(validate(sa));
    std::lock_guard<std::mutex> g(mu_);
    if (children_.count(sa.reqid)) {
        return fail("XFR0005", sa.reqid);
    }
    for (const auto& [r, c] : children_) {
        for (const auto& in : c.in) {
            if ((sa.esp && in->proto == IPPROTO_ESP && in->spi == sa.esp->in.spi) ||
                (sa.ah && in->proto == IPPROTO_AH && in->spi == sa.ah->in.spi)) {
                return fail("XFR0007", sa.conn, "inbound SPI " + hex8(in->spi) + " is in use");
            }
        }
    }
    auto built = build(sa);
    if (!built) {
        log(built.error(), sa.conn);
        return built.failure();
    }
    auto routes = add_routes(sa.mode, sa.local, sa.remote, sa.ts_local, sa.ts_remote);
    if (!routes) {
        log(routes.error(), sa.conn);
        return routes.failure();
    }
    built->routes = std::move(*routes);
    children_[sa.reqid] = std::move(*built);
    publish();
    return ok();
}

Status UserspaceBackend::replace(uint32_t old_reqid, const ChildSa& sa) {
    QVPN_TRY(validate(sa));
    std::lock_guard<std::mutex> g(mu_);
    auto old = children_.find(old_reqid);
    if (old == children_.end()) {
        return fail("XFR0006", old_reqid);
    }
    if (sa.reqid != old_reqid && children_.count(sa.reqid)) {
        return fail("XFR0005", sa.reqid);
    }
    auto built = build(sa);
    if (!built) {
        log(built.error(), sa.conn);
        return built.failure();
    }
    auto routes = add_routes(sa.mode, sa.local, sa.remote, sa.ts_local, sa.ts_remote);
    if (!routes) {
        log(routes.error(), sa.conn);
        return routes.failure();
    }
    built->routes = std::move(*routes);
    // New first (routes acquired above, SAs in the next snapshot), then the
    // old one's routes are released and its SAs leave the snapshot; its
    // inbound SAs stay for the grace period.
    std::vector<Prefix> old_routes = std::move(old->second.routes);
    auto until = Clock::now() + opts_.rekey_grace;
    if (opts_.rekey_grace.count() > 0) {
        for (auto& in : old->second.in) {
            retirees_.push_back({in, until});
        }
        const OutSa& o = *old->second.out;
        out_seq_[{o.esp_spi, o.ah_spi}] = {o.esp_seq.load(), o.ah_seq.load(), until};
    }
    if (auto memo = out_seq_.find({built->out->esp_spi, built->out->ah_spi});
        memo != out_seq_.end()) {
        built->out->esp_seq.store(memo->second.esp);
        built->out->ah_seq.store(memo->second.ah);
    }
    children_.erase(old);
    children_[sa.reqid] = std::move(*built);
    publish();
    release_routes(old_routes);
    return ok();
}

Status UserspaceBackend::remove(uint32_t reqid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = children_.find(reqid);
    if (it == children_.end()) {
        return fail("XFR0006", reqid);
    }
    std::vector<Prefix> routes = std::move(it->second.routes);
    children_.erase(it);
    publish();
    release_routes(routes);
    return ok();
}

Status UserspaceBackend::install_trap(const Trap& trap) {
    QVPN_TRY(validate(trap));
    std::lock_guard<std::mutex> g(mu_);
    if (traps_.count(trap.reqid)) {
        return fail("XFR0109", trap.conn, trap.reqid);
    }
    TrapEntry t;
    t.conn = trap.conn;
    auto state = std::make_shared<TrapState>();
    for (const auto& p : selector_pairs(trap.ts_local, trap.ts_remote)) {
        if (trap.mode == Mode::Transport && p.family != trap.local.family()) {
            continue;
        }
        SpdEntry e;
        e.pair = p;
        e.reqid = trap.reqid;
        e.conn = trap.conn;
        e.rank = specificity(p);
        e.trap = state;
        t.spd.push_back(std::move(e));
    }
    QVPN_ASSIGN(t.routes, add_routes(trap.mode, trap.local, trap.remote, trap.ts_local, trap.ts_remote));
    traps_[trap.reqid] = std::move(t);
    publish();
    return ok();
}

Status UserspaceBackend::remove_trap(uint32_t reqid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = traps_.find(reqid);
    if (it == traps_.end()) {
        return fail("XFR0006", reqid);
    }
    std::vector<Prefix> routes = std::move(it->second.routes);
    traps_.erase(it);
    publish();
    release_routes(routes);
    return ok();
}

Status UserspaceBackend::remove_all() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [r, c] : children_) {
        release_routes(c.routes);
    }
    for (auto& [r, t] : traps_) {
        release_routes(t.routes);
    }
    children_.clear();
    traps_.clear();
    retirees_.clear();
    out_seq_.clear();
    if (dp_) {
        publish();
    }
    return ok();
}

Result<ChildCounters> UserspaceBackend::counters(uint32_t reqid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = children_.find(reqid);
    if (it == children_.end()) {
        return fail("XFR0006", reqid);
    }
    const ChildEntry& c = it->second;
    auto wall = [&](const Life& l) -> uint64_t {
        int64_t last = l.last_use_ns.load();
        if (!last) {
            return 0;
        }
        auto ago = Clock::now().time_since_epoch() - std::chrono::nanoseconds(last);
        auto t = std::chrono::system_clock::now() -
                 std::chrono::duration_cast<std::chrono::system_clock::duration>(ago);
        return uint64_t(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
                            .count());
    };
    uint64_t added = uint64_t(
        std::chrono::duration_cast<std::chrono::seconds>(c.added.time_since_epoch()).count());
    ChildCounters out;
    out.out.bytes = c.out->life.bytes;
    out.out.packets = c.out->life.packets;
    out.out.add_time = added;
    out.out.use_time = wall(c.out->life);
    for (const auto& in : c.in) {
        out.in.replay_drops += in->replay_drops;
        out.in.integrity_failures += in->integrity_failures;
        if (in->outer) {
            out.in.bytes = in->life.bytes;
            out.in.packets = in->life.packets;
            out.in.use_time = wall(in->life);
        }
    }
    out.in.add_time = added;
    return out;
}

Result<UserspaceBackend::Drops> UserspaceBackend::drops(uint32_t reqid) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = children_.find(reqid);
    if (it == children_.end()) {
        return fail("XFR0006", reqid);
    }
    Drops d;
    for (const auto& in : it->second.in) {
        d.integrity += in->integrity_failures;
        d.replay += in->replay_drops;
        d.selector += in->selector_drops;
        d.malformed += in->malformed;
    }
    return d;
}

Result<CleanupReport> UserspaceBackend::cleanup_stale() {
    std::lock_guard<std::mutex> g(mu_);
    QVPN_ASSIGN(auto removed, routing_.cleanup_stale());
    CleanupReport r;
    r.routes = removed.first + removed.second;
    if (r.routes) {
        log(msg("ESP000A", removed.first, removed.second));
    }
    return r;
}

// ---------------------------------------------------------------- events

void UserspaceBackend::push_event(SaEvent e) {
    {
        std::lock_guard<std::mutex> g(ev_mu_);
        events_.push_back(std::move(e));
    }
    uint64_t one = 1;
    ssize_t w = write(event_fd_, &one, sizeof one);
    (void)w;
}

std::vector<SaEvent> UserspaceBackend::events() {
    uint64_t n;
    ssize_t r = read(event_fd_, &n, sizeof n);
    (void)r;
    std::lock_guard<std::mutex> g(ev_mu_);
    std::vector<SaEvent> out(events_.begin(), events_.end());
    events_.clear();
    return out;
}

void UserspaceBackend::housekeeping() {
    std::unique_lock<std::mutex> lk(hk_mu_);
    std::map<const void*, Clock::time_point> last_log;
    while (!hk_cv_.wait_for(lk, kHousekeeping, [this] { return hk_stop_; })) {
        std::lock_guard<std::mutex> g(mu_);
        auto now = Clock::now();
        size_t before = retirees_.size();
        std::erase_if(retirees_, [&](const Retiree& r) { return r.until <= now; });
        std::erase_if(out_seq_, [&](const auto& m) { return m.second.until <= now; });
        if (retirees_.size() != before) {
            publish();
        }
        auto check = [&](Life& l, uint32_t reqid, const std::string& conn, IpsecProto proto,
                         uint32_t spi, bool inbound) {
            auto age = std::chrono::duration_cast<std::chrono::seconds>(now - l.added).count();
            auto raise = [&](bool hard) {
                SaEvent e;
                e.kind = hard ? SaEvent::Kind::HardExpire : SaEvent::Kind::SoftExpire;
                e.reqid = reqid;
                e.conn = conn;
                e.proto = proto;
                e.spi = spi;
                e.inbound = inbound;
                push_event(std::move(e));
            };
            if (l.limits.soft_seconds && uint64_t(age) >= l.limits.soft_seconds &&
                !l.soft_sent.exchange(true)) {
                raise(false);
            }
            if (l.limits.hard_seconds && uint64_t(age) >= l.limits.hard_seconds &&
                !l.dead.exchange(true)) {
                raise(true);
            }
        };
        for (auto& [r, c] : children_) {
            OutSa& o = *c.out;
            check(o.life, r, c.conn, o.ah_spi ? IpsecProto::Ah : IpsecProto::Esp, o.outer_spi(),
                  false);
            for (auto& in : c.in) {
                if (in->outer) {
                    check(in->life, r, c.conn,
                          in->proto == IPPROTO_AH ? IpsecProto::Ah : IpsecProto::Esp, in->spi,
                          true);
                }
                // ESP0008, rate-limited per SA.
                uint64_t total = in->drops();
                uint64_t logged = in->drops_logged.load();
                auto& when = last_log[in.get()];
                if (total > logged && now - when >= kDropLogInterval) {
                    std::string why = "integrity " + std::to_string(in->integrity_failures) +
                                      ", replay " + std::to_string(in->replay_drops) +
                                      ", selectors " + std::to_string(in->selector_drops) +
                                      ", malformed " + std::to_string(in->malformed);
                    log(msg("ESP0008", total - logged, hex8(in->spi), why), c.conn);
                    in->drops_logged = total;
                    when = now;
                }
            }
        }
    }
}

}  // namespace qvpn::sa::us
