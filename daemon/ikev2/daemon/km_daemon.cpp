#include "daemon/ikev2/daemon/km_daemon.hpp"

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/ipc/control.hpp"
#include "core/ipc/policy_json.hpp"
#include "core/msg/catalog.hpp"
#include "daemon/sa/sa_json.hpp"

namespace qvpn::ikev2 {

using nlohmann::json;

namespace {

std::string hex32(uint32_t v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

std::optional<uint32_t> spi_from(const json& j, const char* key) {
    if (!j.contains(key)) {
        return std::nullopt;
    }
    if (j[key].is_number_unsigned()) {
        return j[key].get<uint32_t>();
    }
    if (!j[key].is_string()) {
        return std::nullopt;
    }
    auto b = from_hex(j[key].get<std::string>());
    if (!b || b->size() > 4) {
        return std::nullopt;
    }
    uint32_t v = 0;
    for (uint8_t x : *b) {
        v = v << 8 | x;
    }
    return v;
}

std::string str(const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

uint32_t u32(const json& j, const char* key) {
    return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint32_t>() : 0;
}

std::optional<IpAddress> ip_of(const policy::Identity& id) {
    if (id.type == policy::IdType::IPv4 || id.type == policy::IdType::IPv6) {
        return IpAddress::parse(id.value);
    }
    return std::nullopt;
}

// The one name lookup of the job: a remote key server given by name.
std::optional<IpAddress> resolve_name(const std::string& host) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
        return std::nullopt;
    }
    std::optional<IpAddress> out;
    for (addrinfo* a = res; a != nullptr && !out; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(a->ai_addr);
            out = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr), 4);
        } else if (a->ai_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ai_addr);
            out = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&sin6->sin6_addr), 16);
        }
    }
    ::freeaddrinfo(res);
    return out;
}

}  // namespace

json child_up_json(const InstallChild& c) {
    return {{"conn", c.conn}, {"reqid", c.sa.reqid}, {"sa", sa::to_json(c.sa)}};
}

KmDaemon::KmDaemon(DaemonOptions opts, joblog::JobLog& log)
    : opts_(std::move(opts)), log_(log), policies_(opts_.policy_db) {
    engine_ = std::make_unique<Engine>(clock_, rng_, policies_, opts_.engine);
    if (auto a = policies_.attributes()) {
        engine_->set_attributes(*a);
    }
}

KmDaemon::~KmDaemon() {
    if (signal_fd_ >= 0) {
        ::close(signal_fd_);
    }
}

void KmDaemon::send_control(json j) {
    Status s = ipc::km_send(opts_.ipc_fd, ipc::encode_control(j));
    if (!s && send_errors_++ % 100 == 0) {
        log_.message(joblog::Level::Warning, s.error());
    }
}

// --- requests of the connection manager ------------------------------------------------

Result<std::pair<Endpoint, Endpoint>> KmDaemon::endpoints(const policy::ConnectionPolicy& p) {
    // The remote key server: its address identifier, or its name resolved.
    std::optional<IpAddress> remote = ip_of(p.connection.remote_id);
    if (!remote) {
        remote = ip_of(p.key.remote);
    }
    const policy::Identity& named = p.connection.remote_id.value.empty() ? p.key.remote
                                                                         : p.connection.remote_id;
    if (!remote && (named.type == policy::IdType::Fqdn || named.type == policy::IdType::UserFqdn)) {
        std::string host = named.value.substr(named.value.find('@') + 1);
        remote = resolve_name(host);
        if (!remote) {
            return fail("IKE0B03", host, p.connection.name);
        }
    }
    if (!remote) {
        return fail("IKE0B03", ike_text_of(named), p.connection.name);
    }
    IpAddress local = remote->is_v4() ? IpAddress::v4(0) : IpAddress::v6({});
    if (auto l = ip_of(p.connection.local_id); l && l->family() == remote->family()) {
        local = *l;
    }
    return std::pair<Endpoint, Endpoint>{Endpoint{local, 500}, Endpoint{*remote, 500}};
}

std::string KmDaemon::ike_text_of(const policy::Identity& id) {
    return std::string(policy::to_cl(id.type)) + ":" + id.value;
}

