#include "core/base/text.hpp"

#include <cctype>
#include <charconv>

namespace qvpn {

static char up(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (up(a[i]) != up(b[i])) {
            return false;
        }
    }
    return true;
}

std::string to_upper(std::string_view s) {
    std::string r(s);
    for (char& c : r) {
        c = up(c);
    }
    return r;
}

std::string to_lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return r;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t p = s.find(sep, start);
        out.emplace_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
        if (p == std::string_view::npos) {
            return out;
        }
        start = p + 1;
    }
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool parse_int(std::string_view s, long long& out) {
    if (s.empty()) {
        return false;
    }
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '+') {
        ++b;
    }
    auto [p, ec] = std::from_chars(b, e, out);
    return ec == std::errc() && p == e;
}

}  // namespace qvpn
