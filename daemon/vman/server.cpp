#include "daemon/vman/server.hpp"

#include <ifaddrs.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/msg/catalog.hpp"
#include "core/ipc/policy_json.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/sa/sa_json.hpp"
#include "daemon/vman/child_json.hpp"

namespace qvpn::vman {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kEndTimeout = 10s;       // peer and key manager to delete SAs
constexpr auto kShutdownTimeout = 20s;  // everything ended before exit
// A key manager that ended has this long to come back before the
// connections waiting for it go to error (TCP8605, TCP8601 reason 5).
constexpr auto kKeyManagerGrace = 30s;

int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool journals_activity(policy::Journaling j) {
    return j == policy::Journaling::All || j == policy::Journaling::ConnectionActivity;
}

std::string upper_key(const std::string& name) { return to_upper(name); }

std::string kind_name(sa::DataPathKind k) {
    return k == sa::DataPathKind::Kernel ? "*KERNEL" : "*USERSPACE";
}

// TCP8601's reason code for a detail message that came from elsewhere.
int reason_for(const std::string& id) {
    if (id == "TCP8606") {
        return 3;
    }
    if (id == "TCP8605") {
        return 5;
    }
    if (id == "VMN001B" || id == "IPC0003") {
        return 6;
    }
    return 0;
}

// TSAUTH and TSENCR of a CHILD_SA, as the policy's CL names.
std::pair<std::string, std::string> child_algorithms(const sa::ChildSa& ch) {
    std::string encr = "*NONE";
    if (ch.esp) {
        auto e = ike::crypto::encr_to_policy({ch.esp->out.encr, ch.esp->out.encr_key_bits});
        encr = e ? std::string(policy::to_cl(*e)) : std::string();
    }
    ike::IntegId integ = ch.ah ? ch.ah->out.integ : ch.esp ? ch.esp->out.integ : ike::IntegId::NONE;
    auto a = ike::crypto::data_auth_from_integ(integ);
    return {a ? std::string(policy::to_cl(*a)) : std::string(), encr};
}

}  // namespace

Server::Server(joblog::JobLog& log, bool foreground) : log_(log), foreground_(foreground) {}

Server::~Server() {
    for (auto& [fd, c] : clients_) {
        ::close(fd);
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
    }
    if (signal_fd_ >= 0) {
        ::close(signal_fd_);
    }
}

Status Server::start(bool stale) {
    QVPN_TRY(paths::ensure());

    // Signals arrive as readable data, in the loop like everything else.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&set, s);
    }
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) {
        return fail(msg("QVP0003", "QTOVMAN", "signalfd").with_errno(errno));
    }
    QVPN_TRY(loop_.add(signal_fd_, EPOLLIN, [this](uint32_t) { on_signal(); }));

    QVPN_ASSIGN(policy_, make_policy_port());
    rules_ = make_rules_port(log_);
    policy::DataPath path = policy::DataPath::Auto;
    if (auto p = policy_->data_path(); p.ok()) {
        path = *p;
    }
    QVPN_ASSIGN(sa_, make_sa_backend(path, log_));
    log_.debug("server", "data path " + kind_name(sa_->kind()));

    int days = 30;
    if (auto d = policy_->journal_retention_days(); d.ok()) {
        days = *d;
    }
    auto w = journal::Writer::open(journal::Journal::Qvpn,
                                   journal::Origin::current("QTOVMAN", "QTOVMAN"), {days, 1000000});
    if (!w.ok()) {
        return w.failure();
    }
    jrn_ = std::move(*w);

    // Recovery: whatever a killed QTOVMAN left installed goes first.
    auto removed = sa_->cleanup_stale();
    unsigned stale_entries = 0;
    if (removed.ok()) {
        stale_entries = removed->states + removed->policies + removed->routes;
    } else {
        log_.message(removed.error());
    }
    // Rows a killed QTOVMAN left active are counted before the reset.
    int stale_states = 0;
    if (auto n = policy_->active_states(); n.ok()) {
        stale_states = *n;
    }
    if (auto r = policy_->reset_states(); !r.ok()) {
        log_.message(r.error());
    }
    if (stale || stale_entries > 0) {
        log_.message(msg("VMN001E", stale_entries, stale_states));
    }

    auto udp = IkeSockets::open(*sa_);
    if (!udp.ok()) {
        return udp.failure();
    }
    udp_ = std::move(*udp);
    for (int fd : udp_->fds()) {
        QVPN_TRY(loop_.add(fd, EPOLLIN, [this, fd](uint32_t) { on_udp(fd); }));
    }
    if (sa_->event_fd() >= 0) {
        QVPN_TRY(loop_.add(sa_->event_fd(), EPOLLIN, [this](uint32_t) { on_sa_events(); }));
    }

    kms_ = std::make_unique<KeyManagers>(
        loop_, log_,
        KeyManagers::Callbacks{
            .message = [this](KeyManager& km, const ipc::KmMessage& m) { on_km_message(km, m); },
            .up = [this](KeyManager& km) { on_km_up(km); },
            .down = [this](KeyManager& km) { on_km_down(km); }});
    kms_->start_all();

    // The socket last: a command that reaches it finds everything ready.
    auto lfd = ipc::listen_control(ipc::control_socket_path());
    if (!lfd.ok()) {
        return lfd.failure();
    }
    listen_fd_ = *lfd;
    QVPN_TRY(loop_.add(listen_fd_, EPOLLIN, [this](uint32_t) { on_accept(); }));
    log_.message(msg("VMN0001", ipc::control_socket_path()));
    autostart();
    return {};
}

Status Server::run() { return loop_.run(); }

// --- command socket -------------------------------------------------------------

void Server::on_accept() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            return;
        }
        Client c;
        c.fd = fd;
        auto cred = ipc::peer_of(fd);
        if (cred.ok()) {
            c.cred = *cred;
        } else {
            c.cred.uid = static_cast<uid_t>(-1);
            c.cred.gid = static_cast<gid_t>(-1);
        }
        clients_.emplace(fd, std::move(c));
        auto added = loop_.add(fd, EPOLLIN | EPOLLRDHUP, [this, fd](uint32_t) { on_client(fd); });
        if (!added.ok()) {
            drop_client(fd);
        }
    }
}

void Server::on_client(int fd) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) {
        return;
    }
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        drop_client(fd);
        return;
    }
    Client& c = it->second;
    c.buf.append(std::string_view(buf, static_cast<size_t>(n)));
    if (c.buf.overflow()) {
        reply(fd, ipc::Reply::failure({msg("IPC0006", c.buf.pending(), "QTOVMAN.sock",
                                           ipc::kMaxLineBytes)}));
        drop_client(fd);
        return;
    }
    auto line = c.buf.next_line();
    if (!line) {
        return;
    }
    // One request per connection: stop reading, answer (now or later).
    loop_.remove(fd);
    auto req = ipc::parse_request(*line);
    if (!req.ok()) {
        reply(fd, ipc::Reply::failure({req.error()}));
        drop_client(fd);
        return;
    }
    handle(c, *req);
}

