#include <grp.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "core/cl/parser.hpp"
#include "core/msg/catalog.hpp"

namespace qvpn::cl {

Invocation::Invocation(const CommandDef& def, std::map<std::string, Value> values,
                       std::map<std::string, bool> specified, bool json, bool explain)
    : def_(&def), values_(std::move(values)), specified_(std::move(specified)), json_(json),
      explain_(explain) {}

bool Invocation::specified(std::string_view kwd) const {
    return specified_.count(to_upper(kwd)) != 0;
}

const Value& Invocation::get(std::string_view kwd) const {
    static const Value kEmpty;
    auto it = values_.find(to_upper(kwd));
    return it == values_.end() ? kEmpty : it->second;
}

std::string Invocation::str(std::string_view kwd) const {
    const Value& v = get(kwd);
    if (v.is_list) {
        return v.items.size() == 1 && !v.items[0].is_list ? v.items[0].atom : std::string();
    }
    return v.atom;
}

long long Invocation::integer(std::string_view kwd, long long fallback) const {
    long long n = 0;
    return parse_int(str(kwd), n) ? n : fallback;
}

bool Invocation::is(std::string_view kwd, std::string_view special) const {
    const Value& v = get(kwd);
    return !v.is_list && !v.quoted && iequals(v.atom, special);
}

std::vector<Value> Invocation::list(std::string_view kwd) const {
    const Value& v = get(kwd);
    if (v.is_list) {
        return v.items;
    }
    if (v.empty()) {
        return {};
    }
    return {v};
}

void print_message(std::FILE* out, const Msg& m, bool explain, bool json) {
    if (json) {
        nlohmann::json j = {{"msgid", m.id},
                            {"severity", msgcat::severity(m)},
                            {"text", msgcat::first_level(m)},
                            {"values", m.values}};
        if (m.sys_errno != 0) {
            j["errno"] = m.sys_errno;
        }
        if (explain) {
            j["cause"] = msgcat::cause(m);
            j["recovery"] = msgcat::recovery(m);
        }
        std::fprintf(out, "%s\n", j.dump().c_str());
        return;
    }
    std::fprintf(out, "%s\n", msgcat::line(m).c_str());
    if (explain) {
        std::string c = msgcat::cause(m);
        std::string r = msgcat::recovery(m);
        if (!c.empty()) {
            std::fprintf(out, "  Cause . . . . . :   %s\n", c.c_str());
        }
        if (!r.empty()) {
            std::fprintf(out, "  Recovery  . . . :   %s\n", r.c_str());
        }
    }
}

void Invocation::complete(const Msg& m) const {
    std::fflush(stdout);
    print_message(stdout, m, explain_, json_);
    std::fflush(stdout);
}

void Invocation::diagnostic(const Msg& m) const {
    std::fflush(stdout);
    print_message(stderr, m, explain_, json_);
}

bool has_authority(Authority a) {
    if (a == Authority::None || geteuid() == 0) {
        return true;
    }
    const char* group = a == Authority::IoSysCfg ? "qvpnadm" : "qvpnsvc";
    struct group* g = getgrnam(group);
    if (g == nullptr) {
        return false;
    }
    if (getegid() == g->gr_gid) {
        return true;
    }
    int n = getgroups(0, nullptr);
    if (n <= 0) {
        return false;
    }
    std::vector<gid_t> gids(static_cast<size_t>(n));
    n = getgroups(n, gids.data());
    for (int i = 0; i < n; ++i) {
        if (gids[static_cast<size_t>(i)] == g->gr_gid) {
            return true;
        }
    }
    return false;
}

namespace {

const ParamDef* find_param(const CommandDef& def, std::string_view kwd) {
    for (const auto& p : def.params) {
        if (iequals(p.kwd, kwd)) {
            return &p;
        }
    }
    return nullptr;
}

// "--kwd=a b,c d" -> "KWD((a b) (c d))" for a list of element lists, etc.
std::string option_to_cl(const ParamDef& p, const std::string& value) {
    auto quote_item = [](std::string_view s) {
        std::string_view t = trim(s);
        if (!t.empty() && (t.front() == '\'' || t.front() == '(')) {
            return std::string(t);
        }
        return quote_if_needed(t);
    };
    std::string inner;
    if (p.max_count > 1) {
        for (const auto& item : split(value, ',')) {
            inner += inner.empty() ? "" : " ";
            inner += p.elements.empty() ? quote_item(item) : "(" + std::string(trim(item)) + ")";
        }
    } else if (!p.elements.empty()) {
        inner = value;
    } else {
        inner = quote_item(value);
    }
    return p.kwd + "(" + inner + ")";
}

}  // namespace

Result<std::string> argv_to_cl(const CommandDef& def, int argc, char** argv, ArgvFlags& flags) {
    namespace po = boost::program_options;
    po::options_description desc;
    desc.add_options()("help,h", "")("json", "")("explain", "")("keywords", "");
    for (const auto& p : def.params) {
        desc.add_options()(to_lower(p.kwd).c_str(), po::value<std::string>());
    }
    desc.add_options()("cl-words", po::value<std::vector<std::string>>());
    po::positional_options_description pos;
    pos.add("cl-words", -1);

    po::variables_map vm;
    try {
        // The vector form does not skip a program name: argv holds only
        // the parameters.
        std::vector<std::string> args(argv, argv + argc);
        auto parsed = po::command_line_parser(args)
                          .options(desc)
                          .positional(pos)
                          .style(po::command_line_style::unix_style |
                                 po::command_line_style::case_insensitive)
                          .run();
        po::store(parsed, vm);
    } catch (const po::unknown_option& e) {
        std::string opt = e.get_option_name();
        while (!opt.empty() && opt.front() == '-') {
            opt.erase(opt.begin());
        }
        opt = opt.substr(0, opt.find('='));
        return fail("CPD0043", to_upper(opt), def.name);
    } catch (const po::error& e) {
        return fail("CPD0081", 1, e.what());
    }

    flags.help = vm.count("help") != 0;
    flags.json = vm.count("json") != 0;
    flags.explain = vm.count("explain") != 0;
    flags.keywords = vm.count("keywords") != 0;

    std::string text;
    if (vm.count("cl-words") != 0) {
        for (const auto& w : vm["cl-words"].as<std::vector<std::string>>()) {
            if (w == "?") {
                flags.help = true;
                continue;
            }
            text += text.empty() ? "" : " ";
            text += w;
        }
    }
    for (const auto& [name, val] : vm) {
        const ParamDef* p = find_param(def, name);
        if (p == nullptr) {
            continue;
        }
        text += text.empty() ? "" : " ";
        text += option_to_cl(*p, val.as<std::string>());
    }
    return text;
}

int run_main(const CommandDef& def_in, const Handler& handler, int argc, char** argv) {
    // Display commands all take OUTPUT(* | *PRINT | *JSON).
    CommandDef def = def_in;
    if (def.display && find_param(def, "OUTPUT") == nullptr) {
        def.params.push_back({.kwd = "OUTPUT",
                              .prompt = "Output",
                              .type = Type::Special,
                              .specials = {"*", "*PRINT", "*JSON"},
                              .dft = "*",
                              .help = "* and *PRINT write text; *JSON writes one JSON document"});
    }

    ArgvFlags flags;
    auto text = argv_to_cl(def, argc - 1, argv + 1, flags);
    if (!text.ok()) {
        print_message(stderr, text.error(), false, flags.json);
        print_message(stderr, msg("CPF0001", def.name), false, flags.json);
        return kExitParameters;
    }
    if (flags.keywords) {
        for (const auto& p : def.params) {
            std::printf("%s\n", p.kwd.c_str());
        }
        return kExitOk;
    }
    if (flags.help) {
        std::fputs(prompt_text(def).c_str(), stdout);
        return kExitOk;
    }

    std::vector<Msg> diags;
    auto line = parse_parameters(*text);
    Result<Invocation> inv = line.ok() ? validate(def, *line, flags.json, flags.explain, diags)
                                       : Result<Invocation>(line.failure());
    if (!line.ok()) {
        diags.push_back(line.error());
    }
    if (!inv.ok()) {
        for (const auto& d : diags) {
            print_message(stderr, d, flags.explain, flags.json);
        }
        print_message(stderr, msg("CPF0001", def.name), flags.explain, flags.json);
        return kExitParameters;
    }
    if (inv->is("OUTPUT", "*JSON")) {
        inv->set_json(true);
    }

    if (!has_authority(def.authority)) {
        Msg m = def.authority == Authority::Service ? msg("CPF39A8") : msg("TCP8050", def.name);
        print_message(stderr, m, flags.explain, flags.json);
        return kExitAuthority;
    }

    Status st;
    try {
        st = handler(*inv);
    } catch (const std::exception& e) {
        st = fail("QVP0003", def.name, e.what());
    }
    if (!st.ok()) {
        print_message(stderr, st.error(), flags.explain || inv->explain(), inv->json());
        // A handler that finds parameters which do not fit together sends its
        // diagnostics and then CPF0001, like the validator: exit 2 as well.
        return st.error().id == "CPF0001" ? kExitParameters : kExitFailed;
    }
    return kExitOk;
}

}  // namespace qvpn::cl
