// What the trace commands need from the system configuration (the policy
// database, core/policy), behind two small functions:
//   - which Linux interface a line (*LIN) or network interface (*NWI) is:
//     a line description's RSRCNAME (CRTLINETH), else the line name itself;
//   - the system value QCMNTRCMAX, the sum all trace buffers may reach
//     (CHGSYSVAL SYSVAL(QCMNTRCMAX)).
#pragma once

#include <cstdint>
#include <string>

#include "core/base/result.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

struct InterfaceState {
    std::string name;
    int index = 0;
    bool up = false;
    LinkType link = LinkType::Ethernet;
};

// The interface behind CFGOBJ/CFGTYPE, checked to exist in this network
// namespace: CPF2601 (no such line), TRC0020 (a line whose interface is
// missing), CPF39BD (no such network interface), CPF26AE (*NWS: there are
// no network servers), or the policy database's message when it cannot be
// read.
Result<InterfaceState> resolve_interface(CfgType type, const std::string& name);

// The state of an interface by its Linux name; nullopt when it is gone.
std::optional<InterfaceState> interface_state(const std::string& ifname);

// QCMNTRCMAX in bytes (its default when there is no policy database yet).
Result<uint64_t> storage_limit();

}  // namespace qvpn::trace
