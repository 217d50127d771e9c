#include "core/ipc/control.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/paths.hpp"

namespace qvpn::ipc {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        return fail(msg("IPC0007", "bind", path).with_errno(ENAMETOOLONG));
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    return sa;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }

private:
    int fd_;
};

}  // namespace

std::string control_socket_path() { return paths::run_dir() + "/QTOVMAN.sock"; }

bool op_changes_state(std::string_view o) {
    return o == op::kStart || o == op::kEnd || o == op::kReset || o == op::kShutdown;
}

nlohmann::json msg_to_json(const Msg& m) {
    nlohmann::json j = {{"msgid", m.id}, {"values", m.values}};
    if (m.sys_errno != 0) {
        j["errno"] = m.sys_errno;
    }
    if (m.notify != 0) {
        j["notify"] = m.notify;
    }
    return j;
}

Result<Msg> msg_from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("msgid") || !j["msgid"].is_string()) {
        return fail("IPC0003", "QTOVMAN.sock", "message without a msgid");
    }
    Msg m;
    m.id = j["msgid"].get<std::string>();
    if (j.contains("values")) {
        if (!j["values"].is_array()) {
            return fail("IPC0003", "QTOVMAN.sock", "values is not an array");
        }
        for (const auto& v : j["values"]) {
            m.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    if (j.contains("errno") && j["errno"].is_number_integer()) {
        m.sys_errno = j["errno"].get<int>();
    }
    if (j.contains("notify") && j["notify"].is_number_unsigned()) {
        m.notify = j["notify"].get<uint16_t>();
    }
    return m;
}

Reply Reply::success(std::vector<Msg> msgs, nlohmann::json data) {
    Reply r;
    r.ok = true;
    r.msgs = std::move(msgs);
    r.data = std::move(data);
    return r;
}

Reply Reply::failure(std::vector<Msg> msgs) {
    Reply r;
    r.ok = false;
    r.msgs = std::move(msgs);
    return r;
}

nlohmann::json Reply::to_json() const {
    nlohmann::json j = {{"v", kVersion}, {"ok", ok}, {"msgs", nlohmann::json::array()}};
    for (const auto& m : msgs) {
        j["msgs"].push_back(msg_to_json(m));
    }
    if (!data.is_null()) {
        j["data"] = data;
    }
    return j;
}

Result<Reply> Reply::from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
        return fail("IPC0003", "QTOVMAN.sock", "reply without ok");
    }
    if (!j.contains("v") || j["v"] != kVersion) {
        return fail("IPC0004", j.contains("v") ? j["v"].dump() : "none", kVersion);
    }
    Reply r;
    r.ok = j["ok"].get<bool>();
    if (j.contains("msgs")) {
        if (!j["msgs"].is_array()) {
            return fail("IPC0003", "QTOVMAN.sock", "msgs is not an array");
        }
        for (const auto& m : j["msgs"]) {
            QVPN_ASSIGN(Msg one, msg_from_json(m));
            r.msgs.push_back(std::move(one));
        }
    }
    if (j.contains("data")) {
        r.data = j["data"];
    }
    return r;
}

Result<nlohmann::json> parse_request(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail("IPC0003", "QTOVMAN.sock", "request is not one JSON object");
    }
    if (!j.contains("v") || !j["v"].is_number_integer()) {
        return fail("IPC0003", "QTOVMAN.sock", "request without version");
    }
    if (j["v"].get<long long>() != kVersion) {
        return fail("IPC0004", j["v"].dump(), kVersion);
    }
    if (!j.contains("op") || !j["op"].is_string()) {
        return fail("IPC0003", "QTOVMAN.sock", "request without op");
    }
    return j;
}

Status write_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            int left = remaining_ms(deadline);
            if (left == 0 || ::poll(&p, 1, left) <= 0) {
                return fail(msg("IPC0007", "send", "QTOVMAN.sock").with_errno(ETIMEDOUT));
            }
            continue;
        }
        return fail(msg("IPC0007", "send", "QTOVMAN.sock").with_errno(errno));
    }
    return {};
}