void KmDaemon::initiate(const json& j) {
    std::string conn = str(j, "conn");
    auto fail_conn = [&](int code, const Msg& detail) {
        log_.message(detail, {.conn = conn});
        json f = ipc::msg_to_json(msg("TCP8606", conn, code));
        f["op"] = "failed";
        f["conn"] = conn;
        f["detail"] = ipc::msg_to_json(detail);
        send_control(f);
    };
    auto p = ipc::policy_from_json(j.contains("policy") ? j["policy"] : json());
    if (!p) {
        fail_conn(reason::kPhase1Failure, p.error());
        return;
    }
    p->connection.name = conn.empty() ? p->connection.name : conn;
    // Populate from packet: the remote data endpoint is the packet's address.
    if (auto rd = IpAddress::parse(str(j, "remote_data"))) {
        p->connection.remote = {rd->is_v4() ? policy::EndpointType::IPv4
                                            : policy::EndpointType::IPv6,
                                rd->to_string(), ""};
    }
    auto eps = endpoints(*p);
    if (!eps) {
        fail_conn(reason::kNetworkError, eps.error());
        return;
    }
    auto creds = policies_.credentials(p->key);
    if (!creds) {
        fail_conn(reason::kPhase1Failure, creds.error());
        return;
    }
    engine_->initiate(*p, u32(j, "reqid"), eps->first, eps->second, std::move(*creds));
}

void KmDaemon::control(const json& j) {
    std::string op = str(j, "op");
    std::string conn = str(j, "conn");
    if (op == "initiate") {
        initiate(j);
    } else if (op == "terminate") {
        engine_->terminate(conn);
    } else if (op == "acquire") {
        if (!engine_->acquire(conn, u32(j, "reqid"))) {
            auto p = policies_.resolve(conn);
            if (!p) {
                log_.message(p.error(), {.conn = conn});
            } else {
                json init = {{"op", "initiate"}, {"conn", conn}, {"reqid", u32(j, "reqid")},
                             {"policy", ipc::policy_to_json(*p)}};
                initiate(init);
            }
        }
    } else if (op == "expire") {
        auto spi = spi_from(j, "spi");
        bool hard = j.contains("hard") && j["hard"].is_boolean() && j["hard"].get<bool>();
        if (spi) {
            engine_->expire(conn, u32(j, "reqid"), *spi, hard);
        }
    } else if (op == "installed") {
        bool ok = j.contains("ok") && j["ok"].is_boolean() && j["ok"].get<bool>();
        engine_->installed(conn, u32(j, "reqid"), ok);
    } else if (op == "status") {
        send_control(status_json());
    } else if (op == "shutdown") {
        begin_shutdown();
    } else if (op == "attributes") {
        if (auto a = policies_.attributes()) {
            engine_->set_attributes(*a);
        }
    } else {
        log_.message(joblog::Level::Warning, msg("IKE0B04", op.empty() ? "(none)" : op));
    }
}

void KmDaemon::packet(const ipc::KmMessage& m) {
    Endpoint local{m.header.local, m.header.local_port};
    Endpoint remote{m.header.remote, m.header.remote_port};
    engine_->on_packet(local, remote, m.header.non_esp_marker, m.payload);
}

void KmDaemon::begin_shutdown() {
    if (shutting_down_) {
        return;
    }
    shutting_down_ = true;
    shutdown_deadline_ = clock_.now() + opts_.shutdown_grace;
    log_.message(msg("IKE0B02", engine_->status().size()));
    engine_->shutdown();
}

// --- the engine's actions ----------------------------------------------------------------

