#include "core/policy/config_xml.hpp"

#include <algorithm>
#include <functional>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "core/base/text.hpp"
#include "core/msg/catalog.hpp"
#include "core/policy/cert_store.hpp"
#include "core/policy/checks.hpp"

namespace qvpn::policy {

namespace {

constexpr const char* kRoot = "qvpnConfiguration";
constexpr const char* kNamespace = "urn:qvpn:config:1";

// --- reading ------------------------------------------------------------------------

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    size_t line_of(const pugi::xml_node& n) const { return line_at(n.offset_debug()); }

    size_t line_at(ptrdiff_t offset) const {
        if (offset < 0) {
            return 0;
        }
        size_t end = std::min(static_cast<size_t>(offset), text_.size());
        auto last = text_.begin() + static_cast<long>(end);
        return 1 + static_cast<size_t>(std::count(text_.begin(), last, '\n'));
    }

private:
    std::string_view text_;
};

// One element being read: its attributes are checked against a list, and
// every attribute read is remembered so unknown ones can be reported.
class El {
public:
    El(const Reader& r, pugi::xml_node n) : r_(r), n_(n) {}

    size_t line() const { return r_.line_of(n_); }
    std::string name() const { return n_.name(); }
    pugi::xml_node node() const { return n_; }

    Status only(std::initializer_list<const char*> allowed) const {
        for (auto a = n_.first_attribute(); a; a = a.next_attribute()) {
            bool ok = std::string_view(a.name()) == "xmlns" &&
                      n_.parent().type() == pugi::node_document;
            for (const char* x : allowed) {
                ok = ok || std::string_view(a.name()) == x;
            }
            if (!ok) {
                return fail("XML0006", line(), name(), a.name());
            }
        }
        return {};
    }

    // Children must be among `allowed`; no stray text.
    Status children(std::initializer_list<const char*> allowed) const {
        for (auto c = n_.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
                if (!trim(c.value()).empty()) {
                    return fail("XML0002", r_.line_of(c), "#text", name());
                }
                continue;
            }
            if (c.type() != pugi::node_element) {
                continue;
            }
            bool ok = false;
            for (const char* x : allowed) {
                ok = ok || std::string_view(c.name()) == x;
            }
            if (!ok) {
                return fail("XML0002", r_.line_of(c), c.name(), name());
            }
        }
        return {};
    }

    Result<std::string> req(const char* attr) const {
        auto a = n_.attribute(attr);
        if (!a) {
            return fail("XML0003", line(), name(), attr);
        }
        return std::string(a.value());
    }

    std::string opt(const char* attr, std::string dft = "") const {
        auto a = n_.attribute(attr);
        return a ? std::string(a.value()) : dft;
    }

    Failure bad(const char* attr, const std::string& value) const {
        return fail("XML0004", line(), name(), attr, value);
    }

    template <class T>
    Result<T> enumv(const char* attr, std::optional<T> dft = std::nullopt) const {
        auto a = n_.attribute(attr);
        if (!a) {
            if (dft) {
                return *dft;
            }
            return fail("XML0003", line(), name(), attr);
        }
        auto v = from_cl<T>(a.value());
        if (!v || std::string_view(a.value()) != to_cl(*v)) {
            return bad(attr, a.value());
        }
        return *v;
    }

    Result<bool> yn(const char* attr, bool dft) const {
        auto a = n_.attribute(attr);
        if (!a) {
            return dft;
        }
        std::string v = a.value();
        if (v != "*YES" && v != "*NO") {
            return bad(attr, v);
        }
        return v == "*YES";
    }

    // A decimal number in lo..hi; `zero_word` (*ANY, *NOMAX) stands for 0.
    Result<long long> num(const char* attr, long long lo, long long hi, long long dft,
                          const char* zero_word = nullptr) const {
        auto a = n_.attribute(attr);
        if (!a) {
            return dft;
        }
        std::string v = a.value();
        if (zero_word != nullptr && v == zero_word) {
            return 0LL;
        }
        long long n = 0;
        if (!parse_int(v, n) || n < lo || n > hi || (v.size() > 1 && v[0] == '0')) {
            return bad(attr, v);
        }
        return n;
    }

    // Text content, for <psk>, <keys>, <privateKey> and <pem>.
    std::string text() const { return std::string(trim(n_.text().get())); }

    // Wrap a model check failure with where it happened.
    Failure invalid(const Msg& inner) const {
        return fail("XML0005", line(), name(), msgcat::line(inner));
    }

private:
    const Reader& r_;
    pugi::xml_node n_;
};

Result<Bytes> hex_text(const El& e) {
    auto b = from_hex(e.text());
    if (!b.ok() || b->size() < crypto::kBoxOverhead) {
        return fail("XML0004", e.line(), e.name(), "#text", e.text().substr(0, 16));
    }
    return std::move(*b);
}

Result<Identity> read_identity(const El& e) {
    QVPN_TRY(e.only({"type", "value"}));
    QVPN_TRY(e.children({}));
    Identity id;
    QVPN_ASSIGN(id.type, e.enumv<IdType>("type"));
    id.value = e.opt("value");
    return id;
}

Result<DataEndpoint> read_endpoint(const El& e) {
    QVPN_TRY(e.only({"type", "address", "extra"}));
    QVPN_TRY(e.children({}));
    DataEndpoint ep;
    QVPN_ASSIGN(ep.type, e.enumv<EndpointType>("type"));
    ep.address = e.opt("address");
    ep.extra = e.opt("extra");
    return ep;
}

// The single child `name` of `parent` (XML0003-like when missing).
Result<pugi::xml_node> one_child(const El& parent, const char* name) {
    pugi::xml_node found;
    int n = 0;
    for (auto c : parent.node().children(name)) {
        found = c;
        ++n;
    }
    if (n != 1) {
        return fail(n == 0 ? "XML0007" : "XML0008", parent.line(), parent.name(), name);
    }
    return found;
}

Result<crypto::ScryptParams> read_protection(const El& e) {
    QVPN_TRY(e.only({"kdf", "n", "r", "p", "salt"}));
    QVPN_TRY(e.children({}));
    QVPN_ASSIGN(std::string kdf, e.req("kdf"));
    if (kdf != "scrypt") {
        return e.bad("kdf", kdf);
    }
    crypto::ScryptParams p;
    QVPN_ASSIGN(long long n, e.num("n", 1024, 1 << 20, -1));
    QVPN_ASSIGN(long long r, e.num("r", 1, 32, -1));
    QVPN_ASSIGN(long long par, e.num("p", 1, 16, -1));
    if (n < 0 || r < 0 || par < 0) {
        return fail("XML0003", e.line(), e.name(), n < 0 ? "n" : r < 0 ? "r" : "p");
    }
    QVPN_ASSIGN(std::string salt, e.req("salt"));
    auto sb = from_hex(salt);
    if (!sb.ok() || sb->size() < 8 || sb->size() > 64) {
        return e.bad("salt", salt);
    }
    p.n = static_cast<uint64_t>(n);
    p.r = static_cast<uint32_t>(r);
    p.p = static_cast<uint32_t>(par);
    p.salt = std::move(*sb);
    return p;
}

