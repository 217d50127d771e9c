#include "daemon/sa/userspace/tun.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace qvpn::sa::us {

Tun::Tun(Tun&& o) noexcept { *this = std::move(o); }

Tun& Tun::operator=(Tun&& o) noexcept {
    std::swap(name_, o.name_);
    std::swap(ifindex_, o.ifindex_);
    std::swap(fds_, o.fds_);
    std::swap(offload_, o.offload_);
    return *this;
}

Tun::~Tun() {
    for (int fd : fds_) {
        ::close(fd);
    }
}

Result<Tun> Tun::open(const std::string& name, int queues, bool offload) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail("ESP0001", name, "the name must have 1 to 15 characters");
    }
    Tun t;
    t.name_ = name;
    for (int q = 0; q < queues; ++q) {
        int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            return fail(msg("ESP0001", name, std::string("/dev/net/tun: ") + std::strerror(e))
                            .with_errno(e));
        }
        t.fds_.push_back(fd);
        ifreq ifr;
        std::memset(&ifr, 0, sizeof ifr);
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (offload ? IFF_VNET_HDR : 0);
        std::memcpy(ifr.ifr_name, name.c_str(), name.size());
        if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
            int e = errno;
            return fail(msg("ESP0001", name, std::string("TUNSETIFF: ") + std::strerror(e))
                            .with_errno(e));
        }
    }
    if (offload) {
        int hdr = 10;  // the legacy virtio_net_hdr (offload.hpp)
        unsigned features = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
        bool good = true;
        for (int fd : t.fds_) {
            good = good && ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0 &&
                   ioctl(fd, TUNSETOFFLOAD, features) == 0;
        }
        if (!good) {
            // Without offloads the header would still frame every packet:
            // start again plain (t's destructor closes these descriptors).
            for (int fd : t.fds_) {
                ::close(fd);
            }
            t.fds_.clear();
            return open(name, queues, false);
        }
        t.offload_ = true;
    }
    t.ifindex_ = int(if_nametoindex(name.c_str()));
    if (t.ifindex_ == 0) {
        int e = errno;
        return fail(msg("ESP0001", name, std::strerror(e)).with_errno(e));
    }
    return t;
}

}  // namespace qvpn::sa::us
