// PRTCMNTRC's record selections, applied to decoded frames:
//   TCPIPADR(a1)     frames with a1 as source or destination (IP or ARP)
//   TCPIPADR(a1 a2)  frames between a1 and a2, either way
//   SLTPORT(n)       TCP or UDP frames from or to port n
//   FMTBCD(*NO)      no broadcast frames and no ARP
// Every selection given must hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/base/ip.hpp"
#include "daemon/trace/decoder.hpp"

namespace qvpn::trace {

struct Selection {
    std::optional<IpAddress> address1;
    std::optional<IpAddress> address2;
    std::optional<uint16_t> port;
    bool broadcasts = true;

    // The CL form, for the printout header: TCPIPADR(a *ALL) SLTPORT(500) FMTBCD(*NO)
    std::string to_cl() const;
};

bool selected(const DecodedFrame& frame, const Selection& selection);

}  // namespace qvpn::trace
