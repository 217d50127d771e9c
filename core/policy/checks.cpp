#include "core/policy/checks.hpp"

#include <cctype>

#include "core/base/text.hpp"

namespace qvpn::policy {

namespace {

bool printable(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

bool valid_fqdn(std::string_view s) {
    if (s.empty() || s.size() > 253) {
        return false;
    }
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) {
            return false;
        }
    }
    return s.front() != '.' && s.find("..") == std::string_view::npos;
}


bool is_ip_type(IdType t) { return t == IdType::IPv4 || t == IdType::IPv6; }

bool single_address(const DataEndpoint& ep) {
    return ep.type == EndpointType::IPv4 || ep.type == EndpointType::IPv6;
}

Status check_host_side(const char* side, const DataEndpoint& ep, const Identity& id,
                       SystemRole role) {
    if (id.type == IdType::AnyIp && ep.type == EndpointType::Any) {
        return {};
    }
    if (!single_address(ep)) {
        return fail("PDB0130", to_cl(role), side, to_cl(ep.type));
    }
    if (is_ip_type(id.type)) {
        auto a = IpAddress::parse(ep.address);
        auto b = IpAddress::parse(id.value);
        if (!a || !b || *a != *b) {
            return fail("PDB0139", to_cl(role), side, ep.address, id.value);
        }
    }
    return {};
}

}  // namespace

Status check_range(std::string_view what, long long v, long long lo, long long hi) {
    if (v < lo || v > hi) {
        return fail("PDB0131", std::string(what), v, lo, hi);
    }
    return {};
}

Status check_name(std::string_view kind, std::string_view name) {
    if (!valid_name_length(name) || !printable(name)) {
        return fail("PDB0120", std::string(name), std::string(kind));
    }
    return {};
}

Status check_line_name(std::string_view name) {
    if (name.empty() || name.size() > 15 || !printable(name) ||
        name.find_first_of("/ ") != std::string_view::npos) {
        return fail("PDB0136", std::string(name));
    }
    return {};
}

Identity normalize(Identity id) {
    if (is_ip_type(id.type)) {
        if (auto a = IpAddress::parse(id.value)) {
            id.value = a->to_string();
        }
    }
    if (id.type == IdType::AnyIp) {
        id.value.clear();
    }
    return id;
}

DataEndpoint normalize(DataEndpoint ep) {
    if (auto a = IpAddress::parse(ep.address)) {
        ep.address = a->to_string();
    }
    if (ep.type == EndpointType::IPv4Range || ep.type == EndpointType::IPv6Range) {
        if (auto a = IpAddress::parse(ep.extra)) {
            ep.extra = a->to_string();
        }
    }
    if (ep.type == EndpointType::Any) {
        ep.address.clear();
        ep.extra.clear();
    }
    return ep;
}

Status check_identity(const Identity& id, bool allow_anyip) {
    const std::string& v = id.value;
    bool ok = true;
    switch (id.type) {
    case IdType::IPv4: {
        auto a = IpAddress::parse(v);
        ok = a && a->is_v4();
        break;
    }
    case IdType::IPv6: {
        auto a = IpAddress::parse(v);
        ok = a && a->is_v6();
        break;
    }
    case IdType::Fqdn:
        ok = valid_fqdn(v);
        break;
    case IdType::UserFqdn: {
        size_t at = v.find('@');
        ok = at != std::string::npos && at > 0 && valid_fqdn(std::string_view(v).substr(at + 1)) &&
             printable(v) && v.find(' ') == std::string::npos && v.size() <= 255;
        break;
    }
    case IdType::KeyId:
        ok = !v.empty() && v.size() <= 255 && printable(v);
        break;
    case IdType::Dn:
        ok = !v.empty() && v.size() <= 1024 && printable(v) && v.find('=') != std::string::npos;
        break;
    case IdType::AnyIp:
        if (!allow_anyip) {
            return fail("PDB0137");
        }
        ok = v.empty() || v == "*N";
        break;
    }
    if (!ok) {
        return fail("PDB0121", v, to_cl(id.type));
    }
    return {};
}

