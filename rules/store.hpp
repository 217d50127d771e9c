// The active-rules state: $QVPN_ROOT/ipfilter.db (SQLite in WAL mode, with
// a cache large enough that an open transaction writes nothing before its
// commit: a rolled-back load leaves the database and its WAL byte-identical).
//
//   unit   one LODIPFTR load: file, load time, the nft body of its chains
//   line   each line with active rules: interface, the unit it came from,
//          the chains it jumps to (LinePlan), its sets in order
//   rule   every FILTER of every unit: rule number, selectors as written and
//          normalized (JSON), action, connection definition, location
//   meta   counters (next unit id)
//
// The loader writes it in the same step as the nft transaction: the state
// transaction is open while nft runs and commits only after nft succeeded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "rules/compile.hpp"
#include "rules/model.hpp"

struct sqlite3;

namespace qvpn::rules {

std::string state_path();  // $QVPN_ROOT/ipfilter.db

struct StoredRule {
    int unit = 0;
    int number = 0;
    std::string set;
    Action action = Action::Permit;
    Direction direction = Direction::Both;
    std::string srcaddr, dstaddr, protocol, srcport, dstport, icmp_type, icmp_code;
    Fragments fragments = Fragments::None;
    bool journal = false;
    std::string connection;
    std::string location;  // file:line:col
    Match match;
};

struct StoredUnit {
    int id = 0;
    std::string file;                // main file ("" for generated rules only)
    std::vector<std::string> files;  // every file read, includes and generated file
    bool incvpn = false;
    std::string loaded_at;           // ISO 8601 UTC
    std::string body;
    bool ike_talk = false;           // some rule speaks about UDP 500
    bool ipsec_talk = false;         // some rule speaks about ESP or AH
    int nflog_group = 0;
};

struct StoredLine {
    LinePlan plan;
    std::vector<std::string> sets;
    std::string loaded_at;
};

struct State {
    std::string table_id;  // marker of the nft table this state describes
    std::vector<StoredUnit> units;
    std::vector<StoredLine> lines;
    std::vector<StoredRule> rules;  // ordered by unit, number

    bool empty() const { return lines.empty(); }
    const StoredUnit* unit(int id) const;
    const StoredLine* line(std::string_view name) const;
    // The rules a line applies, in evaluation order (set order, then file
    // order).
    std::vector<const StoredRule*> line_rules(const StoredLine& l) const;
};

// Is the state's table in the kernel (its marker chain present)? An empty
// state is always live. After a reboot, or when something deleted or
// replaced table inet qvpn, the recorded rules are not active.
bool state_is_live(const State& st);

// Match <-> JSON (the normalized selectors of a rule).
std::string match_to_json(const Match& m);
Result<Match> match_from_json(const std::string& json);

class Store {
public:
    ~Store();
    Store(Store&& o) noexcept;
    Store& operator=(Store&&) = delete;
    Store(const Store&) = delete;

    // Open (creating the schema when `create`) the state file. Without
    // `create`, a missing file opens as an empty state.
    static Result<Store> open(const std::string& path, bool create);

    Result<State> read();

    // The write transaction. begin() takes the write lock (other loaders
    // wait); rollback() leaves the file as it was.
    Status begin();
    Status commit();
    void rollback();

    Result<int> next_unit_id();
    Status set_table_id(const std::string& id);
    Status add_unit(const StoredUnit& u, const std::vector<StoredRule>& rules);
    Status put_line(const StoredLine& l);
    Status remove_line(std::string_view name);
    // Delete units no line uses any more, with their rules.
    Status prune_units();

private:
    Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    Status exec(const char* sql);
    Msg error(const std::string& what) const;

    sqlite3* db_ = nullptr;
    std::string path_;
    bool in_tx_ = false;
};

}  // namespace qvpn::rules