void Server::handle(Client& c, const json& req) {
    std::string op = req["op"].get<std::string>();
    log_.debug("ipc", "request " + op + " from uid " + std::to_string(c.cred.uid));
    if (ipc::op_changes_state(op) && !c.cred.has_iosyscfg()) {
        // The socket's mode is not the only gate (README: TCP8050 again here).
        std::string cmd = op == ipc::op::kStart     ? "STRVPNCNN"
                          : op == ipc::op::kEnd     ? "ENDVPNCNN"
                          : op == ipc::op::kReset   ? "RSTVPNCNN"
                                                    : "ENDTCPSVR";
        reply(c.fd, ipc::Reply::failure({msg("TCP8050", cmd)}));
        drop_client(c.fd);
        return;
    }
    if (op == ipc::op::kPing) {
        op_ping(c);
    } else if (op == ipc::op::kStatus || op == ipc::op::kSaList) {
        op_status(c, req);
    } else if (op == ipc::op::kStart) {
        op_start(c, req);
    } else if (op == ipc::op::kEnd) {
        op_end(c, req);
    } else if (op == ipc::op::kReset) {
        op_reset(c, req);
    } else if (op == ipc::op::kShutdown) {
        op_shutdown(c);
    } else {
        reply(c.fd, ipc::Reply::failure({msg("IPC0005", op)}));
        drop_client(c.fd);
    }
}

void Server::reply(int fd, const ipc::Reply& r) {
    auto s = ipc::write_all(fd, r.to_json().dump() + "\n", 2000ms);
    if (!s.ok()) {
        log_.debug("ipc", "reply lost: " + msgcat::line(s.error()));
    }
}

void Server::drop_client(int fd) {
    loop_.remove(fd);
    ::close(fd);
    clients_.erase(fd);
}

void Server::op_ping(Client& c) {
    json kms = json::array();
    for (const auto& km : kms_->all()) {
        kms.push_back({{"job", km.job},
                       {"ike_version", km.ike_version},
                       {"installed", km.installed},
                       {"pid", km.pid},
                       {"ready", km.ready},
                       {"restarts", km.restarts}});
    }
    json data = {{"pid", ::getpid()},
                 {"data_path", kind_name(sa_->kind())},
                 {"ike_port", udp_->ike_port()},
                 {"natt_port", udp_->natt_port()},
                 {"ending", shutting_down_},
                 {"key_managers", kms},
                 {"dropped_no_key_manager", dropped_no_km_}};
    reply(c.fd, ipc::Reply::success({}, data));
    drop_client(c.fd);
}

void Server::op_status(Client& c, const json& req) {
    std::string want = req.contains("conn") && req["conn"].is_string()
                           ? req["conn"].get<std::string>()
                           : std::string();
    json arr = json::array();
    for (const auto& [key, cn] : conns_) {
        if (!want.empty() && !iequals(want, cn.ref.name) && !iequals(want, cn.ref.group)) {
            continue;
        }
        json sas = json::array();
        for (const auto& ch : cn.children) {
            json s = child_summary(ch.sa, ch.since_us);
            if (auto n = sa_->counters(ch.sa.reqid); n.ok()) {
                s["bytes_in"] = n->in.bytes;
                s["packets_in"] = n->in.packets;
                s["bytes_out"] = n->out.bytes;
                s["packets_out"] = n->out.packets;
            }
            sas.push_back(std::move(s));
        }
        json o = {{"name", cn.ref.name},
                  {"group", cn.ref.group},
                  {"type", cn.ref.manual ? "*MANUAL" : "*DYNAMIC"},
                  {"state", state_name(cn.state)},
                  {"reqid", cn.reqid},
                  {"initiator", !cn.responder},
                  {"refreshes", cn.refreshes},
                  {"data_path", kind_name(sa_->kind())},
                  {"sas", sas}};
        if (cn.plan) {
            o["local_endpoint"] = cn.plan->local_endpoint.to_string();
            o["remote_endpoint"] = cn.plan->remote_endpoint.to_string();
            o["local_data"] = cn.plan->local_data.to_string();
            o["remote_data"] = cn.plan->remote_data.to_string();
        }
        if (cn.start_us != 0) {
            o["started"] = journal::saa_timestamp(cn.start_us);
        }
        if (!cn.ike.is_null()) {
            o["ike"] = cn.ike;
        }
        if (cn.last_error) {
            o["error"] = ipc::msg_to_json(*cn.last_error);
        }
        arr.push_back(std::move(o));
    }
    reply(c.fd, ipc::Reply::success({}, {{"connections", arr}}));
    drop_client(c.fd);
}

void Server::op_start(Client& c, const json& req) {
    std::string name = req.value("conn", "");
    int wait = req.contains("wait") && req["wait"].is_number_integer() ? req["wait"].get<int>()
                                                                       : 60;
    if (shutting_down_) {
        reply(c.fd, ipc::Reply::failure({msg("VMN0020", name, "started")}));
        drop_client(c.fd);
        return;
    }
    auto ref = policy_->find(name);
    if (!ref.ok()) {
        log_.message(ref.error(), {.conn = name});
        log_.message(msg("TCP8601", name, 1), {.conn = name});
        reply(c.fd, ipc::Reply::failure({ref.error(), msg("TCP8601", name, 1)}));
        drop_client(c.fd);
        return;
    }
    Conn& cn = conn_for(*ref);
    if (cn.state == ConnState::Starting || cn.state == ConnState::Enabled ||
        cn.state == ConnState::OnDemand) {
        reply(c.fd, ipc::Reply::success({msg("VMN0019", cn.ref.name, state_name(cn.state))}));
        drop_client(c.fd);
        return;
    }
    if (cn.state != ConnState::Idle) {
        // Error (reset it first) or Stopping.
        Msg m = msg("VMN0019", cn.ref.name, state_name(cn.state));
        reply(c.fd, ipc::Reply::failure({m, msg("TCP8601", cn.ref.name, 0)}));
        drop_client(c.fd);
        return;
    }
    if (wait > 0) {
        cn.start_waiters.push_back(c.fd);
    }
    if (!begin_start(cn)) {
        if (wait <= 0) {
            reply(c.fd, ipc::Reply::failure({*cn.last_error, msg("TCP8601", cn.ref.name,
                                                                 reason_for(cn.last_error->id))}));
            drop_client(c.fd);
        }
        return;  // waiters were answered by fail_start
    }
    if (cn.state == ConnState::Enabled || cn.state == ConnState::OnDemand) {
        Msg done = cn.state == ConnState::Enabled ? msg("VMN0014", cn.ref.name)
                                                  : msg("VMN0024", cn.ref.name);
        wake_start_waiters(cn, ipc::Reply::success({done}));
        if (wait <= 0) {
            reply(c.fd, ipc::Reply::success({done}));
            drop_client(c.fd);
        }
        return;
    }
    if (wait <= 0) {
        reply(c.fd, ipc::Reply::success({msg("VMN0023", cn.ref.name)}));
        drop_client(c.fd);
        return;
    }
    if (cn.start_timer == 0) {
        std::string key = upper_key(cn.ref.name);
        cn.start_timer = loop_.after(std::chrono::seconds(wait), [this, key, wait] {
            auto it = conns_.find(key);
            if (it == conns_.end()) {
                return;
            }
            it->second.start_timer = 0;
            wake_start_waiters(it->second,
                               ipc::Reply::success({msg("VMN001C", it->second.ref.name, wait)}));
        });
    }
}

