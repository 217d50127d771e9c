// ik2_peer: QTOKVPNIK2 on real UDP sockets without the rest of qvpn, for
// IKE-level interop tests against strongSwan. It takes QTOVMAN's place for
// one key manager: binds UDP 500 and 4500 on one address, starts
// QTOKVPNIK2 on a socketpair, moves IKE datagrams between the two (non-ESP
// marker on 4500; NAT keepalives and ESP are counted and dropped: nothing
// is installed), answers child_up with "installed", and writes every report
// of the job as one JSON line to stdout.
//
//   ik2_peer --addr 192.0.2.1 [--initiate CONN [--reqid N]]
//            [--ike "*AESCBC256 *SHA384 *GRP20"]... [--esp "*ESP *AESGCM128 *NONE"]...
//            [--pfs *GRP19] [--ike-life MIN] [--child-life MIN] [--ikesa-rekey]
//            [--dpd SECONDS]
//
// $QVPN_ROOT holds the policy database (configured with the CL commands).
// --initiate resolves the connection there, applies the overrides and sends
// the "initiate" request; without it the job only answers. SIGTERM is passed
// on to the job, which deletes its IKE SAs before both end. Lines on stdin
// are sent to the job as control requests ({"op":"expire",...}).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/ipc/km_channel.hpp"
#include "core/ipc/policy_json.hpp"
#include "core/policy/policy_db.hpp"

using namespace qvpn;
using nlohmann::json;

namespace {

int udp_socket(const IpAddress& addr, uint16_t port) {
    int fd = ::socket(addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (addr.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, addr.data(), 4);
        len = sizeof *sin;
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, addr.data(), 16);
        len = sizeof *sin6;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        std::perror("bind");
        std::exit(2);
    }
    return fd;
}

sockaddr_storage to_sockaddr(const IpAddress& a, uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (a.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, a.data(), 4);
        len = sizeof *sin;
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, a.data(), 16);
        len = sizeof *sin6;
    }
    return ss;
}

void emit(const json& j) {
    std::cout << j.dump() << std::endl;
}

template <class T>
T cl_or_die(const std::string& word) {
    auto v = policy::from_cl<T>(word);
    if (!v) {
        std::fprintf(stderr, "ik2_peer: unknown value %s\n", word.c_str());
        std::exit(2);
    }
    return *v;
}

}  // namespace

