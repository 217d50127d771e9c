#include "daemon/vman/start_checks.hpp"

#include "core/base/text.hpp"

namespace qvpn::vman {

namespace {

using namespace qvpn::policy;

CheckFailure failure(Msg m, int reason) { return CheckFailure{std::move(m), reason}; }

bool is_gateway_local(SystemRole r) { return r == SystemRole::Gw2Gw || r == SystemRole::Gw2Host; }
bool is_gateway_remote(SystemRole r) { return r == SystemRole::Gw2Gw || r == SystemRole::Host2Gw; }

bool single(EndpointType t) { return t == EndpointType::IPv4 || t == EndpointType::IPv6; }

int endpoint_family(EndpointType t) {
    switch (t) {
    case EndpointType::IPv4:
    case EndpointType::IPv4Subnet:
    case EndpointType::IPv4Range:
        return 4;
    case EndpointType::IPv6:
    case EndpointType::IPv6Subnet:
    case EndpointType::IPv6Range:
        return 6;
    case EndpointType::Any:
        return 0;
    }
    return 0;
}

// Connection endpoint from a key server identifier: an address, or a name
// to resolve. nullopt + reason when neither.
std::optional<IpAddress> endpoint_of(const Identity& id, const SystemView& sys, int family) {
    switch (id.type) {
    case IdType::IPv4:
    case IdType::IPv6:
        return IpAddress::parse(id.value);
    case IdType::Fqdn:
        return sys.resolve ? sys.resolve(id.value, family) : std::nullopt;
    default:
        return std::nullopt;
    }
}

bool addressable(IdType t) { return t == IdType::IPv4 || t == IdType::IPv6 || t == IdType::Fqdn; }

std::optional<CheckFailure> check_overlap(const std::string& name, const IpRange& l,
                                          const IpRange& r,
                                          const std::vector<EnabledView>& enabled) {
    for (const auto& e : enabled) {
        if (iequals(e.name, name)) {
            continue;
        }
        if (e.local.overlaps(l) && e.remote.overlaps(r)) {
            return failure(msg("TCP8623", name, l.to_string(), r.to_string(), e.name), 1);
        }
    }
    return std::nullopt;
}

struct Services {
    int protocol = 0, local_port = 0, remote_port = 0;
};

// The group's policy filter: loaded, and containing the data endpoints.
// On success `plan` learns the rank of the covering filter when known.
std::optional<CheckFailure> check_filter(const std::string& name, const std::string& group,
                                         const IpRange& l, const IpRange& r, Services sv,
                                         const PolicyFilterView& f, StartPlan& plan) {
    if (!f.rules_loaded) {
        return failure(msg("TCP8604", name, 3), 1);
    }
    if (!f.filter_loaded) {
        return failure(msg("TCP8628", name, group), 1);
    }
    if (f.covering) {
        plan.filter_rank = f.covering(l, r, sv.protocol, sv.local_port, sv.remote_port);
        if (plan.filter_rank) {
            return std::nullopt;
        }
        return failure(msg("TCP8624", name, l.to_string(), r.to_string()), 1);
    }
    for (const auto& [sl, sr] : f.scopes) {
        if (sl.contains(l) && sr.contains(r)) {
            return std::nullopt;
        }
    }
    return failure(msg("TCP8624", name, l.to_string(), r.to_string()), 1);
}

// Host roles: data endpoint must be the connection endpoint (TCP8626), and
// for the local host an address of this system (TCP8621).
std::optional<CheckFailure> check_hosts(const std::string& name, SystemRole role,
                                        const StartPlan& plan, const SystemView& sys) {
    if (!is_gateway_local(role)) {
        if (!plan.local_data.is_single() || plan.local_data.from != plan.local_endpoint) {
            return failure(msg("TCP8626", name, "local", plan.local_endpoint.to_string(),
                               plan.local_data.to_string()),
                           1);
        }
        if (sys.is_local && !sys.is_local(plan.local_data.from)) {
            return failure(msg("TCP8621", name, plan.local_data.to_string()), 2);
        }
    }
    if (!is_gateway_remote(role) &&
        (!plan.remote_data.is_single() || plan.remote_data.from != plan.remote_endpoint)) {
        return failure(msg("TCP8626", name, "remote", plan.remote_endpoint.to_string(),
                           plan.remote_data.to_string()),
                       1);
    }
    return std::nullopt;
}

}  // namespace

std::optional<IpRange> endpoint_range(const DataEndpoint& e, int family) {
    switch (e.type) {
    case EndpointType::Any:
        return IpRange::any(family == 6 ? 6 : 4);
    case EndpointType::IPv4:
    case EndpointType::IPv6: {
        auto a = IpAddress::parse(e.address);
        if (!a || a->family() != endpoint_family(e.type)) {
            return std::nullopt;
        }
        return IpRange::single(*a);
    }
    case EndpointType::IPv4Subnet:
    case EndpointType::IPv6Subnet: {
        auto a = IpAddress::parse(e.address);
        if (!a || a->family() != endpoint_family(e.type)) {
            return std::nullopt;
        }
        return IpRange::subnet(*a, e.extra);
    }
    case EndpointType::IPv4Range:
    case EndpointType::IPv6Range: {
        auto a = IpAddress::parse(e.address);
        auto b = IpAddress::parse(e.extra);
        if (!a || !b || a->family() != b->family() || a->family() != endpoint_family(e.type) ||
            *b < *a) {
            return std::nullopt;
        }
        return IpRange{*a, *b};
    }
    }
    return std::nullopt;
}

std::string endpoint_text(const DataEndpoint& e) {
    if (e.type == EndpointType::Any) {
        return "*ANY";
    }
    auto r = endpoint_range(e, 0);
    return r ? r->to_string() : e.address;
}

CheckResult check_dynamic_start(const ConnectionPolicy& p, const SystemView& sys,
                                const FilterSource& filter_source,
                                const std::vector<EnabledView>& enabled,
                                std::optional<IpAddress> populated_remote) {
    const auto& c = p.connection;
    const auto& g = p.group;
    const std::string& name = c.name;

    // The group must allow the local system to start it.
    if (g.initiator == Initiator::Remote) {
        return failure(msg("TCP8604", name, 5), 1);
    }
    // Identifiers must lead to connection endpoints.
    if (!addressable(c.remote_id.type)) {
        return failure(msg("TCP8604", name, 9), 4);
    }
    if (!addressable(c.local_id.type)) {
        return failure(msg("TCP8604", name, 9), 1);
    }
    int fam = c.remote_id.type == IdType::IPv6 || c.local_id.type == IdType::IPv6 ? 6 : 0;
    auto remote_ep = endpoint_of(c.remote_id, sys, fam);
    if (!remote_ep) {
        return failure(msg("TCP8604", name, 1), 4);
    }
    auto local_ep = endpoint_of(c.local_id, sys, remote_ep->family());
    if (!local_ep) {
        return failure(msg("TCP8604", name, 2), 1);
    }
    if (local_ep->family() != remote_ep->family()) {
        return failure(msg("TCP8604", name, 8), 1);
    }

    StartPlan plan;
    plan.local_endpoint = *local_ep;
    plan.remote_endpoint = *remote_ep;
    int dfam = endpoint_family(c.local.type) != 0 ? endpoint_family(c.local.type)
                                                  : endpoint_family(c.remote.type);
    if (dfam == 0) {
        dfam = local_ep->family();
    }
    auto ld = endpoint_range(c.local, dfam);
    auto rd = endpoint_range(c.remote, dfam);
    if (!ld || !rd || ld->from.family() != rd->from.family()) {
        return failure(msg("TCP8604", name, 8), 1);
    }
    plan.local_data = *ld;
    plan.remote_data = *rd;

    // Populate from packet: host to gateway, the remote address from the
    // packet, which must lie in the configured remote range.
    if (g.populate_from_packet) {
        if (g.role != SystemRole::Host2Gw) {
            return failure(msg("TCP8604", name, 6), 1);
        }
        if (populated_remote) {
            if (!rd->contains(*populated_remote)) {
                return failure(msg("TCP8604", name, 8), 1);
            }
            plan.remote_data = IpRange::single(*populated_remote);
            plan.populated = true;
        }
    }

    // A host's data endpoint is one address.
    if ((!is_gateway_local(g.role) && !single(c.local.type)) ||
        (!is_gateway_remote(g.role) && !single(c.remote.type) && !g.populate_from_packet)) {
        return failure(msg("TCP8604", name, 6), 1);
    }
    // RFC 4301 4.1: transport mode is for hosts only.
    if (p.data.mode == Mode::Transport && g.role != SystemRole::Host2Host) {
        return failure(msg("TCP8622", name), 1);
    }
    if (auto f = check_hosts(name, g.role, plan, sys)) {
        return *f;
    }
    if (sys.is_local && !sys.is_local(plan.local_endpoint)) {
        return failure(msg("TCP8620", name, plan.local_endpoint.to_string()), 2);
    }

    if (!g.local_nat_pool.empty() || !g.remote_nat_pool.empty()) {
        if (!g.local_nat_pool.empty() && !plan.local_data.is_single()) {
            return failure(msg("TCP8608", name, 1), 1);
        }
        // TODO(vpn-nat): VPN NAT pools are not translated; a connection that
        // names one fails with VMN0022 instead of starting untranslated.
        return failure(msg("VMN0022", name), 1);
    }

    auto filters_r = filter_source();
    if (!filters_r.ok()) {
        return failure(filters_r.error(), 1);
    }
    const PolicyFilterView& filters = *filters_r;
    if (g.policy_filter == PolicyFilter::None) {
        // A dynamic policy filter: single endpoints, started by this system,
        // and no loaded policy filter for it.
        if (g.initiator != Initiator::Local) {
            return failure(msg("TCP8604", name, 5), 1);
        }
        if (!plan.local_data.is_single() || !plan.remote_data.is_single()) {
            return failure(msg("TCP8604", name, 8), 1);
        }
        if (filters.filter_loaded) {
            return failure(msg("TCP8604", name, 8), 1);
        }
        plan.dynamic_policy_filter = true;
    } else if (auto f = check_filter(name, g.name, plan.local_data, plan.remote_data,
                                     {c.protocol, c.local_port, c.remote_port}, filters, plan)) {
        return *f;
    }

    if (auto f = check_overlap(name, plan.local_data, plan.remote_data, enabled)) {
        return *f;
    }
    return plan;
}

CheckResult check_responder_child(const DynamicGroup& g, const std::string& name,
                                  const NegotiatedChild& child, const FilterSource& filter_source,
                                  const std::vector<EnabledView>& enabled) {
    // The key manager refuses such peers already; this is the connection
    // manager's own word on it, so nothing it did not allow gets installed.
    if (g.initiator == Initiator::Local || g.policy_filter == PolicyFilter::None) {
        return failure(msg("TCP8604", name, 5), 1);
    }
    StartPlan plan;
    plan.local_endpoint = child.local_endpoint;
    plan.remote_endpoint = child.remote_endpoint;
    plan.local_data = child.local;
    plan.remote_data = child.remote;
    auto filters = filter_source();
    if (!filters.ok()) {
        return failure(filters.error(), 1);
    }
    if (auto f = check_filter(name, g.name, child.local, child.remote,
                              {child.protocol, child.local_port, child.remote_port}, *filters,
                              plan)) {
        return *f;
    }
    if (auto f = check_overlap(name, child.local, child.remote, enabled)) {
        return *f;
    }
    return plan;
}

size_t encr_key_bytes(Encr e) {
    switch (e) {
    case Encr::None: return 0;
    case Encr::Des: return 8;
    case Encr::TripleDes: return 24;
    case Encr::AesCbc128: return 16;
    case Encr::AesCbc192: return 24;
    case Encr::AesCbc256: return 32;
    // RFC 3686: 4-byte nonce after the key.
    case Encr::AesCtr128: return 20;
    case Encr::AesCtr192: return 28;
    case Encr::AesCtr256: return 36;
    // RFC 4106 and RFC 4543: 4-byte salt.
    case Encr::AesGcm128: case Encr::AesGcm128_12: case Encr::AesGcm128_8:
    case Encr::AesGmac128: return 20;
    case Encr::AesGcm192: case Encr::AesGcm192_12: case Encr::AesGcm192_8:
    case Encr::AesGmac192: return 28;
    case Encr::AesGcm256: case Encr::AesGcm256_12: case Encr::AesGcm256_8:
    case Encr::AesGmac256: return 36;
    // RFC 4309: 3-byte salt.
    case Encr::AesCcm128: case Encr::AesCcm128_12: case Encr::AesCcm128_8: return 19;
    case Encr::AesCcm192: case Encr::AesCcm192_12: case Encr::AesCcm192_8: return 27;
    case Encr::AesCcm256: case Encr::AesCcm256_12: case Encr::AesCcm256_8: return 35;
    }
    return 0;
}

size_t auth_key_bytes(DataAuth a) {
    switch (a) {
    case DataAuth::None: return 0;
    case DataAuth::HmacMd5: return 16;
    case DataAuth::HmacSha1: return 20;
    case DataAuth::HmacSha256: return 32;
    case DataAuth::HmacSha384: return 48;
    case DataAuth::HmacSha512: return 64;
    case DataAuth::AesXcbc: return 16;
    }
    return 0;
}

namespace {

std::optional<CheckFailure> check_key(const std::string& name, std::string_view alg,
                                      size_t want, const SecretBytes& k, const char* which,
                                      bool esp) {
    if (k.size() == want) {
        return std::nullopt;
    }
    std::string why = std::string(which) + " key has " + std::to_string(k.size()) +
                      " bytes, the algorithm needs " + std::to_string(want);
    if (esp) {
        return failure(msg("TCP8625", name, std::string(alg), why), 1);
    }
    return failure(msg("TCP8604", name, 4), 1);
}

}  // namespace

CheckResult check_manual_start(const ManualConnection& m, const SystemView& sys,
                               const FilterSource& filter_source,
                               const std::vector<EnabledView>& enabled) {
    const std::string& name = m.name;
    auto lep = IpAddress::parse(m.local_address);
    auto rep = IpAddress::parse(m.remote_address);
    if (!lep) {
        return failure(msg("TCP8604", name, 2), 1);
    }
    if (!rep) {
        return failure(msg("TCP8604", name, 1), 4);
    }
    if (lep->family() != rep->family()) {
        return failure(msg("TCP8604", name, 8), 1);
    }
    StartPlan plan;
    plan.local_endpoint = *lep;
    plan.remote_endpoint = *rep;
    auto ld = endpoint_range(m.local, lep->family());
    auto rd = endpoint_range(m.remote, lep->family());
    if (!ld || !rd || ld->from.family() != rd->from.family()) {
        return failure(msg("TCP8604", name, 8), 1);
    }
    plan.local_data = *ld;
    plan.remote_data = *rd;

    // Keys: each present direction must fit its algorithm exactly.
    if (!m.has_keys) {
        return failure(msg("TCP8604", name, 4), 1);
    }
    bool esp = m.protocol == Protocol::Esp || m.protocol == Protocol::AhEsp;
    bool ah = m.protocol == Protocol::Ah || m.protocol == Protocol::AhEsp;
    if (esp) {
        std::string_view ealg = to_cl(m.encryption);
        size_t ek = encr_key_bytes(m.encryption);
        for (auto [k, w] : {std::pair{&m.esp.enc_in, "inbound encryption"},
                            std::pair{&m.esp.enc_out, "outbound encryption"}}) {
            if (auto f = check_key(name, ealg, ek, *k, w, true)) {
                return *f;
            }
        }
        if (!is_aead(m.encryption)) {
            std::string_view aalg = to_cl(m.authentication);
            size_t ak = auth_key_bytes(m.authentication);
            if (m.encryption == Encr::None && m.authentication == DataAuth::None) {
                return failure(msg("TCP8625", name, std::string(ealg),
                                   "ESP needs encryption or authentication"),
                               1);
            }
            for (auto [k, w] : {std::pair{&m.esp.auth_in, "inbound authentication"},
                                std::pair{&m.esp.auth_out, "outbound authentication"}}) {
                if (auto f = check_key(name, aalg, ak, *k, w, true)) {
                    return *f;
                }
            }
        }
        if (m.esp.spi_in < 256 || m.esp.spi_out < 256) {
            // RFC 4303 2.1: SPIs 1-255 are reserved, 0 is never sent.
            return failure(msg("TCP8604", name, 4), 1);
        }
    }
    if (ah) {
        DataAuth a = m.protocol == Protocol::AhEsp ? m.ah_authentication : m.authentication;
        size_t ak = auth_key_bytes(a);
        if (a == DataAuth::None) {
            return failure(msg("TCP8604", name, 4), 1);
        }
        for (const SecretBytes* k : {&m.ah.auth_in, &m.ah.auth_out}) {
            if (auto f = check_key(name, to_cl(a), ak, *k, "AH", false)) {
                return *f;
            }
        }
        if (m.ah.spi_in < 256 || m.ah.spi_out < 256) {
            return failure(msg("TCP8604", name, 4), 1);
        }
    }

    if (m.mode == Mode::Transport && m.role != SystemRole::Host2Host) {
        return failure(msg("TCP8622", name), 1);
    }
    if (auto f = check_hosts(name, m.role, plan, sys)) {
        return *f;
    }
    if (sys.is_local && !sys.is_local(plan.local_endpoint)) {
        return failure(msg("TCP8620", name, plan.local_endpoint.to_string()), 2);
    }
    auto filters_r = filter_source();
    if (!filters_r.ok()) {
        return failure(filters_r.error(), 1);
    }
    const PolicyFilterView& filters = *filters_r;
    if (m.policy_filter == PolicyFilter::None) {
        if (!plan.local_data.is_single() || !plan.remote_data.is_single() ||
            filters.filter_loaded) {
            return failure(msg("TCP8604", name, 8), 1);
        }
        plan.dynamic_policy_filter = true;
    } else if (auto f = check_filter(name, name, plan.local_data, plan.remote_data,
                                     {m.ip_protocol, m.local_port, m.remote_port}, filters,
                                     plan)) {
        return *f;
    }
    if (auto f = check_overlap(name, plan.local_data, plan.remote_data, enabled)) {
        return *f;
    }
    return plan;
}

}  // namespace qvpn::vman
