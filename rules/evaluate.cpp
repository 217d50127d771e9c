#include "rules/evaluate.hpp"

namespace qvpn::rules {

namespace {

bool has_ports(int proto) { return proto == 6 || proto == 17; }

}  // namespace

bool matches(const Match& m, const Packet& p) {
    if (m.family != 0 && p.src.family() != m.family) {
        return false;
    }
    if (!m.src.contains(p.src) || !m.dst.contains(p.dst)) {
        return false;
    }
    if (!m.proto.contains(uint32_t(p.proto))) {
        return false;
    }
    if (m.starting && !(p.proto == 6 && p.syn && !p.ack)) {
        return false;
    }
    if (!m.sport.all || !m.dport.all) {
        if (!has_ports(p.proto) || !m.sport.contains(uint32_t(p.sport)) ||
            !m.dport.contains(uint32_t(p.dport))) {
            return false;
        }
    }
    if (!m.icmp_type.all || !m.icmp_code.all) {
        bool icmp = (m.family == 4 && p.proto == 1) || (m.family == 6 && p.proto == 58);
        if (!icmp || !m.icmp_type.contains(uint32_t(p.icmp_type)) ||
            !m.icmp_code.contains(uint32_t(p.icmp_code))) {
            return false;
        }
    }
    return true;
}

Decision evaluate(const Document& doc, const std::vector<std::string>& sets,
                  const Implicit& implicit, bool inbound, const Packet& p) {
    bool headers = p.frag != FragClass::Later;
    int port = inbound ? p.dport : p.sport;
    if (implicit.ike && headers && p.proto == 17 && (port == kIkePort || port == kNatTPort)) {
        return {true, 0, "ike"};
    }
    if (implicit.ipsec && (p.proto == 50 || p.proto == 51)) {
        return {true, 0, "esp"};
    }
    // IPv6 neighbour discovery and multicast listener discovery: what ARP
    // and IGMP snooping are to IPv4, which no filter rule sees.
    if (headers && p.proto == 58 &&
        ((p.icmp_type >= 130 && p.icmp_type <= 137) || p.icmp_type == 143)) {
        return {true, 0, "nd"};
    }
    for (const auto& set : sets) {
        std::string key = name_key(set);
        for (const auto& f : doc.filters) {
            if (name_key(f.set) != key) {
                continue;
            }
            auto m = class_match(f, inbound, p.frag);
            if (!m || !matches(*m, p)) {
                continue;
            }
            if (f.action == Action::Ipsec) {
                return {p.secure, f.number, p.secure ? "ipsec" : "clear"};
            }
            return {f.action == Action::Permit, f.number, "rule"};
        }
    }
    return {false, 0, "deny"};
}

}  // namespace qvpn::rules
