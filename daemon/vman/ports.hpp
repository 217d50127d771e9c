// What QTOVMAN needs from the other subsystems, each behind one interface:
//
//   PolicyPort    the policy database (core/policy): the objects to start,
//                 and the connection-state table the commands read;
//   sa::SaBackend the SA backend (daemon/sa/backend.hpp): kernel XFRM or the
//                 userspace ESP data path, chosen by QVPNDTAPTH;
//   RulesPort     the packet rules (rules/): which policy filters are loaded.
//
// make_*() return the adapters over the real subsystems; a failure inside
// one surfaces with that subsystem's message (VMN001B for the data path,
// VMN0021 for the packet rules).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/joblog/joblog.hpp"
#include "core/policy/model.hpp"
#include "daemon/sa/backend.hpp"
#include "daemon/vman/conn_state.hpp"
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
    // one connection). Case-insensitive. VMN0017 when none.
    virtual Result<ConnRef> find(const std::string& name) = 0;
    virtual Result<policy::ConnectionPolicy> dynamic_policy(const std::string& name) = 0;
    virtual Result<policy::ManualConnection> manual_policy(const std::string& name) = 0;
    // A connection a peer started (<group>:R<n>), as the key manager names
    // it: its group's journaling, IKE version 2 unless told otherwise.
    virtual Result<ConnRef> responder_ref(const std::string& name, const std::string& group) = 0;
    virtual Result<policy::DynamicGroup> group(const std::string& name) = 0;
    // Every dynamic-key and manual connection.
    virtual Result<std::vector<ConnRef>> connections() = 0;
    // The connection-state table the configuration commands read.
    virtual Status record_state(const ConnRef& c, ConnState state,
                                const std::optional<Msg>& error) = 0;
    // How many rows of the state table are active (not idle, not error).
    virtual Result<int> active_states() = 0;
    // Every row of the state table back to idle (server start and end).
    virtual Status reset_states() = 0;
    virtual Result<policy::DataPath> data_path() = 0;
    // QVPNJRNRET in days (0: keep).
    virtual Result<int> journal_retention_days() = 0;
};

class RulesPort {
public:
    virtual ~RulesPort() = default;
    // The loaded policy filters for a dynamic-key group or manual connection.
    virtual Result<PolicyFilterView> policy_filters(const std::string& group) = 0;
};

// The policy database of this system ($QVPN_ROOT/policy.db), opened for
// the daemon's lifetime (created when missing).
Result<std::unique_ptr<PolicyPort>> make_policy_port();
Result<std::unique_ptr<sa::SaBackend>> make_sa_backend(policy::DataPath path,
                                                       joblog::JobLog& log);
std::unique_ptr<RulesPort> make_rules_port(joblog::JobLog& log);

}  // namespace qvpn::vman
