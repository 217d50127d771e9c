// Running the built command executables from a test: each run gets its own
// QVPN_ROOT, and the test sees the exit code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace qvpn::test {

struct Run {
    int rc = -1;
    std::string out;
    std::string err;
    // The first message ID on stderr ("" if none).
    std::string first_id() const { return err.size() >= 7 ? err.substr(0, 7) : ""; }
    bool err_has(const std::string& id) const { return err.find(id + ":") != std::string::npos; }
    bool out_has(const std::string& s) const { return out.find(s) != std::string::npos; }
};

inline std::string bin_dir() {
    const char* b = std::getenv("QVPN_BUILD_DIR");
    return std::string(b != nullptr ? b : ".") + "/bin";
}

// Run `argv` (argv[0] is an absolute path or a command in the build's bin)
// with QVPN_ROOT=root.
inline Run run_argv(const std::string& root, std::vector<std::string> argv) {
    if (!argv.empty() && argv[0].find('/') == std::string::npos) {
        argv[0] = bin_dir() + "/" + argv[0];
    }
    int out[2], err[2];
    Run r;
    if (pipe(out) != 0 || pipe(err) != 0) {
        return r;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        setenv("QVPN_ROOT", root.c_str(), 1);
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    char buf[4096];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
                ssize_t n = read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_fds;
                } else {
                    (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
                }
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

inline Run run(const std::string& root, const std::string& cmd,
               std::vector<std::string> args = {}) {
    args.insert(args.begin(), cmd);
    return run_argv(root, std::move(args));
}

// The same command as the user nobody, group nogroup, no other groups.
inline Run run_as_nobody(const std::string& root, const std::string& cmd,
                         std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                     "--clear-groups", bin_dir() + "/" + cmd};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_argv(root, std::move(argv));
}

}  // namespace qvpn::test
