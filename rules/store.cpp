#include "rules/store.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "rules/nft.hpp"

namespace qvpn::rules {

using nlohmann::json;

std::string state_path() { return paths::root() + "/ipfilter.db"; }

// --- State ---------------------------------------------------------------------

const StoredUnit* State::unit(int id) const {
    for (const auto& u : units) {
        if (u.id == id) {
            return &u;
        }
    }
    return nullptr;
}

const StoredLine* State::line(std::string_view name) const {
    for (const auto& l : lines) {
        if (iequals(l.plan.line, name)) {
            return &l;
        }
    }
    return nullptr;
}

std::vector<const StoredRule*> State::line_rules(const StoredLine& l) const {
    std::vector<const StoredRule*> out;
    for (const auto& set : l.sets) {
        std::string key = name_key(set);
        for (const auto& r : rules) {
            if (r.unit == l.plan.unit && name_key(r.set) == key) {
                out.push_back(&r);
            }
        }
    }
    return out;
}

// --- Match JSON -------------------------------------------------------------------

namespace {

bool read_nums(const json& j, uint32_t max, NumSet& out) {
    if (j.is_null()) {
        out = NumSet::any();
        return true;
    }
    if (!j.is_array() || j.empty()) {
        return false;
    }
    std::vector<std::pair<uint32_t, uint32_t>> r;
    for (const auto& p : j) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() ||
            !p[1].is_number_unsigned()) {
            return false;
        }
        r.emplace_back(p[0].get<uint32_t>(), p[1].get<uint32_t>());
    }
    out = NumSet::of(std::move(r), max);
    return true;
}

bool read_addrs(const json& j, AddrSet& out) {
    if (j.is_null()) {
        out = AddrSet{};
        return true;
    }
    if (!j.is_array() || j.empty()) {
        return false;
    }
    std::vector<IpRange> r;
    for (const auto& p : j) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
            return false;
        }
        auto a = IpAddress::parse(p[0].get<std::string>());
        auto b = IpAddress::parse(p[1].get<std::string>());
        if (!a || !b || a->family() != b->family()) {
            return false;
        }
        r.push_back({*a, *b});
    }
    out = AddrSet::of(std::move(r));
    return true;
}

}  // namespace

// Written by hand: a load writes one per rule, and building nlohmann
// objects for 10,000 rules costs more than the rest of the state write.
namespace {

void nums_json(std::string& o, const NumSet& s) {
    if (s.all) {
        o += "null";
        return;
    }
    o += '[';
    for (size_t i = 0; i < s.ranges.size(); ++i) {
        o += i ? ",[" : "[";
        o += std::to_string(s.ranges[i].first);
        o += ',';
        o += std::to_string(s.ranges[i].second);
        o += ']';
    }
    o += ']';
}

void addrs_json(std::string& o, const AddrSet& s) {
    if (s.all) {
        o += "null";
        return;
    }
    o += '[';
    for (size_t i = 0; i < s.ranges.size(); ++i) {
        o += i ? ",[\"" : "[\"";
        o += s.ranges[i].from.to_string();
        o += "\",\"";
        o += s.ranges[i].to.to_string();
        o += "\"]";
    }
    o += ']';
}

}  // namespace

std::string match_to_json(const Match& m) {
    std::string o = "{\"family\":" + std::to_string(m.family) + ",\"src\":";
    addrs_json(o, m.src);
    o += ",\"dst\":";
    addrs_json(o, m.dst);
    o += ",\"proto\":";
    nums_json(o, m.proto);
    o += m.starting ? ",\"starting\":true,\"sport\":" : ",\"starting\":false,\"sport\":";
    nums_json(o, m.sport);
    o += ",\"dport\":";
    nums_json(o, m.dport);
    o += ",\"type\":";
    nums_json(o, m.icmp_type);
    o += ",\"code\":";
    nums_json(o, m.icmp_code);
    o += '}';
    return o;
}

Result<Match> match_from_json(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    Match m;
    bool ok = j.is_object() && j.contains("family") && j["family"].is_number_integer() &&
              read_addrs(j.value("src", json()), m.src) &&
              read_addrs(j.value("dst", json()), m.dst) &&
              read_nums(j.value("proto", json()), 255, m.proto) &&
              read_nums(j.value("sport", json()), 65535, m.sport) &&
              read_nums(j.value("dport", json()), 65535, m.dport) &&
              read_nums(j.value("type", json()), 255, m.icmp_type) &&
              read_nums(j.value("code", json()), 255, m.icmp_code);
    if (!ok) {
        return fail("NFT0120", state_path(), "a rule's selectors are not valid");
    }
    m.family = j["family"].get<int>();
    m.starting = j.value("starting", false);
    return m;
}

