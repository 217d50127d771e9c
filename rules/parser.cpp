#include "rules/parser.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/base/text.hpp"
#include "rules/lexer.hpp"

namespace qvpn::rules {

// --- files -------------------------------------------------------------------

std::string DiskFiles::resolve(const std::string& path, const std::string& dir) {
    namespace fs = std::filesystem;
    fs::path p(path);
    if (p.is_relative() && !dir.empty()) {
        p = fs::path(dir) / p;
    }
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
    if (ec || !fs::exists(c, ec)) {
        return "";
    }
    return c.string();
}

Result<std::string> DiskFiles::read(const std::string& resolved) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(resolved, ec)) {
        return fail("QVP0004", resolved);
    }
    auto size = std::filesystem::file_size(resolved, ec);
    if (ec) {
        return fail("QVP0004", resolved);
    }
    if (size > kMaxFileBytes) {
        return fail("RUL0171", resolved, std::to_string(kMaxFileBytes));
    }
    std::ifstream in(resolved, std::ios::binary);
    if (!in) {
        return fail("QVP0004", resolved);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) {
        return fail("QVP0004", resolved);
    }
    return ss.str();
}

// --- the parser ----------------------------------------------------------------

namespace {

bool is_statement(std::string_view w) {
    return iequals(w, "FILTER") || iequals(w, "FILTER_INTERFACE") || iequals(w, "ADDRESS") ||
           iequals(w, "SERVICE") || iequals(w, "INCLUDE");
}

// NAT statement names an operator may try; qvpn loads filter rules only.
bool is_nat_statement(std::string_view w) {
    return iequals(w, "MAP") || iequals(w, "HIDE") || iequals(w, "MAPNAT") ||
           iequals(w, "HIDENAT") || iequals(w, "NAT");
}

std::string shown(const Token& t) {
    switch (t.kind) {
        case TokKind::End: return "end of file";
        case TokKind::String: return "'" + t.text + "'";
        default: return t.text;
    }
}

class Parser {
public:
    Parser(Parsed& out, FileSource& files) : out_(out), doc_(out.doc), files_(files) {}

    // Parse `text` as file `name` (already resolved) included from `stack`.
    void run(const std::string& name, std::string_view text) {
        stack_.push_back(name);
        int file = int(doc_.files.size());
        doc_.files.push_back(name);
        std::vector<Msg> lex_errors;
        std::vector<Token> toks = tokenize(text, file, doc_, lex_errors);
        for (auto& e : lex_errors) {
            add_error(std::move(e));
        }
        std::vector<Token> saved_toks = std::move(toks_);
        size_t saved_pos = pos_;
        toks_ = std::move(toks);
        pos_ = 0;
        while (peek().kind != TokKind::End && !stopped()) {
            statement();
        }
        toks_ = std::move(saved_toks);
        pos_ = saved_pos;
        stack_.pop_back();
    }

private:
    // --- cursor ---
    const Token& peek() const { return toks_[pos_]; }
    const Token& next() {
        const Token& t = toks_[pos_];
        if (t.kind != TokKind::End) {
            ++pos_;
        }
        return t;
    }
    bool at_statement() const {
        const Token& t = peek();
        if (t.kind == TokKind::End) {
            return true;
        }
        if (t.kind != TokKind::Word || !(is_statement(t.text) || is_nat_statement(t.text))) {
            return false;
        }
        // FILTER ... SERVICE = name is a clause; the SERVICE statement is
        // followed by the name it defines.
        return !(iequals(t.text, "SERVICE") && toks_[pos_ + 1].kind == TokKind::Op);
    }
    void skip_statement() {
        while (!at_statement()) {
            next();
        }
    }

    std::string where(const Loc& l) const { return doc_.where(l); }
    bool stopped() const { return out_.errors.size() >= kMaxErrors; }
    void add_error(Msg m) {
        if (out_.errors.size() + 1 >= kMaxErrors) {
            if (out_.errors.size() + 1 == kMaxErrors) {
                out_.errors.push_back(msg("RUL0172", std::to_string(kMaxErrors - 1)));
            }
            return;
        }
        out_.errors.push_back(std::move(m));
    }
    template <class... A>
    void error(const Loc& l, const char* id, A&&... values) {
        add_error(msg(id, where(l), std::forward<A>(values)...));
    }

