#include "journal/journal.hpp"

#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::journal {

namespace {

using TsMember = std::string TsEntry::*;
using TfMember = std::string TfEntry::*;

struct TsField {
    FieldDef def;
    TsMember member;
};
struct TfField {
    FieldDef def;
    TfMember member;
};

// Entry-specific fields, in the seed's order.
const std::vector<TsField>& ts_specific() {
    static const std::vector<TsField> k = {
        {{"TSCMPN", 10, false, "VPN component"}, &TsEntry::cmpn},
        {{"TSCONM", 40, false, "Connection name"}, &TsEntry::conm},
        {{"TSCOTY", 10, false, "Connection type"}, &TsEntry::coty},
        {{"TSCOS", 10, false, "Connection state"}, &TsEntry::cos},
        {{"TSCOSD", 8, false, "Start date"}, &TsEntry::cosd},
        {{"TSCOST", 6, false, "Start time"}, &TsEntry::cost},
        {{"TSCOED", 8, false, "End date"}, &TsEntry::coed},
        {{"TSCOET", 6, false, "End time"}, &TsEntry::coet},
        {{"TSTRPR", 10, false, "Transport protocol"}, &TsEntry::trpr},
        {{"TSLCAD", 43, false, "Local client address"}, &TsEntry::lcad},
        {{"TSLCPR", 11, false, "Local ports"}, &TsEntry::lcpr},
        {{"TSRCAD", 43, false, "Remote client address"}, &TsEntry::rcad},
        {{"TSCPR", 11, false, "Remote ports"}, &TsEntry::cpr},
        {{"TSLEP", 43, false, "Local endpoint"}, &TsEntry::lep},
        {{"TSREP", 43, false, "Remote endpoint"}, &TsEntry::rep},
        {{"TSCORF", 6, false, "Times refreshed"}, &TsEntry::corf},
        {{"TSRFDA", 8, false, "Date of next refresh"}, &TsEntry::rfda},
        {{"TSRFTI", 6, false, "Time of next refresh"}, &TsEntry::rfti},
        {{"TSRFLS", 8, false, "Refresh life-size"}, &TsEntry::rfls},
        {{"TSSAPH", 1, false, "SA Phase"}, &TsEntry::saph},
        {{"TSAUTH", 10, false, "Authentication type"}, &TsEntry::auth},
        {{"TSENCR", 10, false, "Encryption type"}, &TsEntry::encr},
        {{"TSDHGR", 2, false, "Diffie-Hellman group"}, &TsEntry::dhgr},
        {{"TSERRC", 8, false, "Error code"}, &TsEntry::errc},
    };
    return k;
}

const std::vector<TfField>& tf_specific() {
    static const std::vector<TfField> k = {
        {{"TFLINE", 10, false, "Line description"}, &TfEntry::line},
        {{"TFREVT", 2, false, "Rule event"}, &TfEntry::revt},
        {{"TFPDIR", 1, false, "IP Packet direction"}, &TfEntry::pdir},
        {{"TFRNUM", 5, false, "Rule number"}, &TfEntry::rnum},
        {{"TFACT", 6, false, "Filter action taken"}, &TfEntry::act},
        {{"TFPROT", 4, false, "Transport protocol"}, &TfEntry::prot},
        {{"TFSRCA", 15, false, "Source IP address"}, &TfEntry::srca},
        {{"TFSRCP", 5, false, "Source port"}, &TfEntry::srcp},
        {{"TFDSTA", 15, false, "Destination IP address"}, &TfEntry::dsta},
        {{"TFDSTP", 5, false, "Destination port"}, &TfEntry::dstp},
        {{"TFTEXT", 76, false, "Additional text"}, &TfEntry::text},
    };
    return k;
}

// The common header. `p` is TS or TF; the seed spells two names differently
// in the two layouts (TSSYNM/TFSYMN) and only TS has TSESDL.
std::vector<FieldDef> header_fields(bool ts) {
    std::vector<FieldDef> h = {
        {ts ? "TSENTL" : "TFENTL", 5, true, "Length of entry"},
        {ts ? "TSSEQN" : "TFSEQN", 10, true, "Sequence number"},
        {ts ? "TSCODE" : "TFCODE", 1, false, "Journal code"},
        {ts ? "TSENTT" : "TFENTT", 2, false, "Entry type"},
        {ts ? "TSTIME" : "TFTIME", 26, false, "SAA timestamp"},
        {ts ? "TSJOB" : "TFJOB", 10, false, "Job name"},
        {ts ? "TSUSER" : "TFUSER", 10, false, "User of job"},
        {ts ? "TSNBR" : "TFNBR", 6, true, "Job number"},
        {ts ? "TSPGM" : "TFPGM", 10, false, "Program name"},
        {ts ? "TSRES1" : "TFRES1", 51, false, "Reserved"},
        {ts ? "TSUSPF" : "TFUSPF", 10, false, "User profile"},
        {ts ? "TSSYNM" : "TFSYMN", 8, false, "System name"},
        {ts ? "TSRES2" : "TFRES2", 20, false, "Reserved"},
        {ts ? "TSRESA" : "TFRESA", 50, false, "Reserved"},
    };
    if (ts) {
        h.push_back({"TSESDL", 4, true, "Length of specific data"});
    }
    return h;
}

int specific_length(Journal j) {
    int n = 0;
    if (j == Journal::Qvpn) {
        for (const auto& f : ts_specific()) {
            n += f.def.length;
        }
    } else {
        for (const auto& f : tf_specific()) {
            n += f.def.length;
        }
    }
    return n;
}

int entry_length(Journal j) {
    int n = 0;
    for (const auto& f : fields(j)) {
        n += f.length;
    }
    return n;
}

std::string system_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        return "LINUX";
    }
    std::string h(host);
    h = h.substr(0, h.find('.'));
    h = to_upper(h);
    return h.substr(0, 8);
}