// --- SQLite ------------------------------------------------------------------------

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unit(
  id INTEGER PRIMARY KEY, file TEXT NOT NULL, files TEXT NOT NULL, incvpn INTEGER NOT NULL,
  loaded_at TEXT NOT NULL, body TEXT NOT NULL, ike_talk INTEGER NOT NULL,
  ipsec_talk INTEGER NOT NULL, nflog_group INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS line(
  name TEXT PRIMARY KEY COLLATE NOCASE, interface TEXT NOT NULL, ppp INTEGER NOT NULL,
  unit INTEGER NOT NULL, chain TEXT NOT NULL, plan TEXT NOT NULL, sets TEXT NOT NULL,
  loaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rule(
  unit INTEGER NOT NULL, number INTEGER NOT NULL, set_name TEXT NOT NULL,
  action TEXT NOT NULL, direction TEXT NOT NULL, srcaddr TEXT NOT NULL, dstaddr TEXT NOT NULL,
  protocol TEXT NOT NULL, srcport TEXT NOT NULL, dstport TEXT NOT NULL, icmp_type TEXT NOT NULL,
  icmp_code TEXT NOT NULL, fragments TEXT NOT NULL, journal INTEGER NOT NULL,
  connection TEXT NOT NULL, location TEXT NOT NULL, match TEXT NOT NULL,
  PRIMARY KEY(unit, number));
)";

// Prepared statement with RAII.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
    ~Stmt() { sqlite3_finalize(s_); }
    bool ok() const { return rc_ == SQLITE_OK; }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, long long v) {
        sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    int step() { return sqlite3_step(s_); }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    std::string text(int c) const {
        auto p = sqlite3_column_text(s_, c);
        return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    }
    long long integer(int c) const { return sqlite3_column_int64(s_, c); }

private:
    sqlite3_stmt* s_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

std::string list_json(const std::vector<std::string>& v) { return json(v).dump(); }

std::vector<std::string> list_from_json(const std::string& s) {
    json j = json::parse(s, nullptr, false);
    std::vector<std::string> out;
    if (j.is_array()) {
        for (const auto& x : j) {
            if (x.is_string()) {
                out.push_back(x.get<std::string>());
            }
        }
    }
    return out;
}

std::string plan_json(const LinePlan& p) {
    json j = json::array();
    for (const auto& dir : p.sets) {
        json d = json::array();
        for (const auto& cls : dir) {
            d.push_back(cls);
        }
        j.push_back(d);
    }
    return j.dump();
}

bool plan_from_json(const std::string& s, LinePlan& p) {
    json j = json::parse(s, nullptr, false);
    if (!j.is_array() || j.size() != 2) {
        return false;
    }
    for (size_t d = 0; d < 2; ++d) {
        if (!j[d].is_array() || j[d].size() != 3) {
            return false;
        }
        for (size_t c = 0; c < 3; ++c) {
            p.sets[d][c] = list_from_json(j[d][c].dump());
        }
    }
    return true;
}

template <class E>
E enum_from(const std::string& s, std::initializer_list<std::pair<const char*, E>> table, E dft) {
    for (const auto& [name, v] : table) {
        if (s == name) {
            return v;
        }
    }
    return dft;
}

}  // namespace

Store::~Store() {
    if (db_ != nullptr) {
        if (in_tx_) {
            rollback();
        }
        sqlite3_close(db_);
    }
}

Store::Store(Store&& o) noexcept : db_(o.db_), path_(std::move(o.path_)), in_tx_(o.in_tx_) {
    o.db_ = nullptr;
    o.in_tx_ = false;
}

Msg Store::error(const std::string& what) const {
    std::string detail = db_ ? sqlite3_errmsg(db_) : "cannot open";
    return msg("NFT0120", path_, what + ": " + detail);
}

Status Store::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string e = err ? err : "?";
        sqlite3_free(err);
        return fail("NFT0120", path_, e);
    }
    return {};
}

