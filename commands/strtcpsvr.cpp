// STRTCPSVR: Start TCP/IP Server. SERVER(*VPN) starts QTOVMAN, the VPN
// connection manager, as a daemon for this state root and returns once it
// answers on its socket (it then starts the key managers and the
// connections marked to start with the server).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "commands/tcpsvr.hpp"
#include "core/base/paths.hpp"
#include "core/ipc/control.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "STRTCPSVR",
    .title = "Start TCP/IP Server",
    .authority = cl::Authority::IoSysCfg,
    .params = {cmd::server_param()},
};

constexpr auto kReadyTimeout = std::chrono::seconds(30);

Status run(cl::Invocation& inv) {
    QVPN_TRY(cmd::vpn_only(inv));
    QVPN_TRY(paths::ensure());
    // A QTOVMAN that was killed may hold its lock a moment longer while its
    // threads end (its main thread already a zombie): wait for that.
    auto pid = cmd::running_vman();
    for (int i = 0; i < 100 && pid && !cmd::process_alive(*pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        pid = cmd::running_vman();
    }
    if (pid) {
        return fail("VMN0003", *pid);
    }
    std::string exe = paths::libexec_dir() + "/QTOVMAN";
    if (::access(exe.c_str(), X_OK) != 0) {
        return fail("VMN0007", "QTOVMAN", paths::libexec_dir());
    }

    pid_t child = ::fork();
    if (child < 0) {
        return fail(msg("IPC0007", "fork", "QTOVMAN").with_errno(errno));
    }
    if (child == 0) {
        // A daemon: own session, no terminal, stdio to /dev/null.
        ::setsid();
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::dup2(null, 2);
        }
        // Nor any other descriptor of the caller's (a pipe it waits on to
        // end): QTOVMAN outlives the command.
        ::close_range(3, ~0U, 0);
        ::execl(exe.c_str(), "QTOVMAN", static_cast<char*>(nullptr));
        ::_exit(127);
    }

    // Ready when the new QTOVMAN itself answers a ping.
    auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child) {
            return fail("VMN0005", child);
        }
        auto r = ipc::request({{"op", "ping"}}, std::chrono::milliseconds(500));
        if (r.ok() && r->ok && r->data.value("pid", 0) == child) {
            inv.complete(msg("VMN0001", ipc::control_socket_path()));
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(child, SIGTERM);
    return fail("VMN0008", kReadyTimeout.count(), child);
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
