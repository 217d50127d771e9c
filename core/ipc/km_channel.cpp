#include "core/ipc/km_channel.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/base/text.hpp"

namespace qvpn::ipc {

namespace {

void put_address(ByteWriter& w, const IpAddress& a) {
    w.bytes(ByteView(a.data(), a.size()));
    w.zeros(16 - a.size());
}

}  // namespace

Bytes encode_control(const nlohmann::json& j) {
    std::string text = j.dump();
    Bytes out;
    out.reserve(text.size() + 1);
    out.push_back(static_cast<uint8_t>(kControlTag));
    out.insert(out.end(), text.begin(), text.end());
    return out;
}

Bytes encode_packet(const PacketHeader& h, ByteView ike) {
    ByteWriter w;
    w.u8(static_cast<uint8_t>(kPacketTag));
    w.u8(static_cast<uint8_t>(h.local.family()));
    put_address(w, h.local);
    w.u16(h.local_port);
    put_address(w, h.remote);
    w.u16(h.remote_port);
    w.u8(h.non_esp_marker ? kFlagNonEspMarker : 0);
    w.bytes(ike);
    return w.take();
}

Result<KmMessage> decode_km(ByteView d) {
    if (d.empty()) {
        return fail("IPC0003", "key manager", "empty message");
    }
    KmMessage m;
    m.tag = static_cast<char>(d[0]);
    if (m.tag == kControlTag) {
        std::string_view text(reinterpret_cast<const char*>(d.data() + 1), d.size() - 1);
        m.control = nlohmann::json::parse(text, nullptr, false);
        if (m.control.is_discarded() || !m.control.is_object()) {
            return fail("IPC0003", "key manager", "control message is not a JSON object");
        }
        if (!m.control.contains("op") || !m.control["op"].is_string()) {
            return fail("IPC0003", "key manager", "control message without op");
        }
        return m;
    }
    if (m.tag != kPacketTag) {
        return fail("IPC0003", "key manager", "unknown message tag " + std::to_string(d[0]));
    }
    ByteReader r(d.subspan(1));
    uint8_t family = r.u8();
    ByteView local = r.bytes(16);
    m.header.local_port = r.u16();
    ByteView remote = r.bytes(16);
    m.header.remote_port = r.u16();
    uint8_t flags = r.u8();
    if (r.failed()) {
        return fail("IPC0003", "key manager",
                    "packet header of " + std::to_string(d.size() - 1) + " bytes, need 38");
    }
    if (family != 4 && family != 6) {
        return fail("IPC0003", "key manager", "address family " + std::to_string(family));
    }
    size_t alen = family == 4 ? 4 : 16;
    m.header.local = *IpAddress::from_bytes(local.data(), alen);
    m.header.remote = *IpAddress::from_bytes(remote.data(), alen);
    m.header.non_esp_marker = (flags & kFlagNonEspMarker) != 0;
    ByteView rest = r.rest();
    m.payload.assign(rest.begin(), rest.end());
    return m;
}

Status km_send(int fd, ByteView message) {
    if (message.size() > kMaxKmMessage) {
        return fail("IPC0006", message.size(), "key manager", kMaxKmMessage);
    }
    for (;;) {
        ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            return {};
        }
        if (errno == EINTR) {
            continue;
        }
        return fail(msg("IPC0007", "send", "key manager").with_errno(errno));
    }
}

Result<std::optional<Bytes>> km_recv(int fd) {
    Bytes buf(kMaxKmMessage + 1);
    for (;;) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n > 0) {
            if (static_cast<size_t>(n) > kMaxKmMessage) {
                return fail("IPC0006", n, "key manager", kMaxKmMessage);
            }
            buf.resize(static_cast<size_t>(n));
            return std::optional<Bytes>(std::move(buf));
        }
        if (n == 0) {
            return std::optional<Bytes>();
        }
        if (errno == EINTR) {
            continue;
        }
        return fail(msg("IPC0007", "recv", "key manager").with_errno(errno));
    }
}

Result<std::pair<int, int>> km_socketpair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return fail(msg("IPC0007", "socketpair", "key manager").with_errno(errno));
    }
    // Room for a burst of IKE datagrams while a key manager is busy.
    int size = 4 * 1024 * 1024;
    for (int s : sv) {
        ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return std::pair<int, int>(sv[0], sv[1]);
}

Result<int> km_fd_from_env() {
    const char* v = std::getenv(kIpcFdEnv);
    long long fd = -1;
    if (v == nullptr || !parse_int(v, fd) || fd < 0 || fd > 65535) {
        return fail("IPC0003", kIpcFdEnv, "no descriptor in the environment");
    }
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_SEQPACKET) {
        return fail("IPC0003", kIpcFdEnv, "descriptor is not a SOCK_SEQPACKET socket");
    }
    return static_cast<int>(fd);
}

}  // namespace qvpn::ipc