Result<VpnAttributes> read_attributes(const El& e) {
    QVPN_TRY(e.only({"ikeSaRekey", "httpCertLookup", "esn", "responderAggressive",
                     "dpdInterval", "halfOpenLimit", "autostart", "otherTraffic"}));
    QVPN_TRY(e.children({}));
    VpnAttributes a;
    QVPN_ASSIGN(a.ikesa_rekey, e.yn("ikeSaRekey", a.ikesa_rekey));
    QVPN_ASSIGN(a.http_cert_lookup, e.yn("httpCertLookup", a.http_cert_lookup));
    QVPN_ASSIGN(a.esn, e.yn("esn", a.esn));
    QVPN_ASSIGN(a.responder_aggressive, e.yn("responderAggressive", a.responder_aggressive));
    QVPN_ASSIGN(long long dpd, e.num("dpdInterval", 0, 3600, a.dpd_seconds));
    QVPN_ASSIGN(long long half, e.num("halfOpenLimit", 1, 100000, a.half_open_limit));
    QVPN_ASSIGN(a.autostart_server, e.yn("autostart", a.autostart_server));
    std::string other = e.opt("otherTraffic", "*PERMIT");
    if (other != "*PERMIT" && other != "*DENY") {
        return e.bad("otherTraffic", other);
    }
    a.dpd_seconds = static_cast<int>(dpd);
    a.half_open_limit = static_cast<int>(half);
    a.generated_permit_other = other == "*PERMIT";
    return a;
}

Result<VpnDefaults> read_defaults(const El& e) {
    QVPN_TRY(e.only({"keySecurityLevel", "dataSecurityLevel", "keyLifetime", "keyLifetimeKb",
                     "dataLifetime", "dataLifetimeKb"}));
    QVPN_TRY(e.children({}));
    VpnDefaults d;
    QVPN_ASSIGN(d.key_level, e.enumv<SecurityLevel>("keySecurityLevel", d.key_level));
    QVPN_ASSIGN(d.data_level, e.enumv<SecurityLevel>("dataSecurityLevel", d.data_level));
    QVPN_ASSIGN(long long kl, e.num("keyLifetime", 1, 43200, d.key_lifetime_minutes));
    QVPN_ASSIGN(long long kk, e.num("keyLifetimeKb", 1, 2147483647, 0, "*NOMAX"));
    QVPN_ASSIGN(long long dl, e.num("dataLifetime", 1, 43200, d.data_lifetime_minutes));
    QVPN_ASSIGN(long long dk, e.num("dataLifetimeKb", 1, 2147483647, 0, "*NOMAX"));
    d.key_lifetime_minutes = static_cast<int>(kl);
    d.key_lifetime_kb = static_cast<int>(kk);
    d.data_lifetime_minutes = static_cast<int>(dl);
    d.data_lifetime_kb = static_cast<int>(dk);
    return d;
}

Result<Line> read_line(const El& e) {
    QVPN_TRY(e.only({"name", "resource", "text"}));
    QVPN_TRY(e.children({}));
    Line l;
    QVPN_ASSIGN(l.name, e.req("name"));
    QVPN_ASSIGN(l.interface, e.req("resource"));
    l.text = e.opt("text");
    Status st = check_line(l);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    return l;
}

Result<ConfigDocument::Certificate> read_certificate(const Reader& r, const El& e) {
    QVPN_TRY(e.only({"label", "type", "text"}));
    QVPN_TRY(e.children({"pem", "privateKey"}));
    ConfigDocument::Certificate c;
    c.line = e.line();
    QVPN_ASSIGN(c.info.label, e.req("label"));
    QVPN_ASSIGN(c.info.kind, e.enumv<CertKind>("type"));
    c.info.text = e.opt("text");
    Status st = check_name("*CERT", c.info.label);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    QVPN_ASSIGN(pugi::xml_node pem, one_child(e, "pem"));
    El pe(r, pem);
    QVPN_TRY(pe.only({}));
    std::string text = pe.text();
    auto imported = import_certificate(c.info.label, CertKind::Ca, CertFormat::Pem,
                                       as_view(text), {}, "", c.info.text);
    if (!imported.ok()) {
        return pe.invalid(imported.error());
    }
    CertificateInfo info = imported->info;
    info.kind = c.info.kind;
    c.info = std::move(info);
    if (auto k = e.node().child("privateKey")) {
        El ke(r, k);
        QVPN_TRY(ke.only({}));
        if (c.info.kind != CertKind::System) {
            return ke.invalid(msg("DCM0006", c.info.label));
        }
        QVPN_ASSIGN(c.boxed_key, hex_text(ke));
        c.info.has_private_key = true;
    }
    return c;
}

Result<ConfigDocument::Key> read_key_policy(const Reader& r, const El& e) {
    QVPN_TRY(e.only({"name", "authentication", "certificate", "initiatorMode", "lifetime",
                     "lifetimeKb", "createdBy", "text"}));
    QVPN_TRY(e.children({"remoteKeyServer", "psk", "transform"}));
    ConfigDocument::Key k;
    k.line = e.line();
    KeyPolicy& p = k.policy;
    QVPN_ASSIGN(p.name, e.req("name"));
    QVPN_ASSIGN(p.auth, e.enumv<AuthMethod>("authentication"));
    p.cert_label = e.opt("certificate");
    QVPN_ASSIGN(p.initiator_mode, e.enumv<NegotiationMode>("initiatorMode", NegotiationMode::Main));
    QVPN_ASSIGN(long long life, e.num("lifetime", 1, 43200, 480));
    QVPN_ASSIGN(long long kb, e.num("lifetimeKb", 1, 2147483647, 0, "*NOMAX"));
    p.lifetime_minutes = static_cast<int>(life);
    p.lifetime_kb = static_cast<int>(kb);
    p.created_by = e.opt("createdBy");
    p.text = e.opt("text");
    QVPN_ASSIGN(pugi::xml_node rks, one_child(e, "remoteKeyServer"));
    QVPN_ASSIGN(p.remote, read_identity(El(r, rks)));
    p.remote = normalize(p.remote);
    for (auto t : e.node().children("transform")) {
        El te(r, t);
        QVPN_TRY(te.only({"encryption", "hash", "dhGroup"}));
        QVPN_TRY(te.children({}));
        KeyTransform x;
        QVPN_ASSIGN(x.encryption, te.enumv<Encr>("encryption"));
        QVPN_ASSIGN(x.hash, te.enumv<Hash>("hash"));
        QVPN_ASSIGN(x.dh_group, te.enumv<DhGroup>("dhGroup"));
        p.transforms.push_back(x);
    }
    if (auto psk = e.node().child("psk")) {
        El pe(r, psk);
        QVPN_TRY(pe.only({}));
        QVPN_ASSIGN(k.boxed_psk, hex_text(pe));
        if (psk.next_sibling("psk")) {
            return fail("XML0008", e.line(), e.name(), "psk");
        }
    }
    // Checked as stored: a key in the file counts as a key.
    KeyPolicy check = p;
    check.has_psk = p.auth == AuthMethod::Psk && !k.boxed_psk.empty();
    if (p.auth != AuthMethod::Psk && !k.boxed_psk.empty()) {
        return e.invalid(msg("PDB012D", p.name, to_cl(p.auth)));
    }
    Status st = check_key_policy(check);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    p.has_psk = check.has_psk;
    return k;
}

