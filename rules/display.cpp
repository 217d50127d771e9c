#include "rules/display.hpp"

#include <cstdio>

#include "core/base/text.hpp"

namespace qvpn::rules {

using nlohmann::json;

namespace {

// "u3_S0_i_f" -> unit 3, inbound; false when not one of our names.
bool chain_info(const std::string& name, int& unit, bool& inbound, std::string& base) {
    auto parts = split(name, '_');
    long long u = 0;
    if (parts.size() < 3 || parts[0].size() < 2 || parts[0][0] != 'u' ||
        !parse_int(parts[0].substr(1), u) || (parts[2] != "i" && parts[2] != "o")) {
        return false;
    }
    unit = int(u);
    inbound = parts[2] == "i";
    base = parts[0] + "_" + parts[1];
    return true;
}

Counter counter_of(const json& j) {
    Counter c;
    if (j.is_object()) {
        c.packets = j.value("packets", uint64_t(0));
        c.bytes = j.value("bytes", uint64_t(0));
    }
    return c;
}

// "r12", "r12 ipsec" -> 12 and the rest.
bool rule_comment(const std::string& comment, int& rule, std::string& rest) {
    if (comment.size() < 2 || comment[0] != 'r') {
        return false;
    }
    auto sp = comment.find(' ');
    long long n = 0;
    if (!parse_int(comment.substr(1, sp == std::string::npos ? std::string::npos : sp - 1), n)) {
        return false;
    }
    rule = int(n);
    rest = sp == std::string::npos ? "" : comment.substr(sp + 1);
    return true;
}

json counter_json(const Counter& c) { return {{"packets", c.packets}, {"bytes", c.bytes}}; }

template <class K>
Counter get(const std::map<K, Counter>& m, const K& k) {
    auto it = m.find(k);
    return it == m.end() ? Counter{} : it->second;
}

std::string selectors(const StoredRule& r) {
    std::string s = "SRCADDR " + r.srcaddr + " DSTADDR " + r.dstaddr;
    if (r.protocol != "*") {
        s += " PROTOCOL = " + r.protocol;
    }
    for (auto [kwd, v] : {std::pair{"SRCPORT", &r.srcport}, std::pair{"DSTPORT", &r.dstport},
                          std::pair{"TYPE", &r.icmp_type}, std::pair{"CODE", &r.icmp_code}}) {
        if (*v != "= *") {
            s += std::string(" ") + kwd + " " + *v;
        }
    }
    if (r.fragments != Fragments::None) {
        s += std::string(" FRAGMENTS = ") + std::string(to_text(r.fragments));
    }
    if (!r.connection.empty()) {
        s += " CONNECTION_DEFINITION = " + r.connection;
    }
    if (r.journal) {
        s += " JRN = FULL";
    }
    return s;
}

}  // namespace

Counters parse_counters(const std::string& nft_json) {
    Counters c;
    json j = json::parse(nft_json, nullptr, false);
    if (!j.is_object() || !j.contains("nftables") || !j["nftables"].is_array()) {
        return c;
    }
    for (const auto& item : j["nftables"]) {
        if (item.contains("rule")) {
            const json& r = item["rule"];
            int unit = 0;
            bool in = false;
            std::string base;
            if (!chain_info(r.value("chain", ""), unit, in, base)) {
                continue;
            }
            Counter ctr;
            for (const auto& e : r.value("expr", json::array())) {
                if (e.contains("counter")) {
                    ctr = counter_of(e["counter"]);
                }
            }
            std::string comment = r.value("comment", "");
            int rule = 0;
            std::string rest;
            if (rule_comment(comment, rule, rest)) {
                auto key = std::make_tuple(unit, rule, in);
                if (rest.empty()) {
                    c.rules[key] += ctr;
                } else if (rest == "ipsec") {
                    c.ipsec_secure[key] += ctr;
                } else if (rest == "clear") {
                    c.ipsec_clear[key] += ctr;
                }
            } else if (!comment.empty()) {
                c.lines[{base, in, comment}] += ctr;
            }
        } else if (item.contains("map")) {
            const json& m = item["map"];
            int unit = 0;
            bool in = false;
            std::string base;
            if (!chain_info(m.value("name", ""), unit, in, base)) {
                continue;
            }
            for (const auto& el : m.value("elem", json::array())) {
                if (!el.is_array() || el.empty() || !el[0].contains("elem")) {
                    continue;
                }
                const json& e = el[0]["elem"];
                int rule = 0;
                std::string rest;
                if (rule_comment(e.value("comment", ""), rule, rest)) {
                    c.rules[{unit, rule, in}] += counter_of(e.value("counter", json()));
                }
            }
        }
    }
    return c;
}

json display_json(const State& st, const Counters& c, const JobStatus& job,
                  const std::string& only_line) {
    json lines = json::array();
    for (const auto& l : st.lines) {
        if (!only_line.empty() && !iequals(only_line, l.plan.line)) {
            continue;
        }
        const StoredUnit* u = st.unit(l.plan.unit);
        json implicit = json::object();
        for (const char* what : {"ike", "ipsec", "nd", "deny"}) {
            json dirs = {
                {"in", counter_json(get(c.lines, {l.plan.chain, true, std::string(what)}))},
                {"out", counter_json(get(c.lines, {l.plan.chain, false, std::string(what)}))}};
            implicit[what] = dirs;
        }
        json rules = json::array();
        for (const StoredRule* r : st.line_rules(l)) {
            Counter in = get(c.rules, {r->unit, r->number, true});
            Counter out = get(c.rules, {r->unit, r->number, false});
            json jr = {{"number", r->number},
                       {"set", r->set},
                       {"action", std::string(to_text(r->action))},
                       {"direction", std::string(to_text(r->direction))},
                       {"srcaddr", r->srcaddr},
                       {"dstaddr", r->dstaddr},
                       {"protocol", r->protocol},
                       {"srcport", r->srcport},
                       {"dstport", r->dstport},
                       {"type", r->icmp_type},
                       {"code", r->icmp_code},
                       {"fragments", std::string(to_text(r->fragments))},
                       {"journal", r->journal},
                       {"connection", r->connection},
                       {"location", r->location},
                       {"selectors", selectors(*r)},
                       {"in", counter_json(in)},
                       {"out", counter_json(out)}};
            if (r->action == Action::Ipsec) {
                Counter sec = get(c.ipsec_secure, {r->unit, r->number, true});
                sec += get(c.ipsec_secure, {r->unit, r->number, false});
                Counter clr = get(c.ipsec_clear, {r->unit, r->number, true});
                clr += get(c.ipsec_clear, {r->unit, r->number, false});
                jr["ipsec"] = {{"secure", counter_json(sec)}, {"clear_dropped", counter_json(clr)}};
            }
            rules.push_back(std::move(jr));
        }
        lines.push_back({{"line", l.plan.line},
                         {"interface", l.plan.interface},
                         {"ppp", l.plan.ppp},
                         {"unit", l.plan.unit},
                         {"file", u ? u->file : ""},
                         {"files", u ? u->files : std::vector<std::string>{}},
                         {"incvpn", u && u->incvpn},
                         {"loaded_at", l.loaded_at},
                         {"sets", l.sets},
                         {"implicit", implicit},
                         {"rules", rules}});
    }
    json jj = {{"running", job.running},
               {"pid", job.pid},
               {"group", job.group},
               {"started", job.started},
               {"written", job.written},
               {"dropped", job.dropped()},
               {"dropped_rate", job.dropped_rate},
               {"dropped_size", job.dropped_size},
               {"dropped_kernel", job.dropped_kernel}};
    return {{"lines", lines}, {"journal_job", jj}};
}

std::string display_text(const json& j) {
    std::string o;
    char buf[512];
    auto pk = [](const json& c) { return c.value("packets", uint64_t(0)); };
    for (const auto& l : j["lines"]) {
        std::snprintf(buf, sizeof buf, "Line . . . . . . . . . :   %s (interface %s)\n",
                      l["line"].get<std::string>().c_str(),
                      l["interface"].get<std::string>().c_str());
        o += buf;
        std::string file = l["file"].get<std::string>();
        if (l["incvpn"].get<bool>()) {
            file += file.empty() ? "VPN-generated rules" : " and VPN-generated rules";
        }
        o += "Rules file . . . . . . :   " + file + "\n";
        o += "Loaded . . . . . . . . :   " + l["loaded_at"].get<std::string>() + " (load " +
             std::to_string(l["unit"].get<int>()) + ")\n";
        std::string sets;
        for (const auto& s : l["sets"]) {
            sets += (sets.empty() ? "" : ", ") + s.get<std::string>();
        }
        o += "Sets . . . . . . . . . :   " + sets + "\n";
        const json& im = l["implicit"];
        std::snprintf(
            buf, sizeof buf,
            "Implicit permits . . . :   IKE %llu/%llu  IPsec %llu/%llu  ND %llu/%llu "
            "(packets in/out)\n",
            (unsigned long long)pk(im["ike"]["in"]), (unsigned long long)pk(im["ike"]["out"]),
            (unsigned long long)pk(im["ipsec"]["in"]), (unsigned long long)pk(im["ipsec"]["out"]),
            (unsigned long long)pk(im["nd"]["in"]), (unsigned long long)pk(im["nd"]["out"]));
        o += buf;
        o += "   Rule  Set              Action  Direction  Packets in  Packets out  Selectors\n";
        for (const auto& r : l["rules"]) {
            std::snprintf(buf, sizeof buf, "  %5d  %-15.15s  %-6s  %-9s  %10llu  %11llu  %s\n",
                          r["number"].get<int>(), r["set"].get<std::string>().c_str(),
                          r["action"].get<std::string>().c_str(),
                          r["direction"].get<std::string>().c_str(),
                          (unsigned long long)pk(r["in"]), (unsigned long long)pk(r["out"]),
                          r["selectors"].get<std::string>().c_str());
            o += buf;
            if (r.contains("ipsec")) {
                std::snprintf(buf, sizeof buf,
                              "                                     through IPsec %llu, "
                              "cleartext dropped %llu\n",
                              (unsigned long long)pk(r["ipsec"]["secure"]),
                              (unsigned long long)pk(r["ipsec"]["clear_dropped"]));
                o += buf;
            }
        }
        std::snprintf(
            buf, sizeof buf, "  Default deny                                %10llu  %11llu\n\n",
            (unsigned long long)pk(im["deny"]["in"]), (unsigned long long)pk(im["deny"]["out"]));
        o += buf;
    }
    const json& jj = j["journal_job"];
    if (jj["running"].get<bool>()) {
        std::snprintf(buf, sizeof buf,
                      "Journal job QTOIPFJRN . :   running, pid %d, NFLOG group %d\n",
                      jj["pid"].get<int>(), jj["group"].get<int>());
    } else {
        std::snprintf(buf, sizeof buf, "Journal job QTOIPFJRN . :   not running\n");
    }
    o += buf;
    std::snprintf(buf, sizeof buf,
                  "Journal entries  . . . :   %llu written, %llu dropped (rate limit %llu, "
                  "size limit %llu, kernel %llu)\n",
                  (unsigned long long)jj["written"].get<uint64_t>(),
                  (unsigned long long)jj["dropped"].get<uint64_t>(),
                  (unsigned long long)jj["dropped_rate"].get<uint64_t>(),
                  (unsigned long long)jj["dropped_size"].get<uint64_t>(),
                  (unsigned long long)jj["dropped_kernel"].get<uint64_t>());
    o += buf;
    return o;
}

}  // namespace qvpn::rules
