#include "daemon/vman/key_managers.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>

#include "core/base/paths.hpp"

namespace qvpn::vman {

std::chrono::seconds restart_delay(int failures) {
    if (failures <= 1) {
        return std::chrono::seconds(1);
    }
    if (failures >= 7) {
        return std::chrono::seconds(60);
    }
    return std::chrono::seconds(1 << (failures - 1));
}

KeyManagers::KeyManagers(EventLoop& loop, joblog::JobLog& log, Callbacks cb)
    : loop_(loop), log_(log), cb_(std::move(cb)) {
    kms_.push_back({.job = "QTOKVPNIK2", .ike_version = 2});
    kms_.push_back({.job = "QTOKVPNIKE", .ike_version = 1});
}

KeyManagers::~KeyManagers() { kill_all(); }

void KeyManagers::start_all() {
    for (auto& km : kms_) {
        std::string exe = paths::libexec_dir() + "/" + km.job;
        if (::access(exe.c_str(), X_OK) != 0) {
            km.installed = false;
            // IKEv1's absence is normal (logged once, informational); IKEv2's
            // leaves every IKEv2 connection unable to start.
            Msg m = km.ike_version == 1
                        ? msg("VMN0012", km.job, km.ike_version, paths::libexec_dir())
                        : msg("VMN0025", km.job, paths::libexec_dir());
            log_.message(m);
            continue;
        }
        spawn(km);
    }
}

void KeyManagers::spawn(KeyManager& km) {
    km.restart_timer = 0;
    auto pair = ipc::km_socketpair();
    if (!pair.ok()) {
        log_.message(pair.error());
        return;
    }
    auto [ours, theirs] = *pair;
    std::string exe = paths::libexec_dir() + "/" + km.job;
    pid_t pid = ::fork();
    if (pid < 0) {
        log_.message(msg("IPC0007", "fork", km.job).with_errno(errno));
        ::close(ours);
        ::close(theirs);
        return;
    }
    if (pid == 0) {
        // The key manager ends with us, even when we are killed.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fl = ::fcntl(theirs, F_GETFD);
        ::fcntl(theirs, F_SETFD, fl & ~FD_CLOEXEC);
        ::setenv(ipc::kIpcFdEnv, std::to_string(theirs).c_str(), 1);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execl(exe.c_str(), km.job.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(theirs);
    km.pid = pid;
    km.fd = ours;
    km.ready = false;
    km.stopping = false;
    km.started = std::chrono::steady_clock::now();
    ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
    KeyManager* kp = &km;
    auto added = loop_.add(ours, EPOLLIN, [this, kp](uint32_t) { on_readable(*kp); });
    if (!added.ok()) {
        log_.message(added.error());
    }
    log_.message(msg("VMN0010", km.job, pid));
}

void KeyManagers::on_readable(KeyManager& km) {
    for (int i = 0; i < 64 && km.fd >= 0; ++i) {
        auto r = ipc::km_recv(km.fd);
        if (!r.ok()) {
            if (r.error().sys_errno != EAGAIN) {
                lost(km, "channel error");
            }
            return;
        }
        if (!r->has_value()) {
            lost(km, "channel closed");
            return;
        }
        auto m = ipc::decode_km(**r);
        if (!m.ok()) {
            log_.message(m.error(), {.extra = {{"job", km.job}}});
            continue;
        }
        if (m->is_control() && m->control["op"] == "hello") {
            km.ready = true;
            if (cb_.up) {
                cb_.up(km);
            }
            continue;
        }
        if (cb_.message) {
            cb_.message(km, *m);
        }
    }
}

void KeyManagers::lost(KeyManager& km, const std::string& why) {
    if (km.fd >= 0) {
        loop_.remove(km.fd);
        ::close(km.fd);
        km.fd = -1;
    }
    bool was_ready = km.ready;
    km.ready = false;
    if (was_ready && cb_.down) {
        cb_.down(km);
    }
    log_.debug("km", km.job + " " + why);
}

void KeyManagers::reap() {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            return;
        }
        for (auto& km : kms_) {
            if (km.pid != pid) {
                continue;
            }
            km.pid = 0;
            lost(km, "ended");
            if (km.stopping || shutting_down_) {
                continue;
            }
            std::string how = WIFSIGNALED(status)
                                  ? "signal " + std::to_string(WTERMSIG(status))
                                  : "exit status " + std::to_string(WEXITSTATUS(status));
            // A key manager that stayed up a minute starts a fresh count.
            if (std::chrono::steady_clock::now() - km.started > std::chrono::minutes(1)) {
                km.failures = 0;
            }
            ++km.failures;
            ++km.restarts;
            auto delay = restart_delay(km.failures);
            log_.message(msg("VMN0011", km.job, how, delay.count()));
            KeyManager* kp = &km;
            km.restart_timer = loop_.after(delay, [this, kp] {
                if (!shutting_down_) {
                    spawn(*kp);
                }
            });
        }
    }
}

void KeyManagers::shutdown_all() {
    shutting_down_ = true;
    for (auto& km : kms_) {
        if (km.restart_timer != 0) {
            loop_.cancel(km.restart_timer);
            km.restart_timer = 0;
        }
        if (km.pid == 0) {
            continue;
        }
        km.stopping = true;
        bool sent = km.fd >= 0 && ipc::km_send(km.fd, ipc::encode_control({{"op", "shutdown"}})).ok();
        if (!sent) {
            ::kill(km.pid, SIGTERM);
        }
    }
}

bool KeyManagers::all_ended() const {
    for (const auto& km : kms_) {
        if (km.pid != 0) {
            return false;
        }
    }
    return true;
}

void KeyManagers::kill_all() {
    for (auto& km : kms_) {
        if (km.pid != 0) {
            ::kill(km.pid, SIGKILL);
            ::waitpid(km.pid, nullptr, 0);
            km.pid = 0;
        }
        if (km.fd >= 0) {
            loop_.remove(km.fd);
            ::close(km.fd);
            km.fd = -1;
        }
    }
}

KeyManager* KeyManagers::for_version(int ike_version) {
    for (auto& km : kms_) {
        if (km.ike_version == ike_version) {
            return &km;
        }
    }
    return nullptr;
}

Status KeyManagers::send(KeyManager& km, const Bytes& message) {
    if (km.fd < 0 || !km.ready) {
        return fail("TCP8605");
    }
    auto s = ipc::km_send(km.fd, message);
    if (!s.ok()) {
        return fail(msg("TCP8605").with_errno(s.error().sys_errno));
    }
    return {};
}

}  // namespace qvpn::vman