Result<ConfigDocument::Data> read_data_policy(const Reader& r, const El& e) {
    QVPN_TRY(e.only({"name", "pfs", "mode", "lifetime", "lifetimeKb", "ipcomp", "createdBy",
                     "text"}));
    QVPN_TRY(e.children({"transform"}));
    ConfigDocument::Data d;
    d.line = e.line();
    DataPolicy& p = d.policy;
    QVPN_ASSIGN(p.name, e.req("name"));
    QVPN_ASSIGN(p.pfs, e.enumv<DhGroup>("pfs", DhGroup::None));
    QVPN_ASSIGN(p.mode, e.enumv<Mode>("mode", Mode::Tunnel));
    QVPN_ASSIGN(long long life, e.num("lifetime", 1, 43200, 60));
    QVPN_ASSIGN(long long kb, e.num("lifetimeKb", 1, 2147483647, 0, "*NOMAX"));
    QVPN_ASSIGN(p.ipcomp, e.yn("ipcomp", false));
    p.lifetime_minutes = static_cast<int>(life);
    p.lifetime_kb = static_cast<int>(kb);
    p.created_by = e.opt("createdBy");
    p.text = e.opt("text");
    for (auto t : e.node().children("transform")) {
        El te(r, t);
        QVPN_TRY(te.only({"protocol", "encryption", "authentication"}));
        QVPN_TRY(te.children({}));
        DataTransform x;
        QVPN_ASSIGN(x.protocol, te.enumv<Protocol>("protocol"));
        QVPN_ASSIGN(x.encryption, te.enumv<Encr>("encryption", Encr::None));
        QVPN_ASSIGN(x.authentication, te.enumv<DataAuth>("authentication", DataAuth::None));
        p.transforms.push_back(x);
    }
    Status st = check_data_policy(p);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    return d;
}

Result<DynamicConnection> read_connection(const Reader& r, const El& e, const std::string& group) {
    QVPN_TRY(e.only({"name", "localPort", "remotePort", "protocol", "ikeVersion", "onDemand",
                     "autostart", "esn", "tfc", "fromWizard", "text"}));
    QVPN_TRY(e.children({"localKeyServer", "remoteKeyServer", "localDataEndpoint",
                         "remoteDataEndpoint"}));
    DynamicConnection c;
    c.group = group;
    QVPN_ASSIGN(c.name, e.req("name"));
    QVPN_ASSIGN(long long lp, e.num("localPort", 1, 65535, 0, "*ANY"));
    QVPN_ASSIGN(long long rp, e.num("remotePort", 1, 65535, 0, "*ANY"));
    QVPN_ASSIGN(long long proto, e.num("protocol", 1, 255, 0, "*ANY"));
    QVPN_ASSIGN(long long ver, e.num("ikeVersion", 1, 2, 2));
    QVPN_ASSIGN(c.on_demand, e.yn("onDemand", false));
    QVPN_ASSIGN(c.autostart, e.yn("autostart", false));
    QVPN_ASSIGN(c.esn, e.yn("esn", false));
    QVPN_ASSIGN(c.tfc, e.yn("tfc", false));
    QVPN_ASSIGN(c.from_wizard, e.yn("fromWizard", false));
    c.text = e.opt("text");
    c.local_port = static_cast<int>(lp);
    c.remote_port = static_cast<int>(rp);
    c.protocol = static_cast<int>(proto);
    c.ike_version = static_cast<int>(ver);
    QVPN_ASSIGN(pugi::xml_node lk, one_child(e, "localKeyServer"));
    QVPN_ASSIGN(c.local_id, read_identity(El(r, lk)));
    QVPN_ASSIGN(pugi::xml_node rk, one_child(e, "remoteKeyServer"));
    QVPN_ASSIGN(c.remote_id, read_identity(El(r, rk)));
    QVPN_ASSIGN(pugi::xml_node le, one_child(e, "localDataEndpoint"));
    QVPN_ASSIGN(c.local, read_endpoint(El(r, le)));
    QVPN_ASSIGN(pugi::xml_node re, one_child(e, "remoteDataEndpoint"));
    QVPN_ASSIGN(c.remote, read_endpoint(El(r, re)));
    c.local_id = normalize(c.local_id);
    c.remote_id = normalize(c.remote_id);
    c.local = normalize(c.local);
    c.remote = normalize(c.remote);
    Status st = check_connection(c);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    return c;
}

Result<ConfigDocument::Group> read_group(const Reader& r, const El& e) {
    QVPN_TRY(e.only({"name", "role", "initiator", "dataPolicy", "policyFilter", "journaling",
                     "l2tp", "remoteFromPacket", "fromWizard", "text"}));
    QVPN_TRY(e.children({"remoteKeyServer", "line", "connection"}));
    ConfigDocument::Group g;
    g.line = e.line();
    DynamicGroup& x = g.group;
    QVPN_ASSIGN(x.name, e.req("name"));
    QVPN_ASSIGN(x.role, e.enumv<SystemRole>("role"));
    QVPN_ASSIGN(x.initiator, e.enumv<Initiator>("initiator", Initiator::Both));
    QVPN_ASSIGN(x.data_policy, e.req("dataPolicy"));
    QVPN_ASSIGN(x.policy_filter, e.enumv<PolicyFilter>("policyFilter", PolicyFilter::Generate));
    QVPN_ASSIGN(x.journaling, e.enumv<Journaling>("journaling", Journaling::None));
    QVPN_ASSIGN(x.l2tp, e.yn("l2tp", false));
    QVPN_ASSIGN(x.populate_from_packet, e.yn("remoteFromPacket", false));
    QVPN_ASSIGN(x.from_wizard, e.yn("fromWizard", false));
    x.text = e.opt("text");
    for (auto k : e.node().children("remoteKeyServer")) {
        El ke(r, k);
        QVPN_TRY(ke.only({"keyPolicy"}));
        QVPN_TRY(ke.children({}));
        QVPN_ASSIGN(std::string name, ke.req("keyPolicy"));
        x.key_policies.push_back(name);
    }
    for (auto l : e.node().children("line")) {
        El le(r, l);
        QVPN_TRY(le.only({"name"}));
        QVPN_TRY(le.children({}));
        QVPN_ASSIGN(std::string name, le.req("name"));
        x.lines.push_back(name);
    }
    Status st = check_group(x);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    for (auto c : e.node().children("connection")) {
        QVPN_ASSIGN(DynamicConnection conn, read_connection(r, El(r, c), x.name));
        g.connections.push_back(std::move(conn));
    }
    return g;
}