std::tm local_tm(int64_t time_us) {
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    if (time_us < 0 && time_us % 1000000 != 0) {
        --t;
    }
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
}

int64_t now_us(const Clock* clock) {
    WallTime w = clock != nullptr ? clock->wall() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::microseconds>(w.time_since_epoch()).count();
}

// --- SQLite helpers ------------------------------------------------------------

struct Db {
    sqlite3* h = nullptr;
    ~Db() {
        if (h != nullptr) {
            sqlite3_close_v2(h);
        }
    }
};

struct Stmt {
    sqlite3_stmt* s = nullptr;
    ~Stmt() {
        if (s != nullptr) {
            sqlite3_finalize(s);
        }
    }
};

Failure db_fail(sqlite3* db, std::string_view path) {
    return fail("JRN0002", std::string(path), db != nullptr ? sqlite3_errmsg(db) : "out of memory");
}

Status exec(sqlite3* db, const std::string& sql, std::string_view path) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string e = err != nullptr ? err : "unknown";
        sqlite3_free(err);
        return fail("JRN0002", std::string(path), e);
    }
    return {};
}

std::vector<std::string> specific_names(Journal j) {
    std::vector<std::string> n;
    if (j == Journal::Qvpn) {
        for (const auto& f : ts_specific()) {
            n.emplace_back(f.def.name);
        }
    } else {
        for (const auto& f : tf_specific()) {
            n.emplace_back(f.def.name);
        }
    }
    return n;
}

std::string schema_sql(Journal j) {
    std::string sql =
        "CREATE TABLE IF NOT EXISTS entries ("
        "seq INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, type TEXT NOT NULL, "
        "time TEXT NOT NULL, time_us INTEGER NOT NULL, job TEXT NOT NULL, "
        "user TEXT NOT NULL, jobnbr INTEGER NOT NULL, pgm TEXT NOT NULL, "
        "usprf TEXT NOT NULL, sysname TEXT NOT NULL";
    for (const auto& n : specific_names(j)) {
        sql += ", " + n + " TEXT NOT NULL DEFAULT ''";
    }
    sql += ");"
           "CREATE INDEX IF NOT EXISTS entries_time ON entries(time_us);"
           "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
           "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";
    return sql;
}

Result<sqlite3*> open_db(Journal j, bool create) {
    std::string path = db_path(j);
    if (create) {
        std::error_code ec;
        std::filesystem::create_directories(paths::journal_dir(), ec);
        if (ec) {
            return fail(msg("QVP0001", paths::journal_dir()).with_errno(ec.value()));
        }
    }
    int flags = create ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        Failure f = db_fail(db, path);
        sqlite3_close_v2(db);
        return f;
    }
    // Several processes write QIPFILTER (the rules job, LODIPFTR); wait for
    // each other rather than fail.
    sqlite3_busy_timeout(db, 10000);
    return db;
}

}  // namespace

