// QTOVMAN: the VPN connection manager.
//
// One thread, one event loop, owning: the command socket (run/QTOVMAN.sock),
// the IKE UDP sockets, the SA backend, the key manager children and the
// connection table. Every connection state change goes through
// conn_state.hpp's table, is written to the policy database's state table
// (so configuration commands see it) and, for groups that journal, to QVPN.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ipc/control.hpp"
#include "core/ipc/km_channel.hpp"
#include "core/joblog/joblog.hpp"
#include "daemon/vman/conn_state.hpp"
#include "daemon/vman/event_loop.hpp"
#include "daemon/vman/ike_sockets.hpp"
#include "daemon/vman/key_managers.hpp"
#include "daemon/vman/ports.hpp"
#include "journal/journal.hpp"

namespace qvpn::vman {

// A CHILD_SA installed through the SA backend, and since when (its next
// refresh is due soft_seconds after that).
struct InstalledChild {
    sa::ChildSa sa;
    int64_t since_us = 0;
};

struct Conn {
    ConnRef ref;
    // The name the key manager knows the connection by. It is ref.name,
    // except for a connection a peer started that the key manager matched to
    // a configured connection: QTOVMAN shows that one as <group>:R<n>.
    std::string km_name;
    bool responder = false;             // started by the peer
    ConnState state = ConnState::Idle;
    uint32_t reqid = 0;                 // QTOVMAN's; 0 for a responder (the key manager's)
    std::optional<StartPlan> plan;
    std::vector<InstalledChild> children;  // installed through the SA port
    std::optional<sa::Trap> trap;       // on-demand: installed trap
    nlohmann::json ike;                 // last ike_up report
    int refreshes = 0;
    int64_t start_us = 0;
    std::optional<Msg> last_error;
    std::vector<int> start_waiters;     // client fds waiting for Enabled
    std::vector<int> end_waiters;       // client fds waiting for Idle
    EventLoop::TimerId start_timer = 0, end_timer = 0;
    bool server_initiated_end = false;
    bool end_requested = false;         // ENDVPNCNN or ENDTCPSVR (not the peer)
    bool autostart_pending = false;     // starts with the server once its key manager is ready
    // TSAUTH/TSENCR of the last CHILD_SA, for phase 2 journal entries
    // written after it is gone.
    mutable std::pair<std::string, std::string> sa_algorithms;
};

class Server {
public:
    Server(joblog::JobLog& log, bool foreground);
    ~Server();

    // Open everything and recover from a previous abnormal end. `stale`: a
    // pid file was left by a QTOVMAN that did not end normally.
    Status start(bool stale);
    Status run();

private:
    struct Client {
        int fd = -1;
        ipc::LineBuffer buf;
        ipc::PeerCred cred;
    };

    // --- command socket ---
    void on_accept();
    void on_client(int fd);
    void handle(Client& c, const nlohmann::json& req);
    void reply(int fd, const ipc::Reply& r);
    void drop_client(int fd);

    void op_ping(Client& c);
    void op_status(Client& c, const nlohmann::json& req);
    void op_start(Client& c, const nlohmann::json& req);
    void op_end(Client& c, const nlohmann::json& req);
    void op_reset(Client& c, const nlohmann::json& req);
    void op_shutdown(Client& c);

    // --- connections ---
    Conn& conn_for(const ConnRef& ref);
    Conn* find_conn(const std::string& name);
    Status set_state(Conn& c, ConnState to);
    // Runs the checks and starts negotiating (or installs a manual
    // connection). A failure has already been logged, journaled and
    // answered to waiters.
    bool begin_start(Conn& c, std::optional<IpAddress> populated_remote = std::nullopt);
    bool begin_dynamic(Conn& c, std::optional<IpAddress> populated_remote);
    bool begin_manual(Conn& c);
    static void fill_manual_keys(const policy::ManualConnection& m, sa::ChildSa& ch);
    bool arm_on_demand(Conn& c);
    void fail_start(Conn& c, const Msg& detail, int reason);
    void begin_end(Conn& c, bool by_server);
    void finish_end(Conn& c, std::optional<Msg> problem);
    void wake_start_waiters(Conn& c, const ipc::Reply& r);
    std::vector<EnabledView> enabled_views() const;
    SystemView system_view() const;
    void journal(const Conn& c, std::string_view state, const std::string& errc = {},
                 const std::string& phase = "2");

    // --- key managers ---
    void on_km_message(KeyManager& km, const ipc::KmMessage& m);
    void on_km_up(KeyManager& km);
    void on_km_down(KeyManager& km);
    void km_ike_up(KeyManager& km, const nlohmann::json& j);
    void km_ike_down(const nlohmann::json& j);
    void km_child_up(const nlohmann::json& j);
    // The connection the key manager means by `km_name`: an active one
    // first, otherwise the last that carried the name (late reports).
    Conn* find_by_km(const std::string& km_name);
    Conn* adopt_responder(const std::string& km_name, const std::string& group_hint,
                          int ike_version);
    // A peer's first CHILD_SA: may this system run it? Fails the connection
    // (detail, TCP8601) when not.
    bool admit_responder_child(Conn& c, const sa::ChildSa& ch);
    void send_terminate(Conn& c);
    void km_child_rekeyed(const nlohmann::json& j);
    void km_child_down(const nlohmann::json& j);
    void km_failed(const nlohmann::json& j);

    // --- datagrams and SA events ---
    void on_udp(int fd);
    void on_sa_events();
    void on_signal();

    void autostart();
    void begin_shutdown();
    void maybe_finish_shutdown();
    void finish_shutdown();

    joblog::JobLog& log_;
    bool foreground_;
    EventLoop loop_;
    int listen_fd_ = -1;
    int signal_fd_ = -1;
    std::map<int, Client> clients_;
    std::unique_ptr<PolicyPort> policy_;
    std::unique_ptr<sa::SaBackend> sa_;
    std::unique_ptr<RulesPort> rules_;
    std::unique_ptr<journal::Writer> jrn_;
    std::optional<IkeSockets> udp_;
    std::unique_ptr<KeyManagers> kms_;
    std::map<std::string, Conn> conns_;  // key: upper-case name
    // Per group (upper case): every <group>:R<n> below this n is in use, so
    // the search for the lowest free one starts here, not at R1 (it was a
    // walk over every responder connection for each new peer).
    std::map<std::string, int> responder_in_use_below_;
    uint32_t next_reqid_ = sa::kReqidFirst;
    uint64_t dropped_no_km_ = 0;
    bool shutting_down_ = false;
    std::vector<int> shutdown_waiters_;
    EventLoop::TimerId shutdown_timer_ = 0;
    EventLoop::TimerId km_lost_timer_ = 0;
};

}  // namespace qvpn::vman
