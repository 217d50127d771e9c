// hs_load: the IKE handshake load generator of bench/handshake.
//
// One process drives many IKEv2 initiators with qvpn's exchange engine over
// plain UDP sockets: one source address per IKE SA (bound on ports 500 and
// 4500, so a responder that moves to NAT-T finds us there), each proposing
// its own /32 as TSi, so no two CHILD_SAs overlap. At most --window
// handshakes are in flight; every IKE SA that ends with its CHILD_SA
// installed (or failed) lets the next one start.
//
//   hs_load --responder ADDR --first-addr ADDR --count N --inner-first ADDR
//           --remote-net ADDR/LEN --group 19|14 [--window W] [--start-at EPOCH_MS]
//           [--timeout SECONDS] [--index I]
//   (the preshared key comes from $HB_PSK, so it is not in the process list)
//
// When every IKE SA has an outcome it prints one JSON line on stdout:
//   {"index":0,"count":250,"established":250,"failed":0,"start_us":...,
//    "first_up_us":...,"last_up_us":...,"retransmits":0,"cookies":0}
// (times in microseconds of the realtime clock, comparable across processes)
// and keeps serving its IKE SAs until SIGTERM or SIGINT, so the responder
// can be measured with every SA established. Exit 0 when all were
// established, 1 otherwise, 2 on bad arguments or sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/ip.hpp"
#include "core/msg/catalog.hpp"
#include "daemon/ikev2/engine/engine.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;

namespace {

struct Options {
    IpAddress responder;
    IpAddress first_addr;
    int count = 0;
    IpAddress inner_first;
    IpRange remote_net;
    policy::DhGroup group = policy::DhGroup::Grp19;
    int window = 32;
    int64_t start_at_ms = 0;
    int timeout_s = 300;
    int index = 0;
    std::string psk;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "hs_load: %s\n"
                 "usage: hs_load --responder ADDR --first-addr ADDR --count N "
                 "--inner-first ADDR --remote-net ADDR/LEN --group 19|14 [--window W] "
                 "[--start-at EPOCH_MS] [--timeout S] [--index I]   (PSK in $HB_PSK)\n",
                 why.c_str());
    std::exit(2);
}

IpAddress parse_addr(const std::string& s) {
    auto a = IpAddress::parse(s);
    if (!a || !a->is_v4()) {
        usage("not an IPv4 address: " + s);
    }
    return *a;
}

Options parse_args(int argc, char** argv) {
    Options o;
    bool have_remote_net = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) {
            usage("missing value after " + a);
        }
        std::string v = argv[++i];
        if (a == "--responder") {
            o.responder = parse_addr(v);
        } else if (a == "--first-addr") {
            o.first_addr = parse_addr(v);
        } else if (a == "--count") {
            o.count = std::atoi(v.c_str());
        } else if (a == "--inner-first") {
            o.inner_first = parse_addr(v);
        } else if (a == "--remote-net") {
            auto slash = v.find('/');
            auto net = slash == std::string::npos ? std::nullopt
                                                  : IpRange::subnet(parse_addr(v.substr(0, slash)),
                                                                    v.substr(slash + 1));
            if (!net) {
                usage("--remote-net wants ADDR/LEN: " + v);
            }
            o.remote_net = *net;
            have_remote_net = true;
        } else if (a == "--group") {
            o.group = v == "14"   ? policy::DhGroup::Grp14
                      : v == "19" ? policy::DhGroup::Grp19
                                  : (usage("--group is 19 or 14"), policy::DhGroup::None);
        } else if (a == "--window") {
            o.window = std::max(1, std::atoi(v.c_str()));
        } else if (a == "--start-at") {
            o.start_at_ms = std::atoll(v.c_str());
        } else if (a == "--timeout") {
            o.timeout_s = std::max(1, std::atoi(v.c_str()));
        } else if (a == "--index") {
            o.index = std::atoi(v.c_str());
        } else {
            usage("unknown argument " + a);
        }
    }
    const char* psk = std::getenv("HB_PSK");
    o.psk = psk != nullptr ? psk : "";
    if (o.count <= 0 || o.psk.empty() || !have_remote_net || o.responder.is_unspecified() ||
        o.first_addr.is_unspecified() || o.inner_first.is_unspecified()) {
        usage("--responder, --first-addr, --count, --inner-first, --remote-net and $HB_PSK "
              "are required");
    }
    return o;
}