std::string_view journal_name(Journal j) { return j == Journal::Qvpn ? "QVPN" : "QIPFILTER"; }
std::string_view entry_type(Journal j) { return j == Journal::Qvpn ? "TS" : "TF"; }

std::optional<Journal> journal_from_name(std::string_view name) {
    if (iequals(name, "QVPN")) {
        return Journal::Qvpn;
    }
    if (iequals(name, "QIPFILTER")) {
        return Journal::Qipfilter;
    }
    return std::nullopt;
}

std::string db_path(Journal j) {
    return paths::journal_dir() + "/" + std::string(journal_name(j)) + ".db";
}

Origin Origin::current(std::string job, std::string program) {
    Origin o;
    o.job = std::move(job);
    o.program = std::move(program);
    o.job_number = static_cast<int>(::getpid() % 1000000);
    passwd* pw = ::getpwuid(::geteuid());
    o.user = to_upper(pw != nullptr ? pw->pw_name : std::to_string(::geteuid()));
    o.user_profile = o.user;
    return o;
}

const std::vector<FieldDef>& fields(Journal j) {
    static const std::vector<FieldDef> ts = [] {
        auto v = header_fields(true);
        for (const auto& f : ts_specific()) {
            v.push_back(f.def);
        }
        return v;
    }();
    static const std::vector<FieldDef> tf = [] {
        auto v = header_fields(false);
        for (const auto& f : tf_specific()) {
            v.push_back(f.def);
        }
        return v;
    }();
    return j == Journal::Qvpn ? ts : tf;
}

std::vector<std::string> field_values(const Entry& e) {
    Journal j = e.ts() != nullptr ? Journal::Qvpn : Journal::Qipfilter;
    const Header& h = e.header;
    std::vector<std::string> v = {
        std::to_string(entry_length(j)), std::to_string(h.seq), std::string(1, h.code), h.type,
        h.time, h.origin.job, h.origin.user, std::to_string(h.origin.job_number),
        h.origin.program, "", h.origin.user_profile, h.system, "", ""};
    if (const TsEntry* ts = e.ts()) {
        v.push_back(std::to_string(specific_length(j)));
        for (const auto& f : ts_specific()) {
            v.push_back(ts->*f.member);
        }
    } else {
        for (const auto& f : tf_specific()) {
            v.push_back(e.tf()->*f.member);
        }
    }
    return v;
}

std::string saa_timestamp(int64_t time_us) {
    std::tm tm = local_tm(time_us);
    int64_t frac = time_us % 1000000;
    if (frac < 0) {
        frac += 1000000;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d-%02d.%02d.%02d.%06lld", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
    return buf;
}

std::string date8(int64_t time_us) {
    std::tm tm = local_tm(time_us);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

std::string time6(int64_t time_us) {
    std::tm tm = local_tm(time_us);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%02d%02d%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

// --- Writer --------------------------------------------------------------------------

struct Writer::Impl {
    Db db;
    std::string path;
    Origin origin;
    Retention retention;
    const Clock* clock = nullptr;
    std::string system;
    Stmt insert;
    size_t since_retention = 0;
};

Writer::Writer(Journal j, std::unique_ptr<Impl> impl) : journal_(j), impl_(std::move(impl)) {}
Writer::~Writer() = default;

Result<std::unique_ptr<Writer>> Writer::open(Journal j, Origin origin, Retention r,
                                             const Clock* clock) {
    auto impl = std::make_unique<Impl>();
    impl->path = db_path(j);
    QVPN_ASSIGN(impl->db.h, open_db(j, true));
    sqlite3* db = impl->db.h;
    // WAL with FULL sync: the commit is on disk when append returns.
    QVPN_TRY(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", impl->path));
    QVPN_TRY(exec(db, schema_sql(j), impl->path));
    ::chmod(impl->path.c_str(), 0644);
    impl->origin = std::move(origin);
    impl->retention = r;
    impl->clock = clock;
    impl->system = system_name();

    std::string sql =
        "INSERT INTO entries (code, type, time, time_us, job, user, jobnbr, pgm, usprf, sysname";
    std::string qs = "?,?,?,?,?,?,?,?,?,?";
    for (const auto& n : specific_names(j)) {
        sql += ", " + n;
        qs += ",?";
    }
    sql += ") VALUES (" + qs + ")";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &impl->insert.s, nullptr) != SQLITE_OK) {
        return db_fail(db, impl->path);
    }
    auto w = std::unique_ptr<Writer>(new Writer(j, std::move(impl)));
    QVPN_TRY(w->apply_retention());
    return w;
}

namespace {

Result<int64_t> insert_row(sqlite3* db, sqlite3_stmt* st, const std::string& path,
                           std::string_view type, int64_t t, const Origin& o,
                           std::string_view usprf, const std::string& system,
                           const std::vector<std::string>& specific) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    std::string saa = saa_timestamp(t);
    int i = 1;
    auto text = [&](std::string_view s) {
        sqlite3_bind_text(st, i++, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    };
    text("M");
    text(type);
    text(saa);
    sqlite3_bind_int64(st, i++, t);
    text(o.job);
    text(o.user);
    sqlite3_bind_int64(st, i++, o.job_number);
    text(o.program);
    text(usprf.empty() ? std::string_view(o.user_profile) : usprf);
    text(system);
    for (const auto& s : specific) {
        text(s);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        return db_fail(db, path);
    }
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db));
}

}  // namespace

