#include "daemon/vman/ike_sockets.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/base/text.hpp"


namespace qvpn::vman {

namespace {

uint16_t port_from_env(const char* name, uint16_t dflt) {
    const char* v = std::getenv(name);
    long long p = 0;
    if (v != nullptr && parse_int(v, p) && p > 0 && p < 65536) {
        return static_cast<uint16_t>(p);
    }
    return dflt;
}

Failure sock_fail(uint16_t port, int family, const char* what, int err) {
    return fail(msg("VMN001D", port, std::string(family == 6 ? "IPv6 " : "IPv4 ") + what)
                    .with_errno(err));
}

Result<int> open_one(sa::SaBackend& be, int family, uint16_t port, bool natt) {
    int fd = ::socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      0);
    if (fd < 0) {
        return sock_fail(port, family, "socket", errno);
    }
    auto closing = [fd](Failure f) {
        ::close(fd);
        return f;
    };
    int one = 1;
    if (auto p = be.prepare_ike_socket(fd, family == 6 ? AF_INET6 : AF_INET, natt); !p.ok()) {
        Msg m = msg("VMN001D", port, std::string(family == 6 ? "IPv6 " : "IPv4 ") +
                                         "socket options: " + p.error().id);
        return closing(fail(m.with_errno(p.error().sys_errno)));
    }
    if (family == 6) {
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
        sockaddr_in6 sa{};
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(port);
        sa.sin6_addr = in6addr_any;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            return closing(sock_fail(port, family, "bind", errno));
        }
    } else {
        ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            return closing(sock_fail(port, family, "bind", errno));
        }
    }
    return fd;
}

}  // namespace

Result<IkeSockets> IkeSockets::open(sa::SaBackend& backend) {
    IkeSockets s;
    s.ike_port_ = port_from_env("QVPN_IKE_PORT", 500);
    s.natt_port_ = port_from_env("QVPN_NATT_PORT", 4500);
    for (int family : {4, 6}) {
        for (uint16_t port : {s.ike_port_, s.natt_port_}) {
            auto fd = open_one(backend, family, port, port == s.natt_port_);
            if (!fd.ok()) {
                // IPv6 may be disabled on this system; IPv4 is required.
                if (family == 6 && fd.error().sys_errno == EAFNOSUPPORT) {
                    break;
                }
                return fd.failure();
            }
            s.socks_.push_back({*fd, family, port});
        }
    }
    return s;
}

IkeSockets::IkeSockets(IkeSockets&& o) noexcept
    : socks_(std::move(o.socks_)), ike_port_(o.ike_port_), natt_port_(o.natt_port_) {
    o.socks_.clear();
}

IkeSockets& IkeSockets::operator=(IkeSockets&& o) noexcept {
    if (this != &o) {
        for (auto& s : socks_) {
            ::close(s.fd);
        }
        socks_ = std::move(o.socks_);
        o.socks_.clear();
        ike_port_ = o.ike_port_;
        natt_port_ = o.natt_port_;
    }
    return *this;
}

IkeSockets::~IkeSockets() {
    for (auto& s : socks_) {
        ::close(s.fd);
    }
}

std::vector<int> IkeSockets::fds() const {
    std::vector<int> v;
    for (const auto& s : socks_) {
        v.push_back(s.fd);
    }
    return v;
}

std::optional<UdpDatagram> IkeSockets::receive(int fd) {
    const Sock* sock = nullptr;
    for (const auto& s : socks_) {
        if (s.fd == fd) {
            sock = &s;
        }
    }
    if (sock == nullptr) {
        return std::nullopt;
    }
    Bytes buf(65536);
    sockaddr_storage from{};
    char cbuf[256];
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n = ::recvmsg(fd, &mh, 0);
    if (n < 0) {
        return std::nullopt;
    }
    UdpDatagram d;
    d.local_port = sock->port;
    buf.resize(static_cast<size_t>(n));
    d.data = std::move(buf);
    if (from.ss_family == AF_INET) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&from);
        d.remote = *IpAddress::from_bytes(reinterpret_cast<uint8_t*>(&s4->sin_addr), 4);
        d.remote_port = ntohs(s4->sin_port);
    } else {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&from);
        d.remote = *IpAddress::from_bytes(s6->sin6_addr.s6_addr, 16);
        d.remote_port = ntohs(s6->sin6_port);
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi{};
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            d.local = *IpAddress::from_bytes(reinterpret_cast<uint8_t*>(&pi.ipi_addr), 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi{};
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            d.local = *IpAddress::from_bytes(pi.ipi6_addr.s6_addr, 16);
        }
    }
    return d;
}

Status IkeSockets::send(const IpAddress& local, uint16_t local_port, const IpAddress& remote,
                        uint16_t remote_port, ByteView data) {
    const Sock* sock = nullptr;
    for (const auto& s : socks_) {
        if (s.family == remote.family() && s.port == local_port) {
            sock = &s;
        }
    }
    if (sock == nullptr) {
        return fail(msg("VMN001D", local_port, remote.is_v6() ? "IPv6 send" : "IPv4 send")
                        .with_errno(EAFNOSUPPORT));
    }
    sockaddr_storage to{};
    socklen_t tolen;
    char cbuf[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr mh{};
    iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    if (remote.is_v4()) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&to);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(remote_port);
        std::memcpy(&s4->sin_addr, remote.data(), 4);
        tolen = sizeof(sockaddr_in);
        if (!local.is_unspecified() && local.is_v4()) {
            mh.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            cmsghdr* c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            std::memcpy(&pi.ipi_spec_dst, local.data(), 4);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    } else {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&to);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(remote_port);
        std::memcpy(&s6->sin6_addr, remote.data(), 16);
        tolen = sizeof(sockaddr_in6);
        if (!local.is_unspecified() && local.is_v6()) {
            mh.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
            cmsghdr* c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            std::memcpy(&pi.ipi6_addr, local.data(), 16);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    if (mh.msg_controllen == 0) {
        mh.msg_control = nullptr;
    }
    mh.msg_name = &to;
    mh.msg_namelen = tolen;
    if (::sendmsg(sock->fd, &mh, 0) < 0) {
        return fail(msg("VMN001D", local_port, "send").with_errno(errno));
    }
    return {};
}

}  // namespace qvpn::vman
