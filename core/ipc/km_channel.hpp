// QTOVMAN <-> key managers: one SOCK_SEQPACKET datagram is one message.
//
//   'J' + one JSON object                 control (initiate, child_up, ...)
//   'P' + packet header + IKE message      a UDP datagram on port 500/4500
//
// Packet header, big-endian, 38 bytes:
//   family (1: 4 or 6) | local address (16; IPv4 in the first 4, rest zero) |
//   local port (2) | remote address (16) | remote port (2) |
//   flags (1; bit 0: non-ESP marker on port 4500, stripped here)
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"

namespace qvpn::ipc {

inline constexpr char kControlTag = 'J';
inline constexpr char kPacketTag = 'P';
inline constexpr size_t kPacketHeaderBytes = 38;
// The largest UDP payload plus tag and header.
inline constexpr size_t kMaxKmMessage = 65535 + 1 + kPacketHeaderBytes;
inline constexpr uint8_t kFlagNonEspMarker = 0x01;
// The environment variable that gives a key manager its end of the pair.
inline constexpr const char* kIpcFdEnv = "QVPN_IPC_FD";

struct PacketHeader {
    IpAddress local;
    uint16_t local_port = 0;
    IpAddress remote;
    uint16_t remote_port = 0;
    bool non_esp_marker = false;  // arrived on (or goes out on) 4500 with the marker
    bool operator==(const PacketHeader&) const = default;
};

struct KmMessage {
    char tag = kControlTag;
    nlohmann::json control;  // tag 'J'
    PacketHeader header;     // tag 'P'
    Bytes payload;           // tag 'P': the IKE message
    bool is_control() const { return tag == kControlTag; }
};

Bytes encode_control(const nlohmann::json& j);
Bytes encode_packet(const PacketHeader& h, ByteView ike);
// IPC0003 for an unknown tag, a short header, a bad family, or JSON that is
// not an object (with or without a string "op").
Result<KmMessage> decode_km(ByteView datagram);

// Send one message (non-blocking; IPC0007 with EAGAIN when the peer's queue
// is full, which the caller counts as a drop).
Status km_send(int fd, ByteView message);
// Receive one message. nullopt at end of stream (the peer closed or died).
// IPC0007 with EAGAIN when nothing is waiting on a non-blocking socket.
Result<std::optional<Bytes>> km_recv(int fd);

// A connected SOCK_SEQPACKET pair (close-on-exec on both ends).
Result<std::pair<int, int>> km_socketpair();

// The key manager side: the descriptor named by $QVPN_IPC_FD.
Result<int> km_fd_from_env();

}  // namespace qvpn::ipc
