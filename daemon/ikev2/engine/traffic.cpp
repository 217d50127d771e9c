#include "daemon/ikev2/engine/traffic.hpp"

#include <algorithm>

namespace qvpn::ikev2 {

namespace {

Failure bad_endpoint(const policy::DataEndpoint& ep) {
    return Failure{msg("IKE0904", std::string(policy::to_cl(ep.type)),
                       ep.address + (ep.extra.empty() ? "" : " " + ep.extra))};
}

bool is_host_side(policy::SystemRole role, bool local) {
    using R = policy::SystemRole;
    if (local) {
        return role == R::Host2Gw || role == R::Host2Host;
    }
    return role == R::Gw2Host || role == R::Host2Host;
}

}  // namespace

Result<Selectors> selectors_for(const policy::DataEndpoint& ep, int port, int protocol,
                                const IpAddress& host, bool host_role) {
    using T = policy::EndpointType;
    sa::TrafficSelector ts;
    ts.ip_proto = static_cast<uint8_t>(protocol);
    ts.port_from = static_cast<uint16_t>(port);
    ts.port_to = port == 0 ? 65535 : static_cast<uint16_t>(port);

    auto addr = IpAddress::parse(ep.address);
    switch (ep.type) {
    case T::Any:
        // A host's data endpoint is the host itself; a gateway's *ANY is
        // everything of the IKE family.
        ts.addrs = host_role ? IpRange::single(host) : IpRange::any(host.family());
        break;
    case T::IPv4:
    case T::IPv6:
        if (ep.address.empty()) {
            ts.addrs = IpRange::single(host);
            break;
        }
        if (!addr || addr->is_v4() != (ep.type == T::IPv4)) {
            return bad_endpoint(ep);
        }
        ts.addrs = IpRange::single(*addr);
        break;
    case T::IPv4Subnet:
    case T::IPv6Subnet: {
        if (!addr || addr->is_v4() != (ep.type == T::IPv4Subnet)) {
            return bad_endpoint(ep);
        }
        auto r = IpRange::subnet(*addr, ep.extra);
        if (!r) {
            return bad_endpoint(ep);
        }
        ts.addrs = *r;
        break;
    }
    case T::IPv4Range:
    case T::IPv6Range: {
        auto last = IpAddress::parse(ep.extra);
        bool v4 = ep.type == T::IPv4Range;
        if (!addr || !last || addr->is_v4() != v4 || last->is_v4() != v4 || *last < *addr) {
            return bad_endpoint(ep);
        }
        ts.addrs = IpRange{*addr, *last};
        break;
    }
    }
    return Selectors{ts};
}

Result<OurSelectors> connection_selectors(const policy::ConnectionPolicy& p,
                                          const IpAddress& local_ike,
                                          const IpAddress& remote_ike) {
    const auto& c = p.connection;
    OurSelectors out;
    QVPN_ASSIGN(out.local, selectors_for(c.local, c.local_port, c.protocol, local_ike,
                                         is_host_side(p.group.role, true)));
    QVPN_ASSIGN(out.remote, selectors_for(c.remote, c.remote_port, c.protocol, remote_ike,
                                          is_host_side(p.group.role, false)));
    return out;
}

std::optional<sa::TrafficSelector> intersect(const sa::TrafficSelector& a,
                                             const sa::TrafficSelector& b) {
    if (a.addrs.from.family() != b.addrs.from.family()) {
        return std::nullopt;
    }
    sa::TrafficSelector r;
    if (a.ip_proto != 0 && b.ip_proto != 0 && a.ip_proto != b.ip_proto) {
        return std::nullopt;
    }
    r.ip_proto = a.ip_proto != 0 ? a.ip_proto : b.ip_proto;
    r.port_from = std::max(a.port_from, b.port_from);
    r.port_to = std::min(a.port_to, b.port_to);
    if (r.port_from > r.port_to) {
        return std::nullopt;
    }
    r.addrs.from = std::max(a.addrs.from, b.addrs.from);
    r.addrs.to = std::min(a.addrs.to, b.addrs.to);
    if (r.addrs.to < r.addrs.from) {
        return std::nullopt;
    }
    return r;
}

Selectors narrow(const Selectors& offered, const Selectors& allowed) {
    Selectors out;
    for (const auto& o : offered) {
        for (const auto& a : allowed) {
            if (auto r = intersect(o, a)) {
                if (std::find(out.begin(), out.end(), *r) == out.end()) {
                    out.push_back(*r);
                }
            }
        }
    }
    return out;
}

bool within(const Selectors& answer, const Selectors& offered) {
    if (answer.empty()) {
        return false;
    }
    return std::all_of(answer.begin(), answer.end(), [&](const sa::TrafficSelector& a) {
        return std::any_of(offered.begin(), offered.end(), [&](const sa::TrafficSelector& o) {
            auto r = intersect(a, o);
            return r && *r == a;
        });
    });
}

std::string to_string(const sa::TrafficSelector& ts) {
    std::string s = ts.addrs.to_string();
    if (ts.ip_proto != 0 || ts.port_from != 0 || ts.port_to != 65535) {
        s += "[" + std::to_string(ts.ip_proto);
        if (ts.port_from != 0 || ts.port_to != 65535) {
            s += "/" + std::to_string(ts.port_from);
            if (ts.port_to != ts.port_from) {
                s += "-" + std::to_string(ts.port_to);
            }
        }
        s += "]";
    }
    return s;
}

std::string to_string(const Selectors& ts) {
    std::string s;
    for (const auto& t : ts) {
        s += (s.empty() ? "" : " ") + to_string(t);
    }
    return s;
}

}  // namespace qvpn::ikev2