Result<ConfigDocument::Manual> read_manual(const Reader& r, const El& e) {
    QVPN_TRY(e.only({"name", "role", "mode", "ipsecProtocol", "localAddress", "remoteAddress",
                     "localPort", "remotePort", "protocol", "encryption", "authentication",
                     "ahAuthentication", "policyFilter", "journaling", "autostart", "text"}));
    QVPN_TRY(e.children({"localDataEndpoint", "remoteDataEndpoint", "esp", "ah", "keys", "line"}));
    ConfigDocument::Manual m;
    m.line = e.line();
    ManualConnection& c = m.connection;
    QVPN_ASSIGN(c.name, e.req("name"));
    QVPN_ASSIGN(c.role, e.enumv<SystemRole>("role"));
    QVPN_ASSIGN(c.mode, e.enumv<Mode>("mode"));
    QVPN_ASSIGN(c.protocol, e.enumv<Protocol>("ipsecProtocol"));
    QVPN_ASSIGN(c.local_address, e.req("localAddress"));
    QVPN_ASSIGN(c.remote_address, e.req("remoteAddress"));
    QVPN_ASSIGN(long long lp, e.num("localPort", 1, 65535, 0, "*ANY"));
    QVPN_ASSIGN(long long rp, e.num("remotePort", 1, 65535, 0, "*ANY"));
    QVPN_ASSIGN(long long proto, e.num("protocol", 1, 255, 0, "*ANY"));
    QVPN_ASSIGN(c.encryption, e.enumv<Encr>("encryption", Encr::None));
    QVPN_ASSIGN(c.authentication, e.enumv<DataAuth>("authentication", DataAuth::None));
    QVPN_ASSIGN(c.ah_authentication, e.enumv<DataAuth>("ahAuthentication", DataAuth::None));
    QVPN_ASSIGN(c.policy_filter, e.enumv<PolicyFilter>("policyFilter", PolicyFilter::Generate));
    QVPN_ASSIGN(c.journaling, e.enumv<Journaling>("journaling", Journaling::None));
    QVPN_ASSIGN(c.autostart, e.yn("autostart", false));
    c.text = e.opt("text");
    c.local_port = static_cast<int>(lp);
    c.remote_port = static_cast<int>(rp);
    c.ip_protocol = static_cast<int>(proto);
    QVPN_ASSIGN(pugi::xml_node le, one_child(e, "localDataEndpoint"));
    QVPN_ASSIGN(c.local, read_endpoint(El(r, le)));
    QVPN_ASSIGN(pugi::xml_node re, one_child(e, "remoteDataEndpoint"));
    QVPN_ASSIGN(c.remote, read_endpoint(El(r, re)));
    auto spis = [&](const char* which, ManualKeys& k) -> Status {
        if (auto n = e.node().child(which)) {
            El se(r, n);
            QVPN_TRY(se.only({"spiIn", "spiOut"}));
            QVPN_TRY(se.children({}));
            QVPN_ASSIGN(long long in, se.num("spiIn", 256, 4294967295LL, -1));
            QVPN_ASSIGN(long long out, se.num("spiOut", 256, 4294967295LL, -1));
            if (in < 0 || out < 0) {
                return fail("XML0003", se.line(), se.name(), in < 0 ? "spiIn" : "spiOut");
            }
            k.spi_in = static_cast<uint32_t>(in);
            k.spi_out = static_cast<uint32_t>(out);
        }
        return {};
    };
    QVPN_TRY(spis("esp", c.esp));
    QVPN_TRY(spis("ah", c.ah));
    for (auto l : e.node().children("line")) {
        El lel(r, l);
        QVPN_TRY(lel.only({"name"}));
        QVPN_ASSIGN(std::string name, lel.req("name"));
        c.lines.push_back(name);
    }
    if (auto k = e.node().child("keys")) {
        El ke(r, k);
        QVPN_TRY(ke.only({}));
        QVPN_ASSIGN(m.boxed_keys, hex_text(ke));
        c.has_keys = true;
    }
    c.local = normalize(c.local);
    c.remote = normalize(c.remote);
    Status st = check_manual_connection(c);
    if (!st.ok()) {
        return e.invalid(st.error());
    }
    return m;
}

// Names unique per object type (case-insensitive), and connection names
// unique across dynamic and manual connections.
Status check_unique(const ConfigDocument& d) {
    auto dup = [](std::set<std::string>& seen, const std::string& name) {
        return !seen.insert(to_upper(name)).second;
    };
    std::set<std::string> s;
    for (const auto& c : d.certificates) {
        if (dup(s, c.info.label)) {
            return fail("XML0009", c.line, "*CERT", c.info.label);
        }
    }
    s.clear();
    for (const auto& k : d.key_policies) {
        if (dup(s, k.policy.name)) {
            return fail("XML0009", k.line, "*KEYPCY", k.policy.name);
        }
    }
    s.clear();
    for (const auto& p : d.data_policies) {
        if (dup(s, p.policy.name)) {
            return fail("XML0009", p.line, "*DTAPCY", p.policy.name);
        }
    }
    s.clear();
    std::set<std::string> conns;
    for (const auto& g : d.groups) {
        if (dup(s, g.group.name)) {
            return fail("XML0009", g.line, "*DKG", g.group.name);
        }
        for (const auto& c : g.connections) {
            if (dup(conns, c.name)) {
                return fail("XML0009", g.line, "*CNN", c.name);
            }
        }
    }
    for (const auto& m : d.manual_connections) {
        if (dup(conns, m.connection.name)) {
            return fail("XML0009", m.line, "*CNN", m.connection.name);
        }
    }
    return {};
}

// --- writing ------------------------------------------------------------------------

std::string yn(bool b) { return b ? "*YES" : "*NO"; }

std::string zero_as(long long v, const char* word) {
    return v == 0 ? std::string(word) : std::to_string(v);
}

void attr(pugi::xml_node n, const char* name, const std::string& v) {
    n.append_attribute(name).set_value(v.c_str());
}

void attr_if(pugi::xml_node n, const char* name, const std::string& v) {
    if (!v.empty()) {
        attr(n, name, v);
    }
}

void write_identity(pugi::xml_node parent, const char* name, const Identity& id) {
    auto n = parent.append_child(name);
    attr(n, "type", std::string(to_cl(id.type)));
    attr_if(n, "value", id.value);
}

