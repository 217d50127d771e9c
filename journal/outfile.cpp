#include "journal/outfile.hpp"

#include <sqlite3.h>

#include <cctype>
#include <filesystem>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::journal {

namespace {

std::string quote_ident(const std::string& s) { return "\"" + s + "\""; }

struct Db {
    sqlite3* h = nullptr;
    ~Db() {
        if (h != nullptr) {
            sqlite3_close_v2(h);
        }
    }
};

Status exec(sqlite3* db, const std::string& sql, const std::string& lib, const std::string& file) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string e = err != nullptr ? err : "unknown";
        sqlite3_free(err);
        return fail("JRN0006", file, lib, e);
    }
    return {};
}

std::string csv_field(const std::string& s) {
    bool quote = s.find_first_of(",\"\r\n") != std::string::npos;
    if (!quote) {
        return s;
    }
    std::string o = "\"";
    for (char c : s) {
        o += c;
        if (c == '"') {
            o += '"';
        }
    }
    return o + "\"";
}

}  // namespace

Result<std::string> object_name(std::string_view name, std::string_view kwd) {
    std::string n = to_upper(trim(name));
    auto special = [](char c) { return c == '$' || c == '#' || c == '@'; };
    bool ok = !n.empty() && n.size() <= 10 &&
              (std::isalpha(static_cast<unsigned char>(n[0])) != 0 || special(n[0]));
    for (char c : n) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) != 0 || special(c) || c == '_');
    }
    if (!ok) {
        return fail("JRN0005", std::string(name), std::string(kwd),
                    "a name of 1 to 10 letters, digits, $, #, @ or _, starting with a letter");
    }
    return n;
}

std::string library_path(const std::string& lib) { return paths::lib_dir() + "/" + lib + ".db"; }

Result<std::vector<std::string>> outfile_columns(const std::string& lib, const std::string& file) {
    std::vector<std::string> cols;
    if (!std::filesystem::exists(library_path(lib))) {
        return cols;
    }
    Db db;
    if (sqlite3_open_v2(library_path(lib).c_str(), &db.h, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
        return fail("JRN0006", file, lib, db.h ? sqlite3_errmsg(db.h) : "out of memory");
    }
    sqlite3_stmt* st = nullptr;
    std::string sql = "PRAGMA table_info(" + quote_ident(file) + ")";
    if (sqlite3_prepare_v2(db.h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        return fail("JRN0006", file, lib, sqlite3_errmsg(db.h));
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        cols.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    }
    sqlite3_finalize(st);
    return cols;
}

Status write_outfile(Journal j, const std::vector<Entry>& entries, const std::string& lib,
                     const std::string& file, bool replace) {
    const auto& defs = fields(j);
    QVPN_ASSIGN(auto existing, outfile_columns(lib, file));
    if (!existing.empty()) {
        bool same = existing.size() == defs.size();
        for (size_t i = 0; same && i < defs.size(); ++i) {
            same = iequals(existing[i], defs[i].name);
        }
        if (!same) {
            return fail("JRN0006", file, lib,
                        "the file has the fields of another record format");
        }
    }
    std::error_code ec;
    std::filesystem::create_directories(paths::lib_dir(), ec);
    Db db;
    if (sqlite3_open_v2(library_path(lib).c_str(), &db.h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        return fail("JRN0006", file, lib, db.h ? sqlite3_errmsg(db.h) : "out of memory");
    }
    sqlite3_busy_timeout(db.h, 10000);
    QVPN_TRY(exec(db.h, "BEGIN IMMEDIATE", lib, file));
    auto body = [&]() -> Status {
        std::string create = "CREATE TABLE IF NOT EXISTS " + quote_ident(file) + " (";
        std::string insert = "INSERT INTO " + quote_ident(file) + " VALUES (";
        for (size_t i = 0; i < defs.size(); ++i) {
            create += (i ? ", " : "") + std::string(defs[i].name) +
                      (defs[i].numeric ? " INTEGER" : " TEXT");
            insert += i ? ",?" : "?";
        }
        create += ")";
        insert += ")";
        QVPN_TRY(exec(db.h, create, lib, file));
        if (replace) {
            QVPN_TRY(exec(db.h, "DELETE FROM " + quote_ident(file), lib, file));
        }
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db.h, insert.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            return fail("JRN0006", file, lib, sqlite3_errmsg(db.h));
        }
        for (const auto& e : entries) {
            auto vals = field_values(e);
            sqlite3_reset(st);
            for (size_t i = 0; i < defs.size(); ++i) {
                int idx = static_cast<int>(i) + 1;
                if (defs[i].numeric) {
                    sqlite3_bind_int64(st, idx, std::stoll(vals[i]));
                } else {
                    sqlite3_bind_text(st, idx, vals[i].c_str(), -1, SQLITE_TRANSIENT);
                }
            }
            if (sqlite3_step(st) != SQLITE_DONE) {
                std::string e2 = sqlite3_errmsg(db.h);
                sqlite3_finalize(st);
                return fail("JRN0006", file, lib, e2);
            }
        }
        sqlite3_finalize(st);
        return exec(db.h, "COMMIT", lib, file);
    };
    Status s = body();
    if (!s.ok()) {
        sqlite3_exec(db.h, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return s;
}

std::string to_csv(Journal j, const std::vector<Entry>& entries) {
    const auto& defs = fields(j);
    std::string out;
    for (size_t i = 0; i < defs.size(); ++i) {
        out += (i ? "," : "") + std::string(defs[i].name);
    }
    out += "\r\n";
    for (const auto& e : entries) {
        auto vals = field_values(e);
        for (size_t i = 0; i < vals.size(); ++i) {
            out += (i ? "," : "") + csv_field(vals[i]);
        }
        out += "\r\n";
    }
    return out;
}

nlohmann::json to_json(Journal j, const std::vector<Entry>& entries) {
    const auto& defs = fields(j);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : entries) {
        auto vals = field_values(e);
        nlohmann::json o = nlohmann::json::object();
        for (size_t i = 0; i < defs.size(); ++i) {
            if (defs[i].numeric) {
                o[std::string(defs[i].name)] = std::stoll(vals[i]);
            } else {
                o[std::string(defs[i].name)] = vals[i];
            }
        }
        arr.push_back(std::move(o));
    }
    return arr;
}

}  // namespace qvpn::journal
