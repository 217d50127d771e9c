#include "daemon/sa/sa_json.hpp"

#include <cstdio>
#include <initializer_list>
#include <limits>

namespace qvpn::sa {

using nlohmann::json;
using ike::EncrId;
using ike::IntegId;

namespace {

struct EncrName {
    EncrId id;
    std::string_view name;
};
constexpr EncrName kEncrNames[] = {
    {EncrId::ENCR_DES, "ENCR_DES"},
    {EncrId::ENCR_3DES, "ENCR_3DES"},
    {EncrId::ENCR_NULL, "ENCR_NULL"},
    {EncrId::ENCR_AES_CBC, "ENCR_AES_CBC"},
    {EncrId::ENCR_AES_CTR, "ENCR_AES_CTR"},
    {EncrId::ENCR_AES_CCM_8, "ENCR_AES_CCM_8"},
    {EncrId::ENCR_AES_CCM_12, "ENCR_AES_CCM_12"},
    {EncrId::ENCR_AES_CCM_16, "ENCR_AES_CCM_16"},
    {EncrId::ENCR_AES_GCM_8, "ENCR_AES_GCM_8"},
    {EncrId::ENCR_AES_GCM_12, "ENCR_AES_GCM_12"},
    {EncrId::ENCR_AES_GCM_16, "ENCR_AES_GCM_16"},
    {EncrId::ENCR_NULL_AUTH_AES_GMAC, "ENCR_NULL_AUTH_AES_GMAC"},
};

struct IntegName {
    IntegId id;
    std::string_view name;
};
constexpr IntegName kIntegNames[] = {
    {IntegId::NONE, "NONE"},
    {IntegId::AUTH_HMAC_MD5_96, "AUTH_HMAC_MD5_96"},
    {IntegId::AUTH_HMAC_SHA1_96, "AUTH_HMAC_SHA1_96"},
    {IntegId::AUTH_AES_XCBC_96, "AUTH_AES_XCBC_96"},
    {IntegId::AUTH_AES_128_GMAC, "AUTH_AES_128_GMAC"},
    {IntegId::AUTH_AES_192_GMAC, "AUTH_AES_192_GMAC"},
    {IntegId::AUTH_AES_256_GMAC, "AUTH_AES_256_GMAC"},
    {IntegId::AUTH_HMAC_SHA2_256_128, "AUTH_HMAC_SHA2_256_128"},
    {IntegId::AUTH_HMAC_SHA2_384_192, "AUTH_HMAC_SHA2_384_192"},
    {IntegId::AUTH_HMAC_SHA2_512_256, "AUTH_HMAC_SHA2_512_256"},
};

Failure bad(std::string_view where, std::string_view key, std::string_view why) {
    std::string field(where);
    if (!key.empty()) {
        field += '.';
        field += key;
    }
    return fail("XFR0001", field, why);
}

std::string hex32(uint32_t v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*x", digits, v);
    return buf;
}

// Strict object reader: every key must be known, every accessor checks the
// type. Errors are collected as the first failure.
class ObjReader {
public:
    ObjReader(const json& j, std::string_view where) : j_(j), where_(where) {
        if (!j.is_object()) {
            err_ = bad(where, "", "an object is required");
        }
    }

    // Call once with every key the object may contain.
    void known(std::initializer_list<std::string_view> keys) {
        if (err_ || !j_.is_object()) {
            return;
        }
        for (auto it = j_.begin(); it != j_.end(); ++it) {
            bool found = false;
            for (auto k : keys) {
                found = found || it.key() == k;
            }
            if (!found) {
                err_ = bad(where_, it.key(), "unknown field");
                return;
            }
        }
    }

    bool has(std::string_view key) const {
        return !err_ && j_.is_object() && j_.contains(key) && !j_.at(key).is_null();
    }

    const json* get(std::string_view key, bool required) {
        if (err_) {
            return nullptr;
        }
        if (!has(key)) {
            if (required) {
                err_ = bad(where_, key, "missing");
            }
            return nullptr;
        }
        return &j_.at(key);
    }

    template <class T>
    void uint(std::string_view key, T& out, bool required, uint64_t max) {
        const json* v = get(key, required);
        if (!v) {
            return;
        }
        if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
            err_ = bad(where_, key, "an unsigned integer is required");
            return;
        }
        uint64_t n = v->get<uint64_t>();
        if (n > max) {
            err_ = bad(where_, key, "value " + std::to_string(n) + " is larger than " +
                                        std::to_string(max));
            return;
        }
        out = static_cast<T>(n);
    }