void Server::op_end(Client& c, const json& req) {
    std::string name = req.value("conn", "");
    Conn* cn = find_conn(name);
    if (cn == nullptr) {
        auto ref = policy_->find(name);
        std::vector<Msg> msgs;
        if (!ref.ok()) {
            msgs.push_back(ref.error());
        }
        msgs.push_back(msg("TCP8602", ref.ok() ? ref->name : name, 1));
        log_.message(msgs.back(), {.conn = name});
        reply(c.fd, ipc::Reply::failure(msgs));
        drop_client(c.fd);
        return;
    }
    if (cn->state == ConnState::Idle) {
        Msg m = msg("TCP8602", cn->ref.name, 1);
        log_.message(m, {.conn = cn->ref.name});
        reply(c.fd, ipc::Reply::failure({m}));
        drop_client(c.fd);
        return;
    }
    cn->end_waiters.push_back(c.fd);
    if (cn->state != ConnState::Stopping) {
        begin_end(*cn, false);
    }
}

void Server::op_reset(Client& c, const json& req) {
    std::string name = req.value("conn", "");
    Conn* cn = find_conn(name);
    if (cn == nullptr) {
        auto ref = policy_->find(name);
        if (!ref.ok()) {
            reply(c.fd, ipc::Reply::failure({ref.error()}));
        } else {
            reply(c.fd, ipc::Reply::failure({msg("VMN0018", ref->name, "*IDLE")}));
        }
        drop_client(c.fd);
        return;
    }
    if (cn->state != ConnState::Error) {
        reply(c.fd, ipc::Reply::failure({msg("VMN0018", cn->ref.name, state_name(cn->state))}));
        drop_client(c.fd);
        return;
    }
    auto s = set_state(*cn, ConnState::Idle);
    cn->last_error.reset();
    log_.message(msg("VMN0016", cn->ref.name), {.conn = cn->ref.name});
    reply(c.fd, s.ok() ? ipc::Reply::success({msg("VMN0016", cn->ref.name)})
                       : ipc::Reply::failure({s.error()}));
    drop_client(c.fd);
}

void Server::op_shutdown(Client& c) {
    shutdown_waiters_.push_back(c.fd);
    begin_shutdown();
}

void Server::begin_shutdown() {
    if (shutting_down_) {
        return;
    }
    shutting_down_ = true;
    log_.message(msg("VMN0009"));
    for (auto& [key, cn] : conns_) {
        if (is_active(cn.state) && cn.state != ConnState::Stopping) {
            begin_end(cn, true);
        }
    }
    shutdown_timer_ = loop_.after(kShutdownTimeout, [this] {
        shutdown_timer_ = 0;
        finish_shutdown();
    });
    maybe_finish_shutdown();
}

// --- connections ------------------------------------------------------------------

Conn& Server::conn_for(const ConnRef& ref) {
    std::string key = upper_key(ref.name);
    auto it = conns_.find(key);
    if (it == conns_.end()) {
        it = conns_.emplace(key, Conn{}).first;
    }
    it->second.ref = ref;
    return it->second;
}

Conn* Server::find_conn(const std::string& name) {
    auto it = conns_.find(upper_key(name));
    if (it != conns_.end()) {
        return &it->second;
    }
    // A dynamic-key group names its locally started connection.
    for (auto& [k, c] : conns_) {
        if (!c.ref.group.empty() && iequals(c.ref.group, name)) {
            return &c;
        }
    }
    if (auto ref = policy_->find(name); ref.ok()) {
        auto it2 = conns_.find(upper_key(ref->name));
        if (it2 != conns_.end()) {
            return &it2->second;
        }
    }
    return nullptr;
}

Status Server::set_state(Conn& c, ConnState to) {
    ConnState from = c.state;
    auto s = transition(c.state, to);
    if (!s.ok()) {
        log_.message(s.error(), {.conn = c.ref.name});
        return s;
    }
    log_.debug("conn", c.ref.name + " " + std::string(state_name(from)) + " -> " +
                           std::string(state_name(to)),
               {.conn = c.ref.name});
    std::optional<Msg> err;
    if (to == ConnState::Error) {
        err = c.last_error;
    }
    if (auto r = policy_->record_state(c.ref, to, err); !r.ok()) {
        log_.message(r.error(), {.conn = c.ref.name});
    }
    if (to == ConnState::Idle) {
        // <group>:R<n> is free again: the next peer's search starts no later.
        auto r = c.ref.name.rfind(":R");
        if (r != std::string::npos) {
            int n = std::atoi(c.ref.name.c_str() + r + 2);
            auto it = responder_in_use_below_.find(upper_key(c.ref.name.substr(0, r)));
            if (it != responder_in_use_below_.end() && n > 0 && n < it->second) {
                it->second = n;
            }
        }
    }
    return {};
}

SystemView Server::system_view() const {
    SystemView v;
    v.is_local = [](const IpAddress& a) {
        ifaddrs* ifa = nullptr;
        if (::getifaddrs(&ifa) != 0) {
            return false;
        }
        bool found = false;
        for (ifaddrs* i = ifa; i != nullptr && !found; i = i->ifa_next) {
            if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) {
                continue;
            }
            if (i->ifa_addr->sa_family == AF_INET && a.is_v4()) {
                auto* s = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
                found = std::memcmp(&s->sin_addr, a.data(), 4) == 0;
            } else if (i->ifa_addr->sa_family == AF_INET6 && a.is_v6()) {
                auto* s = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
                found = std::memcmp(&s->sin6_addr, a.data(), 16) == 0;
            }
        }
        ::freeifaddrs(ifa);
        return found;
    };
    v.resolve = [](const std::string& host, int family) -> std::optional<IpAddress> {
        addrinfo hints{};
        hints.ai_family = family == 6 ? AF_INET6 : family == 4 ? AF_INET : AF_UNSPEC;
        hints.ai_socktype = SOCK_DGRAM;
        addrinfo* res = nullptr;
        if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
            return std::nullopt;
        }
        std::optional<IpAddress> a;
        if (res->ai_family == AF_INET) {
            a = IpAddress::from_bytes(
                reinterpret_cast<uint8_t*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr),
                4);
        } else if (res->ai_family == AF_INET6) {
            a = IpAddress::from_bytes(
                reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr.s6_addr, 16);
        }
        ::freeaddrinfo(res);
        return a;
    };
    return v;
}

