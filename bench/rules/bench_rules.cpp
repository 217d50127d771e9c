// bench_rules: LODIPFTR against plain nftables, on a real kernel (root).
//
// 1. Load time of a 10,000-rule file on 4 interfaces: `nft -f` of an
//    equivalent hand-written ruleset (one nft rule per FILTER statement, a
//    chain per set and direction jumped to from each interface: the floor),
//    LODIPFTR of the rules file (parse, check, compile, load, record), and
//    `nft -f` of the script LODIPFTR compiles.
// 2. Forwarding: a sender namespace blasts 64-byte UDP through a forwarding
//    namespace carrying the rules to a receiver namespace, which counts the
//    datagrams per second; no rules, the hand-written ruleset, and
//    LODIPFTR's. The rule permitting the flow is first in the file, then last.
//
//   qv-ru-bs  192.0.2.2 --- qv-ru-b0 [qv-ru-bf] qv-ru-b1 --- 203.0.113.2  qv-ru-br
//                           qv-ru-b2, qv-ru-b3 (ruled too, idle)
//
// Usage: bench_rules [--rules N] [--reps N] [--seconds S]
//        bench_rules --write DIR     (only write the rules file and the ruleset)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/paths.hpp"
#include "core/msg/catalog.hpp"
#include "rules/compile.hpp"
#include "rules/parser.hpp"

using namespace qvpn;
using namespace qvpn::rules;
using Clock = std::chrono::steady_clock;

