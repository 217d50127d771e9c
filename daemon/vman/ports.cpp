#include "daemon/vman/ports.hpp"

namespace qvpn::vman {

namespace {

// TODO(policy-db): the foundation team's policy database API (objects and the
// connection-state table) is not in this build yet. Until it is, every
// lookup fails with VMN001A, so STRVPNCNN answers VMN001A then TCP8601 reason
// 1, and autostart starts nothing.
class PolicyUnavailable final : public PolicyPort {
public:
    Result<ConnRef> find(const std::string&) override { return gap(); }
    Result<policy::ConnectionPolicy> dynamic_policy(const std::string&) override { return gap(); }
    Result<policy::ManualConnection> manual_policy(const std::string&) override { return gap(); }
    Result<std::vector<ConnRef>> connections() override { return gap(); }
    Status record_state(const std::string&, std::string_view, const std::string&) override {
        return gap();
    }
    Status reset_states() override { return gap(); }
    Result<policy::DataPath> data_path() override { return policy::DataPath::Auto; }
    Result<int> journal_retention_days() override { return 30; }

private:
    static Failure gap() { return fail("VMN001A", "the policy database interface is not built in"); }
};

// TODO(sa-backend): the SA team's qvpn_sa library (kernel XFRM and the
// userspace data path) is not in this build yet. Until it is, installing or
// removing anything fails with VMN001B (TCP8601 reason 6 for a start), and
// cleanup finds nothing to remove because nothing can have been installed.
class SaUnavailable final : public SaPort {
public:
    explicit SaUnavailable(policy::DataPath p) : path_(p) {}
    std::string name() const override {
        return path_ == policy::DataPath::Kernel ? "kernel" : "userspace";
    }
    bool kernel() const override { return path_ == policy::DataPath::Kernel; }
    Status install(const sa::ChildSa&) override { return gap(); }
    Status remove(const sa::ChildSa&) override { return gap(); }
    Status install_trap(const Trap&) override { return gap(); }
    Status remove_trap(const Trap&) override { return gap(); }
    Result<int> cleanup_stale() override { return 0; }
    Result<sa::Counters> counters(const sa::ChildSa&, bool) override { return gap(); }
    int event_fd() const override { return -1; }
    std::vector<SaEvent> take_events() override { return {}; }
    void esp_in_udp(const IpAddress&, uint16_t, const IpAddress&, ByteView) override {
        ++dropped_;
    }

private:
    static Failure gap() { return fail("VMN001B", "the SA backend is not built in"); }
    policy::DataPath path_;
    uint64_t dropped_ = 0;
};

// TODO(active-rules): the rules team's active-rules interface is not in this
// build yet. Until it is, the policy filter check fails with VMN0021 (then
// TCP8601 reason 1): without it QTOVMAN cannot tell whether a group's policy
// filter is loaded, nor that none is (POLICYFTR(*NONE)).
class RulesUnavailable final : public RulesPort {
public:
    Result<PolicyFilterView> policy_filters(const std::string&) override {
        return fail("VMN0021", "the packet rules interface is not built in");
    }
};

}  // namespace

std::unique_ptr<PolicyPort> make_policy_port(joblog::JobLog&) {
    return std::make_unique<PolicyUnavailable>();
}

std::unique_ptr<SaPort> make_sa_port(policy::DataPath path, joblog::JobLog&) {
    return std::make_unique<SaUnavailable>(path);
}

std::unique_ptr<RulesPort> make_rules_port(joblog::JobLog&) {
    return std::make_unique<RulesUnavailable>();
}

}  // namespace qvpn::vman
