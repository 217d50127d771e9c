#include "commands/lib/views.hpp"

#include "commands/lib/cmdlib.hpp"

namespace qvpn::cmd {

using namespace qvpn::policy;

Panel key_policy_panel(const KeyPolicy& p) {
    Table t{{{"seq", "Seq"}, {"encryption", "Encryption"}, {"hash", "Hash"},
             {"dh_group", "DH group"}}, {}};
    for (size_t i = 0; i < p.transforms.size(); ++i) {
        const auto& x = p.transforms[i];
        t.rows.push_back(Panel()
                             .add("seq", "Seq", static_cast<int>(i + 1))
                             .add("encryption", "Encryption", std::string(to_cl(x.encryption)))
                             .add("hash", "Hash", std::string(to_cl(x.hash)))
                             .add("dh_group", "DH group", std::string(to_cl(x.dh_group))));
    }
    Panel out;
    out.add("name", "Key exchange policy", p.name)
        .add("remote_key_server", "Remote key server", identity_text(p.remote))
        .add("authentication", "Authentication method", std::string(to_cl(p.auth)));
    if (p.auth == AuthMethod::Psk) {
        out.add("psk", "Preshared key", p.has_psk ? "*SET" : "*NONE");
    } else {
        out.add("certificate", "Certificate", p.cert_label);
    }
    out.add("initiator_mode", "Initiator negotiation (IKEv1)", std::string(to_cl(p.initiator_mode)))
        .add("lifetime_minutes", "Key lifetime (minutes)", p.lifetime_minutes)
        .add("lifetime_kb", "Key lifetime (kilobytes)", lifetime_text(p.lifetime_kb))
        .add("created_by", "Created by CRTVPNCNN for", p.created_by.empty() ? "*NONE" : p.created_by)
        .add("text", "Text", p.text)
        .add_table("transforms", "Transforms", std::move(t));
    return out;
}

Panel data_policy_panel(const DataPolicy& p) {
    Table t{{{"seq", "Seq"}, {"protocol", "Protocol"}, {"encryption", "Encryption"},
             {"authentication", "Authentication"}}, {}};
    for (size_t i = 0; i < p.transforms.size(); ++i) {
        const auto& x = p.transforms[i];
        t.rows.push_back(
            Panel()
                .add("seq", "Seq", static_cast<int>(i + 1))
                .add("protocol", "Protocol", std::string(to_cl(x.protocol)))
                .add("encryption", "Encryption", std::string(to_cl(x.encryption)))
                .add("authentication", "Authentication", std::string(to_cl(x.authentication))));
    }
    Panel out;
    out.add("name", "Data policy", p.name)
        .add("pfs", "Perfect forward secrecy group", std::string(to_cl(p.pfs)))
        .add("mode", "Encapsulation mode", std::string(to_cl(p.mode)))
        .add("lifetime_minutes", "Key lifetime (minutes)", p.lifetime_minutes)
        .add("lifetime_kb", "Key lifetime (kilobytes)", lifetime_text(p.lifetime_kb))
        .add_flag("ipcomp", "IP compression", p.ipcomp)
        .add("created_by", "Created by CRTVPNCNN for", p.created_by.empty() ? "*NONE" : p.created_by)
        .add("text", "Text", p.text)
        .add_table("transforms", "Transforms", std::move(t));
    return out;
}

Panel group_panel(const DynamicGroup& g) {
    Table t{{{"seq", "Seq"}, {"key_policy", "Key exchange policy"},
             {"remote_key_server", "Remote key server"}}, {}};
    for (size_t i = 0; i < g.key_policies.size(); ++i) {
        t.rows.push_back(Panel()
                             .add("seq", "Seq", static_cast<int>(i + 1))
                             .add("key_policy", "Key exchange policy", g.key_policies[i])
                             .add("remote_key_server", "Remote key server",
                                  i < g.remote_key_servers.size()
                                      ? identity_text(g.remote_key_servers[i])
                                      : std::string()));
    }
    Panel out;
    out.add("name", "Dynamic-key group", g.name)
        .add("position", "Position in search order", g.position)
        .add("role", "System role", std::string(to_cl(g.role)))
        .add("initiator", "Initiator of connections", std::string(to_cl(g.initiator)))
        .add("data_policy", "Data policy", g.data_policy)
        .add("policy_filter", "Policy filter", std::string(to_cl(g.policy_filter)))
        .add_list("lines", "Lines", g.lines.empty() ? std::vector<std::string>{"*ALL"} : g.lines)
        .add("journaling", "Journaling", std::string(to_cl(g.journaling)))
        .add_flag("l2tp", "Protects locally initiated L2TP", g.l2tp)
        .add_flag("remote_from_packet", "Remote address from packet", g.populate_from_packet)
        .add_flag("from_wizard", "Created by CRTVPNCNN", g.from_wizard)
        .add("text", "Text", g.text)
        .add_table("remote_key_servers", "Remote key servers", std::move(t));
    return out;
}

Panel connection_panel(const DynamicConnection& c) {
    Panel out;
    out.add("name", "Connection", c.name)
        .add("type", "Connection type", "*DYNAMIC")
        .add("group", "Dynamic-key group", c.group)
        .add("local_key_server", "Local key server", identity_text(c.local_id))
        .add("remote_key_server", "Remote key server", identity_text(c.remote_id))
        .add("local_data_endpoint", "Local data endpoint", endpoint_text(c.local))
        .add("remote_data_endpoint", "Remote data endpoint", endpoint_text(c.remote))
        .add("local_port", "Local port", port_text(c.local_port))
        .add("remote_port", "Remote port", port_text(c.remote_port))
        .add("protocol", "Protocol", protocol_text(c.protocol))
        .add("ike_version", "IKE version", c.ike_version == 1 ? "*V1" : "*V2")
        .add_flag("on_demand", "Start on demand", c.on_demand)
        .add_flag("autostart", "Start with the VPN server", c.autostart)
        .add_flag("esn", "Extended sequence numbers", c.esn)
        .add_flag("tfc", "Traffic flow confidentiality", c.tfc)
        .add_flag("from_wizard", "Created by CRTVPNCNN", c.from_wizard)
        .add("text", "Text", c.text);
    return out;
}

Panel manual_panel(const ManualConnection& c) {
    bool esp = c.protocol != Protocol::Ah;
    bool ah = c.protocol != Protocol::Esp;
    Panel out;
    out.add("name", "Connection", c.name)
        .add("type", "Connection type", "*MANUAL")
        .add("role", "System role", std::string(to_cl(c.role)))
        .add("mode", "Encapsulation mode", std::string(to_cl(c.mode)))
        .add("ipsec_protocol", "IPsec protocol", std::string(to_cl(c.protocol)))
        .add("local_address", "Local connection endpoint", c.local_address)
        .add("remote_address", "Remote connection endpoint", c.remote_address)
        .add("local_data_endpoint", "Local data endpoint", endpoint_text(c.local))
        .add("remote_data_endpoint", "Remote data endpoint", endpoint_text(c.remote))
        .add("local_port", "Local port", port_text(c.local_port))
        .add("remote_port", "Remote port", port_text(c.remote_port))
        .add("protocol", "Protocol", protocol_text(c.ip_protocol));
    if (esp) {
        out.add("esp_encryption", "ESP encryption", std::string(to_cl(c.encryption)))
            .add("esp_authentication", "ESP authentication", std::string(to_cl(c.authentication)))
            .add("esp_spi_in", "ESP inbound SPI", static_cast<int64_t>(c.esp.spi_in))
            .add("esp_spi_out", "ESP outbound SPI", static_cast<int64_t>(c.esp.spi_out));
    }
    if (ah) {
        DataAuth a = c.protocol == Protocol::AhEsp ? c.ah_authentication : c.authentication;
        out.add("ah_authentication", "AH authentication", std::string(to_cl(a)))
            .add("ah_spi_in", "AH inbound SPI", static_cast<int64_t>(c.ah.spi_in))
            .add("ah_spi_out", "AH outbound SPI", static_cast<int64_t>(c.ah.spi_out));
    }
    out.add("keys", "Keys", c.has_keys ? "*SET" : "*NONE")
        .add("policy_filter", "Policy filter", std::string(to_cl(c.policy_filter)))
        .add_list("lines", "Lines", c.lines.empty() ? std::vector<std::string>{"*ALL"} : c.lines)
        .add("journaling", "Journaling", std::string(to_cl(c.journaling)))
        .add_flag("autostart", "Start with the VPN server", c.autostart)
        .add("text", "Text", c.text);
    return out;
}

Panel line_panel(const Line& l) {
    Panel out;
    out.add("name", "Line description", l.name)
        .add("resource", "Resource name (interface)", l.interface)
        .add("text", "Text", l.text);
    return out;
}

Panel attributes_panel(const VpnAttributes& a) {
    Panel out;
    out.add_flag("ikesa_rekey", "IKE_SA rekey for IKEv2 (IKESAREKEY)", a.ikesa_rekey)
        .add_flag("http_cert_lookup", "HTTP certificate lookup (HTTPCRTLKP)", a.http_cert_lookup)
        .add_flag("esn", "Extended sequence numbers (ESN)", a.esn)
        .add_flag("responder_aggressive", "Respond to aggressive mode (RSPAGGR)",
                  a.responder_aggressive)
        .add("dpd_seconds", "Dead peer detection interval (DPDITV)", a.dpd_seconds)
        .add("half_open_limit", "Half-open IKE SA limit (HALFOPEN)", a.half_open_limit)
        .add_flag("autostart", "Start with TCP/IP (AUTOSTART)", a.autostart_server)
        .add("other_traffic", "Other traffic (OTHERTRAFFIC)",
             a.generated_permit_other ? "*PERMIT" : "*DENY");
    return out;
}

Panel defaults_panel(const VpnDefaults& d) {
    Panel out;
    out.add("key_level", "Key security level (KEYSECLVL)", std::string(to_cl(d.key_level)))
        .add("data_level", "Data security level (DTASECLVL)", std::string(to_cl(d.data_level)))
        .add("key_lifetime_minutes", "Key lifetime, minutes (KEYLIFE)", d.key_lifetime_minutes)
        .add("key_lifetime_kb", "Key lifetime, kilobytes (KEYLIFEKB)",
             lifetime_text(d.key_lifetime_kb))
        .add("data_lifetime_minutes", "Data lifetime, minutes (DTALIFE)", d.data_lifetime_minutes)
        .add("data_lifetime_kb", "Data lifetime, kilobytes (DTALIFEKB)",
             lifetime_text(d.data_lifetime_kb));
    return out;
}

Panel certificate_panel(const CertificateInfo& c) {
    Panel out;
    out.add("label", "Certificate label", c.label)
        .add("type", "Certificate type", std::string(to_cl(c.kind)))
        .add("subject", "Subject", c.subject)
        .add("issuer", "Issuer", c.issuer)
        .add("not_before", "Valid from (UTC)", format_time(c.not_before))
        .add("not_after", "Valid to (UTC)", format_time(c.not_after))
        .add("key_type", "Key type", std::string(to_cl(c.key_type)))
        .add("key_bits", "Key size (bits)", c.key_bits);
    if (!c.curve.empty()) {
        out.add("curve", "Curve", c.curve);
    }
    out.add("private_key", "Private key", c.has_private_key ? "*SET" : "*NONE")
        .add("fingerprint", "SHA-256 fingerprint", c.fingerprint)
        .add("text", "Text", c.text);
    return out;
}

Panel status_panel(const std::optional<ConnectionStatus>& s) {
    Panel out;
    if (!s) {
        out.add("state", "Status", "*IDLE");
        return out;
    }
    out.add("state", "Status", std::string(to_cl(s->state)))
        .add("since", "Since (UTC)", format_time(s->since));
    if (!s->error_msgid.empty()) {
        out.add("error_msgid", "Last error message", s->error_msgid)
            .add_list("error_values", "Last error values", s->error_values)
            .add("error_time", "Last error time (UTC)", format_time(s->error_time));
    }
    return out;
}

}  // namespace qvpn::cmd
