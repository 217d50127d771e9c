// TODO(policydb): core/policy's PolicyDb API is not on main yet, so this
// file reads policy.db with plain SQL through the tables below, one row per
// object, columns named after the fields of core/policy/model.hpp, enums in
// their CL spelling, lists as comma-separated names. A table that is absent
// reads as empty; a database whose tables differ fails with NFT0130 rather
// than being misread. Switch read_vpn_config() to PolicyDb once it lands;
// nothing else in rules/ reads the policy database.
//
//   line(name, interface, text)
//   dynamic_group(name, policy_filter, lines, journaling, remote_key_servers)
//   dynamic_connection(name, group_name, local_id_type, local_id, remote_id_type,
//                      remote_id, local_type, local_address, local_extra,
//                      remote_type, remote_address, remote_extra, local_port,
//                      remote_port, protocol)
//   manual_connection(name, local_type, local_address, local_extra, remote_type,
//                     remote_address, remote_extra, local_port, remote_port,
//                     ip_protocol, policy_filter, lines, journaling)
//   vpn_attributes(generated_permit_other)
//   connection_state(name, state)
#include "rules/vpn_config.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <map>

#include "core/base/ip.hpp"
#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::rules {

bool ConnectionState::active() const {
    return !iequals(state, "*IDLE") && !iequals(state, "*ERROR") && !state.empty();
}

std::string VpnConfig::interface_of(const std::string& line) const {
    for (const auto& l : lines) {
        if (iequals(l.name, line)) {
            return l.interface;
        }
    }
    return line;
}

bool VpnConfig::has_line_object(const std::string& line) const {
    for (const auto& l : lines) {
        if (iequals(l.name, line)) {
            return true;
        }
    }
    return false;
}

bool VpnConfig::has_definition(const std::string& name) const {
    for (const auto& g : groups) {
        if (iequals(g.name, name)) {
            return true;
        }
    }
    for (const auto& m : manual) {
        if (iequals(m.name, name)) {
            return true;
        }
    }
    return false;
}

namespace {

using Row = std::map<std::string, std::string>;

class Db {
public:
    explicit Db(sqlite3* db) : db_(db) {}
    ~Db() { sqlite3_close(db_); }

    bool has_table(const char* name) {
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, nullptr);
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        bool found = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
        return found;
    }

    // Every row of `table` as column -> text; a missing table has no rows.
    Result<std::vector<Row>> rows(const char* table) {
        std::vector<Row> out;
        if (!has_table(table)) {
            return out;
        }
        std::string sql = std::string("SELECT * FROM \"") + table + "\"";
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
            return fail("NFT0130", paths::policy_db(), sqlite3_errmsg(db_));
        }
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            Row r;
            for (int c = 0; c < sqlite3_column_count(s); ++c) {
                auto t = sqlite3_column_text(s, c);
                r[to_lower(sqlite3_column_name(s, c))] =
                    t ? reinterpret_cast<const char*>(t) : "";
            }
            out.push_back(std::move(r));
        }
        std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
        sqlite3_finalize(s);
        if (!err.empty()) {
            return fail("NFT0130", paths::policy_db(), err);
        }
        return out;
    }

private:
    sqlite3* db_;
};

// A required column; its absence means the schema is not the one expected.
Result<std::string> col(const Row& r, const char* table, const char* name) {
    auto it = r.find(name);
    if (it == r.end()) {
        return fail("NFT0130", paths::policy_db(),
                    std::string("table ") + table + " has no column " + name);
    }
    return it->second;
}

std::string opt(const Row& r, const char* name, const char* dft = "") {
    auto it = r.find(name);
    return it == r.end() ? dft : it->second;
}

int opt_int(const Row& r, const char* name) {
    long long v = 0;
    parse_int(opt(r, name, "0"), v);
    return int(v);
}

std::vector<std::string> names(const std::string& list) {
    std::vector<std::string> out;
    for (const auto& n : split(list, ',')) {
        std::string t(trim(n));
        if (!t.empty() && !iequals(t, "*ALL")) {
            out.push_back(t);
        }
    }
    return out;
}

template <class T>
T cl_enum(const std::string& s, T dft) {
    auto v = policy::from_cl<T>(s);
    return v ? *v : dft;
}

policy::Identity identity(const Row& r, const char* type, const char* value) {
    return {cl_enum<policy::IdType>(opt(r, type, "*IPV4"), policy::IdType::IPv4), opt(r, value)};
}

