#include "commands/lib/forms.hpp"

#include "core/base/bytes.hpp"
#include "core/base/text.hpp"
#include "core/policy/checks.hpp"

namespace qvpn::cmd {

using namespace qvpn::policy;

namespace {

ParamDef required(ParamDef p, Form f) {
    p.required = f == Form::Create;
    return p;
}

std::vector<std::string> dh_with(std::initializer_list<std::string> first) {
    std::vector<std::string> v(first);
    for (const auto& g : cl_values<DhGroup>()) {
        v.push_back(g);
    }
    return v;
}

ParamDef lifetime_param(Form f) {
    return int_param("LIFETIME", "Key lifetime (minutes)", 1, 43200, {"*DFT"}, f, "*DFT",
                     "*DFT: the VPN defaults (CHGVPNDFT)");
}

ParamDef lifetime_kb_param(Form f) {
    return int_param("LIFETIMEKB", "Key lifetime (kilobytes)", 1, 2147483647, {"*DFT", "*NOMAX"},
                     f, "*DFT", "*NOMAX: no size limit; *DFT: the VPN defaults");
}

void apply_text(const Invocation& inv, std::string& text) {
    if (!keep(inv, "TEXT")) {
        text = inv.is("TEXT", "*BLANK") ? "" : inv.str("TEXT");
    }
}

}  // namespace

// --- key exchange policy ----------------------------------------------------------

std::vector<ParamDef> key_policy_params(Form f) {
    ParamDef psk{.kwd = "PSK", .prompt = "Preshared key", .type = Type::Char,
                 .max_len = kMaxPskLen, .help = "1-128 characters, with AUTH(*PSK)"};
    ParamDef cert{.kwd = "CERT", .prompt = "Certificate label", .type = Type::Name,
                  .max_len = kMaxNameLen, .help = "With AUTH(*RSA) or AUTH(*ECDSA)"};
    if (f == Form::Change) {
        psk.specials = cert.specials = {"*SAME"};
        psk.dft = cert.dft = "*SAME";
    }
    return {name_param("KEYPCY", "Key exchange policy"),
            required(identity_param("RMTKEYSVR", "Remote key server identifier", true, f), f),
            choice_param("AUTH", "Authentication method", cl_values<AuthMethod>(), f, "*PSK"),
            psk,
            cert,
            key_transforms_param("KEYTFM", f, "*DFT"),
            choice_param("INITMODE", "IKEv1 initiator negotiation", cl_values<NegotiationMode>(),
                         f, "*MAIN", "*MAIN protects identities; *AGGRESSIVE does not"),
            lifetime_param(f),
            lifetime_kb_param(f),
            text_param(f)};
}

Status apply_key_policy(const Invocation& inv, PolicyDb& db, Form f, KeyPolicy& p) {
    QVPN_ASSIGN(VpnDefaults dft, db.defaults());
    if (!keep(inv, "RMTKEYSVR")) {
        QVPN_ASSIGN(p.remote, read_identity(inv, "RMTKEYSVR"));
    }
    AuthMethod before = p.auth;
    if (!keep(inv, "AUTH")) {
        p.auth = read_enum(inv, "AUTH", AuthMethod::Psk);
    }
    bool switched_to_psk = f == Form::Change && before != AuthMethod::Psk &&
                           p.auth == AuthMethod::Psk;
    bool psk_given = !keep(inv, "PSK");
    bool cert_given = !keep(inv, "CERT");
    if (p.auth == AuthMethod::Psk) {
        if (cert_given) {
            return param_error(inv, msg("CFG0004"));
        }
        p.cert_label.clear();
        if (psk_given) {
            std::string psk = inv.str("PSK");
            if (psk.empty()) {
                return param_error(inv, msg("PDB012B"));
            }
            p.psk = SecretBytes(as_view(psk));
            p.has_psk = true;
            std::fill(psk.begin(), psk.end(), '\0');
        } else if (f == Form::Create || switched_to_psk) {
            return param_error(inv, msg("CFG0001"));
        }
    } else {
        if (psk_given) {
            return param_error(inv, msg("CFG0002", to_cl(p.auth)));
        }
        p.psk = SecretBytes();
        p.has_psk = false;
        if (cert_given) {
            p.cert_label = inv.str("CERT");
        } else if (p.cert_label.empty()) {
            return param_error(inv, msg("CFG0003", to_cl(p.auth)));
        }
    }
    if (!keep(inv, "KEYTFM")) {
        QVPN_ASSIGN(p.transforms, read_key_transforms(inv, "KEYTFM", dft.key_level));
    }
    if (!keep(inv, "INITMODE")) {
        p.initiator_mode = read_enum(inv, "INITMODE", NegotiationMode::Main);
    }
    if (!keep(inv, "LIFETIME")) {
        p.lifetime_minutes = read_number(inv, "LIFETIME", dft.key_lifetime_minutes);
    }
    if (!keep(inv, "LIFETIMEKB")) {
        p.lifetime_kb = read_number(inv, "LIFETIMEKB", dft.key_lifetime_kb);
    }
    apply_text(inv, p.text);
    return {};
}

// --- data policy ----------------------------------------------------------------------

std::vector<ParamDef> data_policy_params(Form f) {
    return {name_param("DTAPCY", "Data policy"),
            data_transforms_param("DTATFM", f, "*DFT"),
            choice_param("PFS", "Perfect forward secrecy group", dh_with({"*DFT"}), f, "*DFT",
                         "*DFT: the group of the default data security level"),
            choice_param("MODE", "Encapsulation mode", cl_values<Mode>(), f, "*TUNNEL"),
            lifetime_param(f),
            lifetime_kb_param(f),
            yesno_param("IPCOMP", "IP compression", f, "*NO"),
            text_param(f)};
}

Status apply_data_policy(const Invocation& inv, PolicyDb& db, Form f, DataPolicy& p) {
    (void)f;
    QVPN_ASSIGN(VpnDefaults dft, db.defaults());
    if (!keep(inv, "DTATFM")) {
        QVPN_ASSIGN(p.transforms, read_data_transforms(inv, "DTATFM", dft.data_level));
    }
    if (!keep(inv, "PFS")) {
        p.pfs = inv.is("PFS", "*DFT") ? pfs_group(dft.data_level)
                                      : read_enum(inv, "PFS", DhGroup::None);
    }
    if (!keep(inv, "MODE")) {
        p.mode = read_enum(inv, "MODE", Mode::Tunnel);
    }
    if (!keep(inv, "LIFETIME")) {
        p.lifetime_minutes = read_number(inv, "LIFETIME", dft.data_lifetime_minutes);
    }
    if (!keep(inv, "LIFETIMEKB")) {
        p.lifetime_kb = read_number(inv, "LIFETIMEKB", dft.data_lifetime_kb);
    }
    if (!keep(inv, "IPCOMP")) {
        p.ipcomp = yes(inv, "IPCOMP");
    }
    apply_text(inv, p.text);
    return {};
}

// --- dynamic-key group -------------------------------------------------------------------

std::vector<ParamDef> group_params(Form f) {
    ParamDef dtapcy{.kwd = "DTAPCY", .prompt = "Data policy", .type = Type::Name,
                    .max_len = kMaxNameLen};
    ParamDef keypcy{.kwd = "KEYPCY",
                    .prompt = "Remote key servers (key exchange policies)",
                    .type = Type::Name,
                    .max_len = kMaxNameLen,
                    .single = {"*NONE"},
                    .dft = "*NONE",
                    .max_count = 32,
                    .help = "Key exchange policies, each naming one remote key server, in "
                            "search order"};
    if (f == Form::Change) {
        dtapcy.specials = {"*SAME"};
        dtapcy.dft = "*SAME";
        keypcy.single = {"*SAME", "*NONE"};
        keypcy.dft = "*SAME";
    } else {
        dtapcy.required = true;
    }
    return {name_param("DKG", "Dynamic-key group"),
            dtapcy,
            keypcy,
            choice_param("SYSROLE", "System role", cl_values<SystemRole>(), f, "*GW2GW",
                         "Local role first: *GW2HOST is this gateway to a remote host"),
            choice_param("INITIATOR", "Initiator of connections", cl_values<Initiator>(), f,
                         "*BOTH"),
            choice_param("POLICYFTR", "Policy filter", cl_values<PolicyFilter>(), f,
                         "*GENERATE"),
            lines_param(f),
            choice_param("JRN", "Journaling", cl_values<Journaling>(), f, "*NONE"),
            yesno_param("L2TP", "Protects locally initiated L2TP tunnel", f, "*NO"),
            yesno_param("PKTRMTADR", "Remote address from packet", f, "*NO"),
            int_param("POSITION", "Position in search order", 1, 9999, {"*LAST", "*FIRST"}, f,
                      "*LAST", "Groups are searched in this order for a remote key server"),
            text_param(f)};
}

Status apply_group(const Invocation& inv, Form f, DynamicGroup& g, int& position) {
    (void)f;
    if (!keep(inv, "DTAPCY")) {
        g.data_policy = inv.str("DTAPCY");
    }
    if (!keep(inv, "KEYPCY")) {
        g.key_policies.clear();
        if (!inv.is("KEYPCY", "*NONE")) {
            for (const auto& v : inv.list("KEYPCY")) {
                g.key_policies.push_back(v.atom);
            }
        }
    }
    if (!keep(inv, "SYSROLE")) {
        g.role = read_enum(inv, "SYSROLE", SystemRole::Gw2Gw);
    }
    if (!keep(inv, "INITIATOR")) {
        g.initiator = read_enum(inv, "INITIATOR", Initiator::Both);
    }
    if (!keep(inv, "POLICYFTR")) {
        g.policy_filter = read_enum(inv, "POLICYFTR", PolicyFilter::Generate);
    }
    if (!keep(inv, "LIND")) {
        g.lines = read_lines(inv, "LIND");
    }
    if (!keep(inv, "JRN")) {
        g.journaling = read_enum(inv, "JRN", Journaling::None);
    }
    if (!keep(inv, "L2TP")) {
        g.l2tp = yes(inv, "L2TP");
    }
    if (!keep(inv, "PKTRMTADR")) {
        g.populate_from_packet = yes(inv, "PKTRMTADR");
    }
    position = 0;
    if (!keep(inv, "POSITION")) {
        position = inv.is("POSITION", "*FIRST")  ? 1
                   : inv.is("POSITION", "*LAST") ? 0
                                                 : static_cast<int>(inv.integer("POSITION"));
    }
    apply_text(inv, g.text);
    return {};
}

// --- dynamic-key connection -------------------------------------------------------------

std::vector<ParamDef> connection_params(Form f) {
    ParamDef dkg{.kwd = "DKG", .prompt = "Dynamic-key group", .type = Type::Name,
                 .max_len = kMaxNameLen};
    if (f == Form::Change) {
        dkg.specials = {"*SAME"};
        dkg.dft = "*SAME";
    } else {
        dkg.required = true;
    }
    return {name_param("CNN", "Connection"),
            dkg,
            required(identity_param("LCLKEYSVR", "Local key server identifier", false, f), f),
            required(identity_param("RMTKEYSVR", "Remote key server identifier", true, f), f),
            endpoint_param("LCLDTAEP", "Local data endpoint", f, "*KEYSVR", "*KEYSVR"),
            endpoint_param("RMTDTAEP", "Remote data endpoint", f, "*KEYSVR", "*KEYSVR"),
            port_param("LCLPORT", "Local port", f),
            port_param("RMTPORT", "Remote port", f),
            protocol_param("PROTOCOL", f),
            choice_param("IKEVER", "IKE version", {"*V2", "*V1"}, f, "*V2"),
            yesno_param("ONDEMAND", "Start on demand", f, "*NO"),
            yesno_param("AUTOSTART", "Start with the VPN server", f, "*NO"),
            choice_param("ESN", "Extended sequence numbers", {"*DFT", "*NO", "*YES"}, f, "*DFT",
                         "*DFT: the ESN attribute of CHGVPNA"),
            yesno_param("TFC", "Traffic flow confidentiality", f, "*NO"),
            text_param(f)};
}

Status apply_connection(const Invocation& inv, PolicyDb& db, Form f, DynamicConnection& c) {
    (void)f;
    if (!keep(inv, "DKG")) {
        c.group = inv.str("DKG");
    }
    if (!keep(inv, "LCLKEYSVR")) {
        QVPN_ASSIGN(c.local_id, read_identity(inv, "LCLKEYSVR"));
        Status st = check_identity(c.local_id, false);
        if (!st.ok()) {
            return param_error(inv, st.error());
        }
    }
    if (!keep(inv, "RMTKEYSVR")) {
        QVPN_ASSIGN(c.remote_id, read_identity(inv, "RMTKEYSVR"));
    }
    if (!keep(inv, "LCLDTAEP")) {
        QVPN_ASSIGN(c.local, read_endpoint(inv, "LCLDTAEP", c.local_id));
    }
    if (!keep(inv, "RMTDTAEP")) {
        QVPN_ASSIGN(c.remote, read_endpoint(inv, "RMTDTAEP", c.remote_id));
    }
    if (!keep(inv, "LCLPORT")) {
        c.local_port = read_port(inv, "LCLPORT");
    }
    if (!keep(inv, "RMTPORT")) {
        c.remote_port = read_port(inv, "RMTPORT");
    }
    if (!keep(inv, "PROTOCOL")) {
        c.protocol = read_protocol(inv, "PROTOCOL");
    }
    if (!keep(inv, "IKEVER")) {
        c.ike_version = inv.is("IKEVER", "*V1") ? 1 : 2;
    }
    if (!keep(inv, "ONDEMAND")) {
        c.on_demand = yes(inv, "ONDEMAND");
    }
    if (!keep(inv, "AUTOSTART")) {
        c.autostart = yes(inv, "AUTOSTART");
    }
    if (!keep(inv, "ESN")) {
        if (inv.is("ESN", "*DFT")) {
            QVPN_ASSIGN(VpnAttributes a, db.attributes());
            c.esn = a.esn;
        } else {
            c.esn = yes(inv, "ESN");
        }
    }
    if (!keep(inv, "TFC")) {
        c.tfc = yes(inv, "TFC");
    }
    apply_text(inv, c.text);
    if (c.remote_id.type == IdType::AnyIp && (c.on_demand || c.autostart)) {
        return param_error(inv, msg("CFG000B", c.on_demand ? "ONDEMAND" : "AUTOSTART"));
    }
    return {};
}

// --- manual connection ---------------------------------------------------------------------

namespace {

ParamDef spi_param(std::string kwd, std::string prompt, Form f) {
    ParamDef p{.kwd = std::move(kwd), .prompt = std::move(prompt)};
    p.elements = {ElemDef{.prompt = "Inbound SPI", .type = Type::Int, .min = 256,
                          .max = 4294967295LL, .required = true},
                  ElemDef{.prompt = "Outbound SPI", .type = Type::Int, .min = 256,
                          .max = 4294967295LL, .required = true}};
    if (f == Form::Change) {
        p.single = {"*SAME"};
        p.dft = "*SAME";
    }
    p.help = "(inbound outbound): the other system's outbound and inbound";
    return p;
}

ElemDef key_elem(std::string prompt, bool optional) {
    ElemDef e{.prompt = std::move(prompt), .type = Type::Hex, .max_len = 256};
    if (optional) {
        e.specials = {"*NONE"};
        e.dft = "*NONE";
    } else {
        e.required = true;
    }
    return e;
}

Result<SecretBytes> hex_key(const Invocation& inv, const cl::Value& v) {
    if (v.atom.empty() || v.atom == "*NONE") {
        return SecretBytes();
    }
    auto b = from_hex(v.atom);
    if (!b.ok()) {
        return param_error(inv, b.error());
    }
    return SecretBytes(std::move(*b));
}

}  // namespace

std::vector<ParamDef> manual_params(Form f) {
    ParamDef espkeys{.kwd = "ESPKEYS", .prompt = "ESP keys (hexadecimal)"};
    espkeys.elements = {key_elem("Inbound encryption key", false),
                        key_elem("Outbound encryption key", false),
                        key_elem("Inbound authentication key", true),
                        key_elem("Outbound authentication key", true)};
    espkeys.help = "(enc-in enc-out auth-in auth-out); *NONE for AEAD and GMAC";
    ParamDef ahkeys{.kwd = "AHKEYS", .prompt = "AH keys (hexadecimal)"};
    ahkeys.elements = {key_elem("Inbound authentication key", false),
                       key_elem("Outbound authentication key", false)};
    ahkeys.help = "(auth-in auth-out)";
    if (f == Form::Change) {
        espkeys.single = ahkeys.single = {"*SAME"};
        espkeys.dft = ahkeys.dft = "*SAME";
    }
    ParamDef lcl{.kwd = "LCLADR", .prompt = "Local connection endpoint", .type = Type::Addr};
    ParamDef rmt{.kwd = "RMTADR", .prompt = "Remote connection endpoint", .type = Type::Addr};
    if (f == Form::Change) {
        lcl.specials = rmt.specials = {"*SAME"};
        lcl.dft = rmt.dft = "*SAME";
    } else {
        lcl.required = rmt.required = true;
    }
    return {name_param("CNN", "Connection"),
            choice_param("SYSROLE", "System role", cl_values<SystemRole>(), f, "*HOST2HOST"),
            choice_param("MODE", "Encapsulation mode", {"*DFT", "*TUNNEL", "*TRANSPORT"}, f,
                         "*DFT", "*DFT: *TRANSPORT for *HOST2HOST, *TUNNEL otherwise"),
            choice_param("IPSECPCL", "IPsec protocol", cl_values<Protocol>(), f, "*ESP"),
            lcl,
            rmt,
            endpoint_param("LCLDTAEP", "Local data endpoint", f, "*CNNEP", "*CNNEP"),
            endpoint_param("RMTDTAEP", "Remote data endpoint", f, "*CNNEP", "*CNNEP"),
            port_param("LCLPORT", "Local port", f),
            port_param("RMTPORT", "Remote port", f),
            protocol_param("PROTOCOL", f),
            choice_param("ENCRYPTION", "ESP encryption", cl_values<Encr>(), f, "*AESCBC128"),
            choice_param("AUTHENTICATION", "ESP (or AH) authentication", cl_values<DataAuth>(), f,
                         "*HMACSHA256", "With *AH: the AH algorithm"),
            choice_param("AHAUTH", "AH authentication with *AHESP", cl_values<DataAuth>(), f,
                         "*HMACSHA256"),
            spi_param("ESPSPI", "ESP SPIs", f),
            spi_param("AHSPI", "AH SPIs", f),
            espkeys,
            ahkeys,
            choice_param("POLICYFTR", "Policy filter", cl_values<PolicyFilter>(), f, "*GENERATE"),
            lines_param(f),
            choice_param("JRN", "Journaling", cl_values<Journaling>(), f, "*NONE"),
            yesno_param("AUTOSTART", "Start with the VPN server", f, "*NO"),
            text_param(f)};
}

Status apply_manual(const Invocation& inv, Form f, ManualConnection& c) {
    bool create = f == Form::Create;
    if (!keep(inv, "SYSROLE")) {
        c.role = read_enum(inv, "SYSROLE", SystemRole::Host2Host);
    }
    if (!keep(inv, "MODE") || create) {
        if (inv.is("MODE", "*DFT") || (create && !inv.specified("MODE"))) {
            c.mode = c.role == SystemRole::Host2Host ? Mode::Transport : Mode::Tunnel;
        } else if (!keep(inv, "MODE")) {
            c.mode = read_enum(inv, "MODE", Mode::Tunnel);
        }
    }
    if (!keep(inv, "IPSECPCL")) {
        c.protocol = read_enum(inv, "IPSECPCL", Protocol::Esp);
    }
    if (!keep(inv, "LCLADR")) {
        c.local_address = inv.str("LCLADR");
    }
    if (!keep(inv, "RMTADR")) {
        c.remote_address = inv.str("RMTADR");
    }
    auto as_id = [](const std::string& a) {
        auto ip = IpAddress::parse(a);
        return Identity{ip && ip->is_v6() ? IdType::IPv6 : IdType::IPv4, a};
    };
    if (!keep(inv, "LCLDTAEP")) {
        QVPN_ASSIGN(c.local, read_endpoint(inv, "LCLDTAEP", as_id(c.local_address)));
    }
    if (!keep(inv, "RMTDTAEP")) {
        QVPN_ASSIGN(c.remote, read_endpoint(inv, "RMTDTAEP", as_id(c.remote_address)));
    }
    if (!keep(inv, "LCLPORT")) {
        c.local_port = read_port(inv, "LCLPORT");
    }
    if (!keep(inv, "RMTPORT")) {
        c.remote_port = read_port(inv, "RMTPORT");
    }
    if (!keep(inv, "PROTOCOL")) {
        c.ip_protocol = read_protocol(inv, "PROTOCOL");
    }
    if (!keep(inv, "ENCRYPTION")) {
        c.encryption = read_enum(inv, "ENCRYPTION", Encr::AesCbc128);
    }
    if (!keep(inv, "AUTHENTICATION")) {
        c.authentication = read_enum(inv, "AUTHENTICATION", DataAuth::HmacSha256);
    }
    if (!keep(inv, "AHAUTH")) {
        c.ah_authentication = read_enum(inv, "AHAUTH", DataAuth::HmacSha256);
    }
    if (c.protocol == Protocol::Ah) {
        c.encryption = Encr::None;
    }
    if (c.protocol != Protocol::AhEsp) {
        c.ah_authentication = DataAuth::None;
    }
    bool esp = c.protocol != Protocol::Ah;
    bool ah = c.protocol != Protocol::Esp;
    auto spis = [&](const char* kwd, ManualKeys& k) {
        if (!keep(inv, kwd)) {
            const auto& e = inv.get(kwd).items;
            k.spi_in = static_cast<uint32_t>(std::stoll(e.at(0).atom));
            k.spi_out = static_cast<uint32_t>(std::stoll(e.at(1).atom));
        }
    };
    if (esp) {
        if (create && !inv.specified("ESPSPI")) {
            return param_error(inv, msg("CFG0027", "IPSECPCL", "ESPSPI"));
        }
        spis("ESPSPI", c.esp);
    }
    if (ah) {
        if (create && !inv.specified("AHSPI")) {
            return param_error(inv, msg("CFG0027", "IPSECPCL", "AHSPI"));
        }
        spis("AHSPI", c.ah);
    }
    if (esp && !keep(inv, "ESPKEYS")) {
        const auto& e = inv.get("ESPKEYS").items;
        QVPN_ASSIGN(c.esp.enc_in, hex_key(inv, e.at(0)));
        QVPN_ASSIGN(c.esp.enc_out, hex_key(inv, e.at(1)));
        QVPN_ASSIGN(c.esp.auth_in, hex_key(inv, e.at(2)));
        QVPN_ASSIGN(c.esp.auth_out, hex_key(inv, e.at(3)));
        c.has_keys = true;
    } else if (esp && create) {
        return param_error(inv, msg("CFG0027", "IPSECPCL", "ESPKEYS"));
    }
    if (ah && !keep(inv, "AHKEYS")) {
        const auto& e = inv.get("AHKEYS").items;
        QVPN_ASSIGN(c.ah.auth_in, hex_key(inv, e.at(0)));
        QVPN_ASSIGN(c.ah.auth_out, hex_key(inv, e.at(1)));
        c.has_keys = true;
    } else if (ah && create) {
        return param_error(inv, msg("CFG0027", "IPSECPCL", "AHKEYS"));
    }
    // On a change, keys given for one protocol need the other's again too:
    // they are stored as one sealed set.
    if (!create && c.has_keys && esp && ah && keep(inv, "ESPKEYS") != keep(inv, "AHKEYS")) {
        return param_error(inv, msg("CFG0027", keep(inv, "ESPKEYS") ? "AHKEYS" : "ESPKEYS",
                                    keep(inv, "ESPKEYS") ? "ESPKEYS" : "AHKEYS"));
    }
    if (!keep(inv, "POLICYFTR")) {
        c.policy_filter = read_enum(inv, "POLICYFTR", PolicyFilter::Generate);
    }
    if (!keep(inv, "LIND")) {
        c.lines = read_lines(inv, "LIND");
    }
    if (!keep(inv, "JRN")) {
        c.journaling = read_enum(inv, "JRN", Journaling::None);
    }
    if (!keep(inv, "AUTOSTART")) {
        c.autostart = yes(inv, "AUTOSTART");
    }
    apply_text(inv, c.text);
    Status st = check_manual_connection(c);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    return {};
}

// --- line description ----------------------------------------------------------------------

std::vector<ParamDef> line_params(Form f) {
    ParamDef rsrc{.kwd = "RSRCNAME", .prompt = "Resource name (Linux interface)",
                  .type = Type::Generic, .max_len = 15,
                  .help = "The Linux network interface, for example eth0"};
    if (f == Form::Change) {
        rsrc.specials = {"*SAME"};
        rsrc.dft = "*SAME";
    } else {
        rsrc.required = true;
        rsrc.positional = 2;
    }
    return {{.kwd = "LIND", .prompt = "Line description", .type = Type::Name, .max_len = 15,
             .required = true, .positional = 1},
            rsrc,
            text_param(f)};
}

Status apply_line(const Invocation& inv, Form f, Line& l) {
    (void)f;
    if (!keep(inv, "RSRCNAME")) {
        l.interface = inv.str("RSRCNAME");
    }
    apply_text(inv, l.text);
    Status st = check_line(l);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    return {};
}

}  // namespace qvpn::cmd