Status check_endpoint(const DataEndpoint& ep) {
    auto bad = [&] { return fail("PDB0122", to_cl(ep.type), ep.address, ep.extra); };
    auto a = IpAddress::parse(ep.address);
    switch (ep.type) {
    case EndpointType::Any:
        if (!ep.address.empty() || !ep.extra.empty()) {
            return bad();
        }
        return {};
    case EndpointType::IPv4:
    case EndpointType::IPv6: {
        int fam = ep.type == EndpointType::IPv4 ? 4 : 6;
        if (!a || a->family() != fam || !ep.extra.empty()) {
            return bad();
        }
        return {};
    }
    case EndpointType::IPv4Subnet:
    case EndpointType::IPv6Subnet: {
        int fam = ep.type == EndpointType::IPv4Subnet ? 4 : 6;
        if (!a || a->family() != fam || !parse_mask(ep.extra, fam)) {
            return bad();
        }
        return {};
    }
    case EndpointType::IPv4Range:
    case EndpointType::IPv6Range: {
        int fam = ep.type == EndpointType::IPv4Range ? 4 : 6;
        auto b = IpAddress::parse(ep.extra);
        if (!a || !b || a->family() != fam || b->family() != fam || *b < *a) {
            return bad();
        }
        return {};
    }
    }
    return bad();
}

std::optional<IpRange> endpoint_range(const DataEndpoint& ep) {
    auto a = IpAddress::parse(ep.address);
    if (ep.type == EndpointType::Any || !a) {
        return std::nullopt;
    }
    switch (ep.type) {
    case EndpointType::IPv4Subnet:
    case EndpointType::IPv6Subnet:
        return IpRange::subnet(*a, ep.extra);
    case EndpointType::IPv4Range:
    case EndpointType::IPv6Range: {
        auto b = IpAddress::parse(ep.extra);
        if (!b) {
            return std::nullopt;
        }
        return IpRange{*a, *b};
    }
    default:
        return IpRange::single(*a);
    }
}

Status check_key_transform(const KeyTransform& t) {
    if (!ike_allowed(t.encryption) || is_aead(t.encryption)) {
        // IKE SAs here use a cipher plus the hash's integrity algorithm.
        return fail("PDB0125", to_cl(t.encryption));
    }
    if (t.dh_group == DhGroup::None) {
        return fail("PDB0126");
    }
    return {};
}

Status check_data_transform(const DataTransform& t) {
    bool has_auth = t.authentication != DataAuth::None;
    switch (t.protocol) {
    case Protocol::Ah:
        if (t.encryption != Encr::None) {
            return fail("PDB0129", to_cl(t.encryption));
        }
        if (!has_auth) {
            return fail("PDB012E", to_cl(t.protocol));
        }
        return {};
    case Protocol::Esp:
    case Protocol::AhEsp:
        if (t.encryption == Encr::None) {
            return fail("PDB0138", to_cl(t.protocol));
        }
        if ((is_aead(t.encryption) || is_auth_only(t.encryption)) && has_auth &&
            t.protocol == Protocol::Esp) {
            return fail("PDB0127", to_cl(t.encryption), to_cl(t.authentication));
        }
        if (!is_aead(t.encryption) && !is_auth_only(t.encryption) && !has_auth) {
            // ESP with encryption but no integrity is open to known attacks;
            // *AHESP gets its integrity from AH, which needs an algorithm too.
            return fail("PDB0128", to_cl(t.encryption));
        }
        if (t.protocol == Protocol::AhEsp && !has_auth) {
            return fail("PDB012E", to_cl(t.protocol));
        }
        return {};
    }
    return {};
}

Status check_key_policy(const KeyPolicy& p) {
    QVPN_TRY(check_name("*KEYPCY", p.name));
    QVPN_TRY(check_identity(p.remote, true));
    if (p.transforms.empty()) {
        return fail("PDB0124", p.name);
    }
    if (p.transforms.size() > 16) {
        return fail("PDB0131", "KEYTFM", static_cast<long long>(p.transforms.size()), 1, 16);
    }
    for (const auto& t : p.transforms) {
        QVPN_TRY(check_key_transform(t));
    }
    QVPN_TRY(check_range("LIFETIME", p.lifetime_minutes, 1, 43200));
    QVPN_TRY(check_range("LIFETIMEKB", p.lifetime_kb, 0, 2147483647));
    if (p.auth == AuthMethod::Psk) {
        if (!p.cert_label.empty()) {
            return fail("PDB012D", p.name, to_cl(p.auth));
        }
        if (!p.psk.empty() && p.psk.size() > kMaxPskLen) {
            return fail("PDB012B");
        }
    } else {
        if (p.cert_label.empty()) {
            return fail("PDB012C", p.name, to_cl(p.auth));
        }
        if (!p.psk.empty() || p.has_psk) {
            return fail("PDB012D", p.name, to_cl(p.auth));
        }
    }
    return {};
}

