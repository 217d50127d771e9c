// The prompt (CMD ? / CMD --help): IBM's parameter table in text form.
#include <sstream>

#include "core/base/text.hpp"
#include "core/cl/command.hpp"

namespace qvpn::cl {

namespace {

std::string type_text(Type t, size_t max_len, long long min, long long max) {
    std::string s;
    switch (t) {
    case Type::Char: s = "Character value"; break;
    case Type::Name: s = "Name"; break;
    case Type::Int: s = "Integer"; break;
    case Type::Path: s = "Path name"; break;
    case Type::Addr: s = "IP address"; break;
    case Type::Hex: s = "Hexadecimal value"; break;
    case Type::Generic: s = "Value"; break;
    case Type::Special: return "";
    }
    if (t == Type::Int && (min != 0 || max != 0)) {
        s = std::to_string(min) + "-" + std::to_string(max);
    } else if (max_len != 0) {
        s += " (max " + std::to_string(max_len) + ")";
    }
    return s;
}

std::string choices(Type t, size_t max_len, long long min, long long max,
                    const std::vector<std::string>& specials) {
    std::string s = type_text(t, max_len, min, max);
    for (const auto& sp : specials) {
        s += (s.empty() ? "" : ", ") + sp;
    }
    return s;
}

}  // namespace

std::string prompt_text(const CommandDef& def) {
    std::ostringstream o;
    o << def.title << " (" << def.name << ")\n\n";
    o << "Type choices. Keywords are case-insensitive; values in CL form: KWD(value).\n\n";
    for (const auto& p : def.params) {
        std::string notes = p.required ? "Required" : "Optional";
        if (p.positional != 0) {
            notes += ", Positional " + std::to_string(p.positional);
        }
        o << "  " << p.kwd << "  " << p.prompt << "  [" << notes << "]\n";
        if (!p.single.empty()) {
            std::string sv;
            for (const auto& s : p.single) {
                sv += (sv.empty() ? "" : ", ") + s;
            }
            o << "      Single values: " << sv << "\n";
        }
        if (p.elements.empty()) {
            o << "      Choices: " << choices(p.type, p.max_len, p.min, p.max, p.specials) << "\n";
        } else {
            for (size_t i = 0; i < p.elements.size(); ++i) {
                const ElemDef& e = p.elements[i];
                o << "      Element " << i + 1 << ": " << e.prompt << ": "
                  << choices(e.type, e.max_len, e.min, e.max, e.specials);
                if (!e.dft.empty()) {
                    o << "; default " << e.dft;
                }
                o << "\n";
            }
        }
        if (p.max_count > 1) {
            o << "      Up to " << p.max_count << " repetitions\n";
        }
        if (!p.dft.empty()) {
            o << "      Default: " << p.dft << "\n";
        }
        if (!p.help.empty()) {
            o << "      " << p.help << "\n";
        }
    }
    o << "\nThe same parameters as program options: --" << to_lower(def.params.empty()
                                                                    ? std::string("kwd")
                                                                    : def.params[0].kwd)
      << "=VALUE (lists comma-separated, element lists blank-separated).\n";
    o << "Options: --help (this prompt), --explain (second-level message text)";
    if (def.display) {
        o << ", --json (script output, same as OUTPUT(*JSON))";
    }
    o << ".\nExit status: 0 completed, 1 escape message, 2 parameter errors, 3 not authorized.\n";
    o << "See man " << to_lower(def.name) << " for details.\n";
    return o.str();
}

}  // namespace qvpn::cl
