// A CL parameter value: an atom (word or quoted string) or a parenthesised
// list of values. KWD(a (b c) 'd e') is a list of: atom a, list (b c),
// quoted atom "d e".
#pragma once

#include <string>
#include <vector>

namespace qvpn::cl {

struct Value {
    std::string atom;          // text of an atom, without quotes
    bool quoted = false;       // atom was written as '...'
    bool is_list = false;      // true: items holds the members
    std::vector<Value> items;

    static Value make_atom(std::string text, bool quoted = false);
    static Value make_list(std::vector<Value> items);

    bool empty() const { return !is_list && atom.empty() && !quoted; }
    bool is_special() const { return !is_list && !quoted && !atom.empty() && atom[0] == '*'; }
    // Render back as CL text (quotes doubled, lists parenthesised).
    std::string to_cl() const;
};

// One parameter as written: keyword (empty for a positional value) + value.
struct Arg {
    std::string keyword;  // upper-cased; empty when positional
    Value value;          // for KWD(...): the list of what was inside
    size_t position = 0;  // offset in the command string, for messages
};

struct CommandLine {
    std::string command;  // first word, upper-cased ("" if not parsed)
    std::vector<Arg> args;
};

}  // namespace qvpn::cl
