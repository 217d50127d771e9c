// The userspace data path's packet engine: worker threads moving packets
// between the TUN device and the ESP/AH/UDP sockets.
//
//   outbound worker i:  read TUN queue i (non-blocking, in bursts) -> SPD ->
//                       IPComp, ESP, AH -> sendmmsg per socket
//   inbound worker j:   recvmmsg on the raw ESP/AH and own UDP sockets ->
//                       SAD by SPI -> replay, ICV, decrypt -> inner selector
//                       check -> write to TUN
//   input_udp():        the same inbound path for datagrams QTOVMAN read on
//                       its port 4500, on the caller's thread
//
// Buffers and crypto contexts belong to one worker each; nothing allocates
// per packet. SAs and policies come from the Snapshot (sad.hpp).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/sa/backend.hpp"
#include "daemon/sa/userspace/ipcomp.hpp"
#include "daemon/sa/userspace/sad.hpp"

namespace qvpn::sa::us {

struct DatapathStats {
    std::atomic<uint64_t> tun_in{0}, tun_out{0};        // packets read from / written to TUN
    std::atomic<uint64_t> no_policy{0}, no_sa{0};       // dropped: nothing matched
    std::atomic<uint64_t> malformed{0};                 // dropped: unparseable packets
    std::atomic<uint64_t> send_errors{0}, acquires{0};
    std::atomic<uint64_t> dummy{0};                     // RFC 4303 dummy packets dropped
};

struct DatapathConfig {
    int out_workers = 1, in_workers = 1;
    int mtu = 1400;
    std::vector<int> tun_fds;   // one per outbound worker
    int raw_esp4 = -1, raw_esp6 = -1, raw_ah4 = -1, raw_ah6 = -1;
    int udp4 = -1, udp6 = -1;   // own ESP-in-UDP sockets (read by the workers)
    bool vnet_hdr = false;      // TUN offloads (virtio_net_hdr, TSO in, GRO out)
};

class Datapath {
public:
    using EventSink = std::function<void(SaEvent)>;

    Datapath(DatapathConfig cfg, EventSink sink);
    ~Datapath();
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    Status start();
    void stop();

    void publish(std::shared_ptr<const Snapshot> snap);
    std::shared_ptr<const Snapshot> snapshot() const;

    // Where outbound ESP-in-UDP goes out (QTOVMAN's port 4500 socket, or
    // our own). The data path does not own these descriptors.
    void set_udp_sender(int family, int fd);

    // Inbound ESP-in-UDP handed in by the owner of the port-4500 socket.
    void input_udp(ByteView datagram, const IpAddress& from, const IpAddress& to);

    int out_slots() const { return cfg_.out_workers; }
    int in_slots() const { return cfg_.in_workers + 1; }  // + input_udp's
    const DatapathStats& stats() const { return stats_; }
    int mtu() const { return cfg_.mtu; }

    // Limits (bytes/packets/seq overflow) checked on the packet path;
    // the owner checks time limits and calls this to raise events.
    void raise(SaEvent e) { sink_(std::move(e)); }

private:
    struct Worker;
    void outbound_loop(int slot);
    void inbound_loop(int slot);
    void outbound_packet(Worker& w, const Snapshot& snap, int64_t now, Pkt& p);
    void send_batches(Worker& w);
    void send_udp_gso(Worker& w, int sock, int fd);
    void inbound_udp(Worker& w, int fd, int family, int tun_fd);
    void attach_gro(Worker& w, int tun_fd);

    DatapathConfig cfg_;
    EventSink sink_;
    DatapathStats stats_;
    std::atomic<std::shared_ptr<const Snapshot>> snap_;
    std::atomic<int> udp_out4_{-1}, udp_out6_{-1};
    std::atomic<bool> udp_gso_{true};  // cleared if the kernel refuses UDP_SEGMENT
    std::atomic<bool> stop_{false};
    int stop_fd_ = -1;
    std::vector<std::thread> threads_;
    std::unique_ptr<Worker> external_;
    std::mutex external_mu_;
};

}  // namespace qvpn::sa::us
