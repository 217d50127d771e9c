#include "daemon/trace/selection.hpp"

namespace qvpn::trace {

namespace {

bool is_pair(const IpAddress& x, const IpAddress& y, const IpAddress& a, const IpAddress& b) {
    return (x == a && y == b) || (x == b && y == a);
}

// Does some IP header (or ARP body) of the frame carry the addresses?
bool address_match(const DecodedFrame& f, const Selection& s) {
    auto test = [&](const IpAddress& src, const IpAddress& dst) {
        if (s.address2) {
            return is_pair(src, dst, *s.address1, *s.address2);
        }
        return src == *s.address1 || dst == *s.address1;
    };
    for (const auto& layer : f.layers) {
        if (const auto* v4 = std::get_if<Ipv4Header>(&layer); v4 && test(v4->src, v4->dst)) {
            return true;
        }
        if (const auto* v6 = std::get_if<Ipv6Header>(&layer); v6 && test(v6->src, v6->dst)) {
            return true;
        }
        if (const auto* arp = std::get_if<ArpPacket>(&layer);
            arp && arp->ethernet_ipv4 && test(arp->sender_ip, arp->target_ip)) {
            return true;
        }
    }
    return false;
}

bool port_match(const DecodedFrame& f, uint16_t port) {
    for (const auto& layer : f.layers) {
        if (const auto* u = std::get_if<UdpHeader>(&layer);
            u && (u->src_port == port || u->dst_port == port)) {
            return true;
        }
        if (const auto* t = std::get_if<TcpHeader>(&layer);
            t && (t->src_port == port || t->dst_port == port)) {
            return true;
        }
    }
    return false;
}

bool is_broadcast(const DecodedFrame& f) {
    if (f.find<ArpPacket>() != nullptr) {
        return true;
    }
    if (const auto* e = f.find<EthernetHeader>(); e && e->dst.is_broadcast()) {
        return true;
    }
    const auto* v4 = f.find<Ipv4Header>();
    return v4 && v4->dst == IpAddress::v4(0xffffffff);
}

}  // namespace

bool selected(const DecodedFrame& frame, const Selection& s) {
    if (!s.broadcasts && is_broadcast(frame)) {
        return false;
    }
    if (s.address1 && !address_match(frame, s)) {
        return false;
    }
    return !s.port || port_match(frame, *s.port);
}

std::string Selection::to_cl() const {
    std::string out;
    if (address1) {
        out += "TCPIPADR(" + address1->to_string() + " " +
               (address2 ? address2->to_string() : std::string("*ALL")) + ")";
    }
    if (port) {
        out += (out.empty() ? "" : " ") + std::string("SLTPORT(") + std::to_string(*port) + ")";
    }
    if (!broadcasts) {
        out += (out.empty() ? "" : " ") + std::string("FMTBCD(*NO)");
    }
    return out.empty() ? "*NONE" : out;
}

}  // namespace qvpn::trace