void KmDaemon::perform() {
    for (auto& act : engine_->take_actions()) {
        if (auto* p = std::get_if<SendPacket>(&act)) {
            ipc::PacketHeader h{p->local.addr, p->local.port, p->remote.addr, p->remote.port,
                                p->non_esp_marker};
            Status s = ipc::km_send(opts_.ipc_fd, ipc::encode_packet(h, p->data));
            if (!s && send_errors_++ % 100 == 0) {
                log_.message(joblog::Level::Warning, s.error());
            }
        } else if (auto* t = std::get_if<ArmTimer>(&act)) {
            timers_[t->id] = t->when;
        } else if (auto* c = std::get_if<CancelTimer>(&act)) {
            timers_.erase(c->id);
        } else if (auto* l = std::get_if<LogLine>(&act)) {
            if (l->msg.id.empty()) {
                log_.debug(l->component, l->text, l->fields);
            } else {
                log_.message(l->level, l->msg, l->fields);
            }
        } else if (auto* in = std::get_if<InstallChild>(&act)) {
            install(*in);
        } else if (auto* rm = std::get_if<RemoveChild>(&act)) {
            remove(*rm);
        } else if (auto* up = std::get_if<IkeUp>(&act)) {
            send_control({{"op", "ike_up"}, {"conn", up->conn}, {"group", up->group},
                          {"ike", up->ike}, {"peer", up->peer.to_string()}, {"encr", up->encr},
                          {"prf", up->prf}, {"dh", up->dh}, {"auth", up->auth},
                          {"lifetime", up->lifetime_seconds}, {"initiator", up->initiator},
                          {"nat_local", up->nat_local}, {"nat_remote", up->nat_remote}});
        } else if (auto* down = std::get_if<IkeDown>(&act)) {
            send_control({{"op", "ike_down"}, {"conn", down->conn}, {"ike", down->ike},
                          {"reason", down->reason}});
        } else if (auto* f = std::get_if<Failed>(&act)) {
            json j = ipc::msg_to_json(f->report);
            j["op"] = "failed";
            j["conn"] = f->conn;
            j["peer"] = f->peer.to_string();
            j["detail"] = ipc::msg_to_json(f->detail);
            send_control(j);
        }
    }
}

void KmDaemon::install(const InstallChild& c) {
    // QTOVMAN keeps one CHILD_SA per reqid: a second one for the same reqid
    // replaces the first there (new states first, then the old ones go),
    // while the engine still lets the old one drain until its DELETE.
    auto& live = live_[c.sa.reqid];
    json j = child_up_json(c);
    if (live.empty()) {
        j["op"] = "child_up";
    } else {
        j["op"] = "child_rekeyed";
        j["old_reqid"] = c.sa.reqid;
        j["old_spi"] = hex32(live.back().spi_in);
    }
    live.push_back(LiveChild{c.conn, spi_in_of(c.sa), c.sa});
    send_control(j);
}

void KmDaemon::remove(const RemoveChild& r) {
    auto it = live_.find(r.reqid);
    if (it == live_.end()) {
        return;
    }
    auto& list = it->second;
    auto pos = std::find_if(list.begin(), list.end(),
                            [&](const LiveChild& x) { return x.spi_in == r.spi_in; });
    if (pos == list.end()) {
        return;
    }
    bool current = std::next(pos) == list.end();
    list.erase(pos);
    if (!list.empty()) {
        if (current) {
            // The one QTOVMAN holds went away while an older one lives on
            // (the losing side of a rekey collision): make that one current.
            json j = {{"op", "child_rekeyed"}, {"conn", r.conn}, {"reqid", r.reqid},
                      {"old_reqid", r.reqid}, {"old_spi", hex32(r.spi_in)},
                      {"sa", sa::to_json(list.back().sa)}};
            send_control(j);
        }
        return;
    }
    live_.erase(it);
    if (!r.replaced) {
        send_control({{"op", "child_down"}, {"conn", r.conn}, {"reqid", r.reqid},
                      {"spi", hex32(r.spi_in)}, {"reason", r.reason}});
    }
}

uint32_t KmDaemon::spi_in_of(const sa::ChildSa& sa) {
    return sa.esp ? sa.esp->in.spi : (sa.ah ? sa.ah->in.spi : 0);
}

// --- status ----------------------------------------------------------------------------------

