#include "rules/generate.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/base/ip.hpp"
#include "core/base/text.hpp"

namespace qvpn::rules {

namespace {

using policy::DataEndpoint;
using policy::EndpointType;

bool word_safe(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-' || c == '$' || c == '@';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// A set name made of the characters every name may use.
std::string set_name(const std::string& prefix, const std::string& object) {
    std::string out = prefix;
    for (char c : object) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        out += ok ? c : '_';
    }
    return out;
}

// A name value, quoted when it holds characters outside a word.
std::string name_value(const std::string& s) { return word_safe(s) ? s : "'" + s + "'"; }

class Writer {
public:
    std::string addresses, filters, interfaces;

    // The SRCADDR/DSTADDR value of a data endpoint (an ADDRESS statement for
    // subnets and ranges).
    std::string endpoint(const DataEndpoint& e) {
        switch (e.type) {
            case EndpointType::Any: return "*";
            case EndpointType::IPv4:
            case EndpointType::IPv6: return e.address;
            case EndpointType::IPv4Subnet:
            case EndpointType::IPv6Subnet: {
                std::string n = "vpn_addr_" + std::to_string(++addr_count_);
                addresses += "ADDRESS " + n + " IP = " + e.address + " MASK = " + e.extra +
                             " TYPE = TRUSTED\n";
                return n;
            }
            case EndpointType::IPv4Range:
            case EndpointType::IPv6Range: {
                std::string n = "vpn_addr_" + std::to_string(++addr_count_);
                addresses += "ADDRESS " + n + " IP = " + e.address + " THROUGH " + e.extra +
                             " TYPE = TRUSTED\n";
                return n;
            }
        }
        return "*";
    }

private:
    int addr_count_ = 0;
};

std::string key_server(const policy::Identity& id) {
    if ((id.type == policy::IdType::IPv4 || id.type == policy::IdType::IPv6) &&
        IpAddress::parse(id.value)) {
        return id.value;
    }
    return "*";
}

std::string port(int p) { return p == 0 ? "*" : std::to_string(p); }

// PROTOCOL and ports of a policy filter.
std::string service(int protocol, int local_port, int remote_port) {
    std::string s = " PROTOCOL = " + (protocol == 0 ? std::string("*") : std::to_string(protocol));
    if (protocol == 0 || protocol == 6 || protocol == 17) {
        s += " SRCPORT = " + port(local_port) + " DSTPORT = " + port(remote_port);
    }
    return s;
}

void pre_ipsec(std::string& out, const std::string& set, const std::string& local,
               const std::string& remote) {
    for (int p : {500, 4500}) {
        std::string ps = std::to_string(p);
        out += "FILTER SET " + set + " ACTION = PERMIT DIRECTION = OUTBOUND SRCADDR = " + local +
               " DSTADDR = " + remote + " PROTOCOL = UDP SRCPORT = " + ps +
               " DSTPORT = * FRAGMENTS = NONE JRN = OFF\n";
        out += "FILTER SET " + set + " ACTION = PERMIT DIRECTION = INBOUND SRCADDR = " + remote +
               " DSTADDR = " + local + " PROTOCOL = UDP SRCPORT = * DSTPORT = " + ps +
               " FRAGMENTS = NONE JRN = OFF\n";
    }
}

bool journaled(policy::Journaling j) {
    return j == policy::Journaling::IpTraffic || j == policy::Journaling::All;
}

bool ci_less(const std::string& a, const std::string& b) { return to_upper(a) < to_upper(b); }

// Same family on both sides, or a side that is `*`.
bool same_family(const std::string& a, const std::string& b) {
    auto fa = IpAddress::parse(a), fb = IpAddress::parse(b);
    return !fa || !fb || fa->family() == fb->family();
}

}  // namespace

bool is_generated_set(const std::string& set) {
    return starts_with_icase(set, "preipsec_") || starts_with_icase(set, "policy_") ||
           iequals(set, kPermitOtherSet);
}

GeneratedRules generate_rules(const VpnConfig& cfg, const std::vector<std::string>& all_lines) {
    Writer w;
    GeneratedRules out;
    // line (upper) -> its name as written, and its sets in order
    std::map<std::string, std::pair<std::string, std::vector<std::string>>> per_line;
    std::vector<std::string> line_order;
    auto apply = [&](const std::vector<std::string>& lines, const std::vector<std::string>& sets) {
        for (const auto& l : lines.empty() ? all_lines : lines) {
            auto [it, fresh] = per_line.try_emplace(to_upper(l), l, std::vector<std::string>{});
            if (fresh) {
                line_order.push_back(to_upper(l));
            }
            for (const auto& s : sets) {
                it->second.second.push_back(s);
            }
        }
    };

    for (const auto& group : cfg.groups) {  // in group order
        const auto* g = &group;
        if (g->policy_filter != policy::PolicyFilter::Generate) {
            continue;
        }
        std::string pre = set_name("preipsec_", g->name), pol = set_name("policy_", g->name);
        std::set<std::pair<std::string, std::string>> servers;
        std::string rules;
        for (const auto& c : cfg.connections) {
            if (!iequals(c.group, g->name)) {
                continue;
            }
            servers.insert({key_server(c.local_id), key_server(c.remote_id)});
            rules += "FILTER SET " + pol + " ACTION = IPSEC DIRECTION = OUTBOUND SRCADDR = " +
                     w.endpoint(c.local) + " DSTADDR = " + w.endpoint(c.remote) +
                     service(c.protocol, c.local_port, c.remote_port) +
                     " FRAGMENTS = ALL JRN = " + (journaled(g->journaling) ? "FULL" : "OFF") +
                     " CONNECTION_DEFINITION = " + name_value(g->name) + "\n";
            ++out.policy_filters;
        }
        if (rules.empty()) {
            continue;  // a group without connections has no data endpoints
        }
        for (const auto& ks : g->remote_key_servers) {
            servers.insert({"*", key_server(ks)});
        }
        std::string pre_rules;
        for (const auto& [local, remote] : servers) {
            pre_ipsec(pre_rules, pre, same_family(local, remote) ? local : "*", remote);
        }
        w.filters += "# Dynamic-key group " + g->name + "\n" + pre_rules + rules;
        apply(g->lines, {pre, pol});
    }

    std::vector<const policy::ManualConnection*> manual;
    for (const auto& m : cfg.manual) {
        manual.push_back(&m);
    }
    std::sort(manual.begin(), manual.end(),
              [](auto* a, auto* b) { return ci_less(a->name, b->name); });
    for (const auto* m : manual) {
        if (m->policy_filter != policy::PolicyFilter::Generate) {
            continue;
        }
        std::string pol = set_name("policy_", m->name);
        w.filters += "# Manual connection " + m->name + "\n";
        w.filters += "FILTER SET " + pol + " ACTION = IPSEC DIRECTION = OUTBOUND SRCADDR = " +
                     w.endpoint(m->local) + " DSTADDR = " + w.endpoint(m->remote) +
                     service(m->ip_protocol, m->local_port, m->remote_port) +
                     " FRAGMENTS = ALL JRN = " + (journaled(m->journaling) ? "FULL" : "OFF") +
                     " CONNECTION_DEFINITION = " + name_value(m->name) + "\n";
        ++out.policy_filters;
        apply(m->lines, {pol});
    }

    if (out.policy_filters == 0) {
        return out;
    }
    bool permit_other = cfg.attributes.generated_permit_other;
    if (permit_other) {
        w.filters += "# VPN attribute: generated rules end with permit all other traffic\n";
        w.filters += std::string("FILTER SET ") + kPermitOtherSet +
                     " ACTION = PERMIT DIRECTION = * SRCADDR = * DSTADDR = * PROTOCOL = * "
                     "FRAGMENTS = ALL JRN = OFF\n";
    }
    for (const auto& key : line_order) {
        auto& [line, sets] = per_line[key];
        if (permit_other) {
            sets.push_back(kPermitOtherSet);
        }
        std::string list;
        for (const auto& s : sets) {
            list += (list.empty() ? "" : ", ") + s;
        }
        w.interfaces += "FILTER_INTERFACE LINE = " + line + " SET = " + list + "\n";
        out.lines.push_back(line);
    }
    out.text = "# Packet rules generated by qvpn from the VPN configuration.\n"
               "# LODIPFTR INCVPN(*YES) writes this file again on every load; do not edit.\n" +
               w.addresses + w.filters + w.interfaces;
    return out;
}

}  // namespace qvpn::rules