Status check_data_policy(const DataPolicy& p) {
    QVPN_TRY(check_name("*DTAPCY", p.name));
    if (p.transforms.empty()) {
        return fail("PDB0124", p.name);
    }
    if (p.transforms.size() > 16) {
        return fail("PDB0131", "DTATFM", static_cast<long long>(p.transforms.size()), 1, 16);
    }
    for (const auto& t : p.transforms) {
        QVPN_TRY(check_data_transform(t));
    }
    QVPN_TRY(check_range("LIFETIME", p.lifetime_minutes, 1, 43200));
    QVPN_TRY(check_range("LIFETIMEKB", p.lifetime_kb, 0, 2147483647));
    return {};
}

Status check_group(const DynamicGroup& g) {
    QVPN_TRY(check_name("*DKG", g.name));
    QVPN_TRY(check_name("*DTAPCY", g.data_policy));
    for (size_t i = 0; i < g.key_policies.size(); ++i) {
        QVPN_TRY(check_name("*KEYPCY", g.key_policies[i]));
        for (size_t j = 0; j < i; ++j) {
            if (iequals(g.key_policies[i], g.key_policies[j])) {
                return fail("PDB0134", g.key_policies[i], g.name);
            }
        }
    }
    for (const auto& l : g.lines) {
        QVPN_TRY(check_line_name(l));
    }
    if (g.local_nat_pool.size() > 256 || g.remote_nat_pool.size() > 256) {
        return fail("PDB0131", "NATPOOL", 257, 0, 256);
    }
    return {};
}

Status check_connection(const DynamicConnection& c) {
    QVPN_TRY(check_name("*DKC", c.name));
    QVPN_TRY(check_name("*DKG", c.group));
    QVPN_TRY(check_identity(c.local_id, false));
    QVPN_TRY(check_identity(c.remote_id, true));
    QVPN_TRY(check_endpoint(c.local));
    QVPN_TRY(check_endpoint(c.remote));
    QVPN_TRY(check_range("LCLPORT", c.local_port, 0, 65535));
    QVPN_TRY(check_range("RMTPORT", c.remote_port, 0, 65535));
    QVPN_TRY(check_range("PROTOCOL", c.protocol, 0, 255));
    QVPN_TRY(check_range("IKEVER", c.ike_version, 1, 2));
    return {};
}

size_t manual_enc_key_bytes(Encr e) {
    return static_cast<size_t>(key_bits(e) / 8 + salt_bytes(e));
}

size_t manual_auth_key_bytes(DataAuth a) { return static_cast<size_t>(key_bits(a) / 8); }

namespace {

Status check_key_len(const char* which, const SecretBytes& k, size_t want, std::string_view alg) {
    if (k.size() != want) {
        return fail("PDB0132", which, static_cast<long long>(k.size()), std::string(alg),
                    static_cast<long long>(want));
    }
    return {};
}

Status check_spi(const char* which, uint32_t spi) {
    if (spi < 256) {
        return fail("PDB0133", which, static_cast<long long>(spi));
    }
    return {};
}

}  // namespace