int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The initiator never answers an IKE SA it did not start.
class NoResponder final : public PolicySource {
public:
    Result<InitPolicy> for_init(const IpAddress& peer) override {
        return fail("IKE0905", "*ANY", peer.to_string());
    }
    Result<ResolvedPeer> for_auth(const IpAddress& peer, const policy::Identity&) override {
        return fail("IKE0905", "*ANY", peer.to_string());
    }
};

enum class SlotState { Waiting, Started, Up, Failed };

// One IKE SA: its source address, its sockets, its inner address.
struct Slot {
    IpAddress addr, inner;
    int fd500 = -1, fd4500 = -1;
    std::string conn;
    uint32_t reqid = 0;
    SlotState state = SlotState::Waiting;
    int64_t up_us = 0;
};

int bind_udp(const IpAddress& a, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int big = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.data(), 4);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

IpAddress plus(const IpAddress& a, int n) { return IpAddress::v4(a.v4_host_order() + n); }

// The connection one initiator starts: PSK, the benchmark's single IKE
// transform, ESP AES-GCM-128 without PFS (IKE_AUTH carries no KE anyway),
// its inner /32 against the responder's data subnet. No DPD from this side,
// so the responder's CPU time is the handshakes' alone.
policy::ConnectionPolicy make_policy(const Options& o, const Slot& s) {
    policy::ConnectionPolicy p;
    p.key.name = "HBKEY";
    p.key.remote = {policy::IdType::IPv4, o.responder.to_string()};
    p.key.auth = policy::AuthMethod::Psk;
    p.key.psk = SecretBytes(as_view(o.psk));
    p.key.has_psk = true;
    p.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, o.group}};
    p.data.name = "HBDATA";
    p.data.pfs = policy::DhGroup::None;
    p.data.transforms = {{policy::Protocol::Esp, policy::Encr::AesGcm128, policy::DataAuth::None}};
    p.group.name = "HB";
    p.group.data_policy = "HBDATA";
    p.group.policy_filter = policy::PolicyFilter::None;
    p.connection.name = s.conn;
    p.connection.group = "HB";
    p.connection.local_id = {policy::IdType::IPv4, s.addr.to_string()};
    p.connection.remote_id = {policy::IdType::IPv4, o.responder.to_string()};
    p.connection.local = {policy::EndpointType::IPv4, s.inner.to_string(), ""};
    p.connection.remote = {policy::EndpointType::IPv4Range, o.remote_net.from.to_string(),
                           o.remote_net.to.to_string()};
    p.attributes.dpd_seconds = 0;
    return p;
}

class Load {
public:
    explicit Load(Options o) : opts_(std::move(o)), engine_(clock_, rng_, none_, config()) {}

    int run();

private:
    static EngineConfig config() {
        EngineConfig c;
        // A loaded responder answers late; retransmitting after one second
        // would only add load. Six tries still end a dead exchange.
        c.retransmit_base = std::chrono::milliseconds(2000);
        return c;
    }
    bool open_sockets();
    void start_next();
    void perform();
    void on_readable(int fd);
    void fire_timers();
    int next_timeout_ms() const;
    void finish(Slot& s, SlotState st);
    void report() const;

    Options opts_;
    SystemClock clock_;
    SystemRandom rng_;
    NoResponder none_;
    Engine engine_;
    std::vector<Slot> slots_;
    std::unordered_map<uint32_t, size_t> by_addr_;  // source address -> slot
    std::unordered_map<int, std::pair<size_t, uint16_t>> by_fd_;
    std::unordered_map<std::string, size_t> by_conn_;
    std::multimap<SteadyTime, TimerId> due_;
    std::unordered_map<TimerId, std::multimap<SteadyTime, TimerId>::iterator> timers_;
    size_t next_ = 0;
    int in_flight_ = 0, done_ = 0, established_ = 0, failed_ = 0, lost_ = 0;
    int64_t start_us_ = 0, first_up_us_ = 0, last_up_us_ = 0;
    uint64_t send_errors_ = 0;
    int epfd_ = -1;
    int error_lines_ = 0;
};