    void boolean(std::string_view key, bool& out) {
        const json* v = get(key, false);
        if (!v) {
            return;
        }
        if (!v->is_boolean()) {
            err_ = bad(where_, key, "true or false is required");
            return;
        }
        out = v->get<bool>();
    }

    const std::string* string(std::string_view key, bool required) {
        const json* v = get(key, required);
        if (!v) {
            return nullptr;
        }
        if (!v->is_string()) {
            err_ = bad(where_, key, "a string is required");
            return nullptr;
        }
        return v->get_ptr<const std::string*>();
    }

    // A 32-bit (or 16-bit for CPIs) value written as hex digits.
    void hex_u32(std::string_view key, uint32_t& out, bool required, unsigned max_digits) {
        const std::string* s = string(key, required);
        if (!s) {
            return;
        }
        if (s->empty() || s->size() > max_digits) {
            err_ = bad(where_, key, "1 to " + std::to_string(max_digits) + " hex digits required");
            return;
        }
        uint32_t v = 0;
        for (char c : *s) {
            int d = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
            if (d < 0) {
                err_ = bad(where_, key, "'" + *s + "' is not hexadecimal");
                return;
            }
            v = v << 4 | uint32_t(d);
        }
        out = v;
    }

    void secret(std::string_view key, SecretBytes& out) {
        const std::string* s = string(key, false);
        if (!s) {
            return;
        }
        auto b = from_hex(*s);
        if (!b) {
            err_ = bad(where_, key, "not an even number of hex digits");
            return;
        }
        out = SecretBytes(std::move(*b));
    }

    void address(std::string_view key, IpAddress& out) {
        const std::string* s = string(key, true);
        if (!s) {
            return;
        }
        auto a = IpAddress::parse(*s);
        if (!a) {
            err_ = bad(where_, key, "'" + *s + "' is not an IPv4 or IPv6 address");
            return;
        }
        out = *a;
    }

    void set_error(Failure f) {
        if (!err_) {
            err_ = std::move(f);
        }
    }
    bool failed() const { return err_.has_value(); }
    Failure error() const { return *err_; }
    std::string path(std::string_view key) const { return where_ + "." + std::string(key); }

private:
    const json& j_;
    std::string where_;
    std::optional<Failure> err_;
};

json sa_pair_json(const SaPair& p) {
    return json{{"in", to_json(p.in)}, {"out", to_json(p.out)}};
}

Result<SaPair> sa_pair_from_json(const json& j, std::string_view where) {
    ObjReader r(j, where);
    r.known({"in", "out"});
    const json* in = r.get("in", true);
    const json* out = r.get("out", true);
    if (r.failed()) {
        return r.error();
    }
    SaPair p;
    QVPN_ASSIGN(p.in, sa_keys_from_json(*in, r.path("in")));
    QVPN_ASSIGN(p.out, sa_keys_from_json(*out, r.path("out")));
    return p;
}

Result<std::vector<TrafficSelector>> selectors_from_json(const json* j, std::string_view where) {
    std::vector<TrafficSelector> out;
    if (!j) {
        return out;
    }
    if (!j->is_array()) {
        return bad(where, "", "an array is required");
    }
    for (size_t i = 0; i < j->size(); ++i) {
        QVPN_ASSIGN(auto ts, selector_from_json((*j)[i], std::string(where) + "[" +
                                                             std::to_string(i) + "]"));
        out.push_back(std::move(ts));
    }
    return out;
}

}  // namespace

std::string_view encr_name(EncrId id) {
    for (const auto& e : kEncrNames) {
        if (e.id == id) {
            return e.name;
        }
    }
    return "";
}

std::string_view integ_name(IntegId id) {
    for (const auto& e : kIntegNames) {
        if (e.id == id) {
            return e.name;
        }
    }
    return "";
}

std::optional<EncrId> encr_from_name(std::string_view name) {
    for (const auto& e : kEncrNames) {
        if (e.name == name) {
            return e.id;
        }
    }
    return std::nullopt;
}

std::optional<IntegId> integ_from_name(std::string_view name) {
    for (const auto& e : kIntegNames) {
        if (e.name == name) {
            return e.id;
        }
    }
    return std::nullopt;
}

