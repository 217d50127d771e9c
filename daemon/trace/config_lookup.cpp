#include "daemon/trace/config_lookup.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::trace {

namespace {

// The interface as typed, then in lower case: Linux names interfaces in
// lower case, CL users often type upper case.
std::optional<InterfaceState> find_interface(const std::string& name) {
    for (const std::string& cand : {name, to_lower(name)}) {
        if (auto st = interface_state(cand)) {
            return st;
        }
    }
    return std::nullopt;
}

// The policy database of this system; none (nothing configured yet) is not
// an error: lines are then interfaces and system values have defaults.
Result<std::optional<policy::PolicyDb>> open_policy() {
    std::error_code ec;
    if (!std::filesystem::exists(paths::policy_db(), ec)) {
        return std::optional<policy::PolicyDb>();
    }
    QVPN_ASSIGN(policy::PolicyDb db,
                policy::PolicyDb::open(paths::policy_db(), policy::Access::ReadOnly));
    return std::optional<policy::PolicyDb>(std::move(db));
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
    if (type == CfgType::NetworkServer) {
        return fail("CPF26AE", name);
    }
    if (type == CfgType::NetworkInterface) {
        auto st = find_interface(name);
        if (!st) {
            return fail("CPF39BD", name);
        }
        return *st;
    }

    // A line description names its interface (RSRCNAME); without one, the
    // line name is the interface name.
    QVPN_ASSIGN(auto db, open_policy());
    std::optional<policy::Line> line;
    if (db) {
        auto l = db->load_line(name);
        if (l.ok()) {
            line = *l;
        } else if (l.error().id != "CPF2601") {
            return l.failure();
        }
    }
    auto st = find_interface(line ? line->interface : name);
    if (!st) {
        return line ? fail("TRC0020", name, line->interface) : fail("CPF2601", name);
    }
    return *st;
}

Result<uint64_t> storage_limit() {
    QVPN_ASSIGN(auto db, open_policy());
    if (!db) {
        return kDefaultStorageLimitBytes;
    }
    QVPN_ASSIGN(std::string value, db->system_value(policy::kQCMNTRCMAX));
    long long n = 0;
    if (!parse_int(value, n) || n <= 0) {
        return fail("CPF39A9", "*ALL", "*LIN", "system value QCMNTRCMAX '" + value + "' is not a size");
    }
    return static_cast<uint64_t>(n);
}

}  // namespace qvpn::trace
