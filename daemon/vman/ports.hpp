// What QTOVMAN needs from the other subsystems, each behind one interface:
//
//   PolicyPort  the policy database (core/policy, foundation team): objects
//               to start, and the connection-state table commands read;
//   SaPort      the SA backend (daemon/sa): kernel XFRM or the userspace ESP
//               data path, chosen by the system value QVPNDTAPTH;
//   RulesPort   the packet rules (rules/): which policy filters are loaded.
//
// make_*_port() return the real adapters where their subsystem is built in;
// where it is not, a port whose every call fails with that subsystem's
// message (VMN001A, VMN001B, VMN0021), so the gap is loud and named.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/joblog/joblog.hpp"
#include "core/policy/model.hpp"
#include "daemon/sa/sa_types.hpp"
#include "daemon/vman/start_checks.hpp"

namespace qvpn::vman {

// A connection as the policy database names it.
struct ConnRef {
    std::string name;   // as stored (HRgw2FINgw:L1, MANUAL1)
    std::string group;  // dynamic-key group; empty for a manual connection
    bool manual = false;
    bool on_demand = false;
    bool autostart = false;
    int ike_version = 2;
    policy::Journaling journaling = policy::Journaling::None;
};

class PolicyPort {
public:
    virtual ~PolicyPort() = default;
    // A connection by its name, or a dynamic-key group by its name (then its
    // locally started connection). Case-insensitive. VMN0017 when none.
    virtual Result<ConnRef> find(const std::string& name) = 0;
    virtual Result<policy::ConnectionPolicy> dynamic_policy(const std::string& name) = 0;
    virtual Result<policy::ManualConnection> manual_policy(const std::string& name) = 0;
    // Connections that start with the server, and every connection.
    virtual Result<std::vector<ConnRef>> connections() = 0;
    // The connection-state table the configuration commands read.
    virtual Status record_state(const std::string& name, std::string_view state,
                                const std::string& msgid) = 0;
    // Every row of the state table back to idle (server start, server end).
    virtual Status reset_states() = 0;
    virtual Result<policy::DataPath> data_path() = 0;
    // QVPNJRNRET in days (0: keep).
    virtual Result<int> journal_retention_days() = 0;
};

// One trap (on-demand connection): outbound traffic between the selectors
// raises an acquire for `reqid` instead of leaving in clear.
struct Trap {
    std::string conn;
    uint32_t reqid = 0;
    IpAddress local, remote;  // connection endpoints
    sa::Mode mode = sa::Mode::Tunnel;
    std::vector<sa::TrafficSelector> ts_local, ts_remote;
};

// Events the backend reports.
struct SaEvent {
    enum class Kind { Acquire, SoftExpire, HardExpire } kind = Kind::Acquire;
    uint32_t reqid = 0;
    uint32_t spi = 0;
    IpAddress src, dst;  // acquire: the packet's addresses
};

class SaPort {
public:
    virtual ~SaPort() = default;
    virtual std::string name() const = 0;  // "kernel" or "userspace"
    virtual bool kernel() const = 0;       // ESP-in-UDP decapsulated by the kernel
    virtual Status install(const sa::ChildSa& c) = 0;
    virtual Status remove(const sa::ChildSa& c) = 0;
    virtual Status install_trap(const Trap& t) = 0;
    virtual Status remove_trap(const Trap& t) = 0;
    // Remove SAs and policies a previous QTOVMAN left; returns how many.
    virtual Result<int> cleanup_stale() = 0;
    virtual Result<sa::Counters> counters(const sa::ChildSa& c, bool inbound) = 0;
    // A descriptor to watch for events (or -1) and the events waiting on it.
    virtual int event_fd() const = 0;
    virtual std::vector<SaEvent> take_events() = 0;
    // ESP in UDP on port 4500 for the userspace data path.
    virtual void esp_in_udp(const IpAddress& from, uint16_t from_port, const IpAddress& to,
                            ByteView packet) = 0;
};

class RulesPort {
public:
    virtual ~RulesPort() = default;
    // The loaded policy filters for a dynamic-key group or manual connection.
    virtual Result<PolicyFilterView> policy_filters(const std::string& group) = 0;
};

std::unique_ptr<PolicyPort> make_policy_port(joblog::JobLog& log);
std::unique_ptr<SaPort> make_sa_port(policy::DataPath path, joblog::JobLog& log);
std::unique_ptr<RulesPort> make_rules_port(joblog::JobLog& log);

}  // namespace qvpn::vman