std::vector<EnabledView> Server::enabled_views() const {
    std::vector<EnabledView> v;
    for (const auto& [k, c] : conns_) {
        if ((c.state == ConnState::Enabled || c.state == ConnState::Starting ||
             c.state == ConnState::OnDemand) &&
            c.plan) {
            v.push_back({c.ref.name, c.plan->local_data, c.plan->remote_data});
        }
    }
    return v;
}

bool Server::begin_start(Conn& c, std::optional<IpAddress> populated_remote) {
    c.last_error.reset();
    c.autostart_pending = false;
    c.sa_algorithms = {};
    return c.ref.manual ? begin_manual(c) : begin_dynamic(c, populated_remote);
}

bool Server::begin_dynamic(Conn& c, std::optional<IpAddress> populated_remote) {
    auto pol = policy_->dynamic_policy(c.ref.name);
    if (!pol.ok()) {
        fail_start(c, pol.error(), 1);
        return false;
    }
    std::string group = c.ref.group;
    FilterSource filters = [this, group] { return rules_->policy_filters(group); };
    auto checked = check_dynamic_start(*pol, system_view(), filters, enabled_views(),
                                       populated_remote);
    if (auto* f = std::get_if<CheckFailure>(&checked)) {
        fail_start(c, f->detail, f->reason);
        return false;
    }
    c.plan = std::get<StartPlan>(checked);
    if (c.reqid == 0) {
        c.reqid = next_reqid_++;
    }
    c.km_name = c.ref.name;
    c.responder = false;
    c.end_requested = false;
    // On-demand: traps now, negotiation with the first packet.
    if (c.ref.on_demand && c.state == ConnState::Idle && !populated_remote) {
        return arm_on_demand(c);
    }
    KeyManager* km = kms_->for_version(c.ref.ike_version);
    if (km == nullptr || !km->ready) {
        fail_start(c, msg("TCP8605"), 5);
        return false;
    }
    if (!set_state(c, ConnState::Starting).ok()) {
        return false;
    }
    c.start_us = now_us();
    json init = {{"op", "initiate"},
                 {"conn", c.ref.name},
                 {"reqid", c.reqid},
                 {"policy", ipc::policy_to_json(*pol)}};
    if (c.plan->populated) {
        init["remote_data"] = c.plan->remote_data.from.to_string();
    }
    if (auto s = kms_->send(*km, ipc::encode_control(init)); !s.ok()) {
        fail_start(c, s.error(), 5);
        return false;
    }
    journal(c, "*STARTING", {}, "1");
    return true;
}

bool Server::begin_manual(Conn& c) {
    auto m = policy_->manual_policy(c.ref.name);
    if (!m.ok()) {
        fail_start(c, m.error(), 1);
        return false;
    }
    std::string name = c.ref.name;
    FilterSource filters = [this, name] { return rules_->policy_filters(name); };
    auto checked = check_manual_start(*m, system_view(), filters, enabled_views());
    if (auto* f = std::get_if<CheckFailure>(&checked)) {
        fail_start(c, f->detail, f->reason);
        return false;
    }
    c.plan = std::get<StartPlan>(checked);
    if (c.reqid == 0) {
        c.reqid = next_reqid_++;
    }
    c.km_name = c.ref.name;
    c.end_requested = false;
    if (!set_state(c, ConnState::Starting).ok()) {
        return false;
    }
    c.start_us = now_us();
    sa::ChildSa ch;
    ch.conn = c.ref.name;
    ch.reqid = c.reqid;
    ch.mode = m->mode == policy::Mode::Tunnel ? sa::Mode::Tunnel : sa::Mode::Transport;
    ch.local = c.plan->local_endpoint;
    ch.remote = c.plan->remote_endpoint;
    sa::TrafficSelector tl, tr;
    tl.addrs = c.plan->local_data;
    tr.addrs = c.plan->remote_data;
    tl.ip_proto = tr.ip_proto = static_cast<uint8_t>(m->ip_protocol);
    if (m->local_port != 0) {
        tl.port_from = tl.port_to = static_cast<uint16_t>(m->local_port);
    }
    if (m->remote_port != 0) {
        tr.port_from = tr.port_to = static_cast<uint16_t>(m->remote_port);
    }
    ch.ts_local = {tl};
    ch.ts_remote = {tr};
    fill_manual_keys(*m, ch);
    if (auto s = sa_->install(ch); !s.ok()) {
        fail_start(c, s.error(), 6);
        return false;
    }
    c.children = {{ch, now_us()}};
    if (!set_state(c, ConnState::Enabled).ok()) {
        return false;
    }
    log_.message(msg("VMN0014", c.ref.name), {.conn = c.ref.name});
    journal(c, "*ENABLED");
    return true;
}

void Server::fill_manual_keys(const policy::ManualConnection& m, sa::ChildSa& ch) {
    bool esp = m.protocol == policy::Protocol::Esp || m.protocol == policy::Protocol::AhEsp;
    bool ah = m.protocol == policy::Protocol::Ah || m.protocol == policy::Protocol::AhEsp;
    if (esp) {
        ike::crypto::EncrAlg e = ike::crypto::encr_from_policy(m.encryption);
        ike::IntegId i = ike::crypto::integ_from_policy(m.authentication);
        auto keys = [&](uint32_t spi, const SecretBytes& ek, const SecretBytes& ak) {
            sa::SaKeys k;
            k.spi = spi;
            k.encr = e.id;
            k.encr_key_bits = e.key_bits;
            k.encr_key = ek;  // key || salt, as the manual key is stored
            k.integ = i;
            k.integ_key = ak;
            return k;
        };
        ch.esp = sa::SaPair{keys(m.esp.spi_in, m.esp.enc_in, m.esp.auth_in),
                            keys(m.esp.spi_out, m.esp.enc_out, m.esp.auth_out)};
    }
    if (ah) {
        policy::DataAuth a =
            m.protocol == policy::Protocol::AhEsp ? m.ah_authentication : m.authentication;
        ike::IntegId i = ike::crypto::integ_from_policy(a);
        auto keys = [&](uint32_t spi, const SecretBytes& ak) {
            sa::SaKeys k;
            k.spi = spi;
            k.integ = i;
            k.integ_key = ak;
            return k;
        };
        ch.ah = sa::SaPair{keys(m.ah.spi_in, m.ah.auth_in), keys(m.ah.spi_out, m.ah.auth_out)};
    }
    // RFC 4303 2.2 and 3.4.3: a manually keyed SA cannot keep its sequence
    // numbers across a restart of either side, so the receiver does not check
    // them (otherwise the first restart would make every packet a replay).
    ch.replay_window = 0;
}