Result<Store> Store::open(const std::string& path, bool create) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    std::string target = path;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (!exists && !create) {
        target = ":memory:";  // no state yet: an empty one
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(target.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string e = db ? sqlite3_errmsg(db) : "cannot open";
        sqlite3_close(db);
        return fail("NFT0120", path, e);
    }
    Store s(db, path);
    sqlite3_busy_timeout(db, 30000);
    // Room for a whole load in memory: nothing of an open transaction reaches
    // the files before its commit, so a rollback leaves them as they were.
    // WAL without a sync per commit: the kernel's nftables table does not
    // survive a power failure either, and an application crash loses nothing
    // committed.
    QVPN_TRY(s.exec("PRAGMA cache_size = -131072"));
    if (target != ":memory:") {
        QVPN_TRY(s.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL"));
    }
    if (create || !exists) {
        QVPN_TRY(s.exec(kSchema));  // IF NOT EXISTS: leaves an existing file untouched
    }
    return s;
}

Status Store::begin() {
    QVPN_TRY(exec("BEGIN IMMEDIATE"));
    in_tx_ = true;
    return {};
}

Status Store::commit() {
    QVPN_TRY(exec("COMMIT"));
    in_tx_ = false;
    return {};
}

void Store::rollback() {
    if (in_tx_) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        in_tx_ = false;
    }
}

bool state_is_live(const State& st) {
    if (st.empty()) {
        return true;
    }
    Nft nft;
    return !st.table_id.empty() && nft.has_chain(table_id_chain(st.table_id));
}

