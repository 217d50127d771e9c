// qvpn-espctl: drive an SA backend by hand, with manually keyed CHILD_SAs
// from JSON files (daemon/sa/sa_json.hpp). For tests and benchmarks; the
// VPN server hosts the backends itself. Built, not installed.
//
//   qvpn-espctl run [options] [SA.json ...]
//       Installs the CHILD_SAs, prints "READY ...", then serves commands on
//       standard input until SIGINT/SIGTERM or "quit"; removes everything
//       it installed before it exits. Events print as "EVENT {json}".
//       Commands (one per line; answers "OK {json}" or "ERR <msgid> <text>"):
//         install FILE | replace OLD_REQID FILE | remove REQID
//         trap FILE | untrap REQID | counters REQID | drops REQID
//         stats | cleanup | quit
//   qvpn-espctl cleanup [options]   remove what a crashed run left behind
//   qvpn-espctl probe               exit 0 if the kernel accepts ESP states
//   qvpn-espctl inject --to ADDR --spi HEX [--count N] [--ike-port P]
//       Send N malformed packets at ADDR: raw ESP and AH with the SPI and
//       garbage (random lengths, truncated headers, bad ICVs), random SPIs,
//       and with --ike-port the same as ESP-in-UDP. For robustness tests.
//   qvpn-espctl udp-encap --ike-port P
//       Hold a UDP socket on port P with UDP_ENCAP_ESPINUDP until a signal:
//       what a kernel-keyed peer (ip xfrm) needs to receive ESP-in-UDP.
//
// Options: --backend kernel|userspace|auto (userspace), --tun NAME (qvpn0),
// --mtu N (1400), --table N, --rule-priority N, --workers N,
// --udp-port P (the data path's own ESP-in-UDP socket, read by its workers),
// --ike-port P (a socket like QTOVMAN's port 4500: prepared through
// prepare_ike_socket(), read here, ESP handed to input_udp()), --no-raw,
// --trap FILE (repeatable), --no-cleanup. The job log is $QVPN_ROOT/joblog/QVPNESPCTL.log, copied to
// standard error.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/base/clock.hpp"
#include "core/joblog/joblog.hpp"
#include "core/msg/catalog.hpp"
#include "daemon/sa/backend.hpp"
#include "daemon/sa/sa_json.hpp"
#include "daemon/sa/socket_opts.hpp"
#include "daemon/sa/userspace/userspace_backend.hpp"
#include "daemon/sa/xfrm/xfrm_backend.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using nlohmann::json;
namespace po = boost::program_options;

namespace {

Result<ChildSa> load(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return fail("QVP0004", path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return child_sa_from_text(ss.str());
}

Trap trap_of(const ChildSa& sa) {
    Trap t;
    t.conn = sa.conn;
    t.reqid = sa.reqid;
    t.mode = sa.mode;
    t.local = sa.local;
    t.remote = sa.remote;
    t.esp = sa.esp.has_value();
    t.ah = sa.ah.has_value();
    t.ipcomp = sa.ipcomp.has_value();
    t.ts_local = sa.ts_local;
    t.ts_remote = sa.ts_remote;
    return t;
}

std::string err_line(const Msg& m) { return "ERR " + m.id + " " + msgcat::first_level(m); }

json counters_json(const Counters& c) {
    return json{{"bytes", c.bytes},
                {"packets", c.packets},
                {"replay_drops", c.replay_drops},
                {"integrity_failures", c.integrity_failures}};
}

json event_json(const SaEvent& e) {
    char spi[12];
    std::snprintf(spi, sizeof spi, "%08x", e.spi);
    json j{{"kind", std::string(to_string(e.kind))}, {"reqid", e.reqid}, {"conn", e.conn}};
    if (e.kind == SaEvent::Kind::Acquire) {
        j["src"] = e.src.to_string();
        j["dst"] = e.dst.to_string();
        j["proto"] = e.ip_proto;
        j["sport"] = e.src_port;
        j["dport"] = e.dst_port;
    } else {
        j["spi"] = spi;
        j["proto"] = e.proto == IpsecProto::Ah ? "ah" : "esp";
        j["inbound"] = e.inbound;
    }
    return j;
}

// A UDP socket on port (all addresses), like QTOVMAN's NAT-T socket.
Result<int> open_udp(uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return fail(msg("ESP0002", "UDP " + std::to_string(port), std::strerror(e)).with_errno(e));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    return fd;
}

// Read one datagram from the IKE socket and hand ESP to the backend, the
// way QTOVMAN does on port 4500 (IKE itself is not spoken here: dropped).
void read_ike_socket(int fd, SaBackend& be, uint16_t port) {
    uint8_t buf[65536];
    sockaddr_in from{};
    alignas(cmsghdr) uint8_t ctrl[64];
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof ctrl;
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 8 || (buf[0] | buf[1] | buf[2] | buf[3]) == 0) {
        return;  // keepalive, IKE, or nothing
    }
    IpAddress to = IpAddress::v4(0);
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            to = *IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&pi.ipi_addr), 4);
        }
    }
    auto src = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&from.sin_addr), 4);
    be.input_udp(ByteView(buf, size_t(n)), *src, ntohs(from.sin_port), to, port);
}

