// VPN-generated packet rules: the pre-IPSec and policy filters that the VPN
// configuration implies, written in the .i3p language (so they pass through
// the same parser, checks and compiler as a hand-written file).
//
// For each dynamic-key group with POLICYFTR(*GENERATE) and connections:
//   set preipsec_<group>  IKE (UDP 500 and 4500) between its key servers,
//                         one OUTBOUND and one INBOUND rule per port
//   set policy_<group>    one IPSEC rule per connection: local to remote data
//                         endpoint, protocol and ports, CONNECTION_DEFINITION =
//                         <group>, JRN = FULL with journaling *IPTRAFFIC or *ALL
// For each manual connection with POLICYFTR(*GENERATE): set policy_<name>.
// With VPN attribute "generated rules end with permit all other traffic":
//   set permit_other      PERMIT everything else, both directions
// Each line the objects name (or every line for *ALL) gets
//   FILTER_INTERFACE LINE = <line> SET = preipsec_..., policy_..., permit_other
// with the groups in group order (the order lookups try them), then the
// manual connections in name order.
#pragma once

#include <string>
#include <vector>

#include "rules/vpn_config.hpp"

namespace qvpn::rules {

inline constexpr const char* kGeneratedFile = "qvpn_generated.i3p";
inline constexpr const char* kPermitOtherSet = "permit_other";

struct GeneratedRules {
    std::string text;                // the .i3p file
    std::vector<std::string> lines;  // lines it applies sets to
    size_t policy_filters = 0;       // IPSEC rules written
};

// `all_lines`: what *ALL (an object without lines) stands for.
GeneratedRules generate_rules(const VpnConfig& cfg, const std::vector<std::string>& all_lines);

// Is `set` one of the generated file's pre-IPSec, policy or permit sets?
bool is_generated_set(const std::string& set);

}  // namespace qvpn::rules