bool Server::arm_on_demand(Conn& c) {
    sa::Trap t;
    t.conn = c.ref.name;
    t.reqid = c.reqid;
    t.local = c.plan->local_endpoint;
    t.remote = c.plan->remote_endpoint;
    sa::TrafficSelector tl, tr;
    tl.addrs = c.plan->local_data;
    tr.addrs = c.plan->remote_data;
    t.ts_local = {tl};
    t.ts_remote = {tr};
    if (auto s = sa_->install_trap(t); !s.ok()) {
        fail_start(c, s.error(), 6);
        return false;
    }
    c.trap = t;
    if (!set_state(c, ConnState::OnDemand).ok()) {
        return false;
    }
    log_.message(msg("VMN0024", c.ref.name), {.conn = c.ref.name});
    journal(c, "*ONDEMAND");
    return true;
}

void Server::fail_start(Conn& c, const Msg& detail, int reason) {
    // The seed: the detail message, then the action message with its reason.
    c.last_error = detail;
    Msg action = msg("TCP8601", c.ref.name, reason);
    log_.message(detail, {.conn = c.ref.name});
    log_.message(action, {.conn = c.ref.name});
    for (const auto& ch : c.children) {
        (void)sa_->remove(ch.sa.reqid);
    }
    c.children.clear();
    // Whatever the key manager still holds for it goes too (with the peer).
    if (!c.ref.manual && is_active(c.state)) {
        send_terminate(c);
    }
    if (c.trap) {
        (void)sa_->remove_trap(c.trap->reqid);
        c.trap.reset();
    }
    if (c.state != ConnState::Error) {
        (void)set_state(c, ConnState::Error);
    }
    journal(c, "*ERROR", detail.id);
    wake_start_waiters(c, ipc::Reply::failure({detail, action}));
}

void Server::wake_start_waiters(Conn& c, const ipc::Reply& r) {
    if (c.start_timer != 0) {
        loop_.cancel(c.start_timer);
        c.start_timer = 0;
    }
    for (int fd : c.start_waiters) {
        if (clients_.count(fd) != 0) {
            reply(fd, r);
            drop_client(fd);
        }
    }
    c.start_waiters.clear();
}

void Server::begin_end(Conn& c, bool by_server) {
    c.server_initiated_end = by_server;
    c.end_requested = true;
    if (c.state == ConnState::Error || c.state == ConnState::OnDemand) {
        if (set_state(c, ConnState::Stopping).ok()) {
            finish_end(c, std::nullopt);
        }
        return;
    }
    wake_start_waiters(c, ipc::Reply::failure({msg("TCP8601", c.ref.name, 0)}));
    if (!set_state(c, ConnState::Stopping).ok()) {
        return;
    }
    if (c.ref.manual) {
        finish_end(c, std::nullopt);
        return;
    }
    // The key manager deletes the SAs on both sides (INFORMATIONAL Delete),
    // then reports child_down; we remove ours when it does, or on timeout.
    KeyManager* km = kms_->for_version(c.ref.ike_version);
    bool sent = km != nullptr && km->ready &&
                kms_->send(*km, ipc::encode_control({{"op", "terminate"}, {"conn", c.km_name}}))
                    .ok();
    if (!sent) {
        log_.message(msg("TCP8605"), {.conn = c.ref.name});
        finish_end(c, msg("TCP8602", c.ref.name, 2));
        return;
    }
    std::string key = upper_key(c.ref.name);
    c.end_timer = loop_.after(kEndTimeout, [this, key] {
        auto it = conns_.find(key);
        if (it != conns_.end() && it->second.state == ConnState::Stopping) {
            Conn& cn = it->second;
            cn.end_timer = 0;
            log_.message(msg("VMN0026", cn.ref.name, kEndTimeout.count()), {.conn = cn.ref.name});
            finish_end(cn, msg("TCP8602", cn.ref.name, 4));
        }
    });
}

void Server::finish_end(Conn& c, std::optional<Msg> problem) {
    if (c.end_timer != 0) {
        loop_.cancel(c.end_timer);
        c.end_timer = 0;
    }
    for (const auto& ch : c.children) {
        if (auto s = sa_->remove(ch.sa.reqid); !s.ok()) {
            log_.message(s.error(), {.conn = c.ref.name});
            problem = msg("TCP8602", c.ref.name, 3);
        }
    }
    c.children.clear();
    if (c.trap) {
        if (auto s = sa_->remove_trap(c.trap->reqid); !s.ok()) {
            log_.message(s.error(), {.conn = c.ref.name});
            problem = msg("TCP8602", c.ref.name, 3);
        }
        c.trap.reset();
    }
    (void)set_state(c, ConnState::Idle);
    journal(c, "*STOPPED");
    std::vector<Msg> msgs;
    if (problem) {
        log_.message(*problem, {.conn = c.ref.name});
        msgs.push_back(*problem);
    }
    msgs.push_back(msg("VMN0015", c.ref.name));
    log_.message(msgs.back(), {.conn = c.ref.name});
    for (int fd : c.end_waiters) {
        if (clients_.count(fd) != 0) {
            reply(fd, problem && problem->value(2) == "3" ? ipc::Reply::failure(msgs)
                                                          : ipc::Reply::success(msgs));
            drop_client(fd);
        }
    }
    c.end_waiters.clear();
    bool rearm = c.ref.on_demand && !c.end_requested && !shutting_down_;
    c.end_requested = false;
    if (rearm) {
        // An on-demand connection the peer ended waits for traffic again.
        (void)begin_dynamic(c, std::nullopt);
    }
    maybe_finish_shutdown();
}

void Server::journal(const Conn& c, std::string_view state, const std::string& errc,
                     const std::string& phase) {
    if (!journals_activity(c.ref.journaling) || !jrn_) {
        return;
    }
    journal::TsEntry e;
    e.cmpn = "QTOVMAN";
    e.conm = c.ref.name;
    e.coty = c.ref.manual ? "*MANUAL" : "*DYNAMIC";
    e.cos = std::string(state);
    if (c.start_us != 0) {
        e.cosd = journal::date8(c.start_us);
        e.cost = journal::time6(c.start_us);
    }
    if (state == "*STOPPED" || state == "*ERROR") {
        int64_t t = now_us();
        e.coed = journal::date8(t);
        e.coet = journal::time6(t);
    }
    e.trpr = "*ANY";
    e.lcpr = e.cpr = "*ANY";
    if (c.plan) {
        e.lcad = c.plan->local_data.to_string();
        e.rcad = c.plan->remote_data.to_string();
        e.lep = c.plan->local_endpoint.to_string();
        e.rep = c.plan->remote_endpoint.to_string();
    }
    e.corf = std::to_string(c.refreshes);
    if (!c.children.empty()) {
        const sa::Lifetime& lt = c.children.back().sa.lifetime;
        if (lt.soft_seconds > 0) {
            int64_t next =
                c.children.back().since_us + static_cast<int64_t>(lt.soft_seconds) * 1000000;
            e.rfda = journal::date8(next);
            e.rfti = journal::time6(next);
        }
        e.rfls = lt.soft_bytes > 0 ? std::to_string(lt.soft_bytes / 1024) : "*NOMAX";
    }
    e.saph = phase;
    e.errc = errc;
    if (!c.ike.is_null()) {
        e.auth = c.ike.value("auth", "");
        e.encr = c.ike.value("encr", "");
        std::string dh = c.ike.value("dh", "");
        e.dhgr = dh.rfind("*GRP", 0) == 0 ? dh.substr(4) : dh;
    }
    // A phase 2 entry names the CHILD_SA's algorithms, not the IKE SA's
    // (whose TSAUTH is the authentication method, *PSK or a signature); one
    // written once the CHILD_SA is gone (*STOPPED) names the last one's.
    if (phase == "2") {
        if (!c.children.empty()) {
            c.sa_algorithms = child_algorithms(c.children.back().sa);
        }
        e.auth = c.sa_algorithms.first;
        e.encr = c.sa_algorithms.second;
    }
    if (auto s = jrn_->append(e); !s.ok()) {
        log_.message(s.error(), {.conn = c.ref.name});
    }
}

