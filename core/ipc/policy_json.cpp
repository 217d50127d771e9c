#include "core/ipc/policy_json.hpp"

#include "core/base/bytes.hpp"

namespace qvpn::ipc {

namespace {

using nlohmann::json;
using namespace qvpn::policy;

template <class T>
std::string cl(T v) {
    return std::string(to_cl(v));
}

json identity(const Identity& i) { return {{"type", cl(i.type)}, {"value", i.value}}; }

json endpoint(const DataEndpoint& e) {
    return {{"type", cl(e.type)}, {"address", e.address}, {"extra", e.extra}};
}

// Reads fields of one object and remembers the first problem.
class Reader {
public:
    explicit Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

    std::string str(const char* k) {
        if (!j_.is_object() || !j_.contains(k) || !j_[k].is_string()) {
            bad(k);
            return {};
        }
        return j_[k].get<std::string>();
    }
    int num(const char* k) {
        if (!j_.is_object() || !j_.contains(k) || !j_[k].is_number_integer()) {
            bad(k);
            return 0;
        }
        return j_[k].get<int>();
    }
    bool flag(const char* k) {
        if (!j_.is_object() || !j_.contains(k) || !j_[k].is_boolean()) {
            bad(k);
            return false;
        }
        return j_[k].get<bool>();
    }
    template <class T>
    T en(const char* k) {
        auto v = from_cl<T>(str(k));
        if (!v) {
            bad(k);
            return T{};
        }
        return *v;
    }
    const json& sub(const char* k) {
        static const json kNull;
        if (!j_.is_object() || !j_.contains(k)) {
            bad(k);
            return kNull;
        }
        return j_[k];
    }
    std::vector<std::string> strs(const char* k) {
        std::vector<std::string> out;
        const json& a = sub(k);
        if (!a.is_array()) {
            bad(k);
            return out;
        }
        for (const auto& s : a) {
            if (!s.is_string()) {
                bad(k);
                return out;
            }
            out.push_back(s.get<std::string>());
        }
        return out;
    }
    void bad(const char* k) {
        if (problem_.empty()) {
            problem_ = where_ + "." + k;
        }
    }
    void adopt(const std::string& p) {
        if (problem_.empty() && !p.empty()) {
            problem_ = p;
        }
    }
    const std::string& problem() const { return problem_; }

private:
    const json& j_;
    std::string where_;
    std::string problem_;
};

Identity read_identity(const json& j, const std::string& where, std::string& problem) {
    Reader r(j, where);
    Identity i{r.en<IdType>("type"), r.str("value")};
    problem = r.problem();
    return i;
}

DataEndpoint read_endpoint(const json& j, const std::string& where, std::string& problem) {
    Reader r(j, where);
    DataEndpoint e{r.en<EndpointType>("type"), r.str("address"), r.str("extra")};
    problem = r.problem();
    return e;
}

}  // namespace

json policy_to_json(const ConnectionPolicy& p) {
    const auto& c = p.connection;
    const auto& g = p.group;
    const auto& k = p.key;
    const auto& d = p.data;
    const auto& a = p.attributes;
    json kt = json::array();
    for (const auto& t : k.transforms) {
        kt.push_back({{"encryption", cl(t.encryption)},
                      {"hash", cl(t.hash)},
                      {"dh_group", cl(t.dh_group)}});
    }
    json dt = json::array();
    for (const auto& t : d.transforms) {
        dt.push_back({{"protocol", cl(t.protocol)},
                      {"encryption", cl(t.encryption)},
                      {"authentication", cl(t.authentication)}});
    }
    json rks = json::array();
    for (const auto& i : g.remote_key_servers) {
        rks.push_back(identity(i));
    }
    return {
        {"connection",
         {{"name", c.name}, {"group", c.group}, {"local_id", identity(c.local_id)},
          {"remote_id", identity(c.remote_id)}, {"local", endpoint(c.local)},
          {"remote", endpoint(c.remote)}, {"local_port", c.local_port},
          {"remote_port", c.remote_port}, {"protocol", c.protocol}, {"on_demand", c.on_demand},
          {"autostart", c.autostart}, {"ike_version", c.ike_version}, {"esn", c.esn},
          {"tfc", c.tfc}, {"text", c.text}}},
        {"group",
         {{"name", g.name}, {"role", cl(g.role)}, {"initiator", cl(g.initiator)},
          {"data_policy", g.data_policy}, {"policy_filter", cl(g.policy_filter)},
          {"lines", g.lines}, {"journaling", cl(g.journaling)},
          {"populate_from_packet", g.populate_from_packet}, {"l2tp", g.l2tp},
          {"local_nat_pool", g.local_nat_pool}, {"remote_nat_pool", g.remote_nat_pool},
          {"key_policies", g.key_policies}, {"remote_key_servers", rks},
          {"position", g.position}, {"from_wizard", g.from_wizard}, {"text", g.text}}},
        {"key",
         {{"name", k.name}, {"remote", identity(k.remote)}, {"auth", cl(k.auth)},
          {"psk", to_hex(k.psk.view())}, {"has_psk", k.has_psk}, {"cert_label", k.cert_label},
          {"initiator_mode", cl(k.initiator_mode)}, {"lifetime_minutes", k.lifetime_minutes},
          {"lifetime_kb", k.lifetime_kb}, {"transforms", kt}, {"text", k.text}}},
        {"data",
         {{"name", d.name}, {"pfs", cl(d.pfs)}, {"mode", cl(d.mode)},
          {"lifetime_minutes", d.lifetime_minutes}, {"lifetime_kb", d.lifetime_kb},
          {"ipcomp", d.ipcomp}, {"transforms", dt}, {"text", d.text}}},
        {"attributes",
         {{"ikesa_rekey", a.ikesa_rekey}, {"http_cert_lookup", a.http_cert_lookup},
          {"esn", a.esn}, {"responder_aggressive", a.responder_aggressive},
          {"dpd_seconds", a.dpd_seconds}, {"half_open_limit", a.half_open_limit},
          {"autostart_server", a.autostart_server},
          {"generated_permit_other", a.generated_permit_other}}},
    };
}

Result<ConnectionPolicy> policy_from_json(const json& j) {
    ConnectionPolicy p;
    Reader top(j, "policy");
    std::string sub_problem;

    Reader c(top.sub("connection"), "connection");
    p.connection.name = c.str("name");
    p.connection.group = c.str("group");
    p.connection.local_id = read_identity(c.sub("local_id"), "connection.local_id", sub_problem);
    c.adopt(sub_problem);
    p.connection.remote_id = read_identity(c.sub("remote_id"), "connection.remote_id", sub_problem);
    c.adopt(sub_problem);
    p.connection.local = read_endpoint(c.sub("local"), "connection.local", sub_problem);
    c.adopt(sub_problem);
    p.connection.remote = read_endpoint(c.sub("remote"), "connection.remote", sub_problem);
    c.adopt(sub_problem);
    p.connection.local_port = c.num("local_port");
    p.connection.remote_port = c.num("remote_port");
    p.connection.protocol = c.num("protocol");
    p.connection.on_demand = c.flag("on_demand");
    p.connection.autostart = c.flag("autostart");
    p.connection.ike_version = c.num("ike_version");
    p.connection.esn = c.flag("esn");
    p.connection.tfc = c.flag("tfc");
    p.connection.text = c.str("text");

    Reader g(top.sub("group"), "group");
    p.group.name = g.str("name");
    p.group.role = g.en<SystemRole>("role");
    p.group.initiator = g.en<Initiator>("initiator");
    p.group.data_policy = g.str("data_policy");
    p.group.policy_filter = g.en<PolicyFilter>("policy_filter");
    p.group.lines = g.strs("lines");
    p.group.journaling = g.en<Journaling>("journaling");
    p.group.populate_from_packet = g.flag("populate_from_packet");
    p.group.l2tp = g.flag("l2tp");
    p.group.local_nat_pool = g.str("local_nat_pool");
    p.group.remote_nat_pool = g.str("remote_nat_pool");
    const json& rks = g.sub("remote_key_servers");
    if (rks.is_array()) {
        for (const auto& i : rks) {
            p.group.remote_key_servers.push_back(
                read_identity(i, "group.remote_key_servers", sub_problem));
            g.adopt(sub_problem);
        }
    } else {
        g.bad("remote_key_servers");
    }
    p.group.key_policies = g.strs("key_policies");
    p.group.position = g.num("position");
    p.group.from_wizard = g.flag("from_wizard");
    p.group.text = g.str("text");

    Reader k(top.sub("key"), "key");
    p.key.name = k.str("name");
    p.key.remote = read_identity(k.sub("remote"), "key.remote", sub_problem);
    k.adopt(sub_problem);
    p.key.auth = k.en<AuthMethod>("auth");
    auto psk = from_hex(k.str("psk"));
    if (psk.ok()) {
        p.key.psk = SecretBytes(std::move(*psk));
    } else {
        k.bad("psk");
    }
    p.key.has_psk = k.flag("has_psk");
    p.key.cert_label = k.str("cert_label");
    p.key.initiator_mode = k.en<NegotiationMode>("initiator_mode");
    p.key.lifetime_minutes = k.num("lifetime_minutes");
    p.key.lifetime_kb = k.num("lifetime_kb");
    const json& kts = k.sub("transforms");
    if (kts.is_array()) {
        for (const auto& t : kts) {
            Reader r(t, "key.transforms");
            p.key.transforms.push_back(
                {r.en<Encr>("encryption"), r.en<Hash>("hash"), r.en<DhGroup>("dh_group")});
            k.adopt(r.problem());
        }
    } else {
        k.bad("transforms");
    }
    p.key.text = k.str("text");

    Reader d(top.sub("data"), "data");
    p.data.name = d.str("name");
    p.data.pfs = d.en<DhGroup>("pfs");
    p.data.mode = d.en<Mode>("mode");
    p.data.lifetime_minutes = d.num("lifetime_minutes");
    p.data.lifetime_kb = d.num("lifetime_kb");
    p.data.ipcomp = d.flag("ipcomp");
    const json& dts = d.sub("transforms");
    if (dts.is_array()) {
        for (const auto& t : dts) {
            Reader r(t, "data.transforms");
            p.data.transforms.push_back({r.en<Protocol>("protocol"), r.en<Encr>("encryption"),
                                         r.en<DataAuth>("authentication")});
            d.adopt(r.problem());
        }
    } else {
        d.bad("transforms");
    }
    p.data.text = d.str("text");

    Reader a(top.sub("attributes"), "attributes");
    p.attributes.ikesa_rekey = a.flag("ikesa_rekey");
    p.attributes.http_cert_lookup = a.flag("http_cert_lookup");
    p.attributes.esn = a.flag("esn");
    p.attributes.responder_aggressive = a.flag("responder_aggressive");
    p.attributes.dpd_seconds = a.num("dpd_seconds");
    p.attributes.half_open_limit = a.num("half_open_limit");
    p.attributes.autostart_server = a.flag("autostart_server");
    p.attributes.generated_permit_other = a.flag("generated_permit_other");

    for (const Reader* r : {&top, &c, &g, &k, &d, &a}) {
        if (!r->problem().empty()) {
            return fail("IPC0003", "key manager", "policy field " + r->problem());
        }
    }
    return p;
}

}  // namespace qvpn::ipc
