// The SA backend: the one interface through which QTOVMAN installs CHILD_SAs
// and their policies, whichever data path carries the traffic.
//
// Two implementations, chosen by the system value QVPNDTAPTH:
//   *KERNEL     XFRM states and policies over netlink (daemon/sa/xfrm)
//   *USERSPACE  ESP/AH in this process over a TUN device (daemon/sa/userspace)
//   *AUTO       the kernel, unless it refuses ESP states; then userspace, and
//               the reason is logged (ESP0003)
//
// How QTOVMAN drives it (single-threaded: every call below comes from
// QTOVMAN's event loop; the userspace data path runs its own worker threads
// behind the interface):
//
//   auto be = make_backend(policy::DataPath::Auto, opts);      // once, at start
//   be->cleanup_stale();                // what a crashed earlier run left
//   be->prepare_ike_socket(fd500, AF_INET, false);
//   be->prepare_ike_socket(fd4500, AF_INET, true);
//   poll(... be->event_fd() ...);       // readable -> be->events()
//   be->install(child);                 // key manager's child_up
//   be->replace(old_reqid, child);      // child_rekeyed: new first, then old goes
//   be->remove(reqid);                  // child_down
//   be->install_trap(trap);             // on-demand connection: acquire on traffic
//   be->counters(reqid);                // status displays
//   be->input_udp(...);                 // userspace only: ESP-in-UDP read on 4500
//   be->remove_all();                   // ENDTCPSVR / shutdown (also in the dtor)
//
// Marking. Everything a backend installs carries a reqid from the qvpn band
// [kReqidFirst, kReqidLast]; QTOVMAN allocates reqids from that band (one per
// CHILD_SA, reused across rekeys or not, as it likes). cleanup_stale() removes
// exactly the states and policies whose reqid lies in the band, so it never
// touches another IPsec daemon's entries in the same network namespace. Each
// network namespace has its own XFRM tables, so several qvpn systems (one per
// namespace, each with its own QVPN_ROOT) never see each other's entries.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::joblog {
class JobLog;
}

namespace qvpn::sa {

// The qvpn reqid band ("QV" in the high half).
inline constexpr uint32_t kReqidFirst = 0x51560001;
inline constexpr uint32_t kReqidLast = 0x5156ffff;
inline bool is_qvpn_reqid(uint32_t reqid) {
    return reqid >= kReqidFirst && reqid <= kReqidLast;
}

// Firewall mark on QTOVMAN's IKE sockets (and the userspace data path's own
// raw and UDP sockets): marked packets skip the userspace tunnel's routing
// table, so the VPN's own IKE and ESP packets never enter its own tunnel.
inline constexpr uint32_t kBypassMark = 0x5156;
inline constexpr uint32_t kBypassMarkMask = 0xffff;

enum class DataPathKind { Kernel, Userspace };
std::string_view to_string(DataPathKind k);

// An event for QTOVMAN's loop.
struct SaEvent {
    enum class Kind {
        Acquire,     // traffic hit a trap: negotiate reqid's CHILD_SA
        SoftExpire,  // rekey now (time or byte soft limit reached)
        HardExpire,  // the SA is gone (the kernel removed it / userspace stopped using it)
    };
    Kind kind = Kind::Acquire;
    uint32_t reqid = 0;
    std::string conn;                 // as given to install()/install_trap(), "" if unknown
    // Expires: which SA.
    IpsecProto proto = IpsecProto::Esp;
    uint32_t spi = 0;
    bool inbound = false;
    // Acquire: the packet that hit the trap.
    IpAddress src, dst;
    uint8_t ip_proto = 0;
    uint16_t src_port = 0, dst_port = 0;
};
std::string_view to_string(SaEvent::Kind k);

// An on-demand connection's trap: policies with the CHILD_SA's template but
// no states. The first outbound packet matching them raises an Acquire event
// (the kernel's XFRM acquire, or the userspace SPD's equivalent); the packet
// itself is dropped. A later install() with the same reqid fills the trap; a
// remove() of that CHILD_SA puts the trap back; remove_trap() ends it.
struct Trap {
    std::string conn;
    uint32_t reqid = 0;
    Mode mode = Mode::Tunnel;
    IpAddress local, remote;          // outer addresses (tunnel endpoints)
    bool esp = true;                  // ESP, AH or both (AH+ESP)
    bool ah = false;
    bool ipcomp = false;
    std::vector<TrafficSelector> ts_local, ts_remote;
};

// Counters of one CHILD_SA: per direction, the outermost protocol's SA
// (AH in AH+ESP bundles, ESP otherwise).
struct ChildCounters {
    Counters in, out;
};

// What cleanup_stale() found and removed.
struct CleanupReport {
    unsigned states = 0, policies = 0, routes = 0;
};

struct BackendOptions {
    joblog::JobLog* log = nullptr;    // operator messages and debug lines; may be null
    // Userspace data path.
    std::string tun_name = "qvpn0";   // at most 15 characters
    int tun_mtu = 1400;
    bool tun_offload = true;          // TSO/GRO through virtio_net_hdr (faster TCP)
    uint32_t route_table = 0x5156;    // routes to remote data endpoints live here
    uint32_t rule_priority = 0x5156;  // "not fwmark kBypassMark lookup route_table"
    int workers = 0;                  // data path threads per direction; 0: one per CPU, max 4
    // Both data paths.
    std::chrono::milliseconds rekey_grace{5000};  // old inbound SAs live on after replace()
    bool raw_esp = true;              // open raw IP protocol 50/51 sockets (needs CAP_NET_RAW)
    // ESP-in-UDP when no IKE socket was prepared (qvpn-espctl, tests): the
    // data path binds this port itself; 0 = only through prepare_ike_socket().
    uint16_t own_udp_port = 0;
};

class SaBackend {
public:
    virtual ~SaBackend() = default;
    SaBackend() = default;
    SaBackend(const SaBackend&) = delete;
    SaBackend& operator=(const SaBackend&) = delete;

