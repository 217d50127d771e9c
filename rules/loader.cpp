#include "rules/loader.hpp"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/base/paths.hpp"
#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/text.hpp"
#include "journal/journal.hpp"
#include "rules/compile.hpp"
#include "rules/evaluate.hpp"
#include "rules/generate.hpp"
#include "rules/journal_job.hpp"
#include "rules/nft.hpp"
#include "rules/parser.hpp"
#include "rules/session.hpp"
#include "rules/store.hpp"
#include "rules/vpn_config.hpp"

namespace qvpn::rules {

namespace {

std::string now_iso() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

bool valid_interface(const std::string& s, bool ppp) {
    if (s.empty() || s.size() >= IF_NAMESIZE) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-' || c == '@' || c == ':' ||
                  (ppp && c == '*' && i + 1 == s.size());
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Interfaces of the system, for *ALL in generated rules without line objects.
std::vector<std::string> system_interfaces() {
    std::vector<std::string> out;
    struct if_nameindex* list = if_nameindex();
    for (auto* i = list; i && i->if_index != 0; ++i) {
        if (std::string(i->if_name) != "lo") {
            out.push_back(i->if_name);
        }
    }
    if_freenameindex(list);
    return out;
}

bool write_file(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
        out << text;
        out.flush();
        if (!out) {
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    return !ec;
}

std::string spec_text(const Spec& s) { return s.op + " " + s.value; }

// The target lines of a document: name, PPP or not, sets in order, where.
struct TargetLine {
    std::string name;
    bool ppp = false;
    Loc loc;
    std::vector<std::string> sets;
};

std::vector<TargetLine> target_lines(const Document& doc) {
    std::vector<TargetLine> out;
    std::map<std::string, size_t> index;
    for (const auto& fi : doc.interfaces) {
        std::string key = (fi.ppp ? "P:" : "L:") + name_key(fi.name);
        auto [it, fresh] = index.emplace(key, out.size());
        if (fresh) {
            out.push_back({fi.name, fi.ppp, fi.loc, {}});
        }
        for (const auto& [set, loc] : fi.sets) {
            out[it->second].sets.push_back(set);
        }
    }
    return out;
}

// Connection definitions of IPSEC rules in evaluation order, each once.
std::vector<std::string> connection_order(const std::vector<const Filter*>& rules) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const Filter* f : rules) {
        if (f->action == Action::Ipsec && seen.insert(name_key(f->connection)).second) {
            out.push_back(f->connection);
        }
    }
    return out;
}

std::vector<std::string> connection_order(const std::vector<const StoredRule*>& rules) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const StoredRule* r : rules) {
        if (r->action == Action::Ipsec && seen.insert(name_key(r->connection)).second) {
            out.push_back(r->connection);
        }
    }
    return out;
}

// Is a VPN server running for this state root? (QTOVMAN answers on its
// socket.)
bool vpn_server_running() {
    std::string path = paths::run_dir() + "/QTOVMAN.sock";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        close(fd);
        return false;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return up;
}