    // Read an operator from `allowed` after keyword `kwd`.
    bool op(const Token& kwd, std::initializer_list<std::string_view> allowed, std::string& got) {
        const Token& t = peek();
        if (t.kind != TokKind::Op) {
            error(t.loc, "RUL0106", "=", kwd.text, shown(t));
            return false;
        }
        for (auto a : allowed) {
            if (t.text == a || (a == "<>" && t.text == "!=")) {
                got = a == "<>" ? "<>" : t.text;
                next();
                return true;
            }
        }
        error(t.loc, "RUL0110", t.text, kwd.text);
        return false;
    }
    bool equals(const Token& kwd) {
        std::string o;
        return op(kwd, {"="}, o);
    }
    // A value word (or quoted string when `strings`).
    bool value(const Token& kwd, Token& got, bool strings = false) {
        const Token& t = peek();
        bool statement_word = t.kind == TokKind::Word && is_statement(t.text);
        if ((t.kind == TokKind::Word && !statement_word) ||
            (strings && t.kind == TokKind::String)) {
            got = next();
            return true;
        }
        error(t.loc, "RUL0106", "a value", kwd.text, shown(t));
        return false;
    }
    bool spec(const Token& kwd, std::initializer_list<std::string_view> ops, Spec& s) {
        s.loc = kwd.loc;
        s.given = true;
        Token v;
        if (!op(kwd, ops, s.op) || !value(kwd, v)) {
            return false;
        }
        s.value = v.text;
        s.loc = v.loc;
        return true;
    }
    bool enum_value(const Token& kwd, std::initializer_list<std::string_view> choices,
                    std::string& got) {
        Token v;
        if (!equals(kwd) || !value(kwd, v)) {
            return false;
        }
        for (auto c : choices) {
            if (iequals(c, v.text)) {
                got = std::string(c);
                return true;
            }
        }
        error(v.loc, "RUL0107", v.text, kwd.text);
        return false;
    }
    bool once(std::set<std::string>& seen, const Token& kwd, std::string_view stmt) {
        if (!seen.insert(to_upper(kwd.text)).second) {
            error(kwd.loc, "RUL0105", to_upper(kwd.text), stmt);
            return false;
        }
        return true;
    }

    // --- statements ---
    void statement() {
        const Token& t = next();
        if (t.kind != TokKind::Word) {
            error(t.loc, "RUL0103", shown(t));
            skip_statement();
            return;
        }
        if (is_nat_statement(t.text)) {
            error(t.loc, "RUL0109", to_upper(t.text));
            skip_statement();
            return;
        }
        std::string kw = to_upper(t.text);
        Token st = t;
        if (kw == "FILTER") {
            filter(st);
        } else if (kw == "FILTER_INTERFACE") {
            filter_interface(st);
        } else if (kw == "ADDRESS") {
            address(st);
        } else if (kw == "SERVICE") {
            service(st);
        } else if (kw == "INCLUDE") {
            include(st);
        } else {
            error(st.loc, "RUL0103", st.text);
            skip_statement();
        }
    }

    // A selector keyword shared by FILTER and SERVICE; false if not one.
    bool selector(const Token& k, const std::string& K, Spec& protocol, Spec& sport, Spec& dport,
                  Spec& type, Spec& code, bool& ok) {
        static const std::initializer_list<std::string_view> kCompare = {"=", "<>", "<",
                                                                         ">", "<=", ">="};
        if (K == "PROTOCOL") {
            ok = spec(k, {"="}, protocol);
        } else if (K == "SRCPORT") {
            ok = spec(k, kCompare, sport);
        } else if (K == "DSTPORT") {
            ok = spec(k, kCompare, dport);
        } else if (K == "TYPE") {
            ok = spec(k, kCompare, type);
        } else if (K == "CODE") {
            ok = spec(k, kCompare, code);
        } else {
            return false;
        }
        return true;
    }

