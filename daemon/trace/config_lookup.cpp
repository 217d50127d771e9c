#include "daemon/trace/config_lookup.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/base/text.hpp"

namespace qvpn::trace {

namespace {

// TODO(policy): line descriptions (CRTLINETH LIND(x) RSRCNAME(eth0)) and the
// system value QCMNTRCMAX live in the policy database, whose API is not in
// core/policy yet. Until it is: a line's interface is the interface named
// like the line (as typed, then in lower case), and QCMNTRCMAX comes from
// the environment variable QVPN_QCMNTRCMAX (bytes, or with a K/M/G suffix),
// defaulting to 256M. These two functions are the only places to change.
std::optional<InterfaceState> find_interface(const std::string& line) {
    for (const std::string& cand : {line, to_lower(line)}) {
        if (auto st = interface_state(cand)) {
            return st;
        }
    }
    return std::nullopt;
}

std::optional<uint64_t> parse_size(std::string_view text) {
    std::string t(trim(text));
    uint64_t mult = 1;
    if (!t.empty()) {
        char last = static_cast<char>(std::toupper(static_cast<unsigned char>(t.back())));
        mult = last == 'K' ? 1024ull : last == 'M' ? 1ull << 20 : last == 'G' ? 1ull << 30 : 1;
        if (mult != 1) {
            t.pop_back();
        }
    }
    long long n = 0;
    if (!parse_int(t, n) || n <= 0) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(n) * mult;
}

}  // namespace

std::optional<InterfaceState> interface_state(const std::string& ifname) {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
        return std::nullopt;
    }
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    ifreq req{};
    std::memcpy(req.ifr_name, ifname.c_str(), ifname.size() + 1);
    InterfaceState st;
    st.name = ifname;
    bool ok = ::ioctl(fd, SIOCGIFINDEX, &req) == 0;
    st.index = ok ? req.ifr_ifindex : 0;
    ok = ok && ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
    st.up = ok && (req.ifr_flags & IFF_UP) != 0;
    ok = ok && ::ioctl(fd, SIOCGIFHWADDR, &req) == 0;
    ::close(fd);
    if (!ok) {
        return std::nullopt;
    }
    // Ethernet and loopback frames start with a MAC header; every other
    // device type (TUN, GRE, ...) is traced from the IP header on.
    int hw = req.ifr_hwaddr.sa_family;
    st.link = hw == ARPHRD_ETHER || hw == ARPHRD_LOOPBACK ? LinkType::Ethernet : LinkType::Raw;
    return st;
}

Result<InterfaceState> resolve_interface(CfgType type, const std::string& name) {
    switch (type) {
        case CfgType::NetworkServer: return fail("CPF26AE", name);
        case CfgType::NetworkInterface: {
            // Linux names interfaces in lower case; CL users often type upper case.
            auto st = find_interface(name);
            if (!st) {
                return fail("CPF39BD", name);
            }
            return *st;
        }
        case CfgType::Line: break;
    }
    auto st = find_interface(name);
    if (!st) {
        return fail("CPF2601", name);
    }
    return *st;
}

uint64_t storage_limit() {
    const char* v = std::getenv("QVPN_QCMNTRCMAX");
    if (v != nullptr) {
        if (auto n = parse_size(v)) {
            return *n;
        }
    }
    return kDefaultStorageLimitBytes;
}

}  // namespace qvpn::trace