namespace {

const char* kLines[4] = {"qv-ru-b0", "qv-ru-b1", "qv-ru-b2", "qv-ru-b3"};
const char* kFlow = "SRCADDR = 192.0.2.2 DSTADDR = 203.0.113.2 PROTOCOL = UDP DSTPORT = 5001";

// --- the rules file ------------------------------------------------------------------

// Sections of similar rules, as firewall files are written: web servers,
// database clients, blocked subnets, peers, ping, banned hosts.
std::string rules_file(int n, bool flow_first) {
    std::mt19937 rng(42);
    auto pick = [&](int k) { return int(rng() % unsigned(k)); };
    auto host = [&] {
        return "10." + std::to_string(pick(250)) + "." + std::to_string(pick(250)) + "." +
               std::to_string(1 + pick(250));
    };
    std::ostringstream o;
    o << "# bench_rules: " << n << " rules in sections of one kind each\n";
    std::string flow = std::string("FILTER SET main ACTION = PERMIT DIRECTION = * ") + kFlow + "\n";
    int written = 0;
    if (flow_first) {
        o << flow;
        ++written;
    }
    while (written < n - (flow_first ? 0 : 1)) {
        int kind = pick(100);
        int len = std::min(20 + pick(280), n - (flow_first ? 0 : 1) - written);
        for (int i = 0; i < len; ++i, ++written) {
            int port = 1024 + pick(50000);
            o << "FILTER SET main ";
            if (kind < 50) {
                o << "ACTION = PERMIT DIRECTION = INBOUND SRCADDR = " << host()
                  << " PROTOCOL = TCP DSTPORT = " << port;
            } else if (kind < 65) {
                o << "ACTION = PERMIT DIRECTION = OUTBOUND DSTADDR = " << host()
                  << " PROTOCOL = TCP SRCPORT = " << port;
            } else if (kind < 80) {
                o << "ACTION = DENY DIRECTION = INBOUND SRCADDR = 10." << pick(250) << "."
                  << pick(250) << ".0/24 PROTOCOL = UDP DSTPORT = " << port << "-" << port + 9;
            } else if (kind < 90) {
                o << "ACTION = PERMIT DIRECTION = * SRCADDR = " << host() << " DSTADDR = " << host()
                  << " PROTOCOL = UDP DSTPORT = " << port;
            } else if (kind < 95) {
                o << "ACTION = PERMIT DIRECTION = INBOUND SRCADDR = " << host()
                  << " PROTOCOL = ICMP TYPE = 8";
            } else {
                o << "ACTION = DENY DIRECTION = INBOUND SRCADDR = " << host();
            }
            o << "\n";
        }
    }
    if (!flow_first) {
        o << flow;
    }
    o << "FILTER_INTERFACE LINE = " << kLines[0] << " SET = main\n";
    for (int i = 1; i < 4; ++i) {
        o << "FILTER_INTERFACE LINE = " << kLines[i] << " SET = main\n";
    }
    return o.str();
}

// --- the hand-written equivalent --------------------------------------------------------

std::string values(const NumSet& s) {
    std::string v;
    for (auto [lo, hi] : s.ranges) {
        v += (v.empty() ? "" : ", ") + std::to_string(lo) +
             (lo == hi ? "" : "-" + std::to_string(hi));
    }
    return s.ranges.size() == 1 ? v : "{ " + v + " }";
}

std::string values(const AddrSet& s) {
    std::string v;
    for (const auto& r : s.ranges) {
        v += (v.empty() ? "" : ", ") + r.to_string();
    }
    return s.ranges.size() == 1 ? v : "{ " + v + " }";
}

// What an administrator writes for one FILTER: its selectors and verdict.
std::string hand_rule(const Match& m, Action a) {
    std::string r;
    std::string ip = m.family == 6 ? "ip6" : "ip";
    if (!m.src.all) {
        r += ip + " saddr " + values(m.src) + " ";
    }
    if (!m.dst.all) {
        r += ip + " daddr " + values(m.dst) + " ";
    }
    bool icmp = !m.icmp_type.all || !m.icmp_code.all;
    if (!m.proto.all && !icmp) {
        r += "meta l4proto " + values(m.proto) + " ";
    }
    if (!m.sport.all) {
        r += "th sport " + values(m.sport) + " ";
    }
    if (!m.dport.all) {
        r += "th dport " + values(m.dport) + " ";
    }
    if (!m.icmp_type.all) {
        r +=
            (m.family == 6 ? "icmpv6" : "icmp") + std::string(" type ") + values(m.icmp_type) + " ";
    }
    return r + (a == Action::Permit ? "accept" : "drop");
}

std::string hand_ruleset(const Document& doc) {
    std::string in, out;
    for (const auto& f : doc.filters) {
        if (f.applies(true)) {
            in += "  " + hand_rule(f.match_for(true), f.action) + "\n";
        }
        if (f.applies(false)) {
            out += "  " + hand_rule(f.match_for(false), f.action) + "\n";
        }
    }
    std::string o =
        "table inet hand {\nchain main_in {\n" + in + "}\nchain main_out {\n" + out + "}\n";
    std::string vin, vout;
    for (int i = 0; i < 4; ++i) {
        std::string n = std::to_string(i);
        o += "chain if" + n + "_in { jump main_in; drop; }\nchain if" + n +
             "_out { jump main_out; drop; }\n";
        vin += std::string(i ? ", " : "") + "\"" + kLines[i] + "\" : jump if" + n + "_in";
        vout += std::string(i ? ", " : "") + "\"" + kLines[i] + "\" : jump if" + n + "_out";
    }
    o += "chain pre { type filter hook prerouting priority filter; policy accept; iifname vmap { " +
         vin + " }; }\n";
    o += "chain post { type filter hook postrouting priority filter; policy accept; oifname vmap "
         "{ " +
         vout + " }; }\n}\n";
    return o;
}

// --- running things ------------------------------------------------------------------------

int sh(const std::string& cmd) {
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}

void must(const std::string& cmd) {
    if (sh(cmd) != 0) {
        std::fprintf(stderr, "bench_rules: failed: %s\n", cmd.c_str());
        std::exit(1);
    }
}

double timed(const std::string& cmd) {
    auto t0 = Clock::now();
    must(cmd);
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

struct Env {
    std::string dir, root, bin, self;
    std::string in_fwd(const std::string& cmd) const {
        return "ip netns exec qv-ru-bf env QVPN_ROOT=" + root + " " + cmd;
    }
};

void topology(bool up) {
    sh("ip netns del qv-ru-bs 2>/dev/null; ip netns del qv-ru-bf 2>/dev/null; "
       "ip netns del qv-ru-br 2>/dev/null");
    if (!up) {
        return;
    }
    must("ip netns add qv-ru-bs && ip netns add qv-ru-bf && ip netns add qv-ru-br");
    must("ip link add qv-ru-b0 netns qv-ru-bf type veth peer name qv-ru-s0 netns qv-ru-bs");
    must("ip link add qv-ru-b1 netns qv-ru-bf type veth peer name qv-ru-r0 netns qv-ru-br");
    must("ip -n qv-ru-bf link add qv-ru-b2 type veth peer name qv-ru-x2");
    must("ip -n qv-ru-bf link add qv-ru-b3 type veth peer name qv-ru-x3");
    must("ip -n qv-ru-bs addr add 192.0.2.2/24 dev qv-ru-s0 && ip -n qv-ru-bs link set qv-ru-s0 up"
         " && ip -n qv-ru-bs link set lo up && ip -n qv-ru-bs route add default via 192.0.2.1");
    must(
        "ip -n qv-ru-br addr add 203.0.113.2/24 dev qv-ru-r0 && ip -n qv-ru-br link set qv-ru-r0 up"
        " && ip -n qv-ru-br link set lo up && ip -n qv-ru-br route add default via 203.0.113.1");
    must("ip -n qv-ru-bf addr add 192.0.2.1/24 dev qv-ru-b0 && "
         "ip -n qv-ru-bf addr add 203.0.113.1/24 dev qv-ru-b1 && "
         "ip -n qv-ru-bf addr add 198.51.100.1/30 dev qv-ru-b2 && "
         "ip -n qv-ru-bf addr add 198.51.100.5/30 dev qv-ru-b3");
    for (const char* i : {"lo", "qv-ru-b0", "qv-ru-b1", "qv-ru-b2", "qv-ru-b3", "qv-ru-x2",
                          "qv-ru-x3"}) {
        must(std::string("ip -n qv-ru-bf link set ") + i + " up");
    }
    must("ip netns exec qv-ru-bf sysctl -qw net.ipv4.ip_forward=1");
    // The receiver's neighbour entry is resolved before the blast starts.
    must("ip netns exec qv-ru-bs busybox ping -c 1 -W 1 203.0.113.2 >/dev/null");
}

void clear_rules(const Env& e) {
    sh(e.in_fwd("nft delete table inet hand") + " 2>/dev/null");
    must(e.in_fwd(e.bin + "/RMVTCPTBL '*IPFTR' >/dev/null"));
}

// --- traffic -----------------------------------------------------------------------------------

int blast(const char* dst, int port, double seconds) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, dst, &to.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        return 1;
    }
    constexpr int kBatch = 64;
    char payload[18] = "qv-ru bench flood";
    iovec iov[kBatch];
    mmsghdr msgs[kBatch]{};
    for (int i = 0; i < kBatch; ++i) {
        iov[i] = {payload, sizeof payload};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
        sendmmsg(fd, msgs, kBatch, 0);
    }
    close(fd);
    return 0;
}

