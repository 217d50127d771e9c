#include "core/msg/catalog.hpp"

#include <cctype>
#include <cstring>

#include "core/base/text.hpp"

namespace qvpn::msgcat {

extern "C" const char* const qvpn_catalog_text;

bool valid_id(std::string_view id) {
    if (id.size() != 7) {
        return false;
    }
    for (int i = 0; i < 3; ++i) {
        if (!std::isupper(static_cast<unsigned char>(id[i]))) {
            return false;
        }
    }
    for (int i = 3; i < 7; ++i) {
        char c = id[i];
        if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

namespace {

struct Parser {
    Catalog* cat;
    std::map<std::string, MessageDef, std::less<>>* defs;
    std::vector<std::string>* problems;
    std::string origin = "catalog";
    int line_no = 0;
    MessageDef cur;
    bool have = false;
    std::string* last_field = nullptr;

    void problem(const std::string& what) {
        if (problems != nullptr) {
            problems->push_back(origin + ":" + std::to_string(line_no) + ": " + what);
        }
    }

    void finish() {
        if (!have) {
            return;
        }
        if (cur.text.empty()) {
            problem(cur.id + " has no TEXT");
        } else if (defs->count(cur.id) != 0) {
            problem("duplicate message ID " + cur.id);
        } else {
            defs->emplace(cur.id, cur);
        }
        cur = MessageDef();
        have = false;
        last_field = nullptr;
    }

    void field(std::string_view key, std::string_view value) {
        if (key == "MSG") {
            finish();
            std::string id(trim(value));
            if (!valid_id(id)) {
                problem("bad message ID '" + id + "'");
                return;
            }
            cur.id = id;
            have = true;
            return;
        }
        if (!have) {
            problem("field " + std::string(key) + " outside a MSG block");
            return;
        }
        if (key == "SEV") {
            long long s = 0;
            if (!parse_int(trim(value), s) || s < 0 || s > 99) {
                problem("bad severity for " + cur.id);
            }
            cur.severity = static_cast<int>(s);
            last_field = nullptr;
        } else if (key == "TEXT") {
            cur.text = std::string(trim(value));
            last_field = &cur.text;
        } else if (key == "CAUSE") {
            cur.cause = std::string(trim(value));
            last_field = &cur.cause;
        } else if (key == "RECOVERY") {
            cur.recovery = std::string(trim(value));
            last_field = &cur.recovery;
        } else {
            problem("unknown field " + std::string(key));
        }
    }

    void feed(std::string_view l) {
        ++line_no;
        // "#file <name>" markers are written by the build between files.
        if (l.rfind("#file ", 0) == 0) {
            finish();
            origin = std::string(trim(l.substr(6)));
            line_no = 0;
            return;
        }
        if (trim(l).empty() || trim(l).front() == '#') {
            return;
        }
        if (std::isspace(static_cast<unsigned char>(l.front()))) {
            if (last_field == nullptr) {
                problem("continuation line without a field");
                return;
            }
            *last_field += " ";
            *last_field += std::string(trim(l));
            return;
        }
        size_t sp = l.find_first_of(" \t");
        std::string_view key = l.substr(0, sp);
        std::string_view value = sp == l.npos ? std::string_view() : l.substr(sp + 1);
        field(key, value);
    }
};

}  // namespace

Catalog Catalog::parse(std::string_view text, std::vector<std::string>* problems) {
    Catalog c;
    Parser p{&c, &c.defs_, problems};
    size_t start = 0;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        std::string_view l = text.substr(start, nl == text.npos ? text.npos : nl - start);
        if (!l.empty() && l.back() == '\r') {
            l.remove_suffix(1);
        }
        p.feed(l);
        if (nl == text.npos) {
            break;
        }
        start = nl + 1;
    }
    p.finish();
    return c;
}

const MessageDef* Catalog::find(std::string_view id) const {
    auto it = defs_.find(id);
    return it == defs_.end() ? nullptr : &it->second;
}

const Catalog& builtin() {
    static const Catalog kCatalog = Catalog::parse(qvpn_catalog_text);
    return kCatalog;
}

std::string substitute(std::string_view text, const std::vector<std::string>& values) {
    std::string out;
    out.reserve(text.size() + 32);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '&' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
            size_t j = i + 1;
            size_t n = 0;
            while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
                n = n * 10 + static_cast<size_t>(text[j] - '0');
                ++j;
            }
            if (n >= 1 && n <= values.size()) {
                out += values[n - 1];
            }
            i = j - 1;
            continue;
        }
        out.push_back(text[i]);
    }
    return out;
}

std::string first_level(const Msg& m) {
    const MessageDef* d = builtin().find(m.id);
    if (d == nullptr) {
        std::string s = "Message " + m.id + " is not in the catalog.";
        for (size_t i = 0; i < m.values.size(); ++i) {
            s += " &" + std::to_string(i + 1) + "=" + m.values[i];
        }
        return s;
    }
    return substitute(d->text, m.values);
}

std::string cause(const Msg& m) {
    const MessageDef* d = builtin().find(m.id);
    return d == nullptr ? std::string() : substitute(d->cause, m.values);
}

std::string recovery(const Msg& m) {
    const MessageDef* d = builtin().find(m.id);
    return d == nullptr ? std::string() : substitute(d->recovery, m.values);
}

int severity(const Msg& m) {
    const MessageDef* d = builtin().find(m.id);
    return d == nullptr ? 40 : d->severity;
}

std::string line(const Msg& m) {
    std::string s = m.id + ": " + first_level(m);
    if (m.sys_errno != 0) {
        s += " (errno " + std::to_string(m.sys_errno) + ": " + std::strerror(m.sys_errno) + ")";
    }
    return s;
}

}  // namespace qvpn::msgcat