void write_endpoint(pugi::xml_node parent, const char* name, const DataEndpoint& ep) {
    auto n = parent.append_child(name);
    attr(n, "type", std::string(to_cl(ep.type)));
    attr_if(n, "address", ep.address);
    attr_if(n, "extra", ep.extra);
}

void write_hex(pugi::xml_node parent, const char* name, const Bytes& b) {
    parent.append_child(name).append_child(pugi::node_pcdata).set_value(to_hex(b).c_str());
}

struct StringWriter : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override {
        out.append(static_cast<const char*>(data), size);
    }
};

// --- keys ---------------------------------------------------------------------------

std::string psk_context(const std::string& name) { return "qvpn-config PSK " + name; }
std::string manual_context(const std::string& name) { return "qvpn-config MANUAL " + name; }
std::string cert_context(const std::string& label) { return "qvpn-config CERTKEY " + label; }

Bytes pack_keys(const ManualConnection& c) {
    ByteWriter w;
    for (const SecretBytes* k : {&c.esp.enc_in, &c.esp.enc_out, &c.esp.auth_in, &c.esp.auth_out,
                                 &c.ah.auth_in, &c.ah.auth_out}) {
        w.u16(static_cast<uint16_t>(k->size())).bytes(k->view());
    }
    return w.take();
}

bool unpack_keys(ByteView b, ManualConnection& c) {
    ByteReader r(b);
    for (SecretBytes* k : {&c.esp.enc_in, &c.esp.enc_out, &c.esp.auth_in, &c.esp.auth_out,
                           &c.ah.auth_in, &c.ah.auth_out}) {
        uint16_t n = r.u16();
        *k = SecretBytes(r.bytes(n));
    }
    return r.at_end();
}

}  // namespace

// ------------------------------------------------------------------------------------

Result<ConfigDocument> parse_config(std::string_view xml) {
    pugi::xml_document doc;
    pugi::xml_parse_result pr = doc.load_buffer(xml.data(), xml.size(),
                                                pugi::parse_default | pugi::parse_declaration);
    Reader r(xml);
    if (!pr) {
        return fail("XML0001", r.line_at(pr.offset), pr.description());
    }
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != kRoot) {
        return fail("XML0002", r.line_of(root), root.name(), "#document");
    }
    El re(r, root);
    QVPN_TRY(re.only({"version"}));
    if (auto ns = root.attribute("xmlns"); ns && std::string_view(ns.value()) != kNamespace) {
        return re.bad("xmlns", ns.value());
    }
    QVPN_ASSIGN(std::string version, re.req("version"));
    if (version != std::to_string(kConfigFormatVersion)) {
        return fail("XML000A", version, kConfigFormatVersion);
    }
    QVPN_TRY(re.children({"keyProtection", "attributes", "defaults", "line", "certificate",
                          "keyPolicy", "dataPolicy", "group", "manualConnection"}));

    // The schema's order: settings, lines, certificates, key policies, data
    // policies, groups, manual connections (each kind may repeat).
    static const char* const kOrder[] = {"keyProtection", "attributes", "defaults",
                                         "line", "certificate", "keyPolicy",
                                         "dataPolicy", "group", "manualConnection"};
    auto rank = [](std::string_view n) {
        for (size_t i = 0; i < std::size(kOrder); ++i) {
            if (n == kOrder[i]) {
                return i;
            }
        }
        return std::size(kOrder);
    };
    size_t last_rank = 0;
    std::string last_name;

    ConfigDocument d;
    bool any_key = false;
    for (auto n : root.children()) {
        if (n.type() != pugi::node_element) {
            continue;
        }
        El e(r, n);
        std::string_view name = n.name();
        if (rank(name) < last_rank) {
            return fail("XML0016", e.line(), std::string(name), last_name);
        }
        last_rank = rank(name);
        last_name = name;
        if (name == "keyProtection") {
            if (d.key_protection) {
                return fail("XML0008", e.line(), kRoot, "keyProtection");
            }
            QVPN_ASSIGN(auto p, read_protection(e));
            d.key_protection = std::move(p);
        } else if (name == "attributes") {
            if (d.attributes) {
                return fail("XML0008", e.line(), kRoot, "attributes");
            }
            QVPN_ASSIGN(auto a, read_attributes(e));
            d.attributes = a;
        } else if (name == "defaults") {
            if (d.defaults) {
                return fail("XML0008", e.line(), kRoot, "defaults");
            }
            QVPN_ASSIGN(auto df, read_defaults(e));
            d.defaults = df;
        } else if (name == "line") {
            QVPN_ASSIGN(Line l, read_line(e));
            for (const auto& other : d.lines) {
                if (iequals(other.name, l.name)) {
                    return fail("XML0009", e.line(), "*LIND", l.name);
                }
            }
            d.lines.push_back(std::move(l));
        } else if (name == "certificate") {
            QVPN_ASSIGN(auto c, read_certificate(r, e));
            any_key = any_key || !c.boxed_key.empty();
            d.certificates.push_back(std::move(c));
        } else if (name == "keyPolicy") {
            QVPN_ASSIGN(auto k, read_key_policy(r, e));
            any_key = any_key || !k.boxed_psk.empty();
            d.key_policies.push_back(std::move(k));
        } else if (name == "dataPolicy") {
            QVPN_ASSIGN(auto p, read_data_policy(r, e));
            d.data_policies.push_back(std::move(p));
        } else if (name == "group") {
            QVPN_ASSIGN(auto g, read_group(r, e));
            d.groups.push_back(std::move(g));
        } else if (name == "manualConnection") {
            QVPN_ASSIGN(auto m, read_manual(r, e));
            any_key = any_key || !m.boxed_keys.empty();
            d.manual_connections.push_back(std::move(m));
        }
    }
    if (any_key && !d.key_protection) {
        return fail("XML0007", r.line_of(root), kRoot, "keyProtection");
    }
    QVPN_TRY(check_unique(d));
    return d;
}

