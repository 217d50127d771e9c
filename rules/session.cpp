#include "rules/session.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/base/text.hpp"

namespace qvpn::rules {

namespace {

std::optional<Session> from_ssh_connection() {
    const char* env = std::getenv("SSH_CONNECTION");
    if (env == nullptr) {
        return std::nullopt;
    }
    std::istringstream in(env);
    std::string client, cport, server, sport;
    if (!(in >> client >> cport >> server >> sport)) {
        return std::nullopt;
    }
    auto c = IpAddress::parse(client), s = IpAddress::parse(server);
    long long cp = 0, sp = 0;
    if (!c || !s || !parse_int(cport, cp) || !parse_int(sport, sp)) {
        return std::nullopt;
    }
    return Session{*s, *c, int(sp), int(cp), "SSH_CONNECTION"};
}

int parent_of(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    return ppid;
}

// Socket inodes of `pid`'s descriptors.
std::set<std::string> socket_inodes(int pid) {
    std::set<std::string> out;
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::error_code lec;
        auto target = std::filesystem::read_symlink(it->path(), lec).string();
        if (!lec && target.rfind("socket:[", 0) == 0 && target.back() == ']') {
            out.insert(target.substr(8, target.size() - 9));
        }
    }
    return out;
}

void established(const char* table, const std::set<std::string>& inodes, int pid,
                 std::vector<Session>& out) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
        if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >>
              inode)) {
            continue;
        }
        if (st != "01" || !inodes.count(inode)) {  // 01: TCP_ESTABLISHED
            continue;
        }
        Session s;
        if (parse_proc_address(local, s.local, s.local_port) &&
            parse_proc_address(remote, s.remote, s.remote_port)) {
            s.source = "socket of process " + std::to_string(pid);
            out.push_back(s);
        }
    }
}

}  // namespace

bool parse_proc_address(const std::string& text, IpAddress& a, int& port) {
    auto colon = text.find(':');
    if (colon == std::string::npos) {
        return false;
    }
    std::string hex = text.substr(0, colon);
    uint8_t bytes[16];
    if (hex.size() != 8 && hex.size() != 32) {
        return false;
    }
    // The kernel prints each 32-bit word in host order (little-endian here).
    for (size_t w = 0; w < hex.size() / 8; ++w) {
        uint32_t v = uint32_t(std::strtoul(hex.substr(w * 8, 8).c_str(), nullptr, 16));
        std::memcpy(bytes + w * 4, &v, 4);
    }
    size_t n = hex.size() / 2;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool mapped = n == 16 && std::memcmp(bytes, kMapped, 12) == 0;  // ::ffff:a.b.c.d
    auto addr = mapped ? IpAddress::from_bytes(bytes + 12, 4) : IpAddress::from_bytes(bytes, n);
    if (!addr) {
        return false;
    }
    a = *addr;
    port = int(std::strtoul(text.substr(colon + 1).c_str(), nullptr, 16));
    return true;
}

std::vector<Session> caller_sessions() {
    std::vector<Session> out;
    if (auto s = from_ssh_connection()) {
        out.push_back(*s);
        return out;
    }
    for (int pid = getpid(); pid > 1; pid = parent_of(pid)) {
        auto inodes = socket_inodes(pid);
        if (inodes.empty()) {
            continue;
        }
        established("/proc/net/tcp", inodes, pid, out);
        established("/proc/net/tcp6", inodes, pid, out);
    }
    return out;
}

std::string describe(const Session& s) {
    return s.remote.to_string() + " port " + std::to_string(s.remote_port);
}

std::string interface_with_address(const IpAddress& a) {
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return "";
    }
    std::string found;
    for (auto* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
        if (i->ifa_addr == nullptr) {
            continue;
        }
        std::optional<IpAddress> x;
        if (i->ifa_addr->sa_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
            x = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr), 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
            x = IpAddress::from_bytes(sin6->sin6_addr.s6_addr, 16);
        }
        if (x && *x == a) {
            found = i->ifa_name;
        }
    }
    freeifaddrs(list);
    return found;
}

}  // namespace qvpn::rules