Result<Reply> request(const std::string& socket_path, nlohmann::json req,
                      std::chrono::milliseconds timeout) {
    req["v"] = kVersion;
    QVPN_ASSIGN(sockaddr_un sa, unix_address(socket_path));
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return fail(msg("IPC0007", "socket", socket_path).with_errno(errno));
    }
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        // No socket file, or a file nobody listens on: the server is down.
        if (errno == ENOENT || errno == ECONNREFUSED) {
            return fail("IPC0001", socket_path);
        }
        return fail(msg("IPC0007", "connect", socket_path).with_errno(errno));
    }
    auto deadline = Clock::now() + timeout;
    QVPN_TRY(write_all(fd.get(), req.dump() + "\n", timeout));

    LineBuffer lines;
    char buf[65536];
    for (;;) {
        if (auto line = lines.next_line()) {
            auto j = nlohmann::json::parse(*line, nullptr, false);
            if (j.is_discarded()) {
                return fail("IPC0003", "QTOVMAN.sock", "reply is not JSON");
            }
            return Reply::from_json(j);
        }
        if (lines.overflow()) {
            return fail("IPC0006", lines.pending(), "QTOVMAN.sock", kMaxLineBytes);
        }
        pollfd p{fd.get(), POLLIN, 0};
        int left = remaining_ms(deadline);
        int pr = left == 0 ? 0 : ::poll(&p, 1, left);
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr <= 0) {
            long long secs = (timeout.count() + 999) / 1000;
            return fail("IPC0002", secs);
        }
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail(msg("IPC0007", "recv", socket_path).with_errno(errno));
        }
        if (n == 0) {
            // The server closed without answering (it ended or crashed).
            return fail("IPC0001", socket_path);
        }
        lines.append(std::string_view(buf, static_cast<size_t>(n)));
    }
}

Result<Reply> request(nlohmann::json req, std::chrono::milliseconds timeout) {
    return request(control_socket_path(), std::move(req), timeout);
}

Result<int> listen_control(const std::string& socket_path) {
    QVPN_ASSIGN(sockaddr_un sa, unix_address(socket_path));
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) {
        return fail(msg("IPC0007", "socket", socket_path).with_errno(errno));
    }
    // The caller holds the pid-file lock, so a socket file here belongs to a
    // server that is gone.
    ::unlink(socket_path.c_str());
    mode_t old = ::umask(0117);
    int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    int err = errno;
    ::umask(old);
    if (rc != 0) {
        return fail(msg("IPC0007", "bind", socket_path).with_errno(err));
    }
    if (group* g = ::getgrnam("qvpnadm"); g != nullptr) {
        if (::chown(socket_path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
            // Only root may hand the file to the group; others keep their own.
        }
    }
    ::chmod(socket_path.c_str(), 0660);
    if (::listen(fd.get(), 64) != 0) {
        return fail(msg("IPC0007", "listen", socket_path).with_errno(errno));
    }
    return fd.release();
}

bool PeerCred::has_iosyscfg() const {
    if (uid == 0) {
        return true;
    }
    group* g = ::getgrnam("qvpnadm");
    if (g == nullptr) {
        return false;
    }
    if (gid == g->gr_gid) {
        return true;
    }
    for (gid_t x : groups) {
        if (x == g->gr_gid) {
            return true;
        }
    }
    return false;
}

Result<PeerCred> peer_of(int fd) {
    ucred uc{};
    socklen_t len = sizeof uc;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0) {
        return fail(msg("IPC0007", "SO_PEERCRED", "QTOVMAN.sock").with_errno(errno));
    }
    PeerCred p;
    p.pid = uc.pid;
    p.uid = uc.uid;
    p.gid = uc.gid;
    std::vector<gid_t> groups(64);
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) != 0 &&
        errno == ERANGE) {
        groups.resize(glen / sizeof(gid_t) + 1);
        glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) != 0) {
            glen = 0;
        }
    }
    groups.resize(glen / sizeof(gid_t));
    p.groups = std::move(groups);
    return p;
}

std::optional<std::string> LineBuffer::next_line() {
    if (overflow_) {
        return std::nullopt;
    }
    size_t nl = buf_.find('\n');
    if (nl == std::string::npos) {
        if (buf_.size() > max_) {
            overflow_ = true;
        }
        return std::nullopt;
    }
    if (nl > max_) {
        overflow_ = true;
        return std::nullopt;
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

}  // namespace qvpn::ipc
