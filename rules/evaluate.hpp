// What the compiled rules of a line do with one packet, computed in
// process from the rules themselves (first match, in set and file order).
//
// The lock-out check asks it about the caller's session before loading;
// the tests hold the compiled nftables table to the same answers.
#pragma once

#include <string>
#include <vector>

#include "core/base/ip.hpp"
#include "rules/compile.hpp"
#include "rules/model.hpp"

namespace qvpn::rules {

struct Packet {
    IpAddress src, dst;
    int proto = 6;
    int sport = 0, dport = 0;
    int icmp_type = 0, icmp_code = 0;
    bool syn = false, ack = true;    // TCP flags
    FragClass frag = FragClass::Whole;
    bool secure = false;             // leaves into / came out of IPsec
};

struct Decision {
    bool accept = false;
    int rule = 0;          // rule number, 0 for implicit permits and the default deny
    std::string why;       // "rule", "ipsec", "clear", "ike", "esp", "nd", "deny"
};

bool matches(const Match& m, const Packet& p);

// `sets`: the line's sets in FILTER_INTERFACE order.
Decision evaluate(const Document& doc, const std::vector<std::string>& sets,
                  const Implicit& implicit, bool inbound, const Packet& p);

}  // namespace qvpn::rules
