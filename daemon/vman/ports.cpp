#include "daemon/vman/ports.hpp"

#include <ctime>
#include <memory>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/msg/catalog.hpp"
#include "core/policy/policy_db.hpp"
#include "core/policy/sqlite.hpp"
#include "rules/active_rules.hpp"

namespace qvpn::vman {

namespace {

using policy::PolicyDb;

policy::ConnectionState to_db(ConnState s) {
    switch (s) {
    case ConnState::Idle: return policy::ConnectionState::Idle;
    case ConnState::OnDemand: return policy::ConnectionState::OnDemand;
    case ConnState::Starting: return policy::ConnectionState::Starting;
    case ConnState::Enabled: return policy::ConnectionState::Enabled;
    case ConnState::Stopping: return policy::ConnectionState::Stopping;
    case ConnState::Error: return policy::ConnectionState::Error;
    }
    return policy::ConnectionState::Idle;
}

class DbPolicy final : public PolicyPort {
public:
    explicit DbPolicy(PolicyDb db) : db_(std::move(db)) {}

    Result<ConnRef> find(const std::string& name) override {
        if (auto c = db_.load_connection(name); c.ok()) {
            return dynamic_ref(*c);
        }
        if (auto m = db_.load_manual_connection(name); m.ok()) {
            return manual_ref(*m);
        }
        QVPN_ASSIGN(bool group, db_.group_exists(name));
        if (group) {
            QVPN_ASSIGN(auto conns, db_.list_connections(name));
            if (conns.size() == 1) {
                return dynamic_ref(conns[0]);
            }
            if (conns.size() > 1) {
                // The group's locally started connection is <group>:L1.
                for (const auto& c : conns) {
                    if (iequals(c.name, name + ":L1")) {
                        return dynamic_ref(c);
                    }
                }
            }
        }
        return fail("VMN0017", name);
    }

    Result<policy::ConnectionPolicy> dynamic_policy(const std::string& name) override {
        return db_.resolve(name);
    }

    Result<policy::ManualConnection> manual_policy(const std::string& name) override {
        QVPN_ASSIGN(auto m, db_.resolve_manual(name));
        return std::move(m.connection);
    }

    Result<ConnRef> responder_ref(const std::string& name, const std::string& group) override {
        QVPN_ASSIGN(auto g, db_.load_group(group));
        ConnRef r;
        r.name = name;
        r.group = g.name;
        r.journaling = g.journaling;
        return r;
    }

    Result<policy::DynamicGroup> group(const std::string& name) override {
        return db_.load_group(name);
    }

    Result<std::vector<ConnRef>> connections() override {
        std::vector<ConnRef> out;
        QVPN_ASSIGN(auto dyn, db_.list_connections());
        for (const auto& c : dyn) {
            QVPN_ASSIGN(ConnRef r, dynamic_ref(c));
            out.push_back(std::move(r));
        }
        QVPN_ASSIGN(auto man, db_.list_manual_connections());
        for (const auto& m : man) {
            out.push_back(manual_ref(m));
        }
        return out;
    }

    Status record_state(const ConnRef& c, ConnState state,
                        const std::optional<Msg>& error) override {
        policy::ConnectionStatus s;
        s.name = c.name;
        s.type = c.manual ? policy::ConnectionType::Manual : policy::ConnectionType::Dynamic;
        s.state = to_db(state);
        s.group = c.group;
        if (error) {
            s.error_msgid = error->id;
            s.error_values = error->values;
            s.error_time = static_cast<int64_t>(std::time(nullptr));
        }
        return db_.set_state(s);
    }

    Result<int> active_states() override {
        QVPN_ASSIGN(auto rows, db_.list_states());
        int n = 0;
        for (const auto& r : rows) {
            n += policy::is_active(r.state) ? 1 : 0;
        }
        return n;
    }

    Status reset_states() override { return db_.reset_states(); }
    Result<policy::DataPath> data_path() override { return db_.data_path(); }

    Result<int> journal_retention_days() override {
        auto v = db_.system_value(policy::kQVPNJRNRET);
        long long days = 0;
        if (!v.ok() || !parse_int(trim(*v), days) || days < 0) {
            return 30;
        }
        return static_cast<int>(days);
    }

private:
    Result<ConnRef> dynamic_ref(const policy::DynamicConnection& c) {
        ConnRef r;
        r.name = c.name;
        r.group = c.group;
        r.on_demand = c.on_demand;
        r.autostart = c.autostart;
        r.ike_version = c.ike_version;
        QVPN_ASSIGN(auto g, db_.load_group(c.group));
        r.journaling = g.journaling;
        return r;
    }

    static ConnRef manual_ref(const policy::ManualConnection& m) {
        ConnRef r;
        r.name = m.name;
        r.manual = true;
        r.autostart = m.autostart;
        r.journaling = m.journaling;
        return r;
    }

    PolicyDb db_;
};

// The loaded rules as rules::ActiveRules sees them: the snapshot is read
// again whenever the state changed since the last start, so a LODIPFTR just
// before STRVPNCNN counts.
class ActiveRulesPort final : public RulesPort {
public:
    Result<PolicyFilterView> policy_filters(const std::string& group) override {
        auto loaded = watch_.current();
        if (!loaded.ok()) {
            return fail("VMN0021", msgcat::line(loaded.error()));
        }
        std::shared_ptr<const rules::ActiveRules> snap = *loaded;
        PolicyFilterView v;
        v.rules_loaded = !snap->empty();
        v.filter_loaded = snap->has_policy_filter(group);
        v.covering = [snap, group](const IpRange& l, const IpRange& r, int proto, int lp,
                                   int rp) -> std::optional<int> {
            rules::DataEndpoints ep{l, r, proto, lp, rp};
            const rules::PolicyFilter* pf = snap->covering(group, ep);
            if (pf == nullptr) {
                return std::nullopt;
            }
            return pf->order;
        };
        return v;
    }

private:
    rules::ActiveRulesWatch watch_;
};

}  // namespace

Result<std::unique_ptr<PolicyPort>> make_policy_port() {
    QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), policy::Access::ReadWrite));
    // This connection writes only the state table, which the next start of
    // QTOVMAN resets anyway: no fsync per connection state change (WAL, so
    // the file stays whole and other connections see each commit at once).
    // The configuration commands keep their own connections' full sync.
    QVPN_TRY(db.database().exec("PRAGMA synchronous = NORMAL"));
    return std::unique_ptr<PolicyPort>(std::make_unique<DbPolicy>(std::move(db)));
}

Result<std::unique_ptr<sa::SaBackend>> make_sa_backend(policy::DataPath path,
                                                       joblog::JobLog& log) {
    sa::BackendOptions opts;
    opts.log = &log;
    return sa::make_backend(path, opts);
}

std::unique_ptr<RulesPort> make_rules_port(joblog::JobLog&) {
    return std::make_unique<ActiveRulesPort>();
}

}  // namespace qvpn::vman
