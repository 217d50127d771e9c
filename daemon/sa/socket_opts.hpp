// Socket options the IKE sockets need, as free functions for anyone who
// owns such a socket (QTOVMAN through SaBackend::prepare_ike_socket, tests,
// qvpn-espctl). Each failure is XFR0110 with the option name and errno.
#pragma once

#include <cstdint>

#include "core/base/result.hpp"

namespace qvpn::sa {

// Per-socket IPsec policy "allow" for both directions (IP_XFRM_POLICY, or
// IPV6_XFRM_POLICY for AF_INET6): packets of this socket never match an
// XFRM policy, so IKE is never sent into, or expected from, a tunnel.
[[nodiscard]] Status set_ipsec_bypass(int fd, int family);

// UDP_ENCAP_ESPINUDP (RFC 3948): the kernel takes ESP-in-UDP arriving on
// this socket for its XFRM states; the socket returns only non-ESP (IKE with
// the non-ESP marker, and keepalives).
[[nodiscard]] Status set_udp_encap(int fd);

// SO_MARK (needs CAP_NET_ADMIN).
[[nodiscard]] Status set_mark(int fd, uint32_t mark);

}  // namespace qvpn::sa
