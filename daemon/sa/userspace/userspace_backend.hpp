// The userspace data path as an SaBackend: a TUN device, raw ESP/AH sockets
// and ESP-in-UDP, ESP/AH/IPComp in this process (datapath.hpp), routes into
// the TUN device for the remote data endpoints (routing.hpp).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/sa/backend.hpp"
#include "daemon/sa/userspace/datapath.hpp"
#include "daemon/sa/userspace/routing.hpp"
#include "daemon/sa/userspace/tun.hpp"

namespace qvpn::sa::us {

class UserspaceBackend final : public SaBackend {
public:
    static Result<std::unique_ptr<UserspaceBackend>> create(const BackendOptions& opts);
    ~UserspaceBackend() override;

    DataPathKind kind() const override { return DataPathKind::Userspace; }
    Status install(const ChildSa& sa) override;
    Status replace(uint32_t old_reqid, const ChildSa& sa) override;
    Status remove(uint32_t reqid) override;
    Status install_trap(const Trap& trap) override;
    Status remove_trap(uint32_t reqid) override;
    Result<ChildCounters> counters(uint32_t reqid) override;
    int event_fd() const override { return event_fd_; }
    std::vector<SaEvent> events() override;
    Result<CleanupReport> cleanup_stale() override;
    Status remove_all() override;
    Status prepare_ike_socket(int fd, int family, bool nat_t_port) override;
    void input_udp(ByteView datagram, const IpAddress& from, uint16_t from_port,
                   const IpAddress& to, uint16_t to_port) override;

    const DatapathStats& stats() const { return dp_->stats(); }
    const std::string& tun_name() const { return tun_.name(); }
    // Drops on the inbound SAs of a CHILD_SA, by reason (tests, displays).
    struct Drops {
        uint64_t integrity = 0, replay = 0, selector = 0, malformed = 0;
    };
    Result<Drops> drops(uint32_t reqid);

private:
    struct ChildEntry {
        std::string conn;
        Mode mode = Mode::Tunnel;
        std::shared_ptr<OutSa> out;
        std::vector<std::shared_ptr<InSa>> in;
        std::vector<SpdEntry> spd;
        std::vector<Prefix> routes;
        std::chrono::system_clock::time_point added;
    };
    struct TrapEntry {
        std::string conn;
        std::vector<SpdEntry> spd;
        std::vector<Prefix> routes;
    };

    UserspaceBackend(const BackendOptions& opts, Tun tun, Routing routing);
    Status open_sockets();
    Result<ChildEntry> build(const ChildSa& sa);
    Result<std::vector<Prefix>> add_routes(Mode mode, const IpAddress& local_outer,
                                           const IpAddress& remote,
                                           const std::vector<TrafficSelector>& local,
                                           const std::vector<TrafficSelector>& remote_ts);
    void release_routes(const std::vector<Prefix>& routes);
    void publish();  // caller holds mu_
    void push_event(SaEvent e);
    void housekeeping();
    void log(const Msg& m, const std::string& conn = "");

    BackendOptions opts_;
    Tun tun_;
    Routing routing_;
    std::unique_ptr<Datapath> dp_;
    int raw_esp4_ = -1, raw_esp6_ = -1, raw_ah4_ = -1, raw_ah6_ = -1;
    int own_udp4_ = -1, own_udp6_ = -1;
    int ike_udp4_ = -1, ike_udp6_ = -1;  // duplicates of QTOVMAN's port-4500 sockets

    std::mutex mu_;  // children_, traps_, routing_
    std::map<uint32_t, ChildEntry> children_;
    std::map<uint32_t, TrapEntry> traps_;
    // Inbound SAs of replaced CHILD_SAs, still accepting until `until`.
    struct Retiree {
        std::shared_ptr<InSa> sa;
        Clock::time_point until;
    };
    std::vector<Retiree> retirees_;
    // Outbound sequence numbers of SAs replace() took out of use, by their
    // (ESP, AH) SPIs, for the same grace: an SA that comes back (a key
    // manager returning to an older CHILD_SA after a rekey collision)
    // numbers on, or the peer would drop its packets as replays.
    struct SeqMemo {
        uint64_t esp = 0, ah = 0;
        Clock::time_point until;
    };
    std::map<std::pair<uint32_t, uint32_t>, SeqMemo> out_seq_;

    std::mutex ev_mu_;
    std::deque<SaEvent> events_;
    int event_fd_ = -1;

    std::mutex hk_mu_;
    std::condition_variable hk_cv_;
    bool hk_stop_ = false;
    std::thread hk_;
};

}  // namespace qvpn::sa::us