void say(const std::string& line);

// Malformed traffic for robustness tests: nothing here may crash or
// confuse the receiving data path; it must count and drop all of it.
int inject(const std::string& to, const std::string& spi_hex, unsigned count, uint16_t port) {
    auto dst = IpAddress::parse(to);
    auto spi_bytes = from_hex(spi_hex.size() % 2 ? "0" + spi_hex : spi_hex);
    if (!dst || !dst->is_v4() || !spi_bytes || spi_bytes->size() > 4) {
        std::cerr << "qvpn-espctl: inject needs --to IPv4-ADDRESS and --spi HEX\n";
        return 2;
    }
    uint32_t spi = 0;
    for (uint8_t b : *spi_bytes) {
        spi = spi << 8 | b;
    }
    int esp = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
    int ah = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_AH);
    int udp = port ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
    if (esp < 0 || ah < 0) {
        std::cerr << "qvpn-espctl: raw sockets: " << std::strerror(errno) << "\n";
        return 1;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, dst->data(), 4);
    SeededRandom rnd(spi ^ count);
    uint8_t buf[2048];
    unsigned sent = 0;
    for (unsigned i = 0; i < count; ++i) {
        size_t len = rnd.u32() % 1500;
        rnd.fill(std::span<uint8_t>(buf, len));
        switch (i % 6) {
        case 0:  // the real SPI, garbage after it
        case 1:
            if (len >= 4) {
                buf[0] = uint8_t(spi >> 24);
                buf[1] = uint8_t(spi >> 16);
                buf[2] = uint8_t(spi >> 8);
                buf[3] = uint8_t(spi);
            }
            break;
        case 2:  // truncated headers
            len %= 12;
            break;
        case 3:  // the real SPI, a huge sequence number, nothing else
            len = 8;
            buf[0] = uint8_t(spi >> 24);
            buf[1] = uint8_t(spi >> 16);
            buf[2] = uint8_t(spi >> 8);
            buf[3] = uint8_t(spi);
            break;
        default:  // random SPI
            break;
        }
        int fd = (i % 5 == 4) ? ah : esp;
        if (udp >= 0 && i % 3 == 2) {
            sockaddr_in u = sa;
            u.sin_port = htons(port);
            if (len < 4) {
                len = 4;
            }
            buf[0] |= 1;  // non-zero first bytes: ESP, not IKE
            sent += sendto(udp, buf, len, 0, reinterpret_cast<sockaddr*>(&u), sizeof u) >= 0;
            continue;
        }
        sent += sendto(fd, buf, len, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) >= 0;
    }
    close(esp);
    close(ah);
    if (udp >= 0) {
        close(udp);
    }
    say("INJECTED " + std::to_string(sent));
    return 0;
}

void say(const std::string& line) {
    std::cout << line << std::endl;
}