Status check_manual_connection(const ManualConnection& c) {
    QVPN_TRY(check_name("*MNC", c.name));
    auto la = IpAddress::parse(c.local_address);
    auto ra = IpAddress::parse(c.remote_address);
    if (!la) {
        return fail("PDB0121", c.local_address, "*IPV4/*IPV6");
    }
    if (!ra || ra->family() != la->family()) {
        return fail("PDB0121", c.remote_address, "*IPV4/*IPV6");
    }
    QVPN_TRY(check_endpoint(c.local));
    QVPN_TRY(check_endpoint(c.remote));
    QVPN_TRY(check_range("LCLPORT", c.local_port, 0, 65535));
    QVPN_TRY(check_range("RMTPORT", c.remote_port, 0, 65535));
    QVPN_TRY(check_range("PROTOCOL", c.ip_protocol, 0, 255));
    for (const auto& l : c.lines) {
        QVPN_TRY(check_line_name(l));
    }
    QVPN_TRY(check_mode_role(c.mode, c.role, c.name));
    Identity lid{la->is_v4() ? IdType::IPv4 : IdType::IPv6, c.local_address};
    Identity rid{ra->is_v4() ? IdType::IPv4 : IdType::IPv6, c.remote_address};
    DynamicConnection as_dyn;
    as_dyn.local_id = lid;
    as_dyn.remote_id = rid;
    as_dyn.local = c.local;
    as_dyn.remote = c.remote;
    QVPN_TRY(check_connection_role(as_dyn, c.role));

    bool esp = c.protocol != Protocol::Ah;
    bool ah = c.protocol != Protocol::Esp;
    DataTransform t{c.protocol, esp ? c.encryption : Encr::None,
                    c.protocol == Protocol::AhEsp ? c.ah_authentication : c.authentication};
    if (c.protocol == Protocol::AhEsp) {
        // ESP may carry its own integrity algorithm besides AH's.
        if (is_aead(c.encryption) && c.authentication != DataAuth::None) {
            return fail("PDB0127", to_cl(c.encryption), to_cl(c.authentication));
        }
    }
    QVPN_TRY(check_data_transform(t));
    if (esp) {
        QVPN_TRY(check_spi("ESP inbound", c.esp.spi_in));
        QVPN_TRY(check_spi("ESP outbound", c.esp.spi_out));
    }
    if (ah) {
        QVPN_TRY(check_spi("AH inbound", c.ah.spi_in));
        QVPN_TRY(check_spi("AH outbound", c.ah.spi_out));
    }
    bool keys_given = !c.esp.enc_in.empty() || !c.esp.enc_out.empty() ||
                      !c.esp.auth_in.empty() || !c.esp.auth_out.empty() ||
                      !c.ah.auth_in.empty() || !c.ah.auth_out.empty();
    if (!keys_given) {
        return {};
    }
    if (esp) {
        size_t ek = manual_enc_key_bytes(c.encryption);
        size_t ak = manual_auth_key_bytes(c.authentication);
        QVPN_TRY(check_key_len("ESP inbound encryption", c.esp.enc_in, ek, to_cl(c.encryption)));
        QVPN_TRY(check_key_len("ESP outbound encryption", c.esp.enc_out, ek, to_cl(c.encryption)));
        QVPN_TRY(check_key_len("ESP inbound authentication", c.esp.auth_in, ak,
                               to_cl(c.authentication)));
        QVPN_TRY(check_key_len("ESP outbound authentication", c.esp.auth_out, ak,
                               to_cl(c.authentication)));
    }
    if (ah) {
        DataAuth a = c.protocol == Protocol::AhEsp ? c.ah_authentication : c.authentication;
        size_t ak = manual_auth_key_bytes(a);
        QVPN_TRY(check_key_len("AH inbound authentication", c.ah.auth_in, ak, to_cl(a)));
        QVPN_TRY(check_key_len("AH outbound authentication", c.ah.auth_out, ak, to_cl(a)));
    }
    return {};
}

Status check_line(const Line& l) {
    QVPN_TRY(check_line_name(l.name));
    QVPN_TRY(check_line_name(l.interface));
    return {};
}

Status check_mode_role(Mode mode, SystemRole role, std::string_view object) {
    if (mode == Mode::Transport && role != SystemRole::Host2Host) {
        return fail("PDB012F", std::string(object), to_cl(role));
    }
    return {};
}

Status check_connection_role(const DynamicConnection& c, SystemRole role) {
    bool local_host = role == SystemRole::Host2Gw || role == SystemRole::Host2Host;
    bool remote_host = role == SystemRole::Gw2Host || role == SystemRole::Host2Host;
    if (local_host) {
        QVPN_TRY(check_host_side("local", c.local, c.local_id, role));
    }
    if (remote_host) {
        QVPN_TRY(check_host_side("remote", c.remote, c.remote_id, role));
    }
    return {};
}

}  // namespace qvpn::policy