// --- key managers -------------------------------------------------------------------

void Server::on_km_up(KeyManager& km) {
    log_.debug("km", km.job + " ready");
    if (km_lost_timer_ != 0) {
        loop_.cancel(km_lost_timer_);
        km_lost_timer_ = 0;
    }
    // Recovery after a restart: connections this system started that were
    // up or starting on this key manager negotiate again, under their reqid
    // (the new CHILD_SA replaces the old one, which carried traffic meanwhile).
    for (auto& [k, c] : conns_) {
        if (c.ref.ike_version != km.ike_version || c.ref.manual || c.responder) {
            continue;
        }
        if (c.autostart_pending) {
            c.autostart_pending = false;
            if (c.state == ConnState::Idle) {
                (void)begin_start(c);
            }
            continue;
        }
        if (c.state == ConnState::Starting && c.start_us != 0) {
            auto pol = policy_->dynamic_policy(c.ref.name);
            if (!pol.ok()) {
                fail_start(c, pol.error(), 1);
                continue;
            }
            log_.debug("km", "negotiating " + c.ref.name + " again", {.conn = c.ref.name});
            json init = {{"op", "initiate"},
                         {"conn", c.km_name},
                         {"reqid", c.reqid},
                         {"policy", ipc::policy_to_json(*pol)}};
            if (auto s = kms_->send(km, ipc::encode_control(init)); !s.ok()) {
                fail_start(c, s.error(), 5);
            }
        }
    }
}

void Server::on_km_down(KeyManager& km) {
    // Connections of this key manager lose their negotiator. Enabled ones
    // this system started keep their SAs and negotiate again once it is back
    // (on_km_up); those a peer started cannot be re-initiated here and end in
    // error, as do those still starting when it does not come back in time.
    int version = km.ike_version;
    for (auto& [k, c] : conns_) {
        if (c.ref.ike_version != version || c.ref.manual) {
            continue;
        }
        if (c.state == ConnState::Stopping) {
            finish_end(c, msg("TCP8602", c.ref.name, 2));
        } else if (c.responder && is_active(c.state)) {
            fail_start(c, msg("TCP8605"), 5);
        } else if (c.state == ConnState::Enabled) {
            (void)set_state(c, ConnState::Starting);
            journal(c, "*STARTING", "TCP8605", "1");
        }
    }
    if (km_lost_timer_ == 0 && !shutting_down_) {
        km_lost_timer_ = loop_.after(kKeyManagerGrace, [this, version] {
            km_lost_timer_ = 0;
            KeyManager* again = kms_->for_version(version);
            if (again != nullptr && again->ready) {
                return;
            }
            for (auto& [k, c] : conns_) {
                if (c.ref.ike_version == version && !c.ref.manual &&
                    c.state == ConnState::Starting) {
                    fail_start(c, msg("TCP8605"), 5);
                }
            }
        });
    }
    if (shutting_down_) {
        maybe_finish_shutdown();
    }
}

void Server::on_km_message(KeyManager& km, const ipc::KmMessage& m) {
    if (!m.is_control()) {
        // An IKE datagram to send.
        Bytes out;
        if (m.header.non_esp_marker) {
            out.assign(4, 0);
        }
        out.insert(out.end(), m.payload.begin(), m.payload.end());
        auto s = udp_->send(m.header.local, m.header.local_port, m.header.remote,
                            m.header.remote_port, out);
        if (!s.ok()) {
            log_.debug("udp", km.job + " send: " + msgcat::line(s.error()));
        }
        return;
    }
    const json& j = m.control;
    std::string op = j["op"].get<std::string>();
    if (op == "ike_up") {
        km_ike_up(km, j);
    } else if (op == "child_up") {
        km_child_up(j);
    } else if (op == "child_rekeyed") {
        km_child_rekeyed(j);
    } else if (op == "child_down") {
        km_child_down(j);
    } else if (op == "ike_down") {
        km_ike_down(j);
    } else if (op == "failed") {
        km_failed(j);
    } else {
        log_.debug("km", km.job + " sent op " + op);
    }
}

Conn* Server::find_by_km(const std::string& km_name) {
    if (km_name.empty()) {
        return nullptr;
    }
    Conn* last = nullptr;
    for (auto& [k, c] : conns_) {
        if (!iequals(c.km_name, km_name)) {
            continue;
        }
        if (is_active(c.state)) {
            return &c;
        }
        last = &c;
    }
    return last;
}

void Server::km_ike_up(KeyManager& km, const json& j) {
    std::string name = j.value("conn", "");
    Conn* c = find_by_km(name);
    bool initiator = !j.contains("initiator") || !j["initiator"].is_boolean() ||
                     j["initiator"].get<bool>();
    if (!initiator && (c == nullptr || !is_active(c->state))) {
        c = adopt_responder(name, j.value("group", ""), km.ike_version);
    }
    if (c == nullptr) {
        log_.debug("km", "ike_up for unknown connection " + name);
        return;
    }
    bool first = c->ike.is_null();
    c->ike = j;
    if (first && c->responder) {
        log_.message(msg("VMN0028", c->ref.group, j.value("peer", "?"), c->ref.name, c->km_name),
                     {.conn = c->ref.name});
    }
    journal(*c, state_name(c->state), {}, "1");
}

void Server::km_ike_down(const json& j) {
    Conn* c = find_by_km(j.value("conn", ""));
    if (c == nullptr) {
        return;
    }
    // The phase 1 SA is gone (deleted, expired, or the peer stopped
    // answering); its CHILD_SAs went with it (child_down came first).
    journal(*c, "*STOPPED", {}, "1");
    c->ike = json();
}