std::string answer(SaBackend& be, const std::string& line, bool& quit) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    auto reqid_arg = [&]() -> std::optional<uint32_t> {
        uint64_t r = 0;
        if (!(in >> r) || r > 0xffffffffULL) {
            return std::nullopt;
        }
        return uint32_t(r);
    };
    if (cmd == "quit") {
        quit = true;
        return "OK {}";
    }
    if (cmd == "install" || cmd == "trap") {
        std::string file;
        in >> file;
        auto sa = load(file);
        if (!sa) {
            return err_line(sa.error());
        }
        Status s = cmd == "install" ? be.install(*sa) : be.install_trap(trap_of(*sa));
        return s.ok() ? "OK {\"reqid\":" + std::to_string(sa->reqid) + "}" : err_line(s.error());
    }
    if (cmd == "replace") {
        auto old = reqid_arg();
        std::string file;
        in >> file;
        auto sa = load(file);
        if (!old || !sa) {
            return sa ? "ERR XFR0001 usage: replace OLD_REQID FILE" : err_line(sa.error());
        }
        Status s = be.replace(*old, *sa);
        return s.ok() ? "OK {}" : err_line(s.error());
    }
    if (cmd == "remove" || cmd == "untrap") {
        auto r = reqid_arg();
        if (!r) {
            return "ERR XFR0001 usage: " + cmd + " REQID";
        }
        Status s = cmd == "remove" ? be.remove(*r) : be.remove_trap(*r);
        return s.ok() ? "OK {}" : err_line(s.error());
    }
    if (cmd == "counters") {
        auto r = reqid_arg();
        if (!r) {
            return "ERR XFR0001 usage: counters REQID";
        }
        auto c = be.counters(*r);
        if (!c) {
            return err_line(c.error());
        }
        return "OK " + json{{"in", counters_json(c->in)}, {"out", counters_json(c->out)}}.dump();
    }
    if (cmd == "drops" || cmd == "stats") {
        auto* us = dynamic_cast<us::UserspaceBackend*>(&be);
        if (!us) {
            return "ERR ESP0006 " + cmd + " (kernel data path: see ip -s xfrm state)";
        }
        if (cmd == "stats") {
            const auto& s = us->stats();
            return "OK " + json{{"tun_in", s.tun_in.load()},     {"tun_out", s.tun_out.load()},
                                {"no_policy", s.no_policy.load()}, {"no_sa", s.no_sa.load()},
                                {"malformed", s.malformed.load()},
                                {"send_errors", s.send_errors.load()},
                                {"acquires", s.acquires.load()},   {"dummy", s.dummy.load()}}
                               .dump();
        }
        auto r = reqid_arg();
        if (!r) {
            return "ERR XFR0001 usage: drops REQID";
        }
        auto d = us->drops(*r);
        if (!d) {
            return err_line(d.error());
        }
        return "OK " + json{{"integrity", d->integrity},
                            {"replay", d->replay},
                            {"selector", d->selector},
                            {"malformed", d->malformed}}
                           .dump();
    }
    if (cmd == "cleanup") {
        auto r = be.cleanup_stale();
        if (!r) {
            return err_line(r.error());
        }
        return "OK " + json{{"states", r->states}, {"policies", r->policies},
                            {"routes", r->routes}}
                           .dump();
    }
    return "ERR XFR0001 unknown command '" + cmd + "'";
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend_name = "userspace";
    BackendOptions opts;
    std::vector<std::string> files, traps;
    std::string command;
    bool no_raw = false, no_cleanup = false, no_offload = false;
    uint16_t ike_port = 0;
    std::string inject_to, inject_spi = "1";
    unsigned inject_count = 1000;
    po::options_description desc("qvpn-espctl options");
    desc.add_options()("help", "this text")(
        "backend", po::value(&backend_name), "kernel | userspace | auto")(
        "tun", po::value(&opts.tun_name), "TUN device name")(
        "mtu", po::value(&opts.tun_mtu), "TUN MTU")(
        "table", po::value(&opts.route_table), "routing table")(
        "rule-priority", po::value(&opts.rule_priority), "routing rule priority")(
        "workers", po::value(&opts.workers), "threads per direction")(
        "udp-port", po::value(&opts.own_udp_port), "own ESP-in-UDP port")(
        "ike-port", po::value(&ike_port), "a prepared IKE socket on this port (NAT-T)")(
        "no-raw", po::bool_switch(&no_raw), "no raw ESP/AH sockets")(
        "no-offload", po::bool_switch(&no_offload), "TUN without TSO/GRO offloads")(
        "trap", po::value(&traps), "trap from a CHILD_SA file (repeatable)")(
        "no-cleanup", po::bool_switch(&no_cleanup), "skip the start-up cleanup")(
        "to", po::value(&inject_to), "inject: destination address")(
        "spi", po::value(&inject_spi), "inject: SPI (hex) of the packets")(
        "count", po::value(&inject_count), "inject: number of packets")(
        "command", po::value(&command), "run | cleanup | probe | udp-encap | inject")(
        "sa", po::value(&files), "CHILD_SA JSON files");
    po::positional_options_description pos;
    pos.add("command", 1).add("sa", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "qvpn-espctl: " << e.what() << "\n" << desc;
        return 2;
    }
    if (vm.count("help") || command.empty()) {
        std::cout << "usage: qvpn-espctl run|cleanup|probe|udp-encap [options] [SA.json ...]\n"
                  << desc;
        return command.empty() ? 2 : 0;
    }
    opts.raw_esp = !no_raw;
    opts.tun_offload = !no_offload;

    if (command == "probe") {
        Status s = xfrm::XfrmBackend::probe();
        if (s.ok()) {
            say("KERNEL ok");
            return 0;
        }
        say("KERNEL refused " + msgcat::line(s.error()));
        return 1;
    }

    if (command == "inject") {
        return inject(inject_to, inject_spi, inject_count, ike_port);
    }
    if (command == "udp-encap") {
        auto fd = open_udp(ike_port);
        Status s = fd ? set_udp_encap(*fd) : fd.failure();
        if (!s.ok()) {
            std::cerr << msgcat::line(s.error()) << "\n";
            return 1;
        }
        say("READY udp-encap port=" + std::to_string(ike_port));
        sigset_t wait_set;
        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGINT);
        sigaddset(&wait_set, SIGTERM);
        sigprocmask(SIG_BLOCK, &wait_set, nullptr);
        int sig = 0;
        sigwait(&wait_set, &sig);
        return 0;
    }

    joblog::JobLog log("QVPNESPCTL");
    log.set_echo(true);
    opts.log = &log;
    policy::DataPath choice = backend_name == "kernel"   ? policy::DataPath::Kernel
                              : backend_name == "auto" ? policy::DataPath::Auto
                                                       : policy::DataPath::Userspace;
    if (backend_name != "kernel" && backend_name != "auto" && backend_name != "userspace") {
        std::cerr << "qvpn-espctl: --backend must be kernel, userspace or auto\n";
        return 2;
    }

    // Signals arrive through a descriptor, so the loop below handles them
    // like input and the backend is always torn down in order.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    auto be = make_backend(choice, opts);
    if (!be) {
        std::cerr << msgcat::line(be.error()) << "\n";
        return 1;
    }
    SaBackend& b = **be;
    if (command == "cleanup" || !no_cleanup) {
        auto r = b.cleanup_stale();
        if (!r) {
            std::cerr << msgcat::line(r.error()) << "\n";
            return 1;
        }
        if (command == "cleanup") {
            say("CLEANUP states=" + std::to_string(r->states) + " policies=" +
                std::to_string(r->policies) + " routes=" + std::to_string(r->routes));
            return 0;
        }
    }
    if (command != "run") {
        std::cerr << "qvpn-espctl: unknown command '" << command << "'\n";
        return 2;
    }
    int ike_fd = -1;
    if (ike_port) {
        auto fd = open_udp(ike_port);
        Status s = fd ? b.prepare_ike_socket(*fd, AF_INET, true) : fd.failure();
        if (!s.ok()) {
            std::cerr << msgcat::line(s.error()) << "\n";
            return 1;
        }
        ike_fd = *fd;
    }
    std::string reqids;
    for (const auto& f : files) {
        auto sa = load(f);
        Status s = sa ? b.install(*sa) : sa.failure();
        if (!s.ok()) {
            std::cerr << msgcat::line(s.error()) << "\n";
            say(err_line(s.error()));
            return 1;
        }
        reqids += (reqids.empty() ? "" : ",") + std::to_string(sa->reqid);
    }
    for (const auto& f : traps) {
        auto sa = load(f);
        Status s = sa ? b.install_trap(trap_of(*sa)) : sa.failure();
        if (!s.ok()) {
            std::cerr << msgcat::line(s.error()) << "\n";
            say(err_line(s.error()));
            return 1;
        }
    }
    std::string tun;
    if (auto* us = dynamic_cast<us::UserspaceBackend*>(&b)) {
        tun = " tun=" + us->tun_name();
    }
    say("READY backend=" + std::string(to_string(b.kind())) + tun + " reqids=" + reqids);

    bool quit = false, stdin_open = true;
    std::string line;
    while (!quit) {
        pollfd p[4] = {{sfd, POLLIN, 0}, {b.event_fd(), POLLIN, 0}, {ike_fd, POLLIN, 0},
                       {0, POLLIN, 0}};
        if (poll(p, stdin_open ? 4 : 3, -1) < 0) {
            continue;
        }
        if (p[2].revents & POLLIN) {
            read_ike_socket(ike_fd, b, ike_port);
        }
        if (p[0].revents & POLLIN) {
            break;
        }
        if (p[1].revents & POLLIN) {
            for (const auto& e : b.events()) {
                say("EVENT " + event_json(e).dump());
            }
        }
        if (stdin_open && (p[3].revents & (POLLIN | POLLHUP))) {
            if (!std::getline(std::cin, line)) {
                stdin_open = false;
                continue;
            }
            if (!line.empty()) {
                say(answer(b, line, quit));
            }
        }
    }
    Status s = b.remove_all();
    if (!s.ok()) {
        std::cerr << msgcat::line(s.error()) << "\n";
        return 1;
    }
    say("DONE");
    return 0;
}