bool Load::open_sockets() {
    // Two sockets per IKE SA: lift the soft descriptor limit to the hard one.
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < opts_.count; ++i) {
        Slot s;
        s.addr = plus(opts_.first_addr, i);
        s.inner = plus(opts_.inner_first, i);
        s.conn = "HB" + std::to_string(opts_.index) + "_" + std::to_string(i);
        s.reqid = 0x51560001 + static_cast<uint32_t>(i);
        s.fd500 = bind_udp(s.addr, 500);
        s.fd4500 = bind_udp(s.addr, 4500);
        if (s.fd500 < 0 || s.fd4500 < 0) {
            std::fprintf(stderr, "hs_load: bind %s: %s\n", s.addr.to_string().c_str(),
                         std::strerror(errno));
            return false;
        }
        for (auto [fd, port] : {std::pair{s.fd500, 500}, std::pair{s.fd4500, 4500}}) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
            by_fd_[fd] = {slots_.size(), static_cast<uint16_t>(port)};
        }
        by_addr_[s.addr.v4_host_order()] = slots_.size();
        by_conn_[s.conn] = slots_.size();
        slots_.push_back(std::move(s));
    }
    return true;
}

void Load::start_next() {
    while (in_flight_ < opts_.window && next_ < slots_.size()) {
        Slot& s = slots_[next_++];
        s.state = SlotState::Started;
        ++in_flight_;
        engine_.initiate(make_policy(opts_, s), s.reqid, Endpoint{s.addr, 500},
                         Endpoint{opts_.responder, 500});
        perform();
    }
}

void Load::finish(Slot& s, SlotState st) {
    if (s.state != SlotState::Started) {
        if (s.state == SlotState::Up && st == SlotState::Failed) {
            ++lost_;  // the responder took down an SA that was up
        }
        return;
    }
    s.state = st;
    --in_flight_;
    ++done_;
    if (st == SlotState::Up) {
        ++established_;
        s.up_us = wall_us();
        first_up_us_ = first_up_us_ == 0 ? s.up_us : first_up_us_;
        last_up_us_ = s.up_us;
    } else {
        ++failed_;
    }
}

void Load::perform() {
    for (auto& act : engine_.take_actions()) {
        if (auto* p = std::get_if<SendPacket>(&act)) {
            auto it = by_addr_.find(p->local.addr.v4_host_order());
            if (it == by_addr_.end()) {
                ++send_errors_;
                continue;
            }
            const Slot& s = slots_[it->second];
            Bytes out;
            if (p->non_esp_marker) {
                out.assign(4, 0);
            }
            out.insert(out.end(), p->data.begin(), p->data.end());
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(p->remote.port);
            std::memcpy(&to.sin_addr, p->remote.addr.data(), 4);
            int fd = p->local.port == 4500 ? s.fd4500 : s.fd500;
            if (::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof to) < 0) {
                ++send_errors_;
            }
        } else if (auto* t = std::get_if<ArmTimer>(&act)) {
            if (auto old = timers_.find(t->id); old != timers_.end()) {
                due_.erase(old->second);
            }
            timers_[t->id] = due_.emplace(t->when, t->id);
        } else if (auto* c = std::get_if<CancelTimer>(&act)) {
            if (auto old = timers_.find(c->id); old != timers_.end()) {
                due_.erase(old->second);
                timers_.erase(old);
            }
        } else if (auto* in = std::get_if<InstallChild>(&act)) {
            engine_.installed(in->conn, in->sa.reqid, true);
            if (auto it = by_conn_.find(in->conn); it != by_conn_.end()) {
                finish(slots_[it->second], SlotState::Up);
            }
        } else if (auto* rm = std::get_if<RemoveChild>(&act)) {
            if (auto it = by_conn_.find(rm->conn); it != by_conn_.end() && !rm->replaced) {
                finish(slots_[it->second], SlotState::Failed);
            }
        } else if (auto* f = std::get_if<Failed>(&act)) {
            if (auto it = by_conn_.find(f->conn); it != by_conn_.end()) {
                finish(slots_[it->second], SlotState::Failed);
            }
        } else if (auto* l = std::get_if<LogLine>(&act)) {
            // Errors go to stderr, a few of them: enough to say what went wrong.
            if (l->level >= joblog::Level::Error && !l->msg.id.empty() && error_lines_++ < 20) {
                std::fprintf(stderr, "hs_load[%d]: %s %s\n", opts_.index, l->msg.id.c_str(),
                             msgcat::first_level(l->msg).c_str());
            }
        }
    }
}