Result<IpRange> parse_ip_range(std::string_view text) {
    auto dash = text.find('-');
    if (dash != std::string_view::npos) {
        auto from = IpAddress::parse(text.substr(0, dash));
        auto to = IpAddress::parse(text.substr(dash + 1));
        if (!from || !to || from->family() != to->family() || *to < *from) {
            return fail("XFR0001", "addrs", "'" + std::string(text) + "' is not a valid range");
        }
        return IpRange{*from, *to};
    }
    auto slash = text.find('/');
    if (slash != std::string_view::npos) {
        auto net = IpAddress::parse(text.substr(0, slash));
        std::string_view len_text = text.substr(slash + 1);
        int len = -1;
        if (!len_text.empty() && len_text.size() <= 3) {
            len = 0;
            for (char c : len_text) {
                len = (c >= '0' && c <= '9') ? len * 10 + (c - '0') : -1000;
            }
        }
        if (!net || len < 0 || len > (net->is_v4() ? 32 : 128)) {
            return fail("XFR0001", "addrs", "'" + std::string(text) + "' is not a valid prefix");
        }
        return IpRange::prefix(*net, len);
    }
    auto a = IpAddress::parse(text);
    if (!a) {
        return fail("XFR0001", "addrs", "'" + std::string(text) + "' is not an address");
    }
    return IpRange::single(*a);
}

json to_json(const SaKeys& k) {
    return json{{"spi", hex32(k.spi, 8)},
                {"encr", std::string(encr_name(k.encr))},
                {"encr_key_bits", k.encr_key_bits},
                {"encr_key", to_hex(k.encr_key.view())},
                {"integ", std::string(integ_name(k.integ))},
                {"integ_key", to_hex(k.integ_key.view())}};
}

json to_json(const TrafficSelector& ts) {
    return json{{"ip_proto", ts.ip_proto},
                {"port_from", ts.port_from},
                {"port_to", ts.port_to},
                {"addrs", ts.addrs.to_string()}};
}

json to_json(const ChildSa& sa) {
    json j{{"conn", sa.conn},
           {"reqid", sa.reqid},
           {"mode", sa.mode == Mode::Tunnel ? "tunnel" : "transport"},
           {"local", sa.local.to_string()},
           {"remote", sa.remote.to_string()},
           {"esn", sa.esn},
           {"replay_window", sa.replay_window},
           {"tfc", sa.tfc}};
    if (sa.encap) {
        j["encap"] = {{"local_port", sa.encap->local_port},
                      {"remote_port", sa.encap->remote_port}};
    }
    if (sa.esp) {
        j["esp"] = sa_pair_json(*sa.esp);
    }
    if (sa.ah) {
        j["ah"] = sa_pair_json(*sa.ah);
    }
    if (sa.ipcomp) {
        j["ipcomp"] = {{"cpi_in", hex32(sa.ipcomp->cpi_in, 4)},
                       {"cpi_out", hex32(sa.ipcomp->cpi_out, 4)}};
    }
    json tl = json::array(), tr = json::array();
    for (const auto& ts : sa.ts_local) {
        tl.push_back(to_json(ts));
    }
    for (const auto& ts : sa.ts_remote) {
        tr.push_back(to_json(ts));
    }
    j["ts_local"] = std::move(tl);
    j["ts_remote"] = std::move(tr);
    j["lifetime"] = {{"soft_seconds", sa.lifetime.soft_seconds},
                     {"hard_seconds", sa.lifetime.hard_seconds},
                     {"soft_bytes", sa.lifetime.soft_bytes},
                     {"hard_bytes", sa.lifetime.hard_bytes}};
    return j;
}

Result<SaKeys> sa_keys_from_json(const json& j, std::string_view where) {
    ObjReader r(j, where);
    r.known({"spi", "encr", "encr_key_bits", "encr_key", "integ", "integ_key"});
    SaKeys k;
    r.hex_u32("spi", k.spi, true, 8);
    if (const std::string* e = r.string("encr", false)) {
        auto id = encr_from_name(*e);
        if (!id) {
            r.set_error(bad(where, "encr", "unknown transform '" + *e + "'"));
        } else {
            k.encr = *id;
        }
    }
    r.uint("encr_key_bits", k.encr_key_bits, false, 1024);
    r.secret("encr_key", k.encr_key);
    if (const std::string* i = r.string("integ", false)) {
        auto id = integ_from_name(*i);
        if (!id) {
            r.set_error(bad(where, "integ", "unknown transform '" + *i + "'"));
        } else {
            k.integ = *id;
        }
    }
    r.secret("integ_key", k.integ_key);
    if (r.failed()) {
        return r.error();
    }
    return k;
}