Status Store::set_table_id(const std::string& id) {
    Stmt u(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('table_id', ?1)");
    if (!u.ok() || u.bind(1, id).step() != SQLITE_DONE) {
        return fail(error("recording the table"));
    }
    return {};
}

Result<State> Store::read() {
    State st;
    {
        Stmt q(db_, "SELECT value FROM meta WHERE key = 'table_id'");
        if (q.ok() && q.step() == SQLITE_ROW) {
            st.table_id = q.text(0);
        }
    }
    {
        Stmt q(db_, "SELECT id, file, files, incvpn, loaded_at, body, ike_talk, ipsec_talk, "
                    "nflog_group FROM unit ORDER BY id");
        if (!q.ok()) {
            return fail(error("reading units"));
        }
        while (q.step() == SQLITE_ROW) {
            StoredUnit u;
            u.id = int(q.integer(0));
            u.file = q.text(1);
            u.files = list_from_json(q.text(2));
            u.incvpn = q.integer(3) != 0;
            u.loaded_at = q.text(4);
            u.body = q.text(5);
            u.ike_talk = q.integer(6) != 0;
            u.ipsec_talk = q.integer(7) != 0;
            u.nflog_group = int(q.integer(8));
            st.units.push_back(std::move(u));
        }
    }
    {
        Stmt q(db_, "SELECT name, interface, ppp, unit, chain, plan, sets, loaded_at FROM line "
                    "ORDER BY unit, chain");
        if (!q.ok()) {
            return fail(error("reading lines"));
        }
        while (q.step() == SQLITE_ROW) {
            StoredLine l;
            l.plan.line = q.text(0);
            l.plan.interface = q.text(1);
            l.plan.ppp = q.integer(2) != 0;
            l.plan.unit = int(q.integer(3));
            l.plan.chain = q.text(4);
            if (!plan_from_json(q.text(5), l.plan)) {
                return fail("NFT0120", path_, "line " + l.plan.line + " has no valid plan");
            }
            l.sets = list_from_json(q.text(6));
            l.loaded_at = q.text(7);
            st.lines.push_back(std::move(l));
        }
    }
    Stmt q(db_, "SELECT unit, number, set_name, action, direction, srcaddr, dstaddr, protocol, "
                "srcport, dstport, icmp_type, icmp_code, fragments, journal, connection, "
                "location, match FROM rule ORDER BY unit, number");
    if (!q.ok()) {
        return fail(error("reading rules"));
    }
    while (q.step() == SQLITE_ROW) {
        StoredRule r;
        r.unit = int(q.integer(0));
        r.number = int(q.integer(1));
        r.set = q.text(2);
        r.action = enum_from(q.text(3), {{"PERMIT", Action::Permit}, {"DENY", Action::Deny},
                                         {"IPSEC", Action::Ipsec}}, Action::Deny);
        r.direction = enum_from(q.text(4), {{"INBOUND", Direction::Inbound},
                                            {"OUTBOUND", Direction::Outbound},
                                            {"*", Direction::Both}}, Direction::Both);
        r.srcaddr = q.text(5);
        r.dstaddr = q.text(6);
        r.protocol = q.text(7);
        r.srcport = q.text(8);
        r.dstport = q.text(9);
        r.icmp_type = q.text(10);
        r.icmp_code = q.text(11);
        r.fragments = enum_from(q.text(12), {{"NONE", Fragments::None},
                                             {"HEADERS", Fragments::Headers},
                                             {"ALL", Fragments::All}}, Fragments::None);
        r.journal = q.integer(13) != 0;
        r.connection = q.text(14);
        r.location = q.text(15);
        QVPN_ASSIGN(r.match, match_from_json(q.text(16)));
        st.rules.push_back(std::move(r));
    }
    return st;
}

Result<int> Store::next_unit_id() {
    Stmt q(db_, "SELECT value FROM meta WHERE key = 'next_unit'");
    long long next = 1;
    if (q.ok() && q.step() == SQLITE_ROW) {
        parse_int(q.text(0), next);
    }
    Stmt u(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('next_unit', ?1)");
    if (!u.ok() || u.bind(1, std::to_string(next + 1)).step() != SQLITE_DONE) {
        return fail(error("allocating a unit"));
    }
    return int(next);
}

Status Store::add_unit(const StoredUnit& u, const std::vector<StoredRule>& rules) {
    Stmt q(db_, "INSERT INTO unit(id, file, files, incvpn, loaded_at, body, ike_talk, "
                "ipsec_talk, nflog_group) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!q.ok()) {
        return fail(error("adding a unit"));
    }
    q.bind(1, u.id).bind(2, u.file).bind(3, list_json(u.files)).bind(4, u.incvpn ? 1 : 0);
    q.bind(5, u.loaded_at).bind(6, u.body).bind(7, u.ike_talk ? 1 : 0);
    q.bind(8, u.ipsec_talk ? 1 : 0).bind(9, u.nflog_group);
    if (q.step() != SQLITE_DONE) {
        return fail(error("adding a unit"));
    }
    Stmt r(db_, "INSERT INTO rule(unit, number, set_name, action, direction, srcaddr, dstaddr, "
                "protocol, srcport, dstport, icmp_type, icmp_code, fragments, journal, "
                "connection, location, match) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                "?11, ?12, ?13, ?14, ?15, ?16, ?17)");
    if (!r.ok()) {
        return fail(error("adding rules"));
    }
    for (const auto& x : rules) {
        r.bind(1, u.id).bind(2, x.number).bind(3, x.set).bind(4, std::string(to_text(x.action)));
        r.bind(5, std::string(to_text(x.direction))).bind(6, x.srcaddr).bind(7, x.dstaddr);
        r.bind(8, x.protocol).bind(9, x.srcport).bind(10, x.dstport).bind(11, x.icmp_type);
        r.bind(12, x.icmp_code).bind(13, std::string(to_text(x.fragments)));
        r.bind(14, x.journal ? 1 : 0).bind(15, x.connection).bind(16, x.location);
        r.bind(17, match_to_json(x.match));
        if (r.step() != SQLITE_DONE) {
            return fail(error("adding rule " + std::to_string(x.number)));
        }
        r.reset();
    }
    return {};
}

Status Store::put_line(const StoredLine& l) {
    Stmt q(db_, "INSERT OR REPLACE INTO line(name, interface, ppp, unit, chain, plan, sets, "
                "loaded_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!q.ok()) {
        return fail(error("recording a line"));
    }
    q.bind(1, l.plan.line).bind(2, l.plan.interface).bind(3, l.plan.ppp ? 1 : 0);
    q.bind(4, l.plan.unit).bind(5, l.plan.chain).bind(6, plan_json(l.plan));
    q.bind(7, list_json(l.sets)).bind(8, l.loaded_at);
    if (q.step() != SQLITE_DONE) {
        return fail(error("recording line " + l.plan.line));
    }
    return {};
}

Status Store::remove_line(std::string_view name) {
    Stmt q(db_, "DELETE FROM line WHERE name = ?1");
    if (!q.ok() || q.bind(1, std::string(name)).step() != SQLITE_DONE) {
        return fail(error("removing a line"));
    }
    return {};
}

Status Store::prune_units() {
    QVPN_TRY(exec("DELETE FROM rule WHERE unit NOT IN (SELECT unit FROM line);"
                  "DELETE FROM unit WHERE id NOT IN (SELECT unit FROM line);"));
    return {};
}

}  // namespace qvpn::rules
