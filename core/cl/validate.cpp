// Checking a parsed command line against its definition.
#include <arpa/inet.h>

#include <cctype>

#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "core/cl/parser.hpp"

namespace qvpn::cl {

namespace {

// The checks shared by scalar parameters and elements.
struct ScalarSpec {
    Type type;
    size_t max_len;
    long long min, max;
    const std::vector<std::string>* specials;
};

std::string choices_text(const ScalarSpec& s) {
    std::string t;
    for (const auto& sp : *s.specials) {
        t += (t.empty() ? "" : ", ") + sp;
    }
    return t;
}

bool valid_name(std::string_view s) {
    if (s.empty() || !(std::isalnum(static_cast<unsigned char>(s[0])) || s[0] == '$' || s[0] == '#' ||
                       s[0] == '@')) {
        return false;
    }
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == ':' || c == '$' || c == '#' || c == '@')) {
            return false;
        }
    }
    return true;
}

bool valid_addr(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool valid_hex(std::string_view s) {
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
    }
    if (s.empty() || s.size() % 2 != 0) {
        return false;
    }
    for (char c : s) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

class Checker {
public:
    Checker(const CommandDef& def, std::vector<Msg>& diags) : def_(def), diags_(diags) {}

    // Check one atom; special values are upper-cased in place.
    bool atom(Value& v, const ScalarSpec& s, const std::string& kwd) {
        if (v.is_list) {
            diag(msg("CPD0071", "(...)", kwd, "A single value is expected here, not a list.", def_.name));
            return false;
        }
        if (v.is_special()) {
            std::string up = to_upper(v.atom);
            for (const auto& sp : *s.specials) {
                if (iequals(sp, up)) {
                    v.atom = sp;
                    return true;
                }
            }
            diag(msg("CPD0084", v.atom, kwd, s.specials->empty() ? "none" : choices_text(s)));
            return false;
        }
        if (s.max_len != 0 && v.atom.size() > s.max_len) {
            diag(msg("CPD0075", v.atom, kwd, s.max_len));
            return false;
        }
        switch (s.type) {
        case Type::Special:
            diag(msg("CPD0084", v.atom, kwd, choices_text(s)));
            return false;
        case Type::Name:
            if (!valid_name(v.atom)) {
                diag(msg("CPD0074", v.atom, kwd));
                return false;
            }
            return true;
        case Type::Int: {
            long long n = 0;
            if (!parse_int(v.atom, n)) {
                diag(msg("CPD0077", v.atom, kwd));
                return false;
            }
            if ((s.min != 0 || s.max != 0) && (n < s.min || n > s.max)) {
                diag(msg("CPD0076", v.atom, kwd, s.min, s.max));
                return false;
            }
            return true;
        }
        case Type::Addr:
            if (!valid_addr(v.atom)) {
                diag(msg("CPD0085", v.atom, kwd));
                return false;
            }
            return true;
        case Type::Hex:
            if (!valid_hex(v.atom)) {
                diag(msg("CPD0071", v.atom, kwd, "A hexadecimal string is expected.", def_.name));
                return false;
            }
            return true;
        case Type::Path:
            if (v.atom.empty()) {
                diag(msg("CPD0071", v.atom, kwd, "A path name is expected.", def_.name));
                return false;
            }
            return true;
        case Type::Char:
        case Type::Generic:
            return true;
        }
        return true;
    }

    // An element list: `v` holds the elements as written.
    bool elements(Value& v, const ParamDef& p) {
        std::vector<Value> given = v.is_list ? v.items : std::vector<Value>{v};
        if (given.size() > p.elements.size()) {
            diag(msg("CPD0086", p.kwd, p.elements.size()));
            return false;
        }
        bool ok = true;
        std::vector<Value> out;
        for (size_t i = 0; i < p.elements.size(); ++i) {
            const ElemDef& e = p.elements[i];
            Value ev;
            if (i < given.size()) {
                ev = given[i];
            } else if (!e.dft.empty()) {
                auto parsed = parse_parameters(e.dft);
                ev = parsed.ok() && parsed->args.size() == 1 ? parsed->args[0].value : Value();
            } else if (e.required) {
                diag(msg("CPD0083", i + 1, p.kwd));
                ok = false;
                continue;
            }
            if (!ev.empty()) {
                ScalarSpec s{e.type, e.max_len, e.min, e.max, &e.specials};
                ok = atom(ev, s, p.kwd) && ok;
            }
            out.push_back(std::move(ev));
        }
        v = Value::make_list(std::move(out));
        return ok;
    }

    // A whole parameter value as written (KWD(...) contents or positional).
    bool param(Value& v, const ParamDef& p) {
        std::vector<Value> raw = v.is_list ? v.items : std::vector<Value>{v};
        ScalarSpec s{p.type, p.max_len, p.min, p.max, &p.specials};

        // A special value that must stand alone (*ALL, *NONE) in any list.
        if (raw.size() == 1 && !raw[0].is_list && raw[0].is_special()) {
            std::string up = to_upper(raw[0].atom);
            for (const auto& sv : p.single) {
                if (iequals(sv, up)) {
                    v = Value::make_atom(sv);
                    return true;
                }
            }
        }
        for (const auto& r : raw) {
            if (r.is_special() && raw.size() > 1) {
                for (const auto& sv : p.single) {
                    if (iequals(sv, r.atom)) {
                        diag(msg("CPD0082", sv, p.kwd));
                        return false;
                    }
                }
            }
        }

        if (p.max_count <= 1 && p.elements.empty()) {
            if (raw.size() != 1) {
                diag(msg("CPD0079", 1, p.kwd));
                return false;
            }
            v = raw[0];
            return atom(v, s, p.kwd);
        }
        if (p.max_count <= 1) {
            return elements(v, p);
        }

        // A list of items; items are element lists when elements are defined.
        std::vector<Value> items;
        if (!p.elements.empty()) {
            bool any_list = false;
            bool all_list = true;
            for (const auto& r : raw) {
                any_list = any_list || r.is_list;
                all_list = all_list && r.is_list;
            }
            if (any_list && !all_list) {
                diag(msg("CPD0071", v.to_cl(), p.kwd,
                         "Each list item must be in its own parentheses.", def_.name));
                return false;
            }
            items = any_list ? raw : std::vector<Value>{Value::make_list(raw)};
        } else {
            items = raw;
        }
        if (items.size() > static_cast<size_t>(p.max_count)) {
            diag(msg("CPD0079", p.max_count, p.kwd));
            return false;
        }
        bool ok = true;
        for (auto& it : items) {
            ok = (p.elements.empty() ? atom(it, s, p.kwd) : elements(it, p)) && ok;
        }
        v = Value::make_list(std::move(items));
        return ok;
    }

    void diag(Msg m) { diags_.push_back(std::move(m)); }

private:
    const CommandDef& def_;
    std::vector<Msg>& diags_;
};

const ParamDef* find_param(const CommandDef& def, std::string_view kwd) {
    for (const auto& p : def.params) {
        if (iequals(p.kwd, kwd)) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace

Result<Invocation> validate(const CommandDef& def, const CommandLine& line, bool json,
                            bool explain, std::vector<Msg>& diags) {
    Checker check(def, diags);
    std::map<std::string, Value> values;
    std::map<std::string, bool> specified;

    // Positional values go to the parameters with positional 1, 2, ...
    int next_pos = 1;
    bool seen_keyword = false;
    for (const Arg& a : line.args) {
        const ParamDef* p = nullptr;
        if (a.keyword.empty()) {
            if (seen_keyword) {
                diags.push_back(msg("CPD0081", a.position,
                                    "a positional value cannot follow a keyword parameter"));
                continue;
            }
            for (const auto& cand : def.params) {
                if (cand.positional == next_pos) {
                    p = &cand;
                }
            }
            ++next_pos;
            if (p == nullptr) {
                int max_pos = 0;
                for (const auto& cand : def.params) {
                    max_pos = std::max(max_pos, cand.positional);
                }
                diags.push_back(msg("CPD0080", def.name, max_pos));
                continue;
            }
        } else {
            seen_keyword = true;
            p = find_param(def, a.keyword);
            if (p == nullptr) {
                diags.push_back(msg("CPD0043", a.keyword, def.name));
                continue;
            }
        }
        if (specified.count(p->kwd) != 0) {
            diags.push_back(msg("CPD0078", p->kwd));
            continue;
        }
        Value v = a.value;
        // A positional value is one value; a keyword's parentheses hold the list.
        if (a.keyword.empty() && !v.is_list) {
            v = Value::make_list({v});
        }
        if (check.param(v, *p)) {
            values[p->kwd] = std::move(v);
        }
        specified[p->kwd] = true;
    }

    // Defaults and required parameters.
    for (const auto& p : def.params) {
        if (specified.count(p.kwd) != 0) {
            continue;
        }
        if (p.required) {
            diags.push_back(msg("CPD0072", p.kwd, def.name));
            continue;
        }
        if (p.dft.empty()) {
            values[p.kwd] = Value();
            continue;
        }
        auto parsed = parse_parameters("X(" + p.dft + ")");
        if (!parsed.ok() || parsed->args.size() != 1) {
            diags.push_back(msg("QVP0003", def.name, "default of " + p.kwd + " does not parse"));
            continue;
        }
        Value v = parsed->args[0].value;
        std::vector<Msg> ignored;
        Checker quiet(def, ignored);
        if (!quiet.param(v, p)) {
            diags.push_back(msg("QVP0003", def.name, "default of " + p.kwd + " is not valid"));
            continue;
        }
        values[p.kwd] = std::move(v);
    }

    if (!diags.empty()) {
        return fail("CPF0001", def.name);
    }
    return Invocation(def, std::move(values), std::move(specified), json, explain);
}

}  // namespace qvpn::cl
