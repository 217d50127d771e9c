#include "rules/lexer.hpp"

#include <cstdio>

namespace qvpn::rules {

namespace {

bool is_word_char(char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
        case '_': case '.': case '/': case ':': case '*': case '-': case '$': case '@':
        case '+':
            return true;
        default:
            return false;
    }
}

std::string shown(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) {
        return std::string(1, c);
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "X'%02X'", u);
    return buf;
}

}  // namespace

std::vector<Token> tokenize(std::string_view text, int file, const Document& where,
                            std::vector<Msg>& errors) {
    std::vector<Token> out;
    out.reserve(text.size() / 6 + 1);
    int line = 1;
    size_t line_start = 0;
    size_t i = 0;
    auto loc_at = [&](size_t pos) { return Loc{file, line, int(pos - line_start) + 1}; };

    while (i < text.size()) {
        char c = text[i];
        if (c == '\n') {
            ++line;
            line_start = ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '%') {
            ++i;
            continue;
        }
        if (c == '#') {
            while (i < text.size() && text[i] != '\n') {
                ++i;
            }
            continue;
        }
        Loc loc = loc_at(i);
        if (is_word_char(c)) {
            size_t b = i;
            while (i < text.size() && is_word_char(text[i])) {
                ++i;
            }
            out.push_back({TokKind::Word, std::string(text.substr(b, i - b)), loc});
            continue;
        }
        if (c == ',') {
            out.push_back({TokKind::Comma, ",", loc});
            ++i;
            continue;
        }
        if (c == '=' || c == '<' || c == '>' || c == '!') {
            std::string op(1, c);
            char n = i + 1 < text.size() ? text[i + 1] : '\0';
            if ((c == '<' && (n == '>' || n == '=')) || (c == '>' && n == '=') ||
                (c == '!' && n == '=')) {
                op += n;
            }
            if (op == "!") {
                errors.push_back(msg("RUL0101", where.where(loc), "!"));
                ++i;
                continue;
            }
            i += op.size();
            out.push_back({TokKind::Op, op, loc});
            continue;
        }
        if (c == '\'' || c == '"') {
            size_t b = ++i;
            while (i < text.size() && text[i] != c && text[i] != '\n') {
                ++i;
            }
            if (i >= text.size() || text[i] != c) {
                errors.push_back(msg("RUL0102", where.where(loc)));
                continue;  // the newline (or end) is handled by the loop
            }
            out.push_back({TokKind::String, std::string(text.substr(b, i - b)), loc});
            ++i;
            continue;
        }
        errors.push_back(msg("RUL0101", where.where(loc), shown(c)));
        ++i;
    }
    out.push_back({TokKind::End, "", loc_at(i)});
    return out;
}

}  // namespace qvpn::rules
