// The kernel data path: CHILD_SAs as XFRM states and policies, over
// netlink. See backend.hpp for the contract and xfrm_msg.hpp for what one
// CHILD_SA becomes in the kernel.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "daemon/sa/backend.hpp"
#include "daemon/sa/userspace/routing.hpp"
#include "daemon/sa/xfrm/netlink.hpp"
#include "daemon/sa/xfrm/xfrm_msg.hpp"

namespace qvpn::sa::xfrm {

class XfrmBackend final : public SaBackend {
public:
    static Result<std::unique_ptr<XfrmBackend>> create(const BackendOptions& opts);
    ~XfrmBackend() override;

    // Can this network namespace's kernel hold ESP states? Installs and
    // removes a throw-away ESP state (AES-CBC/HMAC-SHA-256 and AES-GCM).
    static Status probe();

    DataPathKind kind() const override { return DataPathKind::Kernel; }
    Status install(const ChildSa& sa) override;
    Status replace(uint32_t old_reqid, const ChildSa& sa) override;
    Status remove(uint32_t reqid) override;
    Status install_trap(const Trap& trap) override;
    Status remove_trap(uint32_t reqid) override;
    Result<ChildCounters> counters(uint32_t reqid) override;
    int event_fd() const override;
    std::vector<SaEvent> events() override;
    Result<CleanupReport> cleanup_stale() override;
    Status remove_all() override;
    Status prepare_ike_socket(int fd, int family, bool nat_t_port) override;
    void input_udp(ByteView datagram, const IpAddress& from, uint16_t from_port,
                   const IpAddress& to, uint16_t to_port) override;

    uint64_t unexpected_udp() const { return unexpected_udp_; }

private:
    struct StateKey {
        uint8_t proto;
        uint32_t spi;
        IpAddress dst;
        bool inbound;
        auto operator<=>(const StateKey&) const = default;
    };
    struct PolicyKey {
        PolicySel sel;
        uint8_t dir;
        bool operator==(const PolicyKey&) const = default;
        bool operator<(const PolicyKey& o) const;
    };
    struct Child {
        std::string conn;
        Mode mode = Mode::Tunnel;
        IpAddress local;
        std::vector<StateKey> states;
        std::vector<PolicySpec> policies;
        uint8_t outer_proto = 0;  // AH when present, else ESP: what counters read
        std::vector<Prefix> routes;
    };
    // Old inbound states of a replaced CHILD_SA, deleted at `until`.
    struct Retiree {
        StateKey key;
        uint32_t reqid;
        std::chrono::steady_clock::time_point until;
    };
    struct TrapEntry {
        std::string conn;
        std::vector<PolicySpec> policies;
        std::vector<Prefix> routes;
    };
    // What one install() added, to undo it on a failure.
    struct Undo {
        std::vector<StateKey> states;
        std::vector<PolicySpec> created;                         // delete these
        std::vector<std::pair<PolicySpec, uint32_t>> replaced;  // restore (spec, old owner)
    };

    XfrmBackend(const BackendOptions& opts, NlSocket req, NlSocket ev, us::Routing routing);
    // Tunnel mode: routes to the remote data endpoints through the interface
    // (and gateway) that reaches the peer, sourced inside the local selectors.
    Result<std::vector<Prefix>> add_routes(const Plan& p);
    void release_routes(const std::vector<Prefix>& routes);
    Status add_states(const ChildSa& sa, Undo& undo);
    Status put_policies(const std::string& conn, uint32_t reqid,
                        const std::vector<PolicySpec>& policies, Undo& undo);
    void rollback(Undo& undo);
    Status delete_state(const StateKey& k, uint32_t reqid);
    Status delete_policy(const PolicySpec& p, uint32_t reqid);
    // Policies of `reqid` not covered by `keep`, removed from the kernel and
    // from the owner table.
    Status drop_policies(uint32_t reqid, const std::vector<PolicySpec>& policies,
                         const std::vector<PolicySpec>& keep);
    std::optional<PolicySpec> spec_for(const PolicyKey& k, uint32_t owner) const;
    void retire(uint32_t reqid, const std::vector<StateKey>& states);
    void reap(bool all);  // delete the retirees that are due (or all of them)
    void arm_timer();
    void log(const Msg& m, const std::string& conn = "");
    void debug(const std::string& text);

    BackendOptions opts_;
    NlSocket req_, ev_;
    us::Routing routing_;
    std::map<uint32_t, Child> children_;
    std::map<uint32_t, TrapEntry> traps_;
    std::map<PolicyKey, uint32_t> policy_owner_;  // which reqid's template is in the kernel
    uint64_t unexpected_udp_ = 0;
    std::vector<Retiree> retirees_;
    // event_fd(): an epoll set of the netlink event socket and a timer for
    // the retirees, so QTOVMAN polls one descriptor.
    int epoll_fd_ = -1, timer_fd_ = -1;
};

}  // namespace qvpn::sa::xfrm
