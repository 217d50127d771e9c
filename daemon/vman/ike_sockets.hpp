// QTOVMAN's UDP sockets: port 500 and 4500, IPv4 and IPv6.
//
// The SA backend prepares each socket (SaBackend::prepare_ike_socket): the
// bypass mark and a per-socket IPsec policy bypass, so IKE and ESP-in-UDP
// never enter a tunnel of their own, and with the kernel data path
// UDP_ENCAP_ESPINUDP on 4500. Local addresses come from IP_PKTINFO /
// IPV6_PKTINFO and go back out as the source of answers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "daemon/sa/backend.hpp"

namespace qvpn::vman {

struct UdpDatagram {
    IpAddress local, remote;
    uint16_t local_port = 0, remote_port = 0;
    Bytes data;
};

class IkeSockets {
public:
    // Ports from QVPN_IKE_PORT / QVPN_NATT_PORT when set (tests), else 500
    // and 4500. IPv6 sockets are optional: a system without IPv6 runs v4.
    static Result<IkeSockets> open(sa::SaBackend& backend);
    IkeSockets() = default;
    IkeSockets(IkeSockets&&) noexcept;
    IkeSockets& operator=(IkeSockets&&) noexcept;
    ~IkeSockets();

    std::vector<int> fds() const;
    // Read one datagram from a readable socket (nullopt when none waits).
    std::optional<UdpDatagram> receive(int fd);
    // Send from `local`:`local_port` (must be one of ours) to the remote.
    Status send(const IpAddress& local, uint16_t local_port, const IpAddress& remote,
                uint16_t remote_port, ByteView data);
    uint16_t ike_port() const { return ike_port_; }
    uint16_t natt_port() const { return natt_port_; }

private:
    struct Sock {
        int fd = -1;
        int family = 4;
        uint16_t port = 0;
    };
    std::vector<Sock> socks_;
    uint16_t ike_port_ = 500, natt_port_ = 4500;
};

}  // namespace qvpn::vman