    void filter(const Token& st) {
        Filter f;
        f.loc = st.loc;
        std::set<std::string> seen;
        bool has_action = false;
        while (!at_statement()) {
            Token k = next();
            if (k.kind != TokKind::Word) {
                error(k.loc, "RUL0106", "a keyword", "FILTER", shown(k));
                return skip_statement();
            }
            std::string K = to_upper(k.text);
            if (!once(seen, k, "FILTER")) {
                return skip_statement();
            }
            bool ok = true;
            std::string v;
            if (K == "SET") {
                ok = set_name(k, f.set, f.set_loc);
            } else if (K == "ACTION") {
                ok = enum_value(k, {"PERMIT", "DENY", "IPSEC"}, v);
                f.action = v == "DENY" ? Action::Deny
                                       : v == "IPSEC" ? Action::Ipsec : Action::Permit;
                has_action = ok;
            } else if (K == "DIRECTION") {
                f.direction_loc = k.loc;
                ok = enum_value(k, {"INBOUND", "OUTBOUND", "*"}, v);
                f.direction = v == "INBOUND" ? Direction::Inbound
                                             : v == "OUTBOUND" ? Direction::Outbound
                                                               : Direction::Both;
                f.direction_given = ok;
            } else if (K == "SRCADDR") {
                ok = spec(k, {"=", "<>"}, f.src);
            } else if (K == "DSTADDR") {
                ok = spec(k, {"=", "<>"}, f.dst);
            } else if (selector(k, K, f.protocol, f.sport, f.dport, f.icmp_type, f.icmp_code,
                                ok)) {
            } else if (K == "FRAGMENTS") {
                ok = enum_value(k, {"NONE", "HEADERS", "ALL", "*"}, v);
                f.fragments = v == "HEADERS" ? Fragments::Headers
                              : (v == "ALL" || v == "*") ? Fragments::All : Fragments::None;
            } else if (K == "JRN") {
                ok = enum_value(k, {"OFF", "FULL"}, v);
                f.journal = v == "FULL";
            } else if (K == "CONNECTION_DEFINITION") {
                Token t;
                ok = equals(k) && value(k, t, true);
                f.connection = t.text;
                f.connection_loc = t.loc;
            } else if (K == "SERVICE") {
                ok = spec(k, {"="}, f.service);
            } else {
                error(k.loc, "RUL0104", k.text, "FILTER");
                ok = false;
            }
            if (!ok) {
                return skip_statement();
            }
        }
        if (f.set.empty()) {
            return error(st.loc, "RUL0108", "SET", "FILTER");
        }
        if (!has_action) {
            return error(st.loc, "RUL0108", "ACTION", "FILTER");
        }
        f.number = int(doc_.filters.size()) + 1;
        doc_.filters.push_back(std::move(f));
    }

    // SET name (FILTER) or SET = name (both forms are accepted).
    bool set_name(const Token& k, std::string& name, Loc& loc) {
        if (peek().kind == TokKind::Op) {
            if (!equals(k)) {
                return false;
            }
        }
        Token t;
        if (!value(k, t)) {
            return false;
        }
        name = t.text;
        loc = t.loc;
        return true;
    }

    void filter_interface(const Token& st) {
        FilterInterface fi;
        fi.loc = st.loc;
        std::set<std::string> seen;
        bool has_target = false;
        while (!at_statement()) {
            Token k = next();
            if (k.kind != TokKind::Word) {
                error(k.loc, "RUL0106", "a keyword", "FILTER_INTERFACE", shown(k));
                return skip_statement();
            }
            std::string K = to_upper(k.text);
            if (!once(seen, k, "FILTER_INTERFACE")) {
                return skip_statement();
            }
            bool ok = true;
            if (K == "LINE" || K == "PPP_FILTER_ID") {
                if (has_target) {
                    error(k.loc, "RUL0105", "LINE", "FILTER_INTERFACE");
                    return skip_statement();
                }
                Token t;
                ok = equals(k) && value(k, t);
                fi.ppp = K == "PPP_FILTER_ID";
                fi.name = t.text;
                has_target = ok;
            } else if (K == "SET") {
                ok = set_list(k, fi.sets);
            } else {
                error(k.loc, "RUL0104", k.text, "FILTER_INTERFACE");
                ok = false;
            }
            if (!ok) {
                return skip_statement();
            }
        }
        if (!has_target) {
            return error(st.loc, "RUL0108", "LINE", "FILTER_INTERFACE");
        }
        if (fi.sets.empty()) {
            return error(st.loc, "RUL0108", "SET", "FILTER_INTERFACE");
        }
        doc_.interfaces.push_back(std::move(fi));
    }

