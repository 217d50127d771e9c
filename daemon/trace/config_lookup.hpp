// What the trace commands need from the system configuration, behind two
// small functions so the source can change without touching the commands:
//   - which Linux interface a line (*LIN) or network interface (*NWI) is;
//   - the system value QCMNTRCMAX, the sum all trace buffers may reach.
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
// namespace: CPF2601 (no such line), CPF39BD (no such network interface),
// CPF26AE (*NWS: there are no network servers).
Result<InterfaceState> resolve_interface(CfgType type, const std::string& name);

// The state of an interface by its Linux name; nullopt when it is gone.
std::optional<InterfaceState> interface_state(const std::string& ifname);

// QCMNTRCMAX in bytes.
uint64_t storage_limit();

}  // namespace qvpn::trace