// Run a sibling command (ENDTCPSVR, STRTCPSVR) with one parameter.
Status run_sibling(const std::string& cmd, const std::string& param) {
    std::string exe = paths::self_dir() + "/" + cmd;
    if (access(exe.c_str(), X_OK) != 0) {
        return fail("NFT0150", cmd == "ENDTCPSVR" ? "ended" : "started", cmd + " is not installed");
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl(exe.c_str(), cmd.c_str(), param.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return fail("NFT0150", cmd == "ENDTCPSVR" ? "ended" : "started",
                    cmd + " " + param + " failed");
    }
    return {};
}

journal::TfEntry tf(std::string_view event, std::string line, std::string text) {
    journal::TfEntry e;
    e.revt = std::string(event);
    e.line = std::move(line);
    e.text = text.substr(0, 76);
    return e;
}

// Load and unload events go to QIPFILTER under the command's name; the user
// profile is the one who asked (through sudo, the invoking user).
void journal(const char* program, const std::vector<journal::TfEntry>& entries,
             std::vector<Msg>& diags) {
    journal::Origin origin = journal::Origin::current(program, program);
    const char* sudo = std::getenv("SUDO_USER");
    if (sudo != nullptr && *sudo != '\0') {
        origin.user_profile = to_upper(sudo);
    }
    auto w = journal::Writer::open(journal::Journal::Qipfilter, origin);
    if (!w.ok()) {
        diags.push_back(w.error());  // the rules changed; only the journal entry is missing
        return;
    }
    auto r = (*w)->append_batch(entries);  // one transaction, one sync
    if (!r.ok()) {
        diags.push_back(r.error());
    }
}

class Loader {
public:
    Loader(const LoadOptions& opt, std::vector<Msg>& diags) : opt_(opt), diags_(diags) {}

    Result<Msg> load() {
        QVPN_TRY(paths::ensure());
        QVPN_ASSIGN(cfg_, read_vpn_config());
        QVPN_TRY(read_rules());
        QVPN_TRY(check_system());

        QVPN_ASSIGN(auto store, Store::open(state_path(), true));
        QVPN_TRY(store.begin());
        QVPN_ASSIGN(old_, store.read());
        QVPN_TRY(forget_if_stale(store));
        QVPN_TRY(check_active_connections(replaced_lines(), "replaced"));
        QVPN_TRY(check_connection_order());
        QVPN_TRY(check_lockout());

        QVPN_ASSIGN(int unit, store.next_unit_id());
        std::vector<LineBinding> bindings;
        for (const auto& t : targets_) {
            bindings.push_back({t.name, iface_[name_key(t.name)], t.ppp, t.sets});
        }
        CompiledUnit cu =
            compile_unit(doc_, bindings, {.unit = unit, .nflog_group = nflog_group()});

        // The state after the load: remaining lines of other loads, then ours.
        StoredUnit su = new_unit(unit, cu.body);
        std::vector<StoredRule> rules = stored_rules(unit);
        std::vector<StoredLine> lines;
        for (const auto& l : old_.lines) {
            if (!replaced(l.plan.line)) {
                lines.push_back(l);
            }
        }
        std::string at = now_iso();
        for (size_t k = 0; k < cu.lines.size(); ++k) {
            lines.push_back({cu.lines[k], targets_[k].sets, at});
        }
        for (const auto& l : old_.lines) {
            QVPN_TRY(store.remove_line(l.plan.line));
        }
        QVPN_TRY(store.add_unit(su, rules));
        for (const auto& l : lines) {
            QVPN_TRY(store.put_line(l));
        }
        QVPN_TRY(store.prune_units());
        QVPN_TRY(activate(store, next_state(std::move(su), std::move(rules), std::move(lines))));
        journal_load();
        size_t n = 0;
        for (const auto& f : doc_.filters) {
            n += used_sets_.count(name_key(f.set)) ? 1 : 0;
        }
        std::string what = "line " + targets_[0].name;
        if (targets_.size() > 1) {
            what = "lines " + targets_[0].name;
            for (size_t i = 1; i < targets_.size(); ++i) {
                what += (i + 1 == targets_.size() ? " and " : ", ") + targets_[i].name;
            }
        }
        return msg("NFT0001", what, n, source_name());
    }

    Result<Msg> unload() {
        QVPN_TRY(paths::ensure());
        QVPN_ASSIGN(cfg_, read_vpn_config());
        QVPN_ASSIGN(auto store, Store::open(state_path(), true));
        QVPN_TRY(store.begin());
        QVPN_ASSIGN(old_, store.read());
        QVPN_TRY(forget_if_stale(store));
        bool all = opt_.line == "*ALL";
        if (!all && old_.line(opt_.line) == nullptr) {
            return fail("NFT0111", opt_.line);
        }
        if (!all) {
            unloaded_.insert(name_key(opt_.line));
        } else {
            for (const auto& l : old_.lines) {
                unloaded_.insert(name_key(l.plan.line));
            }
        }
        QVPN_TRY(check_active_connections(unloaded_, "unloaded"));
        for (const auto& l : old_.lines) {
            if (unloaded_.count(name_key(l.plan.line))) {
                QVPN_TRY(store.remove_line(l.plan.line));
            }
        }
        QVPN_TRY(store.prune_units());
        QVPN_ASSIGN(State next, store.read());
        QVPN_TRY(activate(store, next));

        journal("LODIPFTR",
                {tf(all ? "U*" : "U", all ? "*ALL" : opt_.line,
                    all ? "All packet rules unloaded"
                        : "Packet rules unloaded from line " + opt_.line)},
                diags_);
        return msg("NFT0002", all ? std::string("all lines") : "line " + opt_.line);
    }

private:
    // A record whose table is not in the kernel (after a reboot, or when the
    // table was deleted by hand) describes nothing active: drop it.
    Status forget_if_stale(Store& store) {
        if (state_is_live(old_)) {
            return {};
        }
        diags_.push_back(msg("NFT0123", state_path()));
        for (const auto& l : old_.lines) {
            QVPN_TRY(store.remove_line(l.plan.line));
        }
        old_ = State{};
        return {};
    }

    // --- reading -------------------------------------------------------------------

    Status read_rules() {
        if (opt_.stmf.empty() && !opt_.incvpn) {
            return fail("NFT0113");
        }
        std::optional<Parsed> user, gen;
        DiskFiles files;
        if (!opt_.stmf.empty()) {
            user = load_rules_file(opt_.stmf, files);
        }
        if (opt_.incvpn) {
            std::vector<std::string> all;
            for (const auto& l : cfg_.lines) {
                all.push_back(l.name);
            }
            if (all.empty()) {
                all = system_interfaces();
            }
            GeneratedRules g = generate_rules(cfg_, all);
            if (g.policy_filters == 0 && !user) {
                return fail("NFT0114");
            }
            if (g.policy_filters > 0) {
                std::string path = paths::rulegen_dir() + "/" + kGeneratedFile;
                if (!write_file(path, g.text)) {
                    return fail("NFT0131", path);
                }
                gen = load_rules_file(path, files);
            }
        }
        size_t errors = 0;
        for (auto* p : {user ? &*user : nullptr, gen ? &*gen : nullptr}) {
            if (p == nullptr) {
                continue;
            }
            for (auto& w : p->warnings) {
                diags_.push_back(w);
            }
            for (auto& e : p->errors) {
                diags_.push_back(e);
                ++errors;
            }
        }
        if (errors > 0) {
            return fail("RUL0001", errors);
        }
        if (user && gen) {
            QVPN_TRY(merge(std::move(*user), std::move(*gen)));
        } else {
            doc_ = std::move(user ? user->doc : gen->doc);
        }
        main_file_ = user ? doc_.files[0] : "";
        return {};
    }

    // The file's rules keep their numbers; the generated ones follow. Per
    // line: generated pre-IPSec and policy sets, the file's sets, then the
    // generated permit-all-other set.
    Status merge(Parsed user, Parsed gen) {
        std::set<std::string> gen_sets;
        for (const auto& f : gen.doc.filters) {
            gen_sets.insert(name_key(f.set));
        }
        size_t errors = 0;
        for (const auto& f : user.doc.filters) {
            if (gen_sets.count(name_key(f.set))) {
                diags_.push_back(msg("RUL0153", user.doc.where(f.set_loc), f.set));
                ++errors;
            }
        }
        if (errors > 0) {
            return fail("RUL0001", errors);
        }
        Document d = std::move(user.doc);
        int shift = int(d.files.size());
        int base = int(d.filters.size());
        for (const auto& f : gen.doc.files) {
            d.files.push_back(f);
        }
        for (auto f : gen.doc.filters) {
            f.number += base;
            for (Loc* l : {&f.loc, &f.set_loc, &f.direction_loc, &f.connection_loc}) {
                l->file += shift;
            }
            d.filters.push_back(std::move(f));
        }
        std::vector<TargetLine> u = target_lines(d), g = target_lines(gen.doc);
        std::vector<FilterInterface> merged;
        auto find = [](std::vector<TargetLine>& v, const TargetLine& t) -> TargetLine* {
            for (auto& x : v) {
                if (x.ppp == t.ppp && iequals(x.name, t.name)) {
                    return &x;
                }
            }
            return nullptr;
        };
        auto add = [&](const TargetLine& t, const std::vector<std::string>& sets) {
            FilterInterface fi{t.loc, t.ppp, t.name, {}};
            for (const auto& s : sets) {
                fi.sets.emplace_back(s, t.loc);
            }
            merged.push_back(std::move(fi));
        };
        for (const auto& t : u) {
            std::vector<std::string> sets;
            TargetLine* gt = find(g, t);
            std::vector<std::string> tail;
            if (gt) {
                for (const auto& s : gt->sets) {
                    (iequals(s, kPermitOtherSet) ? tail : sets).push_back(s);
                }
            }
            sets.insert(sets.end(), t.sets.begin(), t.sets.end());
            sets.insert(sets.end(), tail.begin(), tail.end());
            add(t, sets);
        }
        for (auto t : g) {
            if (!find(u, t)) {
                t.loc.file += shift;
                add(t, t.sets);
            }
        }
        d.interfaces = std::move(merged);
        doc_ = std::move(d);
        return {};
    }

    std::string source_name() const {
        if (main_file_.empty()) {
            return "the VPN configuration";
        }
        return opt_.incvpn ? main_file_ + " and the VPN configuration" : main_file_;
    }

    // --- checks against the system ----------------------------------------------------

    Status check_system() {
        size_t errors = 0;
        auto error = [&](Msg m) {
            diags_.push_back(std::move(m));
            ++errors;
        };
        std::vector<TargetLine> all = target_lines(doc_);
        if (all.empty()) {
            error(msg("RUL0151", doc_.where(Loc{0, 1, 1})));
        }
        if (opt_.line == "*ALL") {
            targets_ = all;
        } else {
            for (const auto& t : all) {
                if (iequals(t.name, opt_.line)) {
                    targets_.push_back(t);
                }
            }
            if (targets_.empty() && !all.empty()) {
                error(msg("RUL0150", doc_.where(Loc{0, 1, 1}), opt_.line));
            }
        }
        for (const auto& t : targets_) {
            for (const auto& s : t.sets) {
                used_sets_.insert(name_key(s));
            }
        }
        for (const auto& f : doc_.filters) {
            if (f.action == Action::Ipsec && used_sets_.count(name_key(f.set)) &&
                !cfg_.has_definition(f.connection)) {
                error(msg("RUL0148", doc_.where(f.connection_loc), f.connection));
            }
        }
        for (const auto& t : targets_) {
            std::string itf = cfg_.interface_of(t.name);
            bool exists = t.ppp || cfg_.has_line_object(t.name) ||
                          if_nametoindex(itf.c_str()) != 0;
            if (!exists || !valid_interface(itf, t.ppp)) {
                error(msg("NFT0116", doc_.where(t.loc), t.name));
                continue;
            }
            iface_[name_key(t.name)] = itf;
        }
        if (errors > 0) {
            return fail("RUL0001", errors);
        }
        return {};
    }

    bool replaced(const std::string& line) const {
        if (opt_.line == "*ALL") {
            return true;
        }
        for (const auto& t : targets_) {
            if (iequals(t.name, line)) {
                return true;
            }
        }
        return false;
    }

    std::set<std::string> replaced_lines() const {
        std::set<std::string> out;
        for (const auto& l : old_.lines) {
            if (replaced(l.plan.line)) {
                out.insert(name_key(l.plan.line));
            }
        }
        return out;
    }

    // Rules cannot change under a VPN connection that uses them.
    Status check_active_connections(const std::set<std::string>& lines, const char* what) {
        std::set<std::string> used;
        for (const auto& l : old_.lines) {
            if (!lines.count(name_key(l.plan.line))) {
                continue;
            }
            for (const StoredRule* r : old_.line_rules(l)) {
                if (r->action == Action::Ipsec) {
                    used.insert(name_key(r->connection));
                }
            }
        }
        for (const auto& s : cfg_.states) {
            if (policy::is_active(s.state) && used.count(name_key(definition_of(s)))) {
                return fail("NFT0110", what, s.name);
            }
        }
        return {};
    }

    // TCP5B28: every line must see the connection definitions in one order.
    Status check_connection_order() {
        struct Seq {
            std::string line;
            std::vector<std::string> order;
            bool fresh;
        };
        std::vector<Seq> seqs;
        for (const auto& l : old_.lines) {
            if (!replaced(l.plan.line)) {
                seqs.push_back({l.plan.line, connection_order(old_.line_rules(l)), false});
            }
        }
        for (const auto& t : targets_) {
            seqs.push_back({t.name, connection_order(line_filters(t)), true});
        }
        // before[a][b] = a line on which a comes before b
        std::map<std::string, std::map<std::string, std::string>> before;
        for (const auto& s : seqs) {
            for (size_t i = 0; i < s.order.size(); ++i) {
                for (size_t j = i + 1; j < s.order.size(); ++j) {
                    before[name_key(s.order[i])][name_key(s.order[j])] = s.line;
                }
            }
        }
        for (const auto& s : seqs) {
            if (!s.fresh) {
                continue;
            }
            for (size_t i = 0; i < s.order.size(); ++i) {
                for (size_t j = i + 1; j < s.order.size(); ++j) {
                    auto a = name_key(s.order[i]), b = name_key(s.order[j]);
                    auto it = before[b].find(a);
                    if (it != before[b].end()) {
                        diags_.push_back(msg("RUL0152", where_connection(s.order[j]), s.order[i],
                                             s.order[j], s.line, it->second));
                        return fail("TCP5B28");
                    }
                }
            }
        }
        return {};
    }

    std::string where_connection(const std::string& cnn) const {
        for (const auto& f : doc_.filters) {
            if (f.action == Action::Ipsec && iequals(f.connection, cnn)) {
                return doc_.where(f.connection_loc);
            }
        }
        return doc_.where(Loc{0, 1, 1});
    }

    std::vector<const Filter*> line_filters(const TargetLine& t) const {
        std::vector<const Filter*> out;
        for (const auto& s : t.sets) {
            for (const auto& f : doc_.filters) {
                if (iequals(f.set, s)) {
                    out.push_back(&f);
                }
            }
        }
        return out;
    }

    // The implicit permits once these rules are active.
    Implicit implicit_after() const {
        bool ike_talk = false, esp_talk = false, ipsec = false;
        for (const auto& f : doc_.filters) {
            if (used_sets_.count(name_key(f.set))) {
                ike_talk = ike_talk || speaks_about_ike(f);
                esp_talk = esp_talk || speaks_about_ipsec(f);
                ipsec = ipsec || f.action == Action::Ipsec;
            }
        }
        for (const auto& l : old_.lines) {
            if (replaced(l.plan.line)) {
                continue;
            }
            const StoredUnit* u = old_.unit(l.plan.unit);
            ike_talk = ike_talk || (u && u->ike_talk);
            esp_talk = esp_talk || (u && u->ipsec_talk);
            for (const StoredRule* r : old_.line_rules(l)) {
                ipsec = ipsec || r->action == Action::Ipsec;
            }
        }
        return {!ike_talk, ipsec && !esp_talk};
    }

    // CHKLCKOUT(*YES): refuse rules that stop the session running this.
    Status check_lockout() {
        if (!opt_.check_lockout) {
            return {};
        }
        auto sessions = caller_sessions();
        if (sessions.empty()) {
            diags_.push_back(msg("RUL0162"));
            return {};
        }
        Implicit imp = implicit_after();
        for (const auto& s : sessions) {
            std::string itf = interface_with_address(s.local);
            for (const auto& t : targets_) {
                if (iface_[name_key(t.name)] != itf) {
                    continue;
                }
                Packet in;
                in.src = s.remote;
                in.dst = s.local;
                in.sport = s.remote_port;
                in.dport = s.local_port;
                Packet out = in;
                std::swap(out.src, out.dst);
                std::swap(out.sport, out.dport);
                for (auto [pkt, inbound] : {std::pair{in, true}, std::pair{out, false}}) {
                    Decision d = evaluate(doc_, t.sets, imp, inbound, pkt);
                    if (d.accept) {
                        continue;
                    }
                    const char* dir = inbound ? "inbound" : "outbound";
                    if (d.rule == 0) {
                        return fail("RUL0161", t.name, describe(s), dir);
                    }
                    const Filter& f = doc_.filters[size_t(d.rule - 1)];
                    return fail("RUL0160", doc_.where(f.loc), d.rule,
                                d.why == "clear" ? "drop" : "deny", describe(s), t.name, dir);
                }
            }
        }
        return {};
    }

    // --- writing ---------------------------------------------------------------------

    // What the state holds once the load commits (as prune_units leaves it),
    // built in memory rather than read back.
    State next_state(StoredUnit su, std::vector<StoredRule> rules, std::vector<StoredLine> lines) {
        State next;
        std::set<int> used;
        for (const auto& l : lines) {
            used.insert(l.plan.unit);
        }
        for (auto& u : old_.units) {
            if (used.count(u.id)) {
                next.units.push_back(u);
            }
        }
        for (auto& r : old_.rules) {
            if (used.count(r.unit)) {
                next.rules.push_back(r);
            }
        }
        next.units.push_back(std::move(su));
        for (auto& r : rules) {
            next.rules.push_back(std::move(r));
        }
        next.lines = std::move(lines);
        return next;
    }

    StoredUnit new_unit(int id, const std::string& body) const {
        StoredUnit u;
        u.id = id;
        u.file = main_file_;
        u.files = doc_.files;
        u.incvpn = opt_.incvpn;
        u.loaded_at = now_iso();
        u.body = body;
        for (const auto& f : doc_.filters) {
            if (used_sets_.count(name_key(f.set))) {
                u.ike_talk = u.ike_talk || speaks_about_ike(f);
                u.ipsec_talk = u.ipsec_talk || speaks_about_ipsec(f);
            }
        }
        u.nflog_group = nflog_group();
        return u;
    }

    std::vector<StoredRule> stored_rules(int unit) const {
        std::vector<StoredRule> out;
        for (const auto& f : doc_.filters) {
            if (!used_sets_.count(name_key(f.set))) {
                continue;
            }
            StoredRule r;
            r.unit = unit;
            r.number = f.number;
            r.set = f.set;
            r.action = f.action;
            r.direction = f.direction;
            r.srcaddr = spec_text(f.src);
            r.dstaddr = spec_text(f.dst);
            r.protocol = f.protocol.value;
            r.srcport = spec_text(f.sport);
            r.dstport = spec_text(f.dport);
            r.icmp_type = spec_text(f.icmp_type);
            r.icmp_code = spec_text(f.icmp_code);
            r.fragments = f.fragments;
            r.journal = f.journal;
            r.connection = f.connection;
            r.location = doc_.where(f.loc);
            r.match = f.match;
            out.push_back(std::move(r));
        }
        return out;
    }

    // nftables and the state, together. The state transaction is open;
    // it commits only after nftables took the new table.
    Status activate(Store& store, const State& next) {
        bool journaled = false, ike_talk = false, esp_talk = false, ipsec = false;
        std::vector<std::string> bodies;
        std::vector<LinePlan> plans;
        for (const auto& u : next.units) {
            bodies.push_back(u.body);
            ike_talk = ike_talk || u.ike_talk;
            esp_talk = esp_talk || u.ipsec_talk;
        }
        for (const auto& l : next.lines) {
            plans.push_back(l.plan);
        }
        std::set<std::string> seen_if;
        for (const auto& l : next.lines) {
            auto [it, fresh] = seen_if.insert(l.plan.interface);
            if (!fresh) {
                for (const auto& o : next.lines) {
                    if (o.plan.interface == l.plan.interface &&
                        !iequals(o.plan.line, l.plan.line)) {
                        return fail("NFT0115", l.plan.line, l.plan.interface, o.plan.line);
                    }
                }
            }
            for (const StoredRule* r : next.line_rules(l)) {
                journaled = journaled || r->journal;
                ipsec = ipsec || r->action == Action::Ipsec;
            }
        }
        std::string id;
        if (!plans.empty()) {
            SystemRandom rnd;
            Bytes b(8);
            rnd.fill(b);
            id = to_hex(b);
        }
        QVPN_TRY(store.set_table_id(id));
        std::string script =
            compose_table(bodies, plans, Implicit{!ike_talk, ipsec && !esp_talk}, id);

        bool started = false;
        if (journaled) {
            QVPN_ASSIGN(started, start_job());
        }
        Nft nft;
        Status st = nft.run(script);
        if (!st.ok()) {
            store.rollback();
            if (started) {
                stop_job();
            }
            return st;
        }
        Status committed = store.commit();
        if (!committed.ok()) {
            diags_.push_back(committed.error());
            restore(nft);
            if (started) {
                stop_job();
            }
            return fail("NFT0121", committed.error().value(2));
        }
        if (!journaled) {
            stop_job();
        }
        return {};
    }

    // Put the table of the previous state back after a failed commit.
    void restore(Nft& nft) {
        std::vector<std::string> bodies;
        std::vector<LinePlan> plans;
        bool ike_talk = false, esp_talk = false, ipsec = false;
        for (const auto& u : old_.units) {
            bodies.push_back(u.body);
            ike_talk = ike_talk || u.ike_talk;
            esp_talk = esp_talk || u.ipsec_talk;
        }
        for (const auto& l : old_.lines) {
            plans.push_back(l.plan);
            for (const StoredRule* r : old_.line_rules(l)) {
                ipsec = ipsec || r->action == Action::Ipsec;
            }
        }
        Status st = nft.run(
            compose_table(bodies, plans, Implicit{!ike_talk, ipsec && !esp_talk}, old_.table_id));
        if (!st.ok()) {
            diags_.push_back(msg("NFT0122", st.error().value(1)));
        }
    }

    void journal_load() {
        std::vector<journal::TfEntry> entries;
        std::string text = "Rules loaded from " + source_name();
        if (opt_.line == "*ALL") {
            entries.push_back(tf("L*", "", text));
        }
        for (const auto& t : targets_) {
            entries.push_back(tf("L", t.name, text));
        }
        journal("LODIPFTR", entries, diags_);
    }

    LoadOptions opt_;
    std::vector<Msg>& diags_;
    VpnConfig cfg_;
    Document doc_;
    std::string main_file_;
    std::vector<TargetLine> targets_;
    std::set<std::string> used_sets_;
    std::map<std::string, std::string> iface_;  // line key -> interface
    std::set<std::string> unloaded_;
    State old_;
};

}  // namespace