int count(int port, double seconds) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 32 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        return 1;
    }
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    constexpr int kBatch = 256;
    char bufs[kBatch][64];
    iovec iov[kBatch];
    mmsghdr msgs[kBatch]{};
    for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i], sizeof bufs[i]};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long n = 0;
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
        int got = recvmmsg(fd, msgs, kBatch, 0, nullptr);
        n += got > 0 ? unsigned(got) : 0;
    }
    std::printf("%llu\n", n);
    return 0;
}

// Datagrams per second through the forwarding namespace.
double forward_rate(const Env& e, double seconds) {
    std::string out = e.dir + "/count";
    must("ip netns exec qv-ru-br " + e.self + " --recv 5001 " + std::to_string(seconds + 1.0) +
         " >" + out + " &");
    usleep(300000);
    must("ip netns exec qv-ru-bs " + e.self + " --send 203.0.113.2 5001 " +
         std::to_string(seconds));
    sh("wait");
    usleep(1000000 + 200000);
    std::ifstream in(out);
    double n = 0;
    in >> n;
    return n / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "--send") {
        return blast(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
    }
    if (argc >= 2 && std::string(argv[1]) == "--recv") {
        return count(std::atoi(argv[2]), std::atof(argv[3]));
    }
    int n = 10000, reps = 5;
    double seconds = 2.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--rules") {
            n = std::atoi(argv[i + 1]);
        } else if (a == "--reps") {
            reps = std::atoi(argv[i + 1]);
        } else if (a == "--seconds") {
            seconds = std::atof(argv[i + 1]);
        }
    }
    if (argc >= 3 && std::string(argv[1]) == "--write") {
        // The benchmark's files only: rules file and hand-written ruleset.
        std::string d = argv[2];
        std::string text = rules_file(n, false);
        write(d + "/last.i3p", text);
        DiskFiles fs;
        Parsed p = load_rules_file(d + "/last.i3p", fs);
        if (!p.ok()) {
            return 1;
        }
        write(d + "/last.nft", hand_ruleset(p.doc));
        return 0;
    }
    if (geteuid() != 0) {
        std::fprintf(stderr, "bench_rules: needs root (network namespaces, nftables)\n");
        return 1;
    }
    Env e;
    char tmpl[] = "/tmp/qv-ru-bench.XXXXXX";
    e.dir = mkdtemp(tmpl);
    e.root = e.dir + "/root";
    e.self = std::filesystem::read_symlink("/proc/self/exe").string();
    e.bin = std::filesystem::path(e.self).parent_path().parent_path().string() + "/bin";
    topology(true);

    // The files, and what LODIPFTR does in process, phase by phase.
    std::string file[2] = {e.dir + "/first.i3p", e.dir + "/last.i3p"};
    std::string hand[2] = {e.dir + "/first.nft", e.dir + "/last.nft"};
    std::string compiled = e.dir + "/compiled.nft";
    double t_parse = 0, t_compile = 0;
    size_t maps = 0, elements = 0, nft_rules = 0;
    for (int k = 0; k < 2; ++k) {
        write(file[k], rules_file(n, k == 0));
        DiskFiles fs;
        auto t0 = Clock::now();
        Parsed p = load_rules_file(file[k], fs);
        auto t1 = Clock::now();
        if (!p.ok()) {
            std::fprintf(stderr, "bench_rules: %s\n", msgcat::line(p.errors[0]).c_str());
            return 1;
        }
        std::vector<LineBinding> lines;
        for (const char* l : kLines) {
            lines.push_back({l, l, false, {"main"}});
        }
        CompiledUnit u = compile_unit(p.doc, lines, {.unit = 1, .nflog_group = 7301});
        std::string script = compose_table({u.body}, u.lines, Implicit{});
        auto t2 = Clock::now();
        write(hand[k], hand_ruleset(p.doc));
        if (k == 1) {
            write(compiled, script);
            t_parse = std::chrono::duration<double>(t1 - t0).count();
            t_compile = std::chrono::duration<double>(t2 - t1).count();
            maps = u.maps;
            elements = u.map_elements;
            nft_rules = u.nft_rules;
        }
    }

    // 1. Load time, interleaved so that drift hits all three alike.
    std::vector<double> t_hand, t_lod, t_comp;
    clear_rules(e);
    for (int r = 0; r < reps; ++r) {
        t_hand.push_back(timed(e.in_fwd("nft -f " + hand[1])));
        clear_rules(e);
        t_lod.push_back(timed(e.in_fwd(e.bin + "/LODIPFTR '*LOAD' '*ALL' 'STMF(" + file[1] +
                                       ")' >/dev/null")));
        clear_rules(e);
        t_comp.push_back(timed(e.in_fwd("nft -f " + compiled)));
        sh(e.in_fwd("nft delete table inet qvpn"));
    }
    double h = median(t_hand), l = median(t_lod), c = median(t_comp);
    std::printf("\nLoad time: %d rules on 4 interfaces, median of %d runs (each through "
                "ip netns exec)\n", n, reps);
    std::printf("  %-52s %9s %7s\n", "", "seconds", "ratio");
    std::printf("  %-52s %9.3f %7.2f\n", "nft -f hand-written ruleset (the floor)", h, 1.0);
    std::printf("  %-52s %9.3f %7.2f   goal <= 1.50 %s\n",
                "LODIPFTR (parse, check, compile, nft, state, journal)", l, l / h,
                l / h <= 1.5 ? "met" : "MISSED");
    std::printf("  %-52s %9.3f %7.2f\n", "nft -f of LODIPFTR's compiled script", c, c / h);
    std::printf("  in process: parse and check %.3f s, compile %.3f s; %zu nft rules, %zu maps "
                "with %zu elements\n", t_parse, t_compile, nft_rules, maps, elements);

    // 2. Forwarding rate.
    std::printf("\nForwarding 64-byte UDP through %d rules, datagrams/s received, median of %d\n",
                n, std::max(3, reps / 2));
    std::printf("  %-22s %12s %16s %12s %8s\n", "flow's rule", "no rules", "plain nftables",
                "LODIPFTR", "ratio");
    int freps = std::max(3, reps / 2);
    for (int k = 0; k < 2; ++k) {
        std::vector<double> none, plain, ours;
        for (int r = 0; r < freps; ++r) {
            clear_rules(e);
            none.push_back(forward_rate(e, seconds));
            must(e.in_fwd("nft -f " + hand[k]));
            plain.push_back(forward_rate(e, seconds));
            sh(e.in_fwd("nft delete table inet hand"));
            must(e.in_fwd(e.bin + "/LODIPFTR '*LOAD' '*ALL' 'STMF(" + file[k] + ")' >/dev/null"));
            ours.push_back(forward_rate(e, seconds));
        }
        double pn = median(none), pp = median(plain), po = median(ours);
        std::printf("  %-22s %12.0f %16.0f %12.0f %8.2f   goal >= 0.90 %s\n",
                    k == 0 ? "first of the file" : "last of the file", pn, pp, po, po / pp,
                    po / pp >= 0.9 ? "met" : "MISSED");
    }
    clear_rules(e);
    topology(false);
    std::filesystem::remove_all(e.dir);
    return 0;
}
