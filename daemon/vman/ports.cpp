#include "daemon/vman/ports.hpp"

#include <ctime>
#include <memory>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/msg/catalog.hpp"
#include "core/policy/policy_db.hpp"
#include "daemon/sa/socket_opts.hpp"
#ifdef QVPN_HAVE_ACTIVE_RULES
#include "rules/active_rules.hpp"
#endif

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

// TODO(sa-backend): used only while sa::make_backend (the kernel XFRM and
// userspace data paths) is not in the build (QVPN_HAVE_SA_BACKEND unset):
// this backend refuses every install, trap and counter query with VMN001B
// (a start then ends with TCP8601 reason 6), prepares the IKE sockets itself
// (bypass and mark, which need no backend), and finds nothing stale because
// nothing can have been installed.
class SaUnavailable final : public sa::SaBackend {
public:
    explicit SaUnavailable(policy::DataPath p) : path_(p) {}
    sa::DataPathKind kind() const override {
        return path_ == policy::DataPath::Kernel ? sa::DataPathKind::Kernel
                                                 : sa::DataPathKind::Userspace;
    }
    Status install(const sa::ChildSa&) override { return gap(); }
    Status replace(uint32_t, const sa::ChildSa&) override { return gap(); }
    Status remove(uint32_t) override { return gap(); }
    Status install_trap(const sa::Trap&) override { return gap(); }
    Status remove_trap(uint32_t) override { return gap(); }
    Result<sa::ChildCounters> counters(uint32_t) override { return gap(); }
    int event_fd() const override { return -1; }
    std::vector<sa::SaEvent> events() override { return {}; }
    Result<sa::CleanupReport> cleanup_stale() override { return sa::CleanupReport{}; }
    Status remove_all() override { return {}; }
    Status prepare_ike_socket(int fd, int family, bool) override {
        QVPN_TRY(sa::set_ipsec_bypass(fd, family));
        return sa::set_mark(fd, sa::kBypassMark);
    }
    void input_udp(ByteView, const IpAddress&, uint16_t, const IpAddress&, uint16_t) override {
        ++dropped_;
    }

private:
    static Failure gap() { return fail("VMN001B", "the SA backend is not built in"); }
    policy::DataPath path_;
    uint64_t dropped_ = 0;
};

#ifdef QVPN_HAVE_ACTIVE_RULES
// The loaded rules as rules::ActiveRules sees them: a fresh snapshot per
// start, so a LODIPFTR just before STRVPNCNN counts.
class ActiveRulesPort final : public RulesPort {
public:
    Result<PolicyFilterView> policy_filters(const std::string& group) override {
        auto loaded = rules::ActiveRules::load();
        if (!loaded.ok()) {
            return fail("VMN0021", msgcat::line(loaded.error()));
        }
        auto snap = std::make_shared<rules::ActiveRules>(std::move(*loaded));
        PolicyFilterView v;
        v.rules_loaded = !snap->empty();
        v.filter_loaded = snap->has_policy_filter(group);
        v.covers = [snap, group](const IpRange& l, const IpRange& r, int proto, int lp, int rp) {
            rules::DataEndpoints ep{l, r, proto, lp, rp};
            return snap->covering(group, ep) != nullptr;
        };
        return v;
    }
};
#endif

// TODO(active-rules): used only while the rules team's ActiveRules is not in
// the build (QVPN_HAVE_ACTIVE_RULES unset). The policy filter check then
// fails with VMN0021 (then TCP8601 reason 1): without it QTOVMAN cannot tell
// whether a group's policy filter is loaded, nor that none is.
class RulesUnavailable final : public RulesPort {
public:
    Result<PolicyFilterView> policy_filters(const std::string&) override {
        return fail("VMN0021", "the packet rules interface is not built in");
    }
};

}  // namespace

Result<std::unique_ptr<PolicyPort>> make_policy_port() {
    QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), policy::Access::ReadWrite));
    return std::unique_ptr<PolicyPort>(std::make_unique<DbPolicy>(std::move(db)));
}

Result<std::unique_ptr<sa::SaBackend>> make_sa_backend(policy::DataPath path,
                                                       joblog::JobLog& log) {
#ifdef QVPN_HAVE_SA_BACKEND
    sa::BackendOptions opts;
    opts.log = &log;
    return sa::make_backend(path, opts);
#else
    (void)log;
    return std::unique_ptr<sa::SaBackend>(std::make_unique<SaUnavailable>(path));
#endif
}

std::unique_ptr<RulesPort> make_rules_port(joblog::JobLog&) {
#ifdef QVPN_HAVE_ACTIVE_RULES
    return std::make_unique<ActiveRulesPort>();
#else
    return std::make_unique<RulesUnavailable>();
#endif
}

}  // namespace qvpn::vman
