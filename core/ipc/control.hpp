// Commands -> QTOVMAN: one JSON request line, one JSON reply line, over the
// stream socket $QVPN_ROOT/run/QTOVMAN.sock (see README.md in this folder).
//
// The client side is one call (request). The server side is split so that an
// event loop can own the sockets: listen_control opens the socket,
// LineBuffer collects bytes until a whole line is there, peer_of reads the
// caller's credentials, and reply_line renders the answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"

namespace qvpn::ipc {

inline constexpr int kVersion = 1;
// A request or reply line may not be longer than this (status of every
// connection with its SAs fits easily).
inline constexpr size_t kMaxLineBytes = 4 * 1024 * 1024;

// The socket of this system's connection manager.
std::string control_socket_path();

// Operation names (the "op" field).
namespace op {
inline constexpr const char* kPing = "ping";
inline constexpr const char* kStatus = "status";
inline constexpr const char* kStart = "start";
inline constexpr const char* kEnd = "end";
inline constexpr const char* kReset = "reset";
inline constexpr const char* kShutdown = "shutdown";
inline constexpr const char* kSaList = "sa_list";
}  // namespace op

// Does this operation change anything (and so need *IOSYSCFG)?
bool op_changes_state(std::string_view op);

// Messages travel as {"msgid":"TCP8601","values":["X","3"]} (errno and
// notify only when set).
nlohmann::json msg_to_json(const Msg& m);
Result<Msg> msg_from_json(const nlohmann::json& j);

struct Reply {
    bool ok = true;
    std::vector<Msg> msgs;       // diagnostics first, completion/escape last
    nlohmann::json data;         // display results; null when none

    static Reply success(std::vector<Msg> msgs = {}, nlohmann::json data = nullptr);
    static Reply failure(std::vector<Msg> msgs);
    nlohmann::json to_json() const;
    static Result<Reply> from_json(const nlohmann::json& j);
};

// Parse one request line: checks it is an object with "v" == kVersion and a
// string "op". The failure is the message to answer with (IPC0003/IPC0004).
Result<nlohmann::json> parse_request(std::string_view line);

// Connect to `socket_path`, send `req` (v is filled in), wait up to
// `timeout` for the reply. IPC0001 when nothing listens, IPC0002 on timeout.
Result<Reply> request(const std::string& socket_path, nlohmann::json req,
                      std::chrono::milliseconds timeout);
// The same, to this system's QTOVMAN.
Result<Reply> request(nlohmann::json req, std::chrono::milliseconds timeout);

// --- server side ---------------------------------------------------------

// Create, bind and listen on a Unix stream socket (non-blocking, close-on-
// exec). A stale socket file left by a dead server is replaced; the file
// gets mode 0660 and, when the group exists, group qvpnadm.
Result<int> listen_control(const std::string& socket_path);

struct PeerCred {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups (SO_PEERGROUPS)
    // Root, or a member of group qvpnadm (IBM i *IOSYSCFG).
    bool has_iosyscfg() const;
};
Result<PeerCred> peer_of(int fd);

// Collects bytes from a stream and hands out complete lines.
class LineBuffer {
public:
    explicit LineBuffer(size_t max_line = kMaxLineBytes) : max_(max_line) {}
    void append(std::string_view bytes) { buf_.append(bytes); }
    // The next complete line without its newline, or nullopt. After a line
    // longer than the limit, overflow() is true and the buffer is useless.
    std::optional<std::string> next_line();
    bool overflow() const { return overflow_; }
    size_t pending() const { return buf_.size(); }

private:
    std::string buf_;
    size_t max_;
    bool overflow_ = false;
};

// Write all of `data` to a blocking or non-blocking fd, waiting with poll up
// to `timeout` for room. IPC0007 on error.
Status write_all(int fd, std::string_view data, std::chrono::milliseconds timeout);

}  // namespace qvpn::ipc
