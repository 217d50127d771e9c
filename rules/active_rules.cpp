#include "rules/active_rules.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "core/base/text.hpp"
#include "rules/store.hpp"

namespace qvpn::rules {

bool contains(const Match& m, const DataEndpoints& ep) {
    if (!m.src.covers(ep.local) || !m.dst.covers(ep.remote)) {
        return false;
    }
    if (m.family != 0 && ep.local.from.family() != m.family) {
        return false;
    }
    if (m.starting || !m.icmp_type.all || !m.icmp_code.all) {
        return false;  // a filter narrower than whole connections of a protocol
    }
    if (ep.protocol == 0) {
        return m.proto.all && m.sport.all && m.dport.all;
    }
    if (!m.proto.contains(uint32_t(ep.protocol))) {
        return false;
    }
    auto port_ok = [](const NumSet& s, int p) {
        return p == 0 ? s.all : s.contains(uint32_t(p));
    };
    return port_ok(m.sport, ep.local_port) && port_ok(m.dport, ep.remote_port);
}

std::vector<std::pair<IpRange, IpRange>> PolicyFilter::scopes() const {
    std::vector<int> families;
    if (match.family != 0) {
        families = {match.family};
    } else {
        families = {4, 6};
    }
    std::vector<std::pair<IpRange, IpRange>> out;
    for (int fam : families) {
        auto side = [fam](const AddrSet& s) {
            return s.all ? std::vector<IpRange>{IpRange::any(fam)} : s.ranges;
        };
        for (const auto& l : side(match.src)) {
            for (const auto& r : side(match.dst)) {
                out.emplace_back(l, r);
            }
        }
    }
    return out;
}

struct ActiveRulesWatch::Watcher {
    sqlite3* db = nullptr;
    ino_t ino = 0;             // of the state file read last, 0: none
    int64_t version = -1;      // its data_version then
    ~Watcher() { sqlite3_close_v2(db); }
};

ActiveRulesWatch::ActiveRulesWatch() : w_(std::make_unique<Watcher>()) {}
ActiveRulesWatch::~ActiveRulesWatch() = default;

bool ActiveRulesWatch::changed() {
    struct stat sb {};
    ino_t ino = ::stat(state_path().c_str(), &sb) == 0 ? sb.st_ino : 0;
    if (ino != w_->ino || (ino != 0 && w_->db == nullptr)) {
        sqlite3_close_v2(w_->db);
        w_->db = nullptr;
        w_->ino = ino;
        w_->version = -1;
        if (ino != 0 && sqlite3_open_v2(state_path().c_str(), &w_->db,
                                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                        nullptr) != SQLITE_OK) {
            sqlite3_close_v2(w_->db);
            w_->db = nullptr;
            w_->ino = 0;  // try again next time
        }
        if (w_->db != nullptr) {
            sqlite3_busy_timeout(w_->db, 30000);
        }
    }
    if (w_->db == nullptr) {
        // No file (an empty state): unchanged if the last read saw none
        // either. A file that cannot be opened is read every time.
        bool same = ino == 0 && st_ != nullptr && w_->version == 0;
        w_->version = ino == 0 ? 0 : -1;
        return !same;
    }
    sqlite3_stmt* q = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(w_->db, "PRAGMA data_version", -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    bool same = v >= 0 && v == w_->version && st_ != nullptr;
    w_->version = v;
    return !same;
}

Result<std::shared_ptr<const ActiveRules>> ActiveRulesWatch::current() {
    // The version is taken before the state is read: a load committed in
    // between is read now and read again next time, never missed.
    bool fresh = changed();
    if (fresh) {
        QVPN_ASSIGN(auto store, Store::open(state_path(), false));
        QVPN_ASSIGN(State st, store.read());
        st_ = std::make_unique<State>(std::move(st));
    }
    bool live = state_is_live(*st_);
    if (fresh || live != live_ || !snap_) {
        if (live) {
            snap_ = std::make_shared<const ActiveRules>(ActiveRules::from_state(*st_));
        } else {
            auto ar = std::make_shared<ActiveRules>();
            ar->stale_ = true;
            snap_ = std::move(ar);
        }
        live_ = live;
    }
    return snap_;
}

Result<ActiveRules> ActiveRules::load() {
    QVPN_ASSIGN(auto store, Store::open(state_path(), false));
    QVPN_ASSIGN(State st, store.read());
    if (!state_is_live(st)) {
        ActiveRules ar;
        ar.stale_ = true;
        return ar;
    }
    return from_state(st);
}

ActiveRules ActiveRules::from_state(const State& st) {
    ActiveRules ar;
    // Rank connection definitions across lines in evaluation order; the
    // loader guarantees (TCP5B28) that every line agrees on it.
    std::map<std::pair<int, int>, PolicyFilter> by_rule;  // (unit, rule)
    std::vector<std::pair<int, int>> order;
    for (const auto& l : st.lines) {
        ar.lines_.push_back(l.plan.line);
        const StoredUnit* u = st.unit(l.plan.unit);
        for (const StoredRule* r : st.line_rules(l)) {
            if (r->action != Action::Ipsec) {
                continue;
            }
            auto key = std::make_pair(r->unit, r->number);
            auto [it, fresh] = by_rule.try_emplace(key);
            PolicyFilter& pf = it->second;
            if (fresh) {
                order.push_back(key);
                pf.connection = r->connection;
                pf.unit = r->unit;
                pf.rule = r->number;
                pf.set = r->set;
                pf.location = r->location;
                pf.file = u ? u->file : "";
                pf.loaded_at = u ? u->loaded_at : "";
                pf.match = r->match;
                pf.fragments = r->fragments;
                pf.journal = r->journal;
            }
            pf.lines.push_back(l.plan.line);
            pf.interfaces.push_back(l.plan.interface);
        }
    }
    for (const auto& key : order) {
        PolicyFilter pf = std::move(by_rule[key]);
        pf.order = int(ar.filters_.size());
        ar.filters_.push_back(std::move(pf));
    }
    return ar;
}

std::vector<const PolicyFilter*> ActiveRules::for_connection(std::string_view connection) const {
    std::vector<const PolicyFilter*> out;
    for (const auto& f : filters_) {
        if (iequals(f.connection, connection)) {
            out.push_back(&f);
        }
    }
    return out;
}

bool ActiveRules::has_policy_filter(std::string_view connection) const {
    return !for_connection(connection).empty();
}

const PolicyFilter* ActiveRules::covering(std::string_view connection,
                                          const DataEndpoints& ep) const {
    for (const PolicyFilter* f : for_connection(connection)) {
        if (contains(f->match, ep)) {
            return f;
        }
    }
    return nullptr;
}

std::vector<std::string> ActiveRules::connections() const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& f : filters_) {
        if (seen.insert(to_upper(f.connection)).second) {
            out.push_back(f.connection);
        }
    }
    return out;
}

}  // namespace qvpn::rules