    virtual DataPathKind kind() const = 0;

    // Install a CHILD_SA: states for both directions of every protocol (ESP,
    // AH, IPComp) and the policies for its selectors (out, in, and fwd in
    // tunnel mode). All or nothing: on a failure everything this call added
    // is removed again and the failure says what the kernel refused. The
    // reqid must be in the qvpn band and not installed yet (replace() is the
    // way to reuse a reqid of an installed CHILD_SA).
    [[nodiscard]] virtual Status install(const ChildSa& sa) = 0;

    // Rekey: install `sa` first, then remove what belongs only to old_reqid.
    // sa.reqid may equal old_reqid (new SPIs, same policies: policies stay in
    // place throughout, so no packet meets a gap) or differ (policies are
    // updated in place to the new reqid). Outbound switches to the new SAs
    // at once; the old inbound SAs keep accepting for
    // BackendOptions::rekey_grace (packets the peer sent before it switched),
    // then go without an expire event. If installing the new CHILD_SA fails,
    // the old one is left untouched.
    [[nodiscard]] virtual Status replace(uint32_t old_reqid, const ChildSa& sa) = 0;

    // Remove a CHILD_SA's states and policies (restoring its trap, if any).
    [[nodiscard]] virtual Status remove(uint32_t reqid) = 0;

    [[nodiscard]] virtual Status install_trap(const Trap& trap) = 0;
    [[nodiscard]] virtual Status remove_trap(uint32_t reqid) = 0;

    // Byte/packet counters as the data path counted them.
    [[nodiscard]] virtual Result<ChildCounters> counters(uint32_t reqid) = 0;

    // Readable when events() has something; never blocks.
    virtual int event_fd() const = 0;
    virtual std::vector<SaEvent> events() = 0;

    // Remove every state, policy and route in the qvpn band that this
    // process did not install (left by an earlier run that crashed).
    [[nodiscard]] virtual Result<CleanupReport> cleanup_stale() = 0;

    // Remove everything this backend installed (shutdown).
    [[nodiscard]] virtual Status remove_all() = 0;

    // Prepare one of QTOVMAN's IKE sockets (UDP 500, or 4500 with
    // nat_t_port). Every IKE socket gets a per-socket IPsec policy bypass
    // (IKE never enters a tunnel) and the bypass mark. With the kernel data
    // path the 4500 socket also gets UDP_ENCAP_ESPINUDP, so the kernel takes
    // ESP-in-UDP itself and the socket only ever returns IKE. With the
    // userspace data path the 4500 socket is also where outbound ESP-in-UDP
    // is sent from (the backend keeps a duplicate of the descriptor), and
    // QTOVMAN passes the ESP datagrams it reads there to input_udp().
    [[nodiscard]] virtual Status prepare_ike_socket(int fd, int family, bool nat_t_port) = 0;

    // Userspace data path: one ESP-in-UDP datagram read on port 4500 (first
    // four bytes non-zero; no non-ESP marker). Decrypted and delivered, or
    // counted and dropped. The kernel backend counts it as unexpected.
    virtual void input_udp(ByteView datagram, const IpAddress& from, uint16_t from_port,
                           const IpAddress& to, uint16_t to_port) = 0;
};

// The backend for QVPNDTAPTH. *AUTO probes the kernel with a throw-away ESP
// state in the current network namespace.
Result<std::unique_ptr<SaBackend>> make_backend(policy::DataPath choice,
                                                const BackendOptions& opts);

// Validate a ChildSa before any backend touches it: algorithms known and
// allowed together, key lengths, SPIs, addresses of one family, selectors.
[[nodiscard]] Status validate(const ChildSa& sa);
[[nodiscard]] Status validate(const Trap& trap);

}  // namespace qvpn::sa
