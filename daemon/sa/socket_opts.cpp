#include "daemon/sa/socket_opts.hpp"

#include <cerrno>
#include <cstring>

#include <linux/ipsec.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace qvpn::sa {

namespace {

Status sockopt_fail(const char* name, int e) {
    return fail(msg("XFR0110", name, std::strerror(e)).with_errno(e));
}

}  // namespace

Status set_ipsec_bypass(int fd, int family) {
    int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    int opt = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
    const char* name = family == AF_INET6 ? "IPV6_XFRM_POLICY" : "IP_XFRM_POLICY";
    // One policy per direction; a socket policy without templates whose
    // action is "allow" exempts the socket's packets from the global SPD.
    for (uint8_t dir : {uint8_t(XFRM_POLICY_IN), uint8_t(XFRM_POLICY_OUT)}) {
        xfrm_userpolicy_info pol;
        std::memset(&pol, 0, sizeof pol);
        pol.action = XFRM_POLICY_ALLOW;
        pol.sel.family = static_cast<uint16_t>(family);
        pol.dir = dir;
        pol.lft.soft_byte_limit = XFRM_INF;
        pol.lft.hard_byte_limit = XFRM_INF;
        pol.lft.soft_packet_limit = XFRM_INF;
        pol.lft.hard_packet_limit = XFRM_INF;
        if (setsockopt(fd, level, opt, &pol, sizeof pol) != 0) {
            return sockopt_fail(name, errno);
        }
    }
    return ok();
}

Status set_udp_encap(int fd) {
    int type = UDP_ENCAP_ESPINUDP;
    if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) != 0) {
        return sockopt_fail("UDP_ENCAP_ESPINUDP", errno);
    }
    return ok();
}

Status set_mark(int fd, uint32_t mark) {
    if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
        return sockopt_fail("SO_MARK", errno);
    }
    return ok();
}

}  // namespace qvpn::sa
