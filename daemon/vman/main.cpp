// QTOVMAN: the VPN connection manager job. Started by STRTCPSVR SERVER(*VPN)
// (or the qvpn@.service unit), ended by ENDTCPSVR SERVER(*VPN) or SIGTERM.
//
//   QTOVMAN [--foreground]
//
// One QTOVMAN runs per state root: run/QTOVMAN.pid is locked while it runs.
// A pid file that is present but not locked was left by a QTOVMAN that did
// not end normally; the new one cleans up after it.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "core/base/paths.hpp"
#include "core/joblog/joblog.hpp"
#include "core/msg/catalog.hpp"
#include "daemon/vman/server.hpp"

using namespace qvpn;

namespace {

std::string pid_path() { return paths::run_dir() + "/QTOVMAN.pid"; }

}  // namespace

int main(int argc, char** argv) {
    bool foreground = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--foreground") == 0) {
            foreground = true;
        } else {
            std::fprintf(stderr, "usage: QTOVMAN [--foreground]\n");
            return 2;
        }
    }
    if (auto s = paths::ensure(); !s.ok()) {
        std::fprintf(stderr, "%s\n", msgcat::line(s.error()).c_str());
        return 1;
    }
    joblog::JobLog log("QTOVMAN");
    log.set_echo(foreground);

    int pfd = ::open(pid_path().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pfd < 0 || ::flock(pfd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        if (pfd >= 0) {
            ssize_t n = ::pread(pfd, buf, sizeof buf - 1, 0);
            (void)n;
        }
        log.message(msg("VMN0003", std::string(buf).substr(0, std::string(buf).find('\n'))));
        return 1;
    }
    char old[32] = {};
    bool stale = ::pread(pfd, old, sizeof old - 1, 0) > 0;
    std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(pfd, 0) != 0 || ::pwrite(pfd, me.data(), me.size(), 0) < 0) {
        log.message(msg("QVP0005", pid_path()).with_errno(errno));
        return 1;
    }

    int rc = 0;
    {
        vman::Server server(log, foreground);
        auto s = server.start(stale);
        if (!s.ok()) {
            log.message(s.error());
            rc = 1;
        } else if (auto r = server.run(); !r.ok()) {
            log.message(r.error());
            rc = 1;
        }
    }
    // A normal end leaves no pid file, so the next start sees nothing stale.
    if (rc == 0) {
        ::unlink(pid_path().c_str());
    }
    ::close(pfd);
    return rc;
}
