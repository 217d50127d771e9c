// Supervision of the key manager jobs: QTOKVPNIK2 (IKEv2) and QTOKVPNIKE
// (IKEv1), each a child process of QTOVMAN with one end of a SOCK_SEQPACKET
// pair in $QVPN_IPC_FD. A key manager that ends unexpectedly is started
// again after a delay that doubles with each failure in a row (1 s up to
// 60 s) and resets once it has stayed up a minute.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/joblog/joblog.hpp"
#include "core/ipc/km_channel.hpp"
#include "daemon/vman/event_loop.hpp"

namespace qvpn::vman {

// Delay before restart number `failures` (1-based) in a row.
std::chrono::seconds restart_delay(int failures);

struct KeyManager {
    std::string job;       // QTOKVPNIK2
    int ike_version = 2;
    pid_t pid = 0;
    int fd = -1;           // our end of the pair
    bool ready = false;    // "hello" received
    bool installed = true; // the executable exists
    bool stopping = false; // asked to end
    int failures = 0;      // unexpected ends in a row
    int restarts = 0;      // total restarts
    std::chrono::steady_clock::time_point started;
    EventLoop::TimerId restart_timer = 0;
};

class KeyManagers {
public:
    struct Callbacks {
        std::function<void(KeyManager&, const ipc::KmMessage&)> message;
        std::function<void(KeyManager&)> up;    // hello received
        std::function<void(KeyManager&)> down;  // ended or channel lost
    };

    KeyManagers(EventLoop& loop, joblog::JobLog& log, Callbacks cb);
    ~KeyManagers();

    // Start every installed key manager (QTOKVPNIKE's absence is logged
    // once with VMN0012; so is QTOKVPNIK2's, which leaves IKEv2 down).
    void start_all();
    // The SIGCHLD part: reap children and schedule restarts.
    void reap();
    // Ask all to end; true when none is running any more.
    void shutdown_all();
    bool all_ended() const;
    // Force: SIGKILL whatever still runs.
    void kill_all();

    KeyManager* for_version(int ike_version);
    const std::vector<KeyManager>& all() const { return kms_; }
    Status send(KeyManager& km, const Bytes& message);

private:
    void spawn(KeyManager& km);
    void on_readable(KeyManager& km);
    void lost(KeyManager& km, const std::string& why);
    EventLoop& loop_;
    joblog::JobLog& log_;
    Callbacks cb_;
    std::vector<KeyManager> kms_;
    bool shutting_down_ = false;
};

}  // namespace qvpn::vman
