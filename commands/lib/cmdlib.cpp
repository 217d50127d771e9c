#include "commands/lib/cmdlib.hpp"

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/policy/checks.hpp"

namespace qvpn::cmd {

using namespace qvpn::policy;

namespace {

std::vector<std::string> same_first(Form f, std::vector<std::string> v) {
    if (f == Form::Change) {
        v.insert(v.begin(), "*SAME");
    }
    return v;
}

std::vector<std::string> without(std::vector<std::string> v, std::string_view drop) {
    std::erase_if(v, [&](const std::string& s) { return s == drop; });
    return v;
}

}  // namespace

Result<PolicyDb> open_db() {
    QVPN_TRY(paths::ensure());
    return PolicyDb::open(paths::policy_db(), Access::ReadWrite);
}

Failure param_error(const Invocation& inv, Msg diag) {
    inv.diagnostic(diag);
    return fail("CPF0001", inv.def().name);
}

ParamDef name_param(std::string kwd, std::string prompt, int positional) {
    return {.kwd = std::move(kwd),
            .prompt = std::move(prompt),
            .type = Type::Name,
            .max_len = kMaxNameLen,
            .required = true,
            .positional = positional};
}

ParamDef display_name_param(std::string kwd, std::string prompt) {
    return {.kwd = std::move(kwd),
            .prompt = std::move(prompt),
            .type = Type::Generic,
            .max_len = kMaxNameLen,
            .specials = {"*ALL"},
            .dft = "*ALL",
            .positional = 1,
            .help = "A name, a generic name such as HR*, or *ALL"};
}

ParamDef text_param(Form f) {
    return {.kwd = "TEXT",
            .prompt = "Text 'description'",
            .type = Type::Char,
            .max_len = 50,
            .specials = same_first(f, {"*BLANK"}),
            .dft = f == Form::Change ? "*SAME" : "*BLANK"};
}

ParamDef choice_param(std::string kwd, std::string prompt, std::vector<std::string> choices,
                      Form f, std::string dft, std::string help) {
    return {.kwd = std::move(kwd),
            .prompt = std::move(prompt),
            .type = Type::Special,
            .specials = same_first(f, std::move(choices)),
            .dft = f == Form::Change ? "*SAME" : std::move(dft),
            .help = std::move(help)};
}

ParamDef yesno_param(std::string kwd, std::string prompt, Form f, std::string dft,
                     std::string help) {
    return choice_param(std::move(kwd), std::move(prompt), {"*NO", "*YES"}, f, std::move(dft),
                        std::move(help));
}

ParamDef int_param(std::string kwd, std::string prompt, long long min, long long max,
                   std::vector<std::string> specials, Form f, std::string dft, std::string help) {
    return {.kwd = std::move(kwd),
            .prompt = std::move(prompt),
            .type = Type::Int,
            .min = min,
            .max = max,
            .specials = same_first(f, std::move(specials)),
            .dft = f == Form::Change ? "*SAME" : std::move(dft),
            .help = std::move(help)};
}

ParamDef identity_param(std::string kwd, std::string prompt, bool allow_anyip, Form f) {
    auto types = cl_values<IdType>();
    if (!allow_anyip) {
        types = without(types, "*ANYIP");
    }
    ParamDef p{.kwd = std::move(kwd), .prompt = std::move(prompt)};
    p.elements = {ElemDef{.prompt = "Identifier type", .type = Type::Special,
                          .specials = types, .required = true},
                  ElemDef{.prompt = "Identifier", .type = Type::Char, .max_len = 1024}};
    if (f == Form::Change) {
        p.single = {"*SAME"};
        p.dft = "*SAME";
    }
    p.help = "Types: *IPV4 *IPV6 *FQDN *USERFQDN *KEYID *DN" +
             std::string(allow_anyip ? " *ANYIP (no identifier)" : "");
    return p;
}

ParamDef endpoint_param(std::string kwd, std::string prompt, Form f, std::string dft,
                        std::string key_server_special) {
    auto types = cl_values<EndpointType>();
    if (!key_server_special.empty()) {
        types.insert(types.begin(), key_server_special);
    }
    ParamDef p{.kwd = std::move(kwd), .prompt = std::move(prompt)};
    p.elements = {ElemDef{.prompt = "Type", .type = Type::Special, .specials = types,
                          .required = true},
                  ElemDef{.prompt = "Address", .type = Type::Char, .max_len = 45},
                  ElemDef{.prompt = "Mask, prefix length or last address", .type = Type::Char,
                          .max_len = 45}};
    if (f == Form::Change) {
        p.single = {"*SAME"};
        p.dft = "*SAME";
    } else {
        p.dft = std::move(dft);
    }
    p.help = "*IPV4 addr | *IPV4SUBNET net mask | *IPV4RANGE first last | *IPV6... | *ANY";
    return p;
}

ParamDef key_transforms_param(std::string kwd, Form f, std::string dft) {
    ParamDef p{.kwd = std::move(kwd), .prompt = "Key exchange transforms"};
    std::vector<std::string> encr;
    for (const auto& e : cl_values<Encr>()) {
        auto v = from_cl<Encr>(e);
        if (v && ike_allowed(*v) && !is_aead(*v)) {
            encr.push_back(e);
        }
    }
    p.elements = {ElemDef{.prompt = "Encryption", .type = Type::Special, .specials = encr,
                          .required = true},
                  ElemDef{.prompt = "Hash (integrity and PRF)", .type = Type::Special,
                          .specials = cl_values<Hash>(), .dft = "*SHA256"},
                  ElemDef{.prompt = "Diffie-Hellman group", .type = Type::Special,
                          .specials = without(cl_values<DhGroup>(), "*NONE"), .dft = "*GRP19"}};
    p.max_count = 16;
    p.single = same_first(f, {"*DFT", "*HIGHEST", "*BALANCED", "*MINIMUM"});
    p.dft = f == Form::Change ? "*SAME" : std::move(dft);
    p.help = "((encryption hash dh-group) ...) in order of preference, or a security level";
    return p;
}

ParamDef data_transforms_param(std::string kwd, Form f, std::string dft) {
    ParamDef p{.kwd = std::move(kwd), .prompt = "Data transforms"};
    p.elements = {ElemDef{.prompt = "Protocol", .type = Type::Special,
                          .specials = cl_values<Protocol>(), .required = true},
                  ElemDef{.prompt = "Encryption", .type = Type::Special,
                          .specials = cl_values<Encr>(), .required = true},
                  ElemDef{.prompt = "Authentication", .type = Type::Special,
                          .specials = cl_values<DataAuth>(), .dft = "*NONE"}};
    p.max_count = 16;
    p.single = same_first(f, {"*DFT", "*HIGHEST", "*BALANCED", "*MINIMUM"});
    p.dft = f == Form::Change ? "*SAME" : std::move(dft);
    p.help = "((protocol encryption authentication) ...) in order of preference, or a level";
    return p;
}

ParamDef lines_param(Form f) {
    return {.kwd = "LIND",
            .prompt = "Lines the generated rules apply to",
            .type = Type::Name,
            .max_len = 15,
            .single = same_first(f, {"*ALL"}),
            .dft = f == Form::Change ? "*SAME" : "*ALL",
            .max_count = 32,
            .help = "Line descriptions (CRTLINETH) or Linux interface names"};
}

ParamDef port_param(std::string kwd, std::string prompt, Form f) {
    return int_param(std::move(kwd), std::move(prompt), 1, 65535, {"*ANY"}, f, "*ANY");
}

ParamDef protocol_param(std::string kwd, Form f) {
    return int_param(std::move(kwd), "IP protocol", 0, 255, {"*ANY", "*TCP", "*UDP", "*ICMP"}, f,
                     "*ANY", "*ANY, *TCP, *UDP, *ICMP or a protocol number");
}

bool keep(const Invocation& inv, std::string_view kwd) {
    // Change commands default to *SAME; a parameter without a default that
    // was not given has no value, and leaves its field alone too.
    return inv.is(kwd, "*SAME") || inv.get(kwd).empty();
}

bool yes(const Invocation& inv, std::string_view kwd) { return inv.is(kwd, "*YES"); }

Result<Identity> read_identity(const Invocation& inv, std::string_view kwd) {
    const cl::Value& v = inv.get(kwd);
    std::vector<cl::Value> e = v.is_list ? v.items : std::vector<cl::Value>{v};
    Identity id;
    auto type = e.empty() ? std::nullopt : from_cl<IdType>(e[0].atom);
    if (!type) {
        return param_error(inv, msg("CPD0083", 1, std::string(kwd)));
    }
    id.type = *type;
    id.value = e.size() > 1 ? e[1].atom : "";
    if (id.type != IdType::AnyIp && id.value.empty()) {
        return param_error(inv, msg("CPD0083", 2, std::string(kwd)));
    }
    if (id.type == IdType::AnyIp && !id.value.empty()) {
        return param_error(inv, msg("CPD0086", std::string(kwd), 1));
    }
    Status st = check_identity(id, true);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    return normalize(id);
}

Result<DataEndpoint> read_endpoint(const Invocation& inv, std::string_view kwd,
                                   const Identity& key_server) {
    const cl::Value& v = inv.get(kwd);
    std::vector<cl::Value> e = v.is_list ? v.items : std::vector<cl::Value>{v};
    std::string type = e.empty() ? "" : e[0].atom;
    DataEndpoint ep;
    if (type == "*KEYSVR" || type == "*CNNEP") {
        if (key_server.type == IdType::AnyIp) {
            return DataEndpoint{};
        }
        if (key_server.type != IdType::IPv4 && key_server.type != IdType::IPv6) {
            return param_error(inv, msg("CFG0005", std::string(kwd), identity_text(key_server)));
        }
        ep.type = key_server.type == IdType::IPv4 ? EndpointType::IPv4 : EndpointType::IPv6;
        ep.address = key_server.value;
        return ep;
    }
    auto t = from_cl<EndpointType>(type);
    if (!t) {
        return param_error(inv, msg("CPD0083", 1, std::string(kwd)));
    }
    ep.type = *t;
    ep.address = e.size() > 1 ? e[1].atom : "";
    ep.extra = e.size() > 2 ? e[2].atom : "";
    Status st = check_endpoint(ep);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    return normalize(ep);
}

Result<std::vector<KeyTransform>> read_key_transforms(const Invocation& inv, std::string_view kwd,
                                                      SecurityLevel dft) {
    if (inv.is(kwd, "*DFT")) {
        return key_transforms(dft);
    }
    if (auto level = from_cl<SecurityLevel>(inv.str(kwd)); level && !inv.get(kwd).is_list) {
        return key_transforms(*level);
    }
    std::vector<KeyTransform> out;
    for (const auto& item : inv.list(kwd)) {
        const auto& e = item.items;
        KeyTransform t;
        t.encryption = from_cl<Encr>(e.at(0).atom).value_or(Encr::AesCbc128);
        t.hash = from_cl<Hash>(e.at(1).atom).value_or(Hash::Sha256);
        t.dh_group = from_cl<DhGroup>(e.at(2).atom).value_or(DhGroup::Grp19);
        Status st = check_key_transform(t);
        if (!st.ok()) {
            return param_error(inv, st.error());
        }
        out.push_back(t);
    }
    return out;
}

Result<std::vector<DataTransform>> read_data_transforms(const Invocation& inv,
                                                        std::string_view kwd, SecurityLevel dft) {
    if (inv.is(kwd, "*DFT")) {
        return data_transforms(dft);
    }
    if (auto level = from_cl<SecurityLevel>(inv.str(kwd)); level && !inv.get(kwd).is_list) {
        return data_transforms(*level);
    }
    std::vector<DataTransform> out;
    for (const auto& item : inv.list(kwd)) {
        const auto& e = item.items;
        DataTransform t;
        t.protocol = from_cl<Protocol>(e.at(0).atom).value_or(Protocol::Esp);
        t.encryption = from_cl<Encr>(e.at(1).atom).value_or(Encr::None);
        t.authentication = from_cl<DataAuth>(e.at(2).atom).value_or(DataAuth::None);
        Status st = check_data_transform(t);
        if (!st.ok()) {
            return param_error(inv, st.error());
        }
        out.push_back(t);
    }
    return out;
}

std::vector<std::string> read_lines(const Invocation& inv, std::string_view kwd) {
    if (inv.is(kwd, "*ALL")) {
        return {};
    }
    std::vector<std::string> out;
    for (const auto& v : inv.list(kwd)) {
        out.push_back(v.atom);
    }
    return out;
}

int read_port(const Invocation& inv, std::string_view kwd) {
    return inv.is(kwd, "*ANY") ? 0 : static_cast<int>(inv.integer(kwd));
}

int read_protocol(const Invocation& inv, std::string_view kwd) {
    if (inv.is(kwd, "*TCP")) {
        return 6;
    }
    if (inv.is(kwd, "*UDP")) {
        return 17;
    }
    if (inv.is(kwd, "*ICMP")) {
        return 1;
    }
    return inv.is(kwd, "*ANY") ? 0 : static_cast<int>(inv.integer(kwd));
}

int read_number(const Invocation& inv, std::string_view kwd, int dft) {
    if (inv.is(kwd, "*DFT")) {
        return dft;
    }
    if (inv.is(kwd, "*NOMAX")) {
        return 0;
    }
    return static_cast<int>(inv.integer(kwd, dft));
}

std::string identity_text(const Identity& id) {
    std::string s(to_cl(id.type));
    return id.value.empty() ? s : s + " " + id.value;
}

std::string endpoint_text(const DataEndpoint& ep) {
    std::string s(to_cl(ep.type));
    if (!ep.address.empty()) {
        s += " " + ep.address;
    }
    if (!ep.extra.empty()) {
        s += " " + ep.extra;
    }
    return s;
}

std::string port_text(int port) { return port == 0 ? "*ANY" : std::to_string(port); }

std::string protocol_text(int protocol) {
    switch (protocol) {
    case 0: return "*ANY";
    case 1: return "*ICMP";
    case 6: return "*TCP";
    case 17: return "*UDP";
    default: return std::to_string(protocol);
    }
}

std::string lifetime_text(int value) { return value == 0 ? "*NOMAX" : std::to_string(value); }

bool name_matches(std::string_view pattern, std::string_view name) {
    if (iequals(pattern, "*ALL")) {
        return true;
    }
    if (!pattern.empty() && pattern.back() == '*') {
        return starts_with_icase(name, pattern.substr(0, pattern.size() - 1));
    }
    return iequals(pattern, name);
}

}  // namespace qvpn::cmd