std::string write_config(const ConfigDocument& d) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("UTF-8");
    auto root = doc.append_child(kRoot);
    attr(root, "xmlns", kNamespace);
    attr(root, "version", std::to_string(kConfigFormatVersion));

    if (d.key_protection) {
        auto n = root.append_child("keyProtection");
        attr(n, "kdf", "scrypt");
        attr(n, "n", std::to_string(d.key_protection->n));
        attr(n, "r", std::to_string(d.key_protection->r));
        attr(n, "p", std::to_string(d.key_protection->p));
        attr(n, "salt", to_hex(d.key_protection->salt));
    }
    if (d.attributes) {
        const VpnAttributes& a = *d.attributes;
        auto n = root.append_child("attributes");
        attr(n, "ikeSaRekey", yn(a.ikesa_rekey));
        attr(n, "httpCertLookup", yn(a.http_cert_lookup));
        attr(n, "esn", yn(a.esn));
        attr(n, "responderAggressive", yn(a.responder_aggressive));
        attr(n, "dpdInterval", std::to_string(a.dpd_seconds));
        attr(n, "halfOpenLimit", std::to_string(a.half_open_limit));
        attr(n, "autostart", yn(a.autostart_server));
        attr(n, "otherTraffic", a.generated_permit_other ? "*PERMIT" : "*DENY");
    }
    if (d.defaults) {
        const VpnDefaults& df = *d.defaults;
        auto n = root.append_child("defaults");
        attr(n, "keySecurityLevel", std::string(to_cl(df.key_level)));
        attr(n, "dataSecurityLevel", std::string(to_cl(df.data_level)));
        attr(n, "keyLifetime", std::to_string(df.key_lifetime_minutes));
        attr(n, "keyLifetimeKb", zero_as(df.key_lifetime_kb, "*NOMAX"));
        attr(n, "dataLifetime", std::to_string(df.data_lifetime_minutes));
        attr(n, "dataLifetimeKb", zero_as(df.data_lifetime_kb, "*NOMAX"));
    }
    for (const auto& l : d.lines) {
        auto n = root.append_child("line");
        attr(n, "name", l.name);
        attr(n, "resource", l.interface);
        attr_if(n, "text", l.text);
    }
    for (const auto& c : d.certificates) {
        auto n = root.append_child("certificate");
        attr(n, "label", c.info.label);
        attr(n, "type", std::string(to_cl(c.info.kind)));
        attr_if(n, "text", c.info.text);
        n.append_child("pem").append_child(pugi::node_pcdata).set_value(
            ("\n" + to_pem(c.info)).c_str());
        if (!c.boxed_key.empty()) {
            write_hex(n, "privateKey", c.boxed_key);
        }
    }
    for (const auto& k : d.key_policies) {
        const KeyPolicy& p = k.policy;
        auto n = root.append_child("keyPolicy");
        attr(n, "name", p.name);
        attr(n, "authentication", std::string(to_cl(p.auth)));
        attr_if(n, "certificate", p.cert_label);
        attr(n, "initiatorMode", std::string(to_cl(p.initiator_mode)));
        attr(n, "lifetime", std::to_string(p.lifetime_minutes));
        attr(n, "lifetimeKb", zero_as(p.lifetime_kb, "*NOMAX"));
        attr_if(n, "createdBy", p.created_by);
        attr_if(n, "text", p.text);
        write_identity(n, "remoteKeyServer", p.remote);
        if (!k.boxed_psk.empty()) {
            write_hex(n, "psk", k.boxed_psk);
        }
        for (const auto& t : p.transforms) {
            auto tn = n.append_child("transform");
            attr(tn, "encryption", std::string(to_cl(t.encryption)));
            attr(tn, "hash", std::string(to_cl(t.hash)));
            attr(tn, "dhGroup", std::string(to_cl(t.dh_group)));
        }
    }
    for (const auto& dp : d.data_policies) {
        const DataPolicy& p = dp.policy;
        auto n = root.append_child("dataPolicy");
        attr(n, "name", p.name);
        attr(n, "pfs", std::string(to_cl(p.pfs)));
        attr(n, "mode", std::string(to_cl(p.mode)));
        attr(n, "lifetime", std::to_string(p.lifetime_minutes));
        attr(n, "lifetimeKb", zero_as(p.lifetime_kb, "*NOMAX"));
        attr(n, "ipcomp", yn(p.ipcomp));
        attr_if(n, "createdBy", p.created_by);
        attr_if(n, "text", p.text);
        for (const auto& t : p.transforms) {
            auto tn = n.append_child("transform");
            attr(tn, "protocol", std::string(to_cl(t.protocol)));
            attr(tn, "encryption", std::string(to_cl(t.encryption)));
            attr(tn, "authentication", std::string(to_cl(t.authentication)));
        }
    }
    for (const auto& g : d.groups) {
        const DynamicGroup& x = g.group;
        auto n = root.append_child("group");
        attr(n, "name", x.name);
        attr(n, "role", std::string(to_cl(x.role)));
        attr(n, "initiator", std::string(to_cl(x.initiator)));
        attr(n, "dataPolicy", x.data_policy);
        attr(n, "policyFilter", std::string(to_cl(x.policy_filter)));
        attr(n, "journaling", std::string(to_cl(x.journaling)));
        attr(n, "l2tp", yn(x.l2tp));
        attr(n, "remoteFromPacket", yn(x.populate_from_packet));
        attr(n, "fromWizard", yn(x.from_wizard));
        attr_if(n, "text", x.text);
        for (const auto& k : x.key_policies) {
            attr(n.append_child("remoteKeyServer"), "keyPolicy", k);
        }
        for (const auto& l : x.lines) {
            attr(n.append_child("line"), "name", l);
        }
        for (const auto& c : g.connections) {
            auto cn = n.append_child("connection");
            attr(cn, "name", c.name);
            attr(cn, "localPort", zero_as(c.local_port, "*ANY"));
            attr(cn, "remotePort", zero_as(c.remote_port, "*ANY"));
            attr(cn, "protocol", zero_as(c.protocol, "*ANY"));
            attr(cn, "ikeVersion", std::to_string(c.ike_version));
            attr(cn, "onDemand", yn(c.on_demand));
            attr(cn, "autostart", yn(c.autostart));
            attr(cn, "esn", yn(c.esn));
            attr(cn, "tfc", yn(c.tfc));
            attr(cn, "fromWizard", yn(c.from_wizard));
            attr_if(cn, "text", c.text);
            write_identity(cn, "localKeyServer", c.local_id);
            write_identity(cn, "remoteKeyServer", c.remote_id);
            write_endpoint(cn, "localDataEndpoint", c.local);
            write_endpoint(cn, "remoteDataEndpoint", c.remote);
        }
    }
    for (const auto& m : d.manual_connections) {
        const ManualConnection& c = m.connection;
        auto n = root.append_child("manualConnection");
        attr(n, "name", c.name);
        attr(n, "role", std::string(to_cl(c.role)));
        attr(n, "mode", std::string(to_cl(c.mode)));
        attr(n, "ipsecProtocol", std::string(to_cl(c.protocol)));
        attr(n, "localAddress", c.local_address);
        attr(n, "remoteAddress", c.remote_address);
        attr(n, "localPort", zero_as(c.local_port, "*ANY"));
        attr(n, "remotePort", zero_as(c.remote_port, "*ANY"));
        attr(n, "protocol", zero_as(c.ip_protocol, "*ANY"));
        attr(n, "encryption", std::string(to_cl(c.encryption)));
        attr(n, "authentication", std::string(to_cl(c.authentication)));
        attr(n, "ahAuthentication", std::string(to_cl(c.ah_authentication)));
        attr(n, "policyFilter", std::string(to_cl(c.policy_filter)));
        attr(n, "journaling", std::string(to_cl(c.journaling)));
        attr(n, "autostart", yn(c.autostart));
        attr_if(n, "text", c.text);
        write_endpoint(n, "localDataEndpoint", c.local);
        write_endpoint(n, "remoteDataEndpoint", c.remote);
        if (c.protocol != Protocol::Ah) {
            auto s = n.append_child("esp");
            attr(s, "spiIn", std::to_string(c.esp.spi_in));
            attr(s, "spiOut", std::to_string(c.esp.spi_out));
        }
        if (c.protocol != Protocol::Esp) {
            auto s = n.append_child("ah");
            attr(s, "spiIn", std::to_string(c.ah.spi_in));
            attr(s, "spiOut", std::to_string(c.ah.spi_out));
        }
        for (const auto& l : c.lines) {
            attr(n.append_child("line"), "name", l);
        }
        if (!m.boxed_keys.empty()) {
            write_hex(n, "keys", m.boxed_keys);
        }
    }
    StringWriter w;
    doc.save(w, "  ", pugi::format_default, pugi::encoding_utf8);
    return w.out;
}