policy::DataEndpoint endpoint(const Row& r, const std::string& side) {
    return {cl_enum<policy::EndpointType>(opt(r, (side + "_type").c_str(), "*ANY"),
                                          policy::EndpointType::Any),
            opt(r, (side + "_address").c_str()), opt(r, (side + "_extra").c_str())};
}

Status read_into(Db& db, VpnConfig& cfg) {
    QVPN_ASSIGN(auto lines, db.rows("line"));
    for (const auto& r : lines) {
        QVPN_ASSIGN(auto name, col(r, "line", "name"));
        QVPN_ASSIGN(auto itf, col(r, "line", "interface"));
        cfg.lines.push_back({name, itf, opt(r, "text")});
    }
    QVPN_ASSIGN(auto groups, db.rows("dynamic_group"));
    for (const auto& r : groups) {
        policy::DynamicGroup g;
        QVPN_ASSIGN(g.name, col(r, "dynamic_group", "name"));
        g.policy_filter = cl_enum(opt(r, "policy_filter", "*GENERATE"), policy::PolicyFilter::Generate);
        g.lines = names(opt(r, "lines"));
        g.journaling = cl_enum(opt(r, "journaling", "*NONE"), policy::Journaling::None);
        for (const auto& ks : names(opt(r, "remote_key_servers"))) {
            auto a = IpAddress::parse(ks);
            g.remote_key_servers.push_back(
                {a && a->is_v6() ? policy::IdType::IPv6 : policy::IdType::IPv4, ks});
        }
        cfg.groups.push_back(std::move(g));
    }
    QVPN_ASSIGN(auto conns, db.rows("dynamic_connection"));
    for (const auto& r : conns) {
        policy::DynamicConnection c;
        QVPN_ASSIGN(c.name, col(r, "dynamic_connection", "name"));
        QVPN_ASSIGN(c.group, col(r, "dynamic_connection", "group_name"));
        c.local_id = identity(r, "local_id_type", "local_id");
        c.remote_id = identity(r, "remote_id_type", "remote_id");
        c.local = endpoint(r, "local");
        c.remote = endpoint(r, "remote");
        c.local_port = opt_int(r, "local_port");
        c.remote_port = opt_int(r, "remote_port");
        c.protocol = opt_int(r, "protocol");
        cfg.connections.push_back(std::move(c));
    }
    QVPN_ASSIGN(auto manual, db.rows("manual_connection"));
    for (const auto& r : manual) {
        policy::ManualConnection m;
        QVPN_ASSIGN(m.name, col(r, "manual_connection", "name"));
        m.local = endpoint(r, "local");
        m.remote = endpoint(r, "remote");
        m.local_port = opt_int(r, "local_port");
        m.remote_port = opt_int(r, "remote_port");
        m.ip_protocol = opt_int(r, "ip_protocol");
        m.policy_filter = cl_enum(opt(r, "policy_filter", "*GENERATE"), policy::PolicyFilter::Generate);
        m.lines = names(opt(r, "lines"));
        m.journaling = cl_enum(opt(r, "journaling", "*NONE"), policy::Journaling::None);
        cfg.manual.push_back(std::move(m));
    }
    QVPN_ASSIGN(auto attrs, db.rows("vpn_attributes"));
    if (!attrs.empty()) {
        std::string v = opt(attrs[0], "generated_permit_other", "1");
        cfg.attributes.generated_permit_other = !(v == "0" || iequals(v, "*NO"));
    }
    QVPN_ASSIGN(auto states, db.rows("connection_state"));
    for (const auto& r : states) {
        ConnectionState s;
        QVPN_ASSIGN(s.name, col(r, "connection_state", "name"));
        QVPN_ASSIGN(s.state, col(r, "connection_state", "state"));
        s.definition = s.name;
        for (const auto& c : cfg.connections) {
            if (iequals(c.name, s.name)) {
                s.definition = c.group;
            }
        }
        cfg.states.push_back(std::move(s));
    }
    return {};
}

}  // namespace

Result<VpnConfig> read_vpn_config() {
    VpnConfig cfg;
    std::string path = paths::policy_db();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return cfg;
    }
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string e = raw ? sqlite3_errmsg(raw) : "cannot open";
        sqlite3_close(raw);
        return fail("NFT0130", path, e);
    }
    Db db(raw);
    sqlite3_busy_timeout(raw, 10000);
    QVPN_TRY(read_into(db, cfg));
    return cfg;
}

}  // namespace qvpn::rules