Result<int64_t> Writer::append(const TsEntry& e, std::string_view user_profile) {
    if (journal_ != Journal::Qvpn) {
        return fail("JRN0003", "TS", journal_name(journal_));
    }
    std::vector<std::string> v;
    for (const auto& f : ts_specific()) {
        v.push_back(e.*f.member);
    }
    QVPN_ASSIGN(int64_t seq, insert_row(impl_->db.h, impl_->insert.s, impl_->path, "TS",
                                        now_us(impl_->clock), impl_->origin, user_profile,
                                        impl_->system, v));
    if (++impl_->since_retention >= 256) {
        QVPN_TRY(apply_retention());
    }
    return seq;
}

Result<int64_t> Writer::append(const TfEntry& e, std::string_view user_profile) {
    if (journal_ != Journal::Qipfilter) {
        return fail("JRN0003", "TF", journal_name(journal_));
    }
    std::vector<std::string> v;
    for (const auto& f : tf_specific()) {
        v.push_back(e.*f.member);
    }
    QVPN_ASSIGN(int64_t seq, insert_row(impl_->db.h, impl_->insert.s, impl_->path, "TF",
                                        now_us(impl_->clock), impl_->origin, user_profile,
                                        impl_->system, v));
    if (++impl_->since_retention >= 256) {
        QVPN_TRY(apply_retention());
    }
    return seq;
}

Result<int64_t> Writer::append_batch(const std::vector<TfEntry>& entries) {
    if (journal_ != Journal::Qipfilter) {
        return fail("JRN0003", "TF", journal_name(journal_));
    }
    if (entries.empty()) {
        return int64_t{0};
    }
    sqlite3* db = impl_->db.h;
    QVPN_TRY(exec(db, "BEGIN IMMEDIATE", impl_->path));
    int64_t last = 0;
    int64_t t = now_us(impl_->clock);
    for (const auto& e : entries) {
        std::vector<std::string> v;
        for (const auto& f : tf_specific()) {
            v.push_back(e.*f.member);
        }
        auto seq = insert_row(db, impl_->insert.s, impl_->path, "TF", t, impl_->origin, {},
                              impl_->system, v);
        if (!seq.ok()) {
            (void)exec(db, "ROLLBACK", impl_->path);
            return seq.failure();
        }
        last = *seq;
    }
    if (auto c = exec(db, "COMMIT", impl_->path); !c.ok()) {
        (void)exec(db, "ROLLBACK", impl_->path);
        return c.failure();
    }
    impl_->since_retention += entries.size();
    if (impl_->since_retention >= 256) {
        QVPN_TRY(apply_retention());
    }
    return last;
}

Result<int64_t> Writer::apply_retention() {
    impl_->since_retention = 0;
    sqlite3* db = impl_->db.h;
    int64_t removed = 0;
    if (impl_->retention.days > 0) {
        int64_t cutoff = now_us(impl_->clock) - int64_t{impl_->retention.days} * 86400 * 1000000;
        std::string sql = "DELETE FROM entries WHERE time_us < " + std::to_string(cutoff);
        QVPN_TRY(exec(db, sql, impl_->path));
        removed += sqlite3_changes(db);
    }
    if (impl_->retention.max_entries > 0) {
        // Sequence numbers are dense (only the oldest are ever removed), so
        // the newest max_entries are those above max(seq) - max_entries.
        std::string sql = "DELETE FROM entries WHERE seq <= (SELECT MAX(seq) FROM entries) - " +
                          std::to_string(impl_->retention.max_entries);
        QVPN_TRY(exec(db, sql, impl_->path));
        removed += sqlite3_changes(db);
    }
    return removed;
}

