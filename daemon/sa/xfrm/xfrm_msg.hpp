// What the kernel backend installs for a CHILD_SA or a trap, as plain specs,
// and the netlink messages that install and remove them. Pure (no socket),
// so the message building is tested without root.
//
// A CHILD_SA becomes:
//  * one XFRM state per protocol and direction. Protocols nest innermost
//    first: IPComp, ESP, AH. The innermost carries the CHILD_SA's mode, the
//    ones around it are transport mode (an AH+ESP tunnel is ESP in tunnel
//    mode inside AH in transport mode, as RFC 4301 bundles are built);
//  * per selector pair (addresses split into prefixes, port ranges into
//    port/mask pairs) an "out" policy, an "in" policy and in tunnel mode a
//    "fwd" policy, each with one template per protocol in the same order.
//    IPComp's template is optional ("level use") on in/fwd, because small
//    packets are sent uncompressed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "daemon/sa/backend.hpp"
#include "daemon/sa/sa_types.hpp"
#include "daemon/sa/selector.hpp"
#include "daemon/sa/xfrm/netlink.hpp"

namespace qvpn::sa::xfrm {

// Policy priorities: a band of their own, more specific selectors first
// (the kernel prefers the lowest number).
inline constexpr uint32_t kPriorityBase = 0x51560;
inline constexpr size_t kMaxPolicies = 64;  // per CHILD_SA and direction

struct StateSpec {
    uint8_t proto = 0;          // IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP
    uint32_t spi = 0;           // host order; the CPI for IPComp
    IpAddress src, dst;
    uint32_t reqid = 0;
    uint8_t mode = 0;           // XFRM_MODE_TUNNEL / XFRM_MODE_TRANSPORT
    bool inbound = false;
    // Algorithms: exactly one of aead / (enc + auth) / auth / comp.
    std::string aead, enc, auth, comp;
    unsigned aead_icv_bits = 0, auth_trunc_bits = 0;
    unsigned enc_key_bits = 0;  // key bits handed to the kernel (with salt)
    SecretBytes enc_key, auth_key;
    bool esn = false;
    uint32_t replay_window = 0;
    std::optional<Encap> encap;  // ports as seen from this state: sport = sender
    uint32_t tfcpad = 0;
    Lifetime lifetime;

    std::string name() const;  // "ESP" / "AH" / "IPCOMP"
};

struct TemplateSpec {
    uint8_t proto = 0;
    uint8_t mode = 0;
    IpAddress src, dst;  // tunnel endpoints (zero in transport mode)
    uint32_t reqid = 0;
    bool optional = false;
};

struct PolicySel {
    int family = 4;
    Prefix src, dst;
    PortMask sport, dport;
    uint8_t proto = 0;
    bool operator==(const PolicySel&) const = default;
};

struct PolicySpec {
    PolicySel sel;
    uint8_t dir = 0;  // XFRM_POLICY_IN / OUT / FWD
    uint32_t priority = 0;
    std::vector<TemplateSpec> tmpls;
    std::string describe() const;  // "out 10.1.0.0/24[any] -> 10.2.0.0/24[any] proto any"
};

// The protocol layout both installs and traps share.
struct Plan {
    std::string conn;
    uint32_t reqid = 0;
    Mode mode = Mode::Tunnel;
    IpAddress local, remote;
    bool esp = false, ah = false, ipcomp = false;
    std::vector<TrafficSelector> ts_local, ts_remote;
};
Plan plan_of(const ChildSa& sa);
Plan plan_of(const Trap& t);

// States of a CHILD_SA (out and in of each protocol), keys included.
Result<std::vector<StateSpec>> states_for(const ChildSa& sa);
// Policies of a plan; fails with XFR0008 when the selectors split into too
// many kernel policies.
Result<std::vector<PolicySpec>> policies_for(const Plan& p);

// --- messages ------------------------------------------------------------

// XFRM_MSG_NEWSA (or UPDSA). Built with libnl's generic message API rather
// than libnl-xfrm's xfrmnl_sa object: that object copies the keys into
// buffers it frees without clearing, while the one copy in an NlMsg is wiped.
Result<NlMsg> state_msg(const StateSpec& s, bool update);
NlMsg state_delete_msg(uint8_t proto, uint32_t spi, const IpAddress& dst);
NlMsg state_get_msg(uint8_t proto, uint32_t spi, const IpAddress& dst);
NlMsg state_dump_msg();

// XFRM_MSG_NEWPOLICY (or UPDPOLICY), through libnl-xfrm's policy objects.
Result<NlMsg> policy_msg(const PolicySpec& p, bool update);
Result<NlMsg> policy_delete_msg(const PolicySel& sel, uint8_t dir);
NlMsg policy_delete_by_index_msg(uint32_t index, uint8_t dir);
NlMsg policy_dump_msg();

// --- parsing what the kernel sends ----------------------------------------

struct StateInfo {
    uint8_t proto = 0;
    uint32_t spi = 0;
    IpAddress src, dst;
    uint32_t reqid = 0;
    Counters counters;
};
struct PolicyInfo {
    uint32_t index = 0;
    uint8_t dir = 0;
    uint32_t priority = 0;
    std::vector<uint32_t> tmpl_reqids;
};
// XFRM_MSG_NEWSA (dump/get answers) and XFRM_MSG_EXPIRE (with hard flag).
bool parse_state(const nlmsghdr* h, StateInfo& out, bool* hard = nullptr);
bool parse_policy(const nlmsghdr* h, PolicyInfo& out);
struct AcquireInfo {
    uint32_t reqid = 0;  // first template's
    PacketFlow flow;
};
bool parse_acquire(const nlmsghdr* h, AcquireInfo& out);

std::string spi_hex(uint32_t spi);

}  // namespace qvpn::sa::xfrm
