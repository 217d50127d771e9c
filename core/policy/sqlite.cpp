#include "core/policy/sqlite.hpp"

#include <utility>

namespace qvpn::policy::sql {

Stmt& Stmt::operator=(Stmt&& o) noexcept {
    if (this != &o) {
        release();
        db_ = o.db_;
        st_ = o.st_;
        cache_ = std::move(o.cache_);
        key_ = std::move(o.key_);
        o.st_ = nullptr;
    }
    return *this;
}

Stmt::~Stmt() { release(); }

void Stmt::release() {
    if (st_ == nullptr) {
        return;
    }
    if (cache_ && cache_->db != nullptr && cache_->idle.size() < StmtCache::kMax) {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
        if (cache_->idle.try_emplace(std::move(key_), st_).second) {
            st_ = nullptr;
            cache_.reset();
            return;
        }
    }
    sqlite3_finalize(st_);
    st_ = nullptr;
    cache_.reset();
}

Stmt& Stmt::bind(int i, std::string_view v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Stmt& Stmt::bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
}

Stmt& Stmt::bind_blob(int i, ByteView v) {
    if (v.empty()) {
        sqlite3_bind_zeroblob(st_, i, 0);
    } else {
        sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    return *this;
}

Stmt& Stmt::bind_null(int i) {
    sqlite3_bind_null(st_, i);
    return *this;
}

Result<bool> Stmt::step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    std::string sql = sqlite3_sql(st_) ? sqlite3_sql(st_) : "";
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return fail("PDB0005", sqlite3_db_filename(db_, "main"));
    }
    return fail("PDB0004", sqlite3_errmsg(db_), sql.substr(0, 60));
}

Status Stmt::run() {
    for (;;) {
        QVPN_ASSIGN(bool row, step());
        if (!row) {
            return {};
        }
    }
}

void Stmt::reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
}

std::string Stmt::text(int col) const {
    const unsigned char* p = sqlite3_column_text(st_, col);
    int n = sqlite3_column_bytes(st_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p),
                                                      static_cast<size_t>(n));
}

int64_t Stmt::integer(int col) const { return sqlite3_column_int64(st_, col); }

Bytes Stmt::blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st_, col));
    int n = sqlite3_column_bytes(st_, col);
    return p == nullptr ? Bytes() : Bytes(p, p + n);
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

int Stmt::columns() const { return sqlite3_column_count(st_); }

void Database::close() {
    if (cache_) {
        for (auto& [sql, st] : cache_->idle) {
            sqlite3_finalize(st);
        }
        cache_->idle.clear();
        cache_->db = nullptr;
        cache_.reset();
    }
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

Database& Database::operator=(Database&& o) noexcept {
    if (this != &o) {
        close();
        db_ = o.db_;
        path_ = std::move(o.path_);
        cache_ = std::move(o.cache_);
        o.db_ = nullptr;
    }
    return *this;
}

Database::~Database() { close(); }

Result<Database> Database::open(const std::string& path, bool create, int busy_timeout_ms) {
    Database d;
    d.path_ = path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &d.db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string why = d.db_ != nullptr ? sqlite3_errmsg(d.db_) : sqlite3_errstr(rc);
        return fail("PDB0003", path, why);
    }
    sqlite3_extended_result_codes(d.db_, 1);
    sqlite3_busy_timeout(d.db_, busy_timeout_ms);
    QVPN_TRY(d.exec("PRAGMA foreign_keys = ON"));
    return d;
}

Result<Stmt> Database::prepare(std::string_view sql) {
    if (!cache_) {
        cache_ = std::make_shared<StmtCache>();
        cache_->db = db_;
    }
    std::string key(sql);
    if (auto it = cache_->idle.find(key); it != cache_->idle.end()) {
        Stmt s(db_, it->second);
        cache_->idle.erase(it);
        s.cache_ = cache_;
        s.key_ = std::move(key);
        return s;
    }
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            return fail("PDB0005", path_);
        }
        return fail("PDB0004", sqlite3_errmsg(db_), std::string(sql.substr(0, 60)));
    }
    Stmt s(db_, st);
    s.cache_ = cache_;
    s.key_ = std::move(key);
    return s;
}

Status Database::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    std::string why = err != nullptr ? err : "";
    sqlite3_free(err);
    if (rc == SQLITE_OK) {
        return {};
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        return fail("PDB0005", path_);
    }
    return fail("PDB0004", why, s.substr(0, 60));
}

Result<std::optional<int64_t>> Database::scalar(std::string_view sql) {
    QVPN_ASSIGN(Stmt st, prepare(sql));
    QVPN_ASSIGN(bool row, st.step());
    if (!row || st.is_null(0)) {
        return std::optional<int64_t>();
    }
    return std::optional<int64_t>(st.integer(0));
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Msg Database::error(std::string_view what) const {
    return msg("PDB0004", sqlite3_errmsg(db_), what);
}

Result<Transaction> Transaction::begin(Database& db) {
    QVPN_TRY(db.exec("BEGIN IMMEDIATE"));
    return Transaction(db);
}

Transaction::~Transaction() {
    if (db_ != nullptr && db_->in_transaction()) {
        (void)db_->exec("ROLLBACK");
    }
}

Status Transaction::commit() {
    Database* d = db_;
    db_ = nullptr;
    Status st = d->exec("COMMIT");
    if (!st.ok() && d->in_transaction()) {
        (void)d->exec("ROLLBACK");
    }
    return st;
}

}  // namespace qvpn::policy::sql
