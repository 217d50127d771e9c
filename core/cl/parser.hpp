// Lexer and parser for IBM i command strings:
//   CMD KWD(value) KWD2(elem1 elem2) KWD3((a b) (c d)) positional 'it''s'
#pragma once

#include <string_view>

#include "core/base/result.hpp"
#include "core/cl/value.hpp"

namespace qvpn::cl {

// Parse parameters only (no command name). Fails with CPD0081.
Result<CommandLine> parse_parameters(std::string_view text);

// Parse "CMD params...": the first word is the command name.
Result<CommandLine> parse_command(std::string_view text);

// Quote a string for CL when it needs it: blanks, parentheses, apostrophes
// or empty text. Apostrophes are doubled.
std::string quote_if_needed(std::string_view s);

}  // namespace qvpn::cl