// --- export ------------------------------------------------------------------------

namespace {

bool wanted(const std::vector<std::string>& names, const std::string& name) {
    if (names.empty()) {
        return true;
    }
    for (const auto& n : names) {
        if (iequals(n, name)) {
            return true;
        }
    }
    return false;
}

}  // namespace

Result<std::string> export_config(PolicyDb& db, const ExportOptions& opt) {
    ConfigDocument d;
    bool all = opt.groups.empty();
    std::optional<SecretBytes> box_key;
    if (opt.keys) {
        crypto::ScryptParams p;
        p.salt = crypto::random_bytes(16);
        p.n = opt.scrypt_n;
        QVPN_ASSIGN(SecretBytes k, crypto::derive_passphrase_key(opt.passphrase, p));
        box_key = std::move(k);
        d.key_protection = std::move(p);
    }

    // Groups first: with GRP(...) they decide which other objects go along.
    QVPN_ASSIGN(auto groups, db.list_groups());
    std::set<std::string> keys_used, data_used, lines_used;
    for (const auto& name : opt.groups) {
        bool found = false;
        for (const auto& g : groups) {
            found = found || iequals(g.name, name);
        }
        if (!found) {
            return fail("PDB0105", name);
        }
    }
    for (const auto& g : groups) {
        if (!wanted(opt.groups, g.name)) {
            continue;
        }
        ConfigDocument::Group dg;
        dg.group = g;
        QVPN_ASSIGN(dg.connections, db.list_connections(g.name));
        for (const auto& k : g.key_policies) {
            keys_used.insert(to_upper(k));
        }
        data_used.insert(to_upper(g.data_policy));
        for (const auto& l : g.lines) {
            lines_used.insert(to_upper(l));
        }
        d.groups.push_back(std::move(dg));
    }

    std::set<std::string> certs_used;
    QVPN_ASSIGN(auto keys, db.list_key_policies());
    for (auto& k : keys) {
        if (!all && !keys_used.count(to_upper(k.name))) {
            continue;
        }
        ConfigDocument::Key dk;
        if (box_key && k.has_psk) {
            QVPN_ASSIGN(SecretBytes psk, db.key_policy_psk(k.name));
            QVPN_ASSIGN(dk.boxed_psk, crypto::box(*box_key, psk.view(), psk_context(k.name)));
        }
        if (!k.cert_label.empty()) {
            certs_used.insert(to_upper(k.cert_label));
        }
        k.psk = SecretBytes();
        dk.policy = std::move(k);
        d.key_policies.push_back(std::move(dk));
    }
    QVPN_ASSIGN(auto datas, db.list_data_policies());
    for (auto& p : datas) {
        if (all || data_used.count(to_upper(p.name))) {
            d.data_policies.push_back({std::move(p), 0});
        }
    }
    QVPN_ASSIGN(auto lines, db.list_lines());
    for (auto& l : lines) {
        if (all || lines_used.count(to_upper(l.name))) {
            d.lines.push_back(std::move(l));
        }
    }
    // Certificates: every CA, and the system certificates the exported key
    // policies use (all of them for a whole export).
    QVPN_ASSIGN(auto certs, db.list_certificates());
    for (auto& c : certs) {
        if (c.kind == CertKind::System && !all && !certs_used.count(to_upper(c.label))) {
            continue;
        }
        ConfigDocument::Certificate dc;
        if (box_key && c.has_private_key) {
            QVPN_ASSIGN(CertificateKey ck, db.certificate_key(c.label));
            QVPN_ASSIGN(dc.boxed_key, crypto::box(*box_key, ck.private_key_der.view(),
                                                  cert_context(c.label)));
        }
        dc.info = std::move(c);
        d.certificates.push_back(std::move(dc));
    }
    if (all) {
        QVPN_ASSIGN(auto a, db.attributes());
        d.attributes = a;
        QVPN_ASSIGN(auto df, db.defaults());
        d.defaults = df;
        QVPN_ASSIGN(auto manuals, db.list_manual_connections());
        for (auto& m : manuals) {
            ConfigDocument::Manual dm;
            if (box_key && m.has_keys) {
                QVPN_ASSIGN(ManualPolicy mp, db.resolve_manual(m.name));
                Bytes packed = pack_keys(mp.connection);
                auto boxed = crypto::box(*box_key, packed, manual_context(m.name));
                std::fill(packed.begin(), packed.end(), 0);
                if (!boxed.ok()) {
                    return boxed.failure();
                }
                dm.boxed_keys = std::move(*boxed);
            }
            dm.connection = std::move(m);
            d.manual_connections.push_back(std::move(dm));
        }
    }
    return write_config(d);
}

// --- import ------------------------------------------------------------------------

