// A thin RAII layer over the SQLite C API for the policy database.
//
// Every failure becomes a Result with a PDB message that carries SQLite's
// own text, so a locked or corrupt database reads the same everywhere.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace qvpn::policy::sql {

class Database;

// A connection's prepared statements not in use, by SQL text. Parsing a
// statement costs more than running most of ours, and the daemons run the
// same few lookups for every peer, so a statement goes back here (reset,
// bindings cleared) when its Stmt ends, and the next prepare of the same
// text takes it. Shared with the Stmts, so one that outlives its Database
// finalizes itself instead.
struct StmtCache {
    sqlite3* db = nullptr;  // null once the connection is closed
    std::unordered_map<std::string, sqlite3_stmt*> idle;
    static constexpr size_t kMax = 128;
};

// One prepared statement. Bind parameters are 1-based, columns 0-based.
class Stmt {
public:
    Stmt() = default;
    Stmt(Stmt&& o) noexcept
        : db_(o.db_), st_(o.st_), cache_(std::move(o.cache_)), key_(std::move(o.key_)) {
        o.st_ = nullptr;
    }
    Stmt& operator=(Stmt&& o) noexcept;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt();

    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Stmt& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v ? 1 : 0)); }
    Stmt& bind_blob(int i, ByteView v);
    Stmt& bind_null(int i);

    // true: a row is ready; false: done. Failures carry PDB0004.
    Result<bool> step();
    // Run to completion (for statements without rows).
    Status run();
    void reset();

    std::string text(int col) const;
    int64_t integer(int col) const;
    bool boolean(int col) const { return integer(col) != 0; }
    Bytes blob(int col) const;
    bool is_null(int col) const;
    int columns() const;

private:
    friend class Database;
    Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
    // Back to the cache, or finalized.
    void release();
    sqlite3* db_ = nullptr;
    sqlite3_stmt* st_ = nullptr;
    std::shared_ptr<StmtCache> cache_;
    std::string key_;
};

class Database {
public:
    Database() = default;
    Database(Database&& o) noexcept
        : db_(o.db_), path_(std::move(o.path_)), cache_(std::move(o.cache_)) {
        o.db_ = nullptr;
    }
    Database& operator=(Database&& o) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    // Open (create when `create`) with foreign keys on and the busy timeout.
    static Result<Database> open(const std::string& path, bool create,
                                 int busy_timeout_ms = 5000);

    // A statement of this text that is not in use is reused (see StmtCache).
    Result<Stmt> prepare(std::string_view sql);
    // Run one or more statements without results.
    Status exec(std::string_view sql);
    // The first column of the first row, as an integer (nullopt: no row).
    Result<std::optional<int64_t>> scalar(std::string_view sql);

    int64_t last_insert_id() const;
    int changes() const;
    bool in_transaction() const;
    const std::string& path() const { return path_; }
    sqlite3* handle() { return db_; }

    // The PDB message for the last error of this connection.
    Msg error(std::string_view what) const;

private:
    void close();
    sqlite3* db_ = nullptr;
    std::string path_;
    std::shared_ptr<StmtCache> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded. Taking
// the write lock up front means two writers never deadlock on a lock
// upgrade: the second waits (busy timeout) and then sees the first's result.
class Transaction {
public:
    static Result<Transaction> begin(Database& db);
    Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    ~Transaction();
    Status commit();

private:
    explicit Transaction(Database& db) : db_(&db) {}
    Database* db_ = nullptr;
};

}  // namespace qvpn::policy::sql