Result<TrafficSelector> selector_from_json(const json& j, std::string_view where) {
    ObjReader r(j, where);
    r.known({"ip_proto", "port_from", "port_to", "addrs"});
    TrafficSelector ts;
    r.uint("ip_proto", ts.ip_proto, false, 255);
    r.uint("port_from", ts.port_from, false, 65535);
    r.uint("port_to", ts.port_to, false, 65535);
    const std::string* a = r.string("addrs", true);
    if (r.failed()) {
        return r.error();
    }
    auto range = parse_ip_range(*a);
    if (!range) {
        return bad(where, "addrs", range.error().value(2));
    }
    ts.addrs = *range;
    if (ts.port_from > ts.port_to) {
        return bad(where, "port_from", "larger than port_to");
    }
    return ts;
}

Result<ChildSa> child_sa_from_json(const json& j) {
    ObjReader r(j, "sa");
    r.known({"conn", "reqid", "mode", "local", "remote", "encap", "esp", "ah", "ipcomp", "esn",
             "replay_window", "tfc", "ts_local", "ts_remote", "lifetime"});
    ChildSa sa;
    if (const std::string* c = r.string("conn", true)) {
        sa.conn = *c;
    }
    r.uint("reqid", sa.reqid, true, std::numeric_limits<uint32_t>::max());
    if (const std::string* m = r.string("mode", true)) {
        if (*m == "tunnel") {
            sa.mode = Mode::Tunnel;
        } else if (*m == "transport") {
            sa.mode = Mode::Transport;
        } else {
            r.set_error(bad("sa", "mode", "'" + *m + "' is neither tunnel nor transport"));
        }
    }
    r.address("local", sa.local);
    r.address("remote", sa.remote);
    r.boolean("esn", sa.esn);
    r.uint("replay_window", sa.replay_window, false, 4096);
    r.boolean("tfc", sa.tfc);
    const json* encap = r.get("encap", false);
    const json* esp = r.get("esp", false);
    const json* ah = r.get("ah", false);
    const json* ipcomp = r.get("ipcomp", false);
    const json* tsl = r.get("ts_local", false);
    const json* tsr = r.get("ts_remote", false);
    const json* life = r.get("lifetime", false);
    if (r.failed()) {
        return r.error();
    }
    if (encap) {
        ObjReader e(*encap, "sa.encap");
        e.known({"local_port", "remote_port"});
        Encap en;
        e.uint("local_port", en.local_port, false, 65535);
        e.uint("remote_port", en.remote_port, false, 65535);
        if (e.failed()) {
            return e.error();
        }
        sa.encap = en;
    }
    if (esp) {
        QVPN_ASSIGN(sa.esp, sa_pair_from_json(*esp, "sa.esp"));
    }
    if (ah) {
        QVPN_ASSIGN(sa.ah, sa_pair_from_json(*ah, "sa.ah"));
    }
    if (ipcomp) {
        ObjReader c(*ipcomp, "sa.ipcomp");
        c.known({"cpi_in", "cpi_out"});
        uint32_t in = 0, out = 0;
        c.hex_u32("cpi_in", in, true, 4);
        c.hex_u32("cpi_out", out, true, 4);
        if (c.failed()) {
            return c.error();
        }
        sa.ipcomp = IpComp{uint16_t(in), uint16_t(out)};
    }
    QVPN_ASSIGN(sa.ts_local, selectors_from_json(tsl, "sa.ts_local"));
    QVPN_ASSIGN(sa.ts_remote, selectors_from_json(tsr, "sa.ts_remote"));
    if (life) {
        ObjReader l(*life, "sa.lifetime");
        l.known({"soft_seconds", "hard_seconds", "soft_bytes", "hard_bytes"});
        constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
        l.uint("soft_seconds", sa.lifetime.soft_seconds, false, kMax);
        l.uint("hard_seconds", sa.lifetime.hard_seconds, false, kMax);
        l.uint("soft_bytes", sa.lifetime.soft_bytes, false, kMax);
        l.uint("hard_bytes", sa.lifetime.hard_bytes, false, kMax);
        if (l.failed()) {
            return l.error();
        }
    }
    return sa;
}

Result<ChildSa> child_sa_from_text(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) {
        return fail("XFR0001", "sa", "the text is not valid JSON");
    }
    return child_sa_from_json(j);
}

}  // namespace qvpn::sa