namespace {

// The part of the document GRP(...) selects: the groups and what they use.
Result<ConfigDocument> select_groups(const ConfigDocument& d, const std::vector<std::string>& names) {
    if (names.empty()) {
        return d;
    }
    ConfigDocument s;
    s.key_protection = d.key_protection;
    std::set<std::string> keys, datas, lines, certs;
    for (const auto& n : names) {
        bool found = false;
        for (const auto& g : d.groups) {
            if (iequals(g.group.name, n)) {
                found = true;
                s.groups.push_back(g);
                datas.insert(to_upper(g.group.data_policy));
                for (const auto& k : g.group.key_policies) {
                    keys.insert(to_upper(k));
                }
                for (const auto& l : g.group.lines) {
                    lines.insert(to_upper(l));
                }
            }
        }
        if (!found) {
            return fail("XML000E", n);
        }
    }
    for (const auto& k : d.key_policies) {
        if (keys.count(to_upper(k.policy.name))) {
            s.key_policies.push_back(k);
            if (!k.policy.cert_label.empty()) {
                certs.insert(to_upper(k.policy.cert_label));
            }
        }
    }
    for (const auto& p : d.data_policies) {
        if (datas.count(to_upper(p.policy.name))) {
            s.data_policies.push_back(p);
        }
    }
    for (const auto& l : d.lines) {
        if (lines.count(to_upper(l.name))) {
            s.lines.push_back(l);
        }
    }
    for (const auto& c : d.certificates) {
        if (c.info.kind == CertKind::Ca || certs.count(to_upper(c.info.label))) {
            s.certificates.push_back(c);
        }
    }
    return s;
}

struct ClearKeys {
    std::vector<SecretBytes> psk;       // per key policy (empty: none)
    std::vector<SecretBytes> manual;    // packed, per manual connection
    std::vector<SecretBytes> cert;      // per certificate
};

// Open every key before touching the database, so a wrong passphrase
// changes nothing.
Result<ClearKeys> open_keys(const ConfigDocument& d, const ImportOptions& opt) {
    ClearKeys k;
    k.psk.resize(d.key_policies.size());
    k.manual.resize(d.manual_connections.size());
    k.cert.resize(d.certificates.size());
    bool any = false;
    for (const auto& x : d.key_policies) {
        any = any || !x.boxed_psk.empty();
    }
    for (const auto& x : d.manual_connections) {
        any = any || !x.boxed_keys.empty();
    }
    for (const auto& x : d.certificates) {
        any = any || !x.boxed_key.empty();
    }
    if (!any || !opt.keys) {
        return k;
    }
    QVPN_ASSIGN(SecretBytes key,
                crypto::derive_passphrase_key(opt.passphrase, *d.key_protection));
    auto open = [&](const Bytes& boxed, const std::string& ctx, size_t line,
                    const char* what) -> Result<SecretBytes> {
        auto r = crypto::unbox(key, boxed, ctx);
        if (!r.ok()) {
            return fail("XML000C", line, what);
        }
        return std::move(*r);
    };
    for (size_t i = 0; i < d.key_policies.size(); ++i) {
        const auto& x = d.key_policies[i];
        if (!x.boxed_psk.empty()) {
            QVPN_ASSIGN(k.psk[i], open(x.boxed_psk, psk_context(x.policy.name), x.line, "psk"));
        }
    }
    for (size_t i = 0; i < d.manual_connections.size(); ++i) {
        const auto& x = d.manual_connections[i];
        if (!x.boxed_keys.empty()) {
            QVPN_ASSIGN(k.manual[i],
                        open(x.boxed_keys, manual_context(x.connection.name), x.line, "keys"));
        }
    }
    for (size_t i = 0; i < d.certificates.size(); ++i) {
        const auto& x = d.certificates[i];
        if (!x.boxed_key.empty()) {
            QVPN_ASSIGN(k.cert[i],
                        open(x.boxed_key, cert_context(x.info.label), x.line, "privateKey"));
        }
    }
    return k;
}

Status import_certificates(PolicyDb& db, const ConfigDocument& d, const ClearKeys& keys,
                           ImportResult& res) {
    QVPN_ASSIGN(auto existing, db.list_certificates());
    for (size_t i = 0; i < d.certificates.size(); ++i) {
        const auto& c = d.certificates[i];
        const CertificateInfo* same = nullptr;
        for (const auto& e : existing) {
            if (iequals(e.label, c.info.label)) {
                same = &e;
            }
        }
        if (same != nullptr) {
            // The same certificate already here: nothing to do.
            if (same->fingerprint == c.info.fingerprint && same->kind == c.info.kind) {
                continue;
            }
            return fail("DCM0002", c.info.label);
        }
        if (c.info.kind == CertKind::System && keys.cert[i].empty()) {
            res.notes.push_back(msg("XML000F", c.info.label));
            continue;
        }
        if (c.info.kind == CertKind::System) {
            // The key must belong to the certificate, as with ADDDCMCRT.
            CertificateKey ck{c.info, keys.cert[i]};
            QVPN_ASSIGN(PkeyPtr pk, to_private_key(ck));
            QVPN_ASSIGN(X509Ptr x, to_x509(c.info));
            if (X509_check_private_key(x.get(), pk.get()) != 1) {
                return fail("DCM0011", c.info.label);
            }
            ++res.keys;
        }
        QVPN_TRY(db.add_certificate(c.info, keys.cert[i]));
        ++res.objects;
    }
    return {};
}

}  // namespace

Result<ImportResult> import_config(PolicyDb& db, const ConfigDocument& in,
                                   const ImportOptions& opt) {
    ImportResult res;
    QVPN_ASSIGN(ConfigDocument d, select_groups(in, opt.groups));
    QVPN_ASSIGN(ClearKeys keys, open_keys(d, opt));

    Status st = db.transaction([&]() -> Status {
        if (opt.replace) {
            QVPN_TRY(db.erase_configuration());
        }
        if (d.attributes) {
            QVPN_TRY(db.set_attributes(*d.attributes));
        }
        if (d.defaults) {
            QVPN_TRY(db.set_defaults(*d.defaults));
        }
        for (const auto& l : d.lines) {
            QVPN_TRY(db.create_line(l));
            ++res.objects;
        }
        QVPN_TRY(import_certificates(db, d, keys, res));
        for (size_t i = 0; i < d.key_policies.size(); ++i) {
            KeyPolicy p = d.key_policies[i].policy;
            p.psk = keys.psk[i];
            p.has_psk = !p.psk.empty();
            if (p.auth == AuthMethod::Psk && !p.has_psk) {
                ++res.keys_left_out;
            }
            res.keys += p.has_psk ? 1 : 0;
            QVPN_TRY(db.create_key_policy(p));
            ++res.objects;
        }
        for (const auto& p : d.data_policies) {
            QVPN_TRY(db.create_data_policy(p.policy));
            ++res.objects;
        }
        for (const auto& g : d.groups) {
            QVPN_TRY(db.create_group(g.group));
            ++res.objects;
            for (const auto& c : g.connections) {
                QVPN_TRY(db.create_connection(c));
                ++res.objects;
            }
        }
        for (size_t i = 0; i < d.manual_connections.size(); ++i) {
            ManualConnection c = d.manual_connections[i].connection;
            c.has_keys = false;
            if (!keys.manual[i].empty()) {
                if (!unpack_keys(keys.manual[i].view(), c)) {
                    return fail("XML000C", d.manual_connections[i].line, "keys");
                }
                c.has_keys = true;
                ++res.keys;
            } else {
                ++res.keys_left_out;
            }
            QVPN_TRY(db.create_manual_connection(c));
            ++res.objects;
        }
        return {};
    });
    if (!st.ok()) {
        return st.failure();
    }
    return res;
}

}  // namespace qvpn::policy