void Load::on_readable(int fd) {
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) {
        return;
    }
    const Slot& s = slots_[it->second.first];
    uint16_t port = it->second.second;
    for (;;) {
        uint8_t buf[65536];
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
        if (n <= 0) {
            return;
        }
        ByteView data(buf, static_cast<size_t>(n));
        bool marker = false;
        if (port == 4500) {
            // RFC 3948: four zero bytes mark IKE; anything else (ESP, a
            // keepalive) is not for the engine.
            if (data.size() < 4 || (data[0] | data[1] | data[2] | data[3]) != 0) {
                continue;
            }
            data = data.subspan(4);
            marker = true;
        }
        auto src = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&from.sin_addr), 4);
        engine_.on_packet(Endpoint{s.addr, port}, Endpoint{*src, ntohs(from.sin_port)}, marker,
                          data);
        perform();
    }
}

void Load::fire_timers() {
    SteadyTime now = clock_.now();
    while (!due_.empty() && due_.begin()->first <= now) {
        TimerId id = due_.begin()->second;
        due_.erase(due_.begin());
        timers_.erase(id);
        engine_.on_timer(id);
        perform();
    }
}

int Load::next_timeout_ms() const {
    if (due_.empty()) {
        return 1000;
    }
    auto d = std::chrono::ceil<std::chrono::milliseconds>(due_.begin()->first - clock_.now());
    return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 1000));
}

void Load::report() const {
    const Counters& k = engine_.counters();
    std::printf("{\"index\":%d,\"count\":%d,\"established\":%d,\"failed\":%d,\"lost\":%d,"
                "\"start_us\":%lld,\"first_up_us\":%lld,\"last_up_us\":%lld,"
                "\"retransmits\":%llu,\"cookies\":%llu,\"send_errors\":%llu}\n",
                opts_.index, opts_.count, established_, failed_, lost_,
                static_cast<long long>(start_us_), static_cast<long long>(first_up_us_),
                static_cast<long long>(last_up_us_),
                static_cast<unsigned long long>(k.retransmits_sent),
                static_cast<unsigned long long>(k.cookies_sent),
                static_cast<unsigned long long>(send_errors_));
    std::fflush(stdout);
}

int Load::run() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (!open_sockets()) {
        return 2;
    }
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.fd = sfd;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, sfd, &sev);

    // Every process starts at the same moment, after all have bound.
    if (opts_.start_at_ms > 0) {
        int64_t wait_us = opts_.start_at_ms * 1000 - wall_us();
        if (wait_us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
        }
    }
    start_us_ = wall_us();
    auto deadline = clock_.now() + std::chrono::seconds(opts_.timeout_s);
    start_next();
    bool reported = false;
    for (;;) {
        if (!reported && (done_ == opts_.count || clock_.now() >= deadline)) {
            report();
            reported = true;
        }
        epoll_event evs[64];
        int n = ::epoll_wait(epfd_, evs, 64, next_timeout_ms());
        if (n < 0 && errno != EINTR) {
            std::perror("hs_load: epoll_wait");
            return 2;
        }
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.fd == sfd) {
                if (!reported) {
                    report();
                }
                return established_ == opts_.count ? 0 : 1;
            }
            on_readable(evs[i].data.fd);
        }
        fire_timers();
        start_next();
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    Load load(std::move(o));
    return load.run();
}