Conn* Server::adopt_responder(const std::string& km_name, const std::string& group_hint,
                              int ike_version) {
    std::string group = group_hint;
    if (group.empty()) {
        auto colon = km_name.rfind(':');
        if (colon == std::string::npos) {
            return nullptr;
        }
        group = km_name.substr(0, colon);
    }
    // <group>:R<n>, the lowest n no connection is using (one in error keeps
    // its name until it is reset).
    std::string name;
    int& below = responder_in_use_below_[upper_key(group)];
    for (int n = std::max(below, 1);; ++n) {
        name = group + ":R" + std::to_string(n);
        auto it = conns_.find(upper_key(name));
        if (it == conns_.end() || it->second.state == ConnState::Idle) {
            below = n;
            break;
        }
    }
    auto ref = policy_->responder_ref(name, group);
    if (!ref.ok()) {
        log_.message(ref.error(), {.conn = km_name});
        return nullptr;
    }
    ref->ike_version = ike_version;
    Conn& c = conn_for(*ref);
    c.km_name = km_name;
    c.responder = true;
    c.reqid = 0;
    c.plan.reset();
    c.refreshes = 0;
    c.last_error.reset();
    c.ike = json();
    if (c.state == ConnState::Idle && set_state(c, ConnState::Starting).ok()) {
        c.start_us = now_us();
        log_.debug("conn", name + " is the key manager's " + km_name, {.conn = name});
    }
    return &c;
}

bool Server::admit_responder_child(Conn& c, const sa::ChildSa& ch) {
    auto g = policy_->group(c.ref.group);
    if (!g.ok()) {
        fail_start(c, g.error(), 1);
        return false;
    }
    if (ch.ts_local.empty() || ch.ts_remote.empty()) {
        fail_start(c, msg("XFR0001", "ts_local", "a CHILD_SA without traffic selectors"), 6);
        return false;
    }
    const sa::TrafficSelector& tl = ch.ts_local.front();
    const sa::TrafficSelector& tr = ch.ts_remote.front();
    auto port = [](const sa::TrafficSelector& t) {
        return t.port_from == t.port_to ? int(t.port_from) : 0;
    };
    NegotiatedChild n{ch.local, ch.remote, tl.addrs, tr.addrs, tl.ip_proto, port(tl), port(tr)};
    std::string group = c.ref.group;
    FilterSource filters = [this, group] { return rules_->policy_filters(group); };
    auto checked = check_responder_child(*g, c.ref.name, n, filters, enabled_views());
    if (auto* f = std::get_if<CheckFailure>(&checked)) {
        fail_start(c, f->detail, f->reason);
        return false;
    }
    c.plan = std::get<StartPlan>(checked);
    return true;
}

void Server::km_child_up(const json& j) {
    std::string name = j.value("conn", "");
    auto ch = sa::child_sa_from_json(j.contains("sa") ? j["sa"] : json());
    int version = j.value("ike_version", 2);
    Conn* c = find_by_km(name);
    if (c == nullptr || !is_active(c->state)) {
        // A connection the peer started; its ike_up normally came first.
        c = adopt_responder(name, j.value("group", ""), version);
    }
    KeyManager* km = kms_->for_version(c != nullptr ? c->ref.ike_version : version);
    auto answer = [&](bool ok) {
        if (km != nullptr) {
            (void)kms_->send(*km, ipc::encode_control({{"op", "installed"},
                                                       {"conn", name},
                                                       {"reqid", j.value("reqid", 0)},
                                                       {"ok", ok}}));
        }
    };
    if (c == nullptr || (c->state != ConnState::Starting && c->state != ConnState::Enabled)) {
        answer(false);
        return;
    }
    if (!ch.ok()) {
        answer(false);
        fail_start(*c, ch.error(), 6);
        return;
    }
    if (c->responder && c->state == ConnState::Starting && !admit_responder_child(*c, *ch)) {
        answer(false);
        return;
    }
    // After a key manager restart the connection negotiates again under its
    // reqid while the old SAs still carry traffic: replace, new first.
    auto same = [&](const InstalledChild& x) { return x.sa.reqid == ch->reqid; };
    bool again = std::any_of(c->children.begin(), c->children.end(), same);
    auto installed = again ? sa_->replace(ch->reqid, *ch) : sa_->install(*ch);
    if (!installed.ok()) {
        answer(false);
        fail_start(*c, installed.error(), 6);
        return;
    }
    std::erase_if(c->children, same);
    c->children.push_back({*ch, now_us()});
    if (!c->plan && !ch->ts_local.empty() && !ch->ts_remote.empty()) {
        c->plan = StartPlan{ch->local, ch->remote, ch->ts_local[0].addrs, ch->ts_remote[0].addrs};
    }
    // The data path is ready before the key manager (and the peer) hear so.
    answer(true);
    if (c->state == ConnState::Enabled) {
        journal(*c, "*ENABLED");  // another CHILD_SA of the same connection
        return;
    }
    if (set_state(*c, ConnState::Enabled).ok()) {
        log_.message(msg("VMN0014", c->ref.name), {.conn = c->ref.name});
        journal(*c, "*ENABLED");
        wake_start_waiters(*c, ipc::Reply::success({msg("VMN0014", c->ref.name)}));
    }
}

void Server::km_child_rekeyed(const json& j) {
    Conn* c = find_by_km(j.value("conn", ""));
    if (c == nullptr || !is_active(c->state)) {
        return;
    }
    auto ch = sa::child_sa_from_json(j.contains("sa") ? j["sa"] : json());
    if (!ch.ok()) {
        log_.message(ch.error(), {.conn = c->ref.name});
        return;
    }
    // The backend installs the new CHILD_SA first, then removes the old;
    // the old inbound SAs take late packets a little longer.
    uint32_t old = j.value("old_reqid", ch->reqid);
    bool have_old = std::any_of(c->children.begin(), c->children.end(),
                                [old](const InstalledChild& x) { return x.sa.reqid == old; });
    auto s = have_old ? sa_->replace(old, *ch) : sa_->install(*ch);
    if (!s.ok()) {
        log_.message(s.error(), {.conn = c->ref.name});
        return;
    }
    std::erase_if(c->children, [&](const InstalledChild& x) {
        return x.sa.reqid == old || x.sa.reqid == ch->reqid;
    });
    c->children.push_back({*ch, now_us()});
    ++c->refreshes;
    log_.debug("conn", c->ref.name + " CHILD_SA refreshed (" + std::to_string(c->refreshes) + ")",
               {.conn = c->ref.name});
    journal(*c, state_name(c->state));
}

void Server::km_child_down(const json& j) {
    Conn* c = find_by_km(j.value("conn", ""));
    if (c == nullptr || !is_active(c->state)) {
        return;
    }
    uint32_t reqid = j.value("reqid", 0u);
    auto it = std::find_if(c->children.begin(), c->children.end(),
                           [reqid](const InstalledChild& x) { return x.sa.reqid == reqid; });
    if (it != c->children.end()) {
        if (auto s = sa_->remove(reqid); !s.ok()) {
            log_.message(s.error(), {.conn = c->ref.name});
        }
        c->children.erase(it);
    }
    if (!c->children.empty()) {
        journal(*c, state_name(c->state));
        return;
    }
    if (c->state == ConnState::Stopping) {
        finish_end(*c, std::nullopt);
    } else if (c->state == ConnState::Enabled) {
        // The peer deleted the connection (or stopped answering).
        log_.message(msg("VMN0027", c->ref.name, j.value("reason", "deleted")),
                     {.conn = c->ref.name});
        if (set_state(*c, ConnState::Stopping).ok()) {
            finish_end(*c, std::nullopt);
        }
    }
}