json KmDaemon::status_json() const {
    json sas = json::array();
    for (const auto& s : engine_->status()) {
        json children = json::array();
        for (const auto& c : s.children) {
            children.push_back({{"reqid", c.reqid}, {"spi_in", hex32(c.spi_in)},
                                {"spi_out", hex32(c.spi_out)}, {"state", c.state},
                                {"protocol", c.protocol}, {"algorithms", c.algorithms},
                                {"ts_local", c.ts_local}, {"ts_remote", c.ts_remote}});
        }
        sas.push_back({{"conn", s.conn}, {"ike", s.ike}, {"state", s.state}, {"peer", s.peer},
                       {"initiator", s.initiator}, {"algorithms", s.algorithms},
                       {"children", children}});
    }
    const Counters& k = engine_->counters();
    json counters = {{"packets_in", k.packets_in},
                     {"packets_out", k.packets_out},
                     {"malformed", k.malformed},
                     {"integrity_failures", k.integrity_failures},
                     {"unknown_spi", k.unknown_spi},
                     {"out_of_window", k.out_of_window},
                     {"retransmits_sent", k.retransmits_sent},
                     {"retransmits_answered", k.retransmits_answered},
                     {"cookies_sent", k.cookies_sent},
                     {"half_open_dropped", k.half_open_dropped},
                     {"ike_established", k.ike_established},
                     {"ike_rekeyed", k.ike_rekeyed},
                     {"children_installed", k.children_installed},
                     {"children_rekeyed", k.children_rekeyed},
                     {"collisions", k.collisions},
                     {"dead_peers", k.dead_peers},
                     {"auth_failures", k.auth_failures},
                     {"send_errors", send_errors_}};
    return {{"op", "status"}, {"ike_sas", sas}, {"counters", counters}};
}

// --- the loop -----------------------------------------------------------------------------------

std::optional<std::chrono::milliseconds> KmDaemon::next_timeout() const {
    std::optional<SteadyTime> next;
    for (const auto& [id, t] : timers_) {
        if (!next || t < *next) {
            next = t;
        }
    }
    if (shutting_down_ && (!next || shutdown_deadline_ < *next)) {
        next = shutdown_deadline_;
    }
    if (!next) {
        return std::nullopt;
    }
    auto d = std::chrono::ceil<std::chrono::milliseconds>(*next - clock_.now());
    return std::max(d, std::chrono::milliseconds(0));
}

void KmDaemon::fire_due_timers() {
    SteadyTime now = clock_.now();
    std::vector<TimerId> due;
    for (const auto& [id, t] : timers_) {
        if (t <= now) {
            due.push_back(id);
        }
    }
    for (TimerId id : due) {
        timers_.erase(id);
        engine_->on_timer(id);
        perform();
    }
}

int KmDaemon::run() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

    send_control({{"op", "hello"}, {"job", "QTOKVPNIK2"}, {"ike_version", 2},
                  {"pid", static_cast<int>(::getpid())}});
    log_.message(msg("IKE0B00", static_cast<int>(::getpid())));

    for (;;) {
        if (shutting_down_ && (engine_->idle() || clock_.now() >= shutdown_deadline_)) {
            log_.message(msg("IKE0B06", engine_->status().size()));
            return 0;
        }
        pollfd fds[2] = {{opts_.ipc_fd, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
        auto timeout = next_timeout();
        int ms = timeout ? static_cast<int>(std::min<int64_t>(timeout->count(), 60000)) : 60000;
        int n = ::poll(fds, signal_fd_ >= 0 ? 2 : 1, ms);
        if (n < 0 && errno != EINTR) {
            log_.message(msg("IKE0B05", "poll").with_errno(errno));
            return 1;
        }
        if (n > 0 && (fds[1].revents & POLLIN) != 0) {
            signalfd_siginfo si{};
            while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
                begin_shutdown();
            }
            perform();
        }
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            // Drain what is waiting, a bounded batch at a time.
            for (int i = 0; i < 256; ++i) {
                auto r = ipc::km_recv(opts_.ipc_fd);
                if (!r) {
                    if (r.error().sys_errno == EAGAIN || r.error().sys_errno == EWOULDBLOCK) {
                        break;
                    }
                    log_.message(r.error());
                    return 1;
                }
                if (!r->has_value()) {
                    // QTOVMAN is gone. It owns every installed SA and will
                    // clean up; there is nobody left to report to.
                    log_.message(msg("IKE0B05", "the connection manager closed the channel"));
                    return 1;
                }
                auto m = ipc::decode_km(**r);
                if (!m) {
                    log_.message(joblog::Level::Warning, m.error());
                    continue;
                }
                if (m->is_control()) {
                    control(m->control);
                } else {
                    packet(*m);
                }
                perform();
            }
        }
        fire_due_timers();
        perform();
    }
}

}  // namespace qvpn::ikev2
