// QTOKVPNIK2: the event loop around the IKEv2 engine.
//
// QTOVMAN starts this job as its child and hands it one end of a
// SOCK_SEQPACKET pair ($QVPN_IPC_FD; core/ipc/README.md). Everything comes
// in on that socket: IKE datagrams ('P') and control requests ('J'). The
// loop feeds them to the engine, fires its timers, and turns its actions
// into 'P' datagrams to send and 'J' reports (ike_up, child_up,
// child_rekeyed, child_down, ike_down, failed, status). It never touches a
// network socket or the kernel itself.
//
// SIGTERM (or "shutdown") deletes every IKE SA with an INFORMATIONAL DELETE
// and ends the job once all are answered or timed out.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/clock.hpp"
#include "core/ipc/km_channel.hpp"
#include "core/joblog/joblog.hpp"
#include "daemon/ikev2/daemon/db_policy_source.hpp"
#include "daemon/ikev2/engine/engine.hpp"

namespace qvpn::ikev2 {

struct DaemonOptions {
    int ipc_fd = -1;
    std::string policy_db;
    EngineConfig engine;
    std::chrono::seconds shutdown_grace{15};
};

class KmDaemon {
public:
    KmDaemon(DaemonOptions opts, joblog::JobLog& log);
    ~KmDaemon();

    // The loop; returns the exit status (0 after SIGTERM/shutdown, 1 when
    // QTOVMAN went away or the socket failed).
    int run();

    // One control message, one datagram, and carrying out what the engine
    // asked for (public for tests that drive the daemon without its loop).
    void control(const nlohmann::json& j);
    void packet(const ipc::KmMessage& m);
    void perform();
    bool shutting_down() const { return shutting_down_; }
    const Engine& engine() const { return *engine_; }

private:
    struct LiveChild {
        std::string conn;
        uint32_t spi_in = 0;
        sa::ChildSa sa;
    };
    void send_control(nlohmann::json j);
    void install(const InstallChild& c);
    void remove(const RemoveChild& r);
    static uint32_t spi_in_of(const sa::ChildSa& sa);
    static std::string ike_text_of(const policy::Identity& id);
    void initiate(const nlohmann::json& j);
    void begin_shutdown();
    Result<std::pair<Endpoint, Endpoint>> endpoints(const policy::ConnectionPolicy& p);
    std::optional<std::chrono::milliseconds> next_timeout() const;
    void fire_due_timers();
    nlohmann::json status_json() const;

    DaemonOptions opts_;
    joblog::JobLog& log_;
    SystemClock clock_;
    SystemRandom rng_;
    DbPolicySource policies_;
    std::unique_ptr<Engine> engine_;
    std::map<TimerId, SteadyTime> timers_;
    // The CHILD_SAs the engine has installed, per reqid in install order:
    // QTOVMAN holds the last one of each list (see install()).
    std::map<uint32_t, std::vector<LiveChild>> live_;
    bool shutting_down_ = false;
    SteadyTime shutdown_deadline_{};
    int signal_fd_ = -1;
    uint64_t send_errors_ = 0;
};

// The ChildSa JSON of a child_up; the keys travel, so it is never logged.
nlohmann::json child_up_json(const InstallChild& c);

}  // namespace qvpn::ikev2
