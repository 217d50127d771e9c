// The TUN device of the userspace data path: one non-blocking descriptor
// per queue (IFF_MULTI_QUEUE), so each outbound worker reads its own queue.
// The device exists while the descriptors are open: a data path that dies
// takes its device and the routes through it along.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace qvpn::sa::us {

class Tun {
public:
    // offload: ask for virtio_net_hdr framing with checksum and TSO offload
    // (see offload.hpp); a kernel without it gives a plain device.
    static Result<Tun> open(const std::string& name, int queues, bool offload);
    Tun(Tun&& o) noexcept;
    Tun& operator=(Tun&& o) noexcept;
    ~Tun();

    const std::string& name() const { return name_; }
    int ifindex() const { return ifindex_; }
    const std::vector<int>& fds() const { return fds_; }
    bool offload() const { return offload_; }

private:
    Tun() = default;
    std::string name_;
    int ifindex_ = 0;
    std::vector<int> fds_;
    bool offload_ = false;
};

}  // namespace qvpn::sa::us