    bool set_list(const Token& k, std::vector<std::pair<std::string, Loc>>& sets) {
        if (peek().kind == TokKind::Op && !equals(k)) {
            return false;
        }
        for (;;) {
            Token t;
            if (!value(k, t)) {
                return false;
            }
            sets.emplace_back(t.text, t.loc);
            if (peek().kind != TokKind::Comma) {
                return true;
            }
            next();
        }
    }

    bool statement_name(const Token& st, Token& name) {
        const Token& t = peek();
        if (t.kind != TokKind::Word || is_statement(t.text)) {
            error(t.loc, "RUL0106", "a name", st.text, shown(t));
            return false;
        }
        name = next();
        return true;
    }

    void address(const Token& st) {
        Token name;
        if (!statement_name(st, name)) {
            return skip_statement();
        }
        AddressDef a;
        a.name = name.text;
        a.loc = name.loc;
        std::set<std::string> seen;
        Token ip, through, mask;
        bool has_ip = false, has_through = false, has_mask = false;
        while (!at_statement()) {
            Token k = next();
            if (k.kind != TokKind::Word) {
                error(k.loc, "RUL0106", "a keyword", "ADDRESS", shown(k));
                return skip_statement();
            }
            std::string K = to_upper(k.text);
            if (!once(seen, k, "ADDRESS")) {
                return skip_statement();
            }
            bool ok = true;
            if (K == "IP") {
                ok = equals(k) && value(k, ip);
                has_ip = ok;
                if (ok && peek().kind == TokKind::Word && iequals(peek().text, "THROUGH")) {
                    Token thr = next();
                    ok = value(thr, through);
                    has_through = ok;
                }
            } else if (K == "MASK") {
                ok = equals(k) && value(k, mask);
                has_mask = ok;
            } else if (K == "TYPE") {
                std::string v;
                ok = enum_value(k, {"TRUSTED", "UNTRUSTED", "BORDER"}, v);
                a.type = v == "BORDER" ? AddressType::Border
                         : v == "UNTRUSTED" ? AddressType::Untrusted : AddressType::Trusted;
            } else {
                error(k.loc, "RUL0104", k.text, "ADDRESS");
                ok = false;
            }
            if (!ok) {
                return skip_statement();
            }
        }
        if (!has_ip) {
            return error(st.loc, "RUL0108", "IP", "ADDRESS");
        }
        if (!address_ranges(a, ip, has_through ? &through : nullptr, has_mask ? &mask : nullptr)) {
            return;
        }
        std::string key = name_key(a.name);
        auto prev = doc_.addresses.find(key);
        if (prev != doc_.addresses.end()) {
            return error(a.loc, "RUL0132", "ADDRESS", a.name, where(prev->second.loc));
        }
        doc_.addresses.emplace(key, std::move(a));
    }

    bool address_ranges(AddressDef& a, const Token& ip, const Token* through, const Token* mask) {
        auto from = IpAddress::parse(ip.text);
        std::string written = ip.text;
        std::optional<IpRange> r;
        if (!from) {
            // IP = 10.1.0.0/16
            auto slash = ip.text.find('/');
            auto net = slash == std::string::npos ? std::nullopt
                                                  : IpAddress::parse(ip.text.substr(0, slash));
            if (net && !mask && !through) {
                r = IpRange::subnet(*net, ip.text.substr(slash + 1));
            }
            if (!r) {
                error(ip.loc, "RUL0107", ip.text, "IP");
                return false;
            }
        } else if (through) {
            auto to = IpAddress::parse(through->text);
            if (!to || to->family() != from->family()) {
                error(through->loc, "RUL0107", through->text, "THROUGH");
                return false;
            }
            if (*to < *from) {
                error(through->loc, "RUL0111", ip.text + " THROUGH " + through->text);
                return false;
            }
            if (mask) {
                error(mask->loc, "RUL0147", "MASK", "THROUGH");
                return false;
            }
            r = IpRange{*from, *to};
            written += " THROUGH " + through->text;
        } else if (mask) {
            r = IpRange::subnet(*from, mask->text);
            if (!r) {
                error(mask->loc, "RUL0107", mask->text, "MASK");
                return false;
            }
            written += " MASK " + mask->text;
        } else {
            r = IpRange::single(*from);
        }
        a.ranges = {*r};
        a.text = written;
        return true;
    }