void Server::km_failed(const json& j) {
    Conn* c = find_by_km(j.value("conn", ""));
    if (c == nullptr) {
        return;
    }
    auto m = ipc::msg_from_json(j);
    Msg detail = m.ok() ? *m : msg("TCP8606", c->ref.name, "8300");
    if (detail.id == "TCP8606" && !detail.values.empty()) {
        detail.values[0] = c->ref.name;  // a responder's own name, not the key manager's
    }
    if (c->state == ConnState::Starting || c->state == ConnState::Enabled) {
        fail_start(*c, detail, reason_for(detail.id));
    } else {
        log_.message(detail, {.conn = c->ref.name});
    }
}

void Server::send_terminate(Conn& c) {
    KeyManager* km = kms_->for_version(c.ref.ike_version);
    if (km == nullptr || !km->ready || c.km_name.empty()) {
        return;
    }
    (void)kms_->send(*km, ipc::encode_control({{"op", "terminate"}, {"conn", c.km_name}}));
}

// --- datagrams and SA events --------------------------------------------------------

void Server::on_udp(int fd) {
    for (int i = 0; i < 64; ++i) {
        auto d = udp_->receive(fd);
        if (!d) {
            return;
        }
        bool natt = d->local_port == udp_->natt_port();
        ByteView data(d->data);
        if (natt) {
            // RFC 3948: a lone 0xFF is a NAT keepalive; a non-zero first
            // word is an ESP SPI; four zero bytes mark IKE.
            if (data.size() == 1 && data[0] == 0xff) {
                continue;
            }
            if (data.size() >= 4 && (data[0] | data[1] | data[2] | data[3]) != 0) {
                sa_->input_udp(data, d->remote, d->remote_port, d->local, d->local_port);
                continue;
            }
            if (data.size() < 4) {
                continue;
            }
            data = data.subspan(4);
        }
        // RFC 7296 3.1: the version octet is at offset 17.
        if (data.size() < 28) {
            continue;
        }
        int major = data[17] >> 4;
        KeyManager* km = kms_->for_version(major);
        if (km == nullptr || !km->ready) {
            if (dropped_no_km_++ % 100 == 0) {
                log_.message(msg("VMN001F", major, d->remote.to_string()));
            }
            continue;
        }
        ipc::PacketHeader h{d->local, d->local_port, d->remote, d->remote_port, natt};
        if (auto s = kms_->send(*km, ipc::encode_packet(h, data)); !s.ok()) {
            ++dropped_no_km_;
        }
    }
}

void Server::on_sa_events() {
    for (const auto& ev : sa_->events()) {
        Conn* c = nullptr;
        for (auto& [k, cn] : conns_) {
            bool mine = cn.reqid == ev.reqid ||
                        std::any_of(cn.children.begin(), cn.children.end(),
                                    [&](const InstalledChild& x) { return x.sa.reqid == ev.reqid; });
            if (mine && ev.reqid != 0) {
                c = &cn;
            }
        }
        if (c == nullptr) {
            log_.debug("sa", std::string(sa::to_string(ev.kind)) + " for unknown reqid " +
                                 std::to_string(ev.reqid));
            continue;
        }
        if (ev.kind == sa::SaEvent::Kind::Acquire) {
            if (c->state == ConnState::OnDemand) {
                log_.debug("conn", c->ref.name + " traffic " + ev.src.to_string() + " -> " +
                                       ev.dst.to_string() + " starts it",
                           {.conn = c->ref.name});
                (void)begin_dynamic(*c, ev.dst);
            }
            continue;
        }
        // Lifetimes: the key manager rekeys (soft) or deletes the CHILD_SA
        // with the peer (hard), then reports what changed.
        bool hard = ev.kind == sa::SaEvent::Kind::HardExpire;
        char spi[16];
        std::snprintf(spi, sizeof spi, "%08x", ev.spi);
        log_.debug("sa", std::string(hard ? "hard" : "soft") + " expire of " + spi,
                   {.conn = c->ref.name});
        KeyManager* km = c->ref.manual ? nullptr : kms_->for_version(c->ref.ike_version);
        if (km != nullptr && km->ready &&
            kms_->send(*km, ipc::encode_control({{"op", "expire"},
                                                 {"conn", c->km_name},
                                                 {"reqid", ev.reqid},
                                                 {"spi", spi},
                                                 {"hard", hard}}))
                .ok()) {
            continue;
        }
        if (hard) {
            // Nobody to renegotiate it: the SA is gone, so is the connection.
            km_child_down({{"conn", c->km_name}, {"reqid", ev.reqid}, {"reason", "expired"}});
        }
    }
}

void Server::on_signal() {
    signalfd_siginfo si{};
    while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            kms_->reap();
            maybe_finish_shutdown();
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            begin_shutdown();
        }
    }
}

void Server::autostart() {
    auto all = policy_->connections();
    if (!all.ok()) {
        log_.debug("server", "autostart: " + msgcat::line(all.error()));
        return;
    }
    for (const auto& ref : *all) {
        if (!ref.autostart && !ref.on_demand) {
            continue;
        }
        Conn& c = conn_for(ref);
        if (c.state != ConnState::Idle) {
            continue;
        }
        // A dynamic connection to negotiate now waits for its key manager's
        // hello (on_km_up); one that is not installed fails it now (TCP8605).
        KeyManager* km = ref.manual || ref.on_demand ? nullptr : kms_->for_version(ref.ike_version);
        if (km != nullptr && km->installed && !km->ready) {
            c.autostart_pending = true;
            continue;
        }
        (void)begin_start(c);
    }
}

void Server::maybe_finish_shutdown() {
    if (!shutting_down_) {
        return;
    }
    for (const auto& [k, c] : conns_) {
        if (c.state == ConnState::Stopping) {
            return;
        }
    }
    kms_->shutdown_all();
    if (kms_->all_ended()) {
        finish_shutdown();
    }
}

void Server::finish_shutdown() {
    if (shutdown_timer_ != 0) {
        loop_.cancel(shutdown_timer_);
        shutdown_timer_ = 0;
    }
    kms_->kill_all();
    if (auto s = sa_->remove_all(); !s.ok()) {
        log_.message(s.error());
    }
    (void)policy_->reset_states();
    if (listen_fd_ >= 0) {
        loop_.remove(listen_fd_);
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(ipc::control_socket_path().c_str());
    }
    log_.message(msg("VMN0002"));
    for (int fd : shutdown_waiters_) {
        if (clients_.count(fd) != 0) {
            reply(fd, ipc::Reply::success({msg("VMN0002")}));
            drop_client(fd);
        }
    }
    shutdown_waiters_.clear();
    loop_.stop();
}

}  // namespace qvpn::vman
