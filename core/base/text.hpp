// Small text helpers: IBM i names are matched case-insensitively and stored
// as typed; special values (*ALL) and keywords are upper-cased.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qvpn {

bool iequals(std::string_view a, std::string_view b);
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool starts_with_icase(std::string_view s, std::string_view prefix);

// Parse a decimal integer that must use the whole string.
bool parse_int(std::string_view s, long long& out);

}  // namespace qvpn