    void service(const Token& st) {
        Token name;
        if (!statement_name(st, name)) {
            return skip_statement();
        }
        ServiceDef s;
        s.name = name.text;
        s.loc = name.loc;
        std::set<std::string> seen;
        while (!at_statement()) {
            Token k = next();
            if (k.kind != TokKind::Word) {
                error(k.loc, "RUL0106", "a keyword", "SERVICE", shown(k));
                return skip_statement();
            }
            std::string K = to_upper(k.text);
            if (!once(seen, k, "SERVICE")) {
                return skip_statement();
            }
            bool ok = true;
            if (!selector(k, K, s.protocol, s.sport, s.dport, s.icmp_type, s.icmp_code, ok)) {
                error(k.loc, "RUL0104", k.text, "SERVICE");
                ok = false;
            }
            if (!ok) {
                return skip_statement();
            }
        }
        std::string key = name_key(s.name);
        auto prev = doc_.services.find(key);
        if (prev != doc_.services.end()) {
            return error(s.loc, "RUL0132", "SERVICE", s.name, where(prev->second.loc));
        }
        doc_.services.emplace(key, std::move(s));
    }

    void include(const Token& st) {
        Token path;
        if (peek().kind == TokKind::Word && iequals(peek().text, "FILE")) {
            Token k = next();
            if (!equals(k) || !value(k, path, true)) {
                return skip_statement();
            }
        } else if (!value(st, path, true)) {
            return skip_statement();
        }
        if (!at_statement()) {
            error(peek().loc, "RUL0104", shown(peek()), "INCLUDE");
            return skip_statement();
        }
        if (int(stack_.size()) >= kMaxIncludeDepth) {
            return error(st.loc, "RUL0120", std::to_string(kMaxIncludeDepth));
        }
        std::string dir = std::filesystem::path(stack_.back()).parent_path().string();
        std::string resolved = files_.resolve(path.text, dir);
        if (resolved.empty()) {
            return error(path.loc, "RUL0122", path.text);
        }
        auto cyc = std::find(stack_.begin(), stack_.end(), resolved);
        if (cyc != stack_.end()) {
            return error(path.loc, "RUL0121", path.text, stack_.back());
        }
        auto text = files_.read(resolved);
        if (!text.ok()) {
            return error(path.loc, "RUL0122", path.text);
        }
        run(resolved, *text);
    }

    Parsed& out_;
    Document& doc_;
    FileSource& files_;
    std::vector<std::string> stack_;
    std::vector<Token> toks_;
    size_t pos_ = 0;
};

}  // namespace

Parsed parse_text(const std::string& name, std::string_view text, FileSource& files) {
    Parsed p;
    Parser parser(p, files);
    parser.run(name, text);
    return p;
}

Parsed parse_file(const std::string& path, FileSource& files) {
    std::string resolved = files.resolve(path, "");
    auto text =
        resolved.empty() ? Result<std::string>(fail("QVP0004", path)) : files.read(resolved);
    if (!text.ok()) {
        Parsed p;
        p.doc.files.push_back(path);
        p.errors.push_back(text.error());
        return p;
    }
    return parse_text(resolved, *text, files);
}

Parsed load_rules_file(const std::string& path, FileSource& files) {
    Parsed p = parse_file(path, files);
    if (p.ok()) {
        check(p);
    }
    return p;
}

}  // namespace qvpn::rules