Result<Msg> lodipftr(const LoadOptions& opt, std::vector<Msg>& diags) {
    Loader l(opt, diags);
    return opt.unload ? l.unload() : l.load();
}

Result<Msg> rmvtcptbl(Table t, std::vector<Msg>& diags) {
    QVPN_TRY(paths::ensure());
    bool server = vpn_server_running();
    bool restarted = false;
    if (server) {
        Status st = run_sibling("ENDTCPSVR", "SERVER(*VPN)");
        if (!st.ok()) {
            diags.push_back(st.error());
            server = false;  // it may still run; do not start a second one
        }
    }

    // Remove before anything else can fail: this is the way out of a
    // lock-out, so the table goes even when the state cannot be read.
    Nft nft;
    QVPN_TRY(nft.run(compose_table({}, {}, Implicit{})));
    stop_job();
    std::error_code ec;
    for (const char* sfx : {"", "-journal", "-wal", "-shm"}) {
        std::filesystem::remove(state_path() + sfx, ec);
    }
    if (t == Table::All) {
        for (const auto& e : std::filesystem::directory_iterator(paths::rulegen_dir(), ec)) {
            std::error_code rec;
            if (e.is_regular_file(rec) && !std::filesystem::remove(e.path(), rec)) {
                diags.push_back(msg("NFT0152", e.path().string()));
            }
        }
    }
    journal("RMVTCPTBL",
            {tf("U*", "*ALL",
                t == Table::All ? "RMVTCPTBL TBL(*ALL): all packet rules removed"
                                : "RMVTCPTBL TBL(*IPFTR): all packet rules removed")},
            diags);

    if (server) {
        Status st = run_sibling("STRTCPSVR", "SERVER(*VPN)");
        if (st.ok()) {
            restarted = true;
        } else {
            diags.push_back(st.error());
        }
    }
    if (restarted) {
        diags.push_back(msg("NFT0151"));
    }
    return msg("NFT0003", t == Table::All ? "*ALL" : "*IPFTR",
               t == Table::All ? "packet rules, their state and the generated rules"
                               : "packet rules and their state");
}

}  // namespace qvpn::rules
