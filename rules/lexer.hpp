// Tokens of the .i3p language.
//
// A rules file is free-form: a statement may span lines and ends where the
// next statement keyword begins. `#` starts a comment that runs to the end
// of the line; `%`, the mark IBM i puts where it wrapped a long statement,
// is read as a blank. Words are names, numbers, addresses, `*` and
// TCP/STARTING; operators are = <> != < > <= >=; strings are quoted with '
// or ".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "rules/model.hpp"

namespace qvpn::rules {

enum class TokKind { Word, Op, Comma, String, End };

struct Token {
    TokKind kind = TokKind::End;
    std::string text;
    Loc loc;
};

// Splits `text` (file index `file` for locations) into tokens, ending with
// one End token. Characters that cannot start a token are reported in
// `errors` (RUL0101, RUL0102) as "file:line:col" through `where` and
// skipped, so one bad byte does not hide the errors after it.
std::vector<Token> tokenize(std::string_view text, int file, const Document& where,
                            std::vector<Msg>& errors);

}  // namespace qvpn::rules
