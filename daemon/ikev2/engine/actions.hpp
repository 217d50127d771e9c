// What the exchange engine asks its host to do. The engine is pure: it
// never touches a socket, a clock or the kernel; every effect leaves it as
// one of these values, in order, and the host (the QTOKVPNIK2 event loop, or
// a test's in-memory network) carries them out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/joblog/joblog.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::ikev2 {

struct Endpoint {
    IpAddress addr;
    uint16_t port = 500;
    std::string to_string() const;  // "192.0.2.1:500", "[2001:db8::1]:4500"
    bool operator==(const Endpoint&) const = default;
};

using TimerId = uint64_t;

// A UDP datagram to send. On port 4500 `non_esp_marker` asks for the four
// zero bytes of RFC 3948 in front of the IKE message; a NAT-T keepalive is
// the single byte 0xFF without a marker.
struct SendPacket {
    Endpoint local, remote;
    bool non_esp_marker = false;
    Bytes data;
};

// Install a negotiated CHILD_SA (both directions). `rekey_of` names the
// inbound SPI of the CHILD_SA it replaces; the old one stays installed until
// a RemoveChild for it follows, so no packet is lost during a rekey.
struct InstallChild {
    std::string conn;
    sa::ChildSa sa;
    std::optional<uint32_t> rekey_of;
};

// Remove an installed CHILD_SA, named by its reqid and our inbound SPI (a
// rekeyed CHILD_SA shares the reqid of the one it replaced).
struct RemoveChild {
    std::string conn;
    uint32_t reqid = 0;
    uint32_t spi_in = 0;
    std::string reason;
};

struct ArmTimer {
    TimerId id = 0;
    SteadyTime when;
};

struct CancelTimer {
    TimerId id = 0;
};

// A job-log line: an operator message from the catalog, or (when `msg.id`
// is empty) a debug line with `component` and `text`.
struct LogLine {
    joblog::Level level = joblog::Level::Info;
    Msg msg;
    std::string component;
    std::string text;
    joblog::Fields fields;
};

struct IkeUp {
    std::string conn;
    std::string ike;   // "<ispi>/<rspi>" in hex
    Endpoint peer;
    std::string encr, prf, dh, auth;  // CL names (*AESCBC128, *SHA256, *GRP19, *PSK)
    uint64_t lifetime_seconds = 0;
    bool initiator = true;
    bool nat_local = false, nat_remote = false;
};

struct IkeDown {
    std::string conn;
    std::string ike;
    std::string reason;
};

// A negotiation failed: `report` is TCP8606 with the connection name and
// the reason code (24, 8300, 8306, ...); `detail` is our own message with
// the specific cause, already logged.
struct Failed {
    std::string conn;
    Endpoint peer;
    int reason_code = 0;
    Msg report;
    Msg detail;
};

using Action = std::variant<SendPacket, InstallChild, RemoveChild, ArmTimer, CancelTimer, LogLine,
                            IkeUp, IkeDown, Failed>;

// TCP8606 reason codes (the seed's list).
namespace reason {
inline constexpr int kAuthFailed = 24;
inline constexpr int kPhase1Failure = 8300;
inline constexpr int kNoLocalPsk = 8306;
inline constexpr int kNoPhase1Policy = 8307;
inline constexpr int kNoRemotePsk = 8308;
inline constexpr int kPhase1Timeout = 8327;
inline constexpr int kPhase2Failure = 8400;
inline constexpr int kNoPhase2Policy = 8407;
inline constexpr int kPhase2Timeout = 8408;
inline constexpr int kNetworkError = 8500;
inline constexpr int kPeerNotResponding = 8509;
}  // namespace reason

}  // namespace qvpn::ikev2
