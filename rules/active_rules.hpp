// rules::ActiveRules: what the connection manager (QTOVMAN) asks about the
// loaded packet rules before it starts a connection.
//
//   auto rules = rules::ActiveRules::load();          // a snapshot
//   if (!rules->has_policy_filter("HRgw2FINgw"))  ... TCP8624
//   const PolicyFilter* pf = rules->covering("HRgw2FINgw", endpoints);
//   if (pf == nullptr)                             ... TCP8628
//   install XFRM / userspace policies for pf->match (ordered by pf->order)
//
// A policy filter is a loaded IPSEC rule: its selectors are written for the
// outbound packet (source = local data endpoint, destination = remote), and
// the compiled nftables rules let matching traffic pass only through IPsec:
// outbound when the packet leaves into an XFRM transform (`rt ipsec exists`),
// inbound when it came out of one (`meta ipsec exists`); cleartext that
// matches is dropped. The userspace data path's traffic enters and leaves
// through its TUN interface, which carries no rules unless a FILTER_INTERFACE
// names it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "rules/model.hpp"

namespace qvpn::rules {

struct PolicyFilter {
    std::string connection;   // CONNECTION_DEFINITION: dynamic-key group or manual connection
    int order = 0;            // system-wide rank among policy filters, 0 first
    int unit = 0;             // load that brought it
    int rule = 0;             // rule number in its rules file (TFRNUM)
    std::string set;
    std::string location;     // file:line:col
    std::string file;         // the main file of its load ("" for generated rules only)
    std::string loaded_at;    // ISO 8601 UTC
    std::vector<std::string> lines;       // lines whose sets include it
    std::vector<std::string> interfaces;  // their Linux interfaces
    Match match;              // outbound: local -> remote
    Fragments fragments = Fragments::None;
    bool journal = false;     // JRN = FULL

    // The (local, remote) address ranges the filter covers: the cross
    // product of its source and destination ranges, `*` as the whole address
    // space of the other side's version (of both versions when both are *).
    std::vector<std::pair<IpRange, IpRange>> scopes() const;
};

// The data endpoints of a connection, as the connection manager will
// install them. protocol 0 and ports 0 mean any.
struct DataEndpoints {
    IpRange local, remote;
    int protocol = 0;
    int local_port = 0, remote_port = 0;
};

struct State;

class ActiveRules {
public:
    // Read $QVPN_ROOT/ipfilter.db. No state file means no rules (not an
    // error); a state that cannot be read fails with NFT0120.
    static Result<ActiveRules> load();
    // The same from a state already read, without asking the kernel.
    static ActiveRules from_state(const State& st);

    bool empty() const { return lines_.empty(); }
    // The state records rules, but table inet qvpn in the kernel is not the
    // one it recorded (a reboot, or the table deleted by hand): nothing is
    // active, so this object holds no lines and no policy filters.
    bool stale() const { return stale_; }
    // Lines with active rules.
    const std::vector<std::string>& lines() const { return lines_; }

    // Every loaded policy filter, in `order`.
    const std::vector<PolicyFilter>& policy_filters() const { return filters_; }
    // The policy filters naming `connection` (case-insensitive), in order.
    std::vector<const PolicyFilter*> for_connection(std::string_view connection) const;
    bool has_policy_filter(std::string_view connection) const;
    // The first policy filter of `connection` whose selectors contain the
    // endpoints entirely (every address of each range, the protocol and the
    // ports), or nullptr.
    const PolicyFilter* covering(std::string_view connection, const DataEndpoints& ep) const;
    // Connection definitions in their system-wide order.
    std::vector<std::string> connections() const;

private:
    friend class ActiveRulesWatch;
    bool stale_ = false;
    std::vector<std::string> lines_;
    std::vector<PolicyFilter> filters_;
};

// ActiveRules::load() for a caller that asks for every connection start:
// the last snapshot is kept for as long as the state file is unchanged,
// since reading it costs more than the rest of a start. A change is seen
// through SQLite's data_version on a connection held open for the purpose,
// and the file's inode (a state removed and written anew). Whether table
// inet qvpn in the kernel is the recorded one is asked every time, as
// load() does.
class ActiveRulesWatch {
public:
    ActiveRulesWatch();
    ~ActiveRulesWatch();
    ActiveRulesWatch(const ActiveRulesWatch&) = delete;
    ActiveRulesWatch& operator=(const ActiveRulesWatch&) = delete;

    Result<std::shared_ptr<const ActiveRules>> current();

private:
    // Has the state file changed since the last read? (true on any doubt)
    bool changed();

    struct Watcher;
    std::unique_ptr<Watcher> w_;
    std::unique_ptr<State> st_;
    bool live_ = false;
    std::shared_ptr<const ActiveRules> snap_;
};

// Does `m` (outbound selectors) contain the endpoints entirely?
bool contains(const Match& m, const DataEndpoints& ep);

}  // namespace qvpn::rules
