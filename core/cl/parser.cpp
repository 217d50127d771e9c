#include "core/cl/parser.hpp"

#include <cctype>

#include "core/base/text.hpp"

namespace qvpn::cl {

Value Value::make_atom(std::string text, bool quoted) {
    Value v;
    v.atom = std::move(text);
    v.quoted = quoted;
    return v;
}

Value Value::make_list(std::vector<Value> items) {
    Value v;
    v.is_list = true;
    v.items = std::move(items);
    return v;
}

std::string quote_if_needed(std::string_view s) {
    bool needs = s.empty();
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '\'') {
            needs = true;
            break;
        }
    }
    if (!needs) {
        return std::string(s);
    }
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "''";
        } else {
            out.push_back(c);
        }
    }
    out += "'";
    return out;
}

std::string Value::to_cl() const {
    if (!is_list) {
        if (!quoted) {
            return atom;
        }
        std::string out = "'";
        for (char c : atom) {
            out += c == '\'' ? std::string("''") : std::string(1, c);
        }
        return out + "'";
    }
    std::string out = "(";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i != 0) {
            out += " ";
        }
        out += items[i].to_cl();
    }
    out += ")";
    return out;
}

namespace {

class Lexer {
public:
    explicit Lexer(std::string_view t) : t_(t) {}

    Result<CommandLine> parse(bool with_command) {
        CommandLine cl;
        skip_blanks();
        if (with_command) {
            size_t start = pos_;
            while (pos_ < t_.size() && !is_blank(t_[pos_]) && t_[pos_] != '(' && t_[pos_] != ')' &&
                   t_[pos_] != '\'') {
                ++pos_;
            }
            if (pos_ == start) {
                return error("command name expected");
            }
            cl.command = to_upper(t_.substr(start, pos_ - start));
            if (pos_ < t_.size() && !is_blank(t_[pos_])) {
                return error("blank expected after the command name");
            }
        }
        for (;;) {
            skip_blanks();
            if (pos_ >= t_.size()) {
                return cl;
            }
            QVPN_ASSIGN(Arg a, parse_arg());
            cl.args.push_back(std::move(a));
        }
    }

private:
    static bool is_blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

    void skip_blanks() {
        while (pos_ < t_.size() && is_blank(t_[pos_])) {
            ++pos_;
        }
    }

    Failure error(const std::string& what) const { return fail("CPD0081", pos_ + 1, what); }

    Result<Arg> parse_arg() {
        Arg a;
        a.position = pos_ + 1;
        // KEYWORD( directly followed by a parenthesis is a keyword parameter.
        if (std::isalpha(static_cast<unsigned char>(t_[pos_]))) {
            size_t p = pos_;
            while (p < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[p])) || t_[p] == '_')) {
                ++p;
            }
            if (p < t_.size() && t_[p] == '(') {
                a.keyword = to_upper(t_.substr(pos_, p - pos_));
                pos_ = p;
                QVPN_ASSIGN(a.value, parse_list());
                return a;
            }
        }
        QVPN_ASSIGN(a.value, parse_value());
        return a;
    }

    Result<Value> parse_value() {
        if (t_[pos_] == '(') {
            return parse_list();
        }
        if (t_[pos_] == ')') {
            return error("unmatched closing parenthesis");
        }
        if (t_[pos_] == '\'') {
            return parse_quoted();
        }
        size_t start = pos_;
        while (pos_ < t_.size() && !is_blank(t_[pos_]) && t_[pos_] != '(' && t_[pos_] != ')') {
            if (t_[pos_] == '\'') {
                return error("apostrophe inside an unquoted value");
            }
            ++pos_;
        }
        return Value::make_atom(std::string(t_.substr(start, pos_ - start)));
    }

    Result<Value> parse_quoted() {
        ++pos_;  // opening apostrophe
        std::string s;
        for (;;) {
            if (pos_ >= t_.size()) {
                return error("closing apostrophe missing");
            }
            char c = t_[pos_++];
            if (c == '\'') {
                if (pos_ < t_.size() && t_[pos_] == '\'') {
                    s.push_back('\'');
                    ++pos_;
                    continue;
                }
                break;
            }
            s.push_back(c);
        }
        if (pos_ < t_.size() && !is_blank(t_[pos_]) && t_[pos_] != ')' && t_[pos_] != '(') {
            return error("blank expected after a quoted string");
        }
        return Value::make_atom(std::move(s), true);
    }

    Result<Value> parse_list() {
        ++pos_;  // '('
        if (++depth_ > 8) {
            return error("parentheses nested too deeply");
        }
        std::vector<Value> items;
        for (;;) {
            skip_blanks();
            if (pos_ >= t_.size()) {
                return error("closing parenthesis missing");
            }
            if (t_[pos_] == ')') {
                ++pos_;
                break;
            }
            QVPN_ASSIGN(Value v, parse_value());
            items.push_back(std::move(v));
        }
        --depth_;
        if (pos_ < t_.size() && !is_blank(t_[pos_]) && t_[pos_] != ')' && t_[pos_] != '(') {
            return error("blank expected after a closing parenthesis");
        }
        return Value::make_list(std::move(items));
    }

    std::string_view t_;
    size_t pos_ = 0;
    int depth_ = 0;
};

}  // namespace

Result<CommandLine> parse_parameters(std::string_view text) { return Lexer(text).parse(false); }

Result<CommandLine> parse_command(std::string_view text) { return Lexer(text).parse(true); }

}  // namespace qvpn::cl