// --- Reader ------------------------------------------------------------------------------

Result<std::vector<Entry>> read(Journal j, const Selection& s) {
    std::vector<Entry> out;
    if (!std::filesystem::exists(db_path(j))) {
        return out;
    }
    Db db;
    QVPN_ASSIGN(db.h, open_db(j, false));
    std::string path = db_path(j);
    std::string sql = "SELECT seq, code, type, time, time_us, job, user, jobnbr, pgm, usprf, sysname";
    for (const auto& n : specific_names(j)) {
        sql += ", " + n;
    }
    sql += " FROM entries WHERE 1=1";
    std::vector<std::pair<bool, std::string>> binds;  // (is_int, value)
    auto add_int = [&](const char* cond, int64_t v) {
        sql += cond;
        binds.emplace_back(true, std::to_string(v));
    };
    if (s.from_time_us) {
        add_int(" AND time_us >= ?", *s.from_time_us);
    }
    if (s.to_time_us) {
        add_int(" AND time_us <= ?", *s.to_time_us);
    }
    if (s.from_seq) {
        add_int(" AND seq >= ?", *s.from_seq);
    }
    if (s.to_seq) {
        add_int(" AND seq <= ?", *s.to_seq);
    }
    if (!s.entry_types.empty()) {
        sql += " AND type IN (";
        for (size_t i = 0; i < s.entry_types.size(); ++i) {
            sql += i == 0 ? "?" : ",?";
            binds.emplace_back(false, to_upper(s.entry_types[i]));
        }
        sql += ")";
    }
    if (!s.codes.empty()) {
        sql += " AND code IN (";
        for (size_t i = 0; i < s.codes.size(); ++i) {
            sql += i == 0 ? "?" : ",?";
            binds.emplace_back(false, to_upper(std::string(1, s.codes[i])));
        }
        sql += ")";
    }
    if (!s.job.empty()) {
        sql += " AND job = ? COLLATE NOCASE";
        binds.emplace_back(false, s.job);
    }
    sql += " ORDER BY seq";
    if (s.max_entries > 0) {
        sql += " LIMIT " + std::to_string(s.max_entries);
    }
    Stmt st;
    if (sqlite3_prepare_v2(db.h, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) {
        // A file that is not (yet) a journal: a writer created it and has
        // not made the table, or something else is there.
        return db_fail(db.h, path);
    }
    for (size_t i = 0; i < binds.size(); ++i) {
        int idx = static_cast<int>(i) + 1;
        if (binds[i].first) {
            sqlite3_bind_int64(st.s, idx, std::stoll(binds[i].second));
        } else {
            sqlite3_bind_text(st.s, idx, binds[i].second.c_str(), -1, SQLITE_TRANSIENT);
        }
    }
    auto col = [&](int c) {
        const unsigned char* t = sqlite3_column_text(st.s, c);
        return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    };
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
        Entry e;
        e.header.seq = sqlite3_column_int64(st.s, 0);
        std::string code = col(1);
        e.header.code = code.empty() ? 'M' : code[0];
        e.header.type = col(2);
        e.header.time = col(3);
        e.header.time_us = sqlite3_column_int64(st.s, 4);
        e.header.origin.job = col(5);
        e.header.origin.user = col(6);
        e.header.origin.job_number = sqlite3_column_int(st.s, 7);
        e.header.origin.program = col(8);
        e.header.origin.user_profile = col(9);
        e.header.system = col(10);
        int c = 11;
        if (j == Journal::Qvpn) {
            TsEntry ts;
            for (const auto& f : ts_specific()) {
                ts.*f.member = col(c++);
            }
            e.data = std::move(ts);
        } else {
            TfEntry tf;
            for (const auto& f : tf_specific()) {
                tf.*f.member = col(c++);
            }
            e.data = std::move(tf);
        }
        out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) {
        return db_fail(db.h, path);
    }
    return out;
}

}  // namespace qvpn::journal
