#include "rules/tf_journal.hpp"

#include <pwd.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::rules {

namespace {

std::string user_name(uid_t uid) {
    struct passwd* pw = getpwuid(uid);
    return to_upper(pw ? pw->pw_name : std::to_string(uid)).substr(0, 10);
}

std::string system_name() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) {
        return "";
    }
    std::string h(host);
    return to_upper(h.substr(0, h.find('.'))).substr(0, 8);
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS rules_tf(
  tfseqn INTEGER PRIMARY KEY AUTOINCREMENT, tfcode TEXT NOT NULL DEFAULT 'M',
  tfentt TEXT NOT NULL DEFAULT 'TF', tftime TEXT NOT NULL, tfjob TEXT NOT NULL,
  tfuser TEXT NOT NULL, tfnbr INTEGER NOT NULL, tfpgm TEXT NOT NULL, tfuspf TEXT NOT NULL,
  tfsymn TEXT NOT NULL, tfline TEXT NOT NULL, tfrevt TEXT NOT NULL, tfpdir TEXT NOT NULL,
  tfrnum INTEGER NOT NULL, tfact TEXT NOT NULL, tfprot INTEGER NOT NULL, tfsrca TEXT NOT NULL,
  tfsrcp INTEGER NOT NULL, tfdsta TEXT NOT NULL, tfdstp INTEGER NOT NULL,
  tftext TEXT NOT NULL);
)";

}  // namespace

std::string saa_timestamp(WallTime t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d-%02d.%02d.%02d.%06lld", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us));
    return buf;
}

TfEntry tf_entry(std::string_view event, std::string_view program) {
    TfEntry e;
    e.time = std::chrono::system_clock::now();
    e.job = std::string(program);
    e.program = std::string(program);
    e.user = user_name(geteuid());
    e.job_number = uint32_t(getpid()) % 1000000;
    const char* sudo = std::getenv("SUDO_USER");
    e.user_profile = sudo && *sudo ? to_upper(sudo).substr(0, 10) : e.user;
    e.system = system_name();
    e.event = std::string(event);
    return e;
}

TfJournal::~TfJournal() { sqlite3_close(db_); }

Result<std::unique_ptr<TfJournal>> TfJournal::open() {
    QVPN_TRY(paths::ensure());
    std::string path = paths::journal_dir() + "/QIPFILTER.db";
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string e = db ? sqlite3_errmsg(db) : "cannot open";
        sqlite3_close(db);
        return fail("NFT0144", path + ": " + e);
    }
    std::unique_ptr<TfJournal> j(new TfJournal(db, path));
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    // WAL with FULL sync: a committed entry survives a crash of the job and
    // of the machine.
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr,
                     &err) != SQLITE_OK ||
        sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string e = err ? err : "?";
        sqlite3_free(err);
        return fail("NFT0144", path + ": " + e);
    }
    return j;
}

Status TfJournal::append(const std::vector<TfEntry>& entries) {
    if (entries.empty()) {
        return {};
    }
    auto failed = [&](const char* what) {
        std::string e = std::string(what) + ": " + sqlite3_errmsg(db_);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return fail("NFT0144", path_ + ": " + e);
    };
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
        return failed("begin");
    }
    sqlite3_stmt* s = nullptr;
    const char* sql =
        "INSERT INTO rules_tf(tftime, tfjob, tfuser, tfnbr, tfpgm, tfuspf, tfsymn, tfline, "
        "tfrevt, tfpdir, tfrnum, tfact, tfprot, tfsrca, tfsrcp, tfdsta, tfdstp, tftext) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
        return failed("prepare");
    }
    for (const auto& e : entries) {
        auto text = [&](int i, const std::string& v) {
            sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
        };
        text(1, saa_timestamp(e.time));
        text(2, e.job.substr(0, 10));
        text(3, e.user);
        sqlite3_bind_int64(s, 4, e.job_number);
        text(5, e.program.substr(0, 10));
        text(6, e.user_profile);
        text(7, e.system);
        text(8, e.line.substr(0, 10));
        text(9, e.event);
        text(10, e.direction);
        sqlite3_bind_int(s, 11, e.rule);
        text(12, e.action);
        sqlite3_bind_int(s, 13, e.protocol);
        text(14, e.src);
        sqlite3_bind_int(s, 15, e.sport);
        text(16, e.dst);
        sqlite3_bind_int(s, 17, e.dport);
        text(18, e.text.substr(0, 76));
        if (sqlite3_step(s) != SQLITE_DONE) {
            sqlite3_finalize(s);
            return failed("insert");
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        return failed("commit");
    }
    return {};
}

uint64_t TfJournal::size_bytes() const {
    uint64_t total = 0;
    for (const char* sfx : {"", "-wal"}) {
        std::error_code ec;
        auto n = std::filesystem::file_size(path_ + sfx, ec);
        total += ec ? 0 : n;
    }
    return total;
}

}  // namespace qvpn::rules