int main(int argc, char** argv) {
    std::string addr_text, conn;
    uint32_t reqid = 0x51560001;
    std::vector<std::string> ike, esp;
    std::string pfs;
    int ike_life = 0, child_life = 0, dpd = -1;
    bool ikesa_rekey = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--addr") {
            addr_text = next();
        } else if (a == "--initiate") {
            conn = next();
        } else if (a == "--reqid") {
            reqid = static_cast<uint32_t>(std::stoul(next(), nullptr, 0));
        } else if (a == "--ike") {
            ike.push_back(next());
        } else if (a == "--esp") {
            esp.push_back(next());
        } else if (a == "--pfs") {
            pfs = next();
        } else if (a == "--ike-life") {
            ike_life = std::stoi(next());
        } else if (a == "--child-life") {
            child_life = std::stoi(next());
        } else if (a == "--ikesa-rekey") {
            ikesa_rekey = true;
        } else if (a == "--dpd") {
            dpd = std::stoi(next());
        } else {
            std::fprintf(stderr, "ik2_peer: unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    auto addr = IpAddress::parse(addr_text);
    if (!addr) {
        std::fprintf(stderr, "ik2_peer: --addr is required\n");
        return 2;
    }
    int s500 = udp_socket(*addr, 500);
    int s4500 = udp_socket(*addr, 4500);

    auto pair = ipc::km_socketpair();
    if (!pair) {
        return 2;
    }
    int km = pair->first;
    pid_t child = ::fork();
    if (child == 0) {
        ::fcntl(pair->second, F_SETFD, 0);
        std::string fd = std::to_string(pair->second);
        ::setenv("QVPN_IPC_FD", fd.c_str(), 1);
        std::string bin = paths::libexec_dir() + "/QTOKVPNIK2";
        ::execl(bin.c_str(), "QTOKVPNIK2", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(pair->second);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

    if (!conn.empty()) {
        auto db = policy::PolicyDb::open(paths::policy_db(), policy::Access::ReadOnly);
        auto p = db ? db->resolve(conn) : Result<policy::ConnectionPolicy>(db.failure());
        if (!p) {
            std::fprintf(stderr, "ik2_peer: %s %s\n", p.error().id.c_str(),
                         p.error().value(1).c_str());
            return 2;
        }
        if (!ike.empty()) {
            p->key.transforms.clear();
            for (const auto& t : ike) {
                auto w = split(t, ' ');
                p->key.transforms.push_back({cl_or_die<policy::Encr>(w.at(0)),
                                             cl_or_die<policy::Hash>(w.at(1)),
                                             cl_or_die<policy::DhGroup>(w.at(2))});
            }
        }
        if (!esp.empty()) {
            p->data.transforms.clear();
            for (const auto& t : esp) {
                auto w = split(t, ' ');
                p->data.transforms.push_back({cl_or_die<policy::Protocol>(w.at(0)),
                                              cl_or_die<policy::Encr>(w.at(1)),
                                              cl_or_die<policy::DataAuth>(w.at(2))});
            }
        }
        if (!pfs.empty()) {
            p->data.pfs = cl_or_die<policy::DhGroup>(pfs);
        }
        if (ike_life > 0) {
            p->key.lifetime_minutes = ike_life;
        }
        if (child_life > 0) {
            p->data.lifetime_minutes = child_life;
        }
        if (dpd >= 0) {
            p->attributes.dpd_seconds = dpd;
        }
        p->attributes.ikesa_rekey = p->attributes.ikesa_rekey || ikesa_rekey;
        (void)ipc::km_send(km, ipc::encode_control({{"op", "initiate"}, {"conn", conn},
                                                    {"reqid", reqid},
                                                    {"policy", ipc::policy_to_json(*p)}}));
    }

    uint64_t esp_dropped = 0, keepalives = 0;
    bool ending = false;
    std::string line_buf;
    for (;;) {
        pollfd fds[5] = {{km, POLLIN, 0}, {s500, POLLIN, 0}, {s4500, POLLIN, 0}, {sfd, POLLIN, 0},
                         {ending ? -1 : 0, POLLIN, 0}};
        if (::poll(fds, 5, 1000) < 0 && errno != EINTR) {
            return 2;
        }
        if (fds[3].revents & POLLIN) {
            signalfd_siginfo si{};
            while (::read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                    int st = 0;
                    if (::waitpid(child, &st, WNOHANG) == child) {
                        emit({{"op", "exited"}, {"status", WIFEXITED(st) ? WEXITSTATUS(st) : -1},
                              {"esp_dropped", esp_dropped}, {"keepalives", keepalives}});
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
                    }
                } else {
                    ending = true;
                    ::kill(child, SIGTERM);
                }
            }
        }
        if (fds[4].revents & (POLLIN | POLLHUP)) {
            char buf[4096];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                ending = true;  // stdin closed: keep running until a signal
            } else {
                line_buf.append(buf, static_cast<size_t>(n));
                size_t nl;
                while ((nl = line_buf.find('\n')) != std::string::npos) {
                    auto j = json::parse(line_buf.substr(0, nl), nullptr, false);
                    line_buf.erase(0, nl + 1);
                    if (j.is_object()) {
                        (void)ipc::km_send(km, ipc::encode_control(j));
                    }
                }
            }
        }
        for (int i = 1; i <= 2; ++i) {
            if ((fds[i].revents & POLLIN) == 0) {
                continue;
            }
            uint8_t buf[65536];
            sockaddr_storage from{};
            socklen_t flen = sizeof from;
            ssize_t n = ::recvfrom(fds[i].fd, buf, sizeof buf, 0,
                                   reinterpret_cast<sockaddr*>(&from), &flen);
            if (n <= 0) {
                continue;
            }
            IpAddress src;
            uint16_t sport = 0;
            if (from.ss_family == AF_INET) {
                auto* sin = reinterpret_cast<sockaddr_in*>(&from);
                src = *IpAddress::from_bytes(reinterpret_cast<uint8_t*>(&sin->sin_addr), 4);
                sport = ntohs(sin->sin_port);
            } else {
                auto* sin6 = reinterpret_cast<sockaddr_in6*>(&from);
                src = *IpAddress::from_bytes(reinterpret_cast<uint8_t*>(&sin6->sin6_addr), 16);
                sport = ntohs(sin6->sin6_port);
            }
            ByteView data(buf, static_cast<size_t>(n));
            bool marker = false;
            if (i == 2) {
                // RFC 3948: 0xFF alone is a keepalive, a non-zero first word
                // an ESP SPI, four zero bytes the marker in front of IKE.
                if (data.size() == 1 && data[0] == 0xff) {
                    ++keepalives;
                    continue;
                }
                if (data.size() < 4 || (data[0] | data[1] | data[2] | data[3]) != 0) {
                    ++esp_dropped;
                    continue;
                }
                data = data.subspan(4);
                marker = true;
            }
            ipc::PacketHeader h{*addr, static_cast<uint16_t>(i == 1 ? 500 : 4500), src, sport,
                                marker};
            (void)ipc::km_send(km, ipc::encode_packet(h, data));
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            for (int k = 0; k < 64; ++k) {
                auto r = ipc::km_recv(km);
                if (!r || !r->has_value()) {
                    break;
                }
                auto m = ipc::decode_km(**r);
                if (!m) {
                    continue;
                }
                if (m->is_control()) {
                    json j = m->control;
                    if (j.value("op", "") == "child_up") {
                        (void)ipc::km_send(km, ipc::encode_control({{"op", "installed"},
                                                                    {"conn", j["conn"]},
                                                                    {"reqid", j["reqid"]},
                                                                    {"ok", true}}));
                    }
                    if (j.contains("sa")) {
                        // Keys stay out of the test's logs; SPIs and algorithms stay.
                        for (const char* p : {"esp", "ah"}) {
                            if (j["sa"].contains(p)) {
                                for (const char* d : {"in", "out"}) {
                                    j["sa"][p][d].erase("encr_key");
                                    j["sa"][p][d].erase("integ_key");
                                }
                            }
                        }
                    }
                    emit(j);
                    continue;
                }
                Bytes out;
                if (m->header.non_esp_marker) {
                    out.assign(4, 0);
                }
                out.insert(out.end(), m->payload.begin(), m->payload.end());
                socklen_t len = 0;
                sockaddr_storage to = to_sockaddr(m->header.remote, m->header.remote_port, len);
                int fd = m->header.local_port == 4500 ? s4500 : s500;
                ::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&to), len);
            }
        }
    }
}
