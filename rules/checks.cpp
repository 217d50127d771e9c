// Semantic checks of a parsed rules file, and the resolution of what each
// FILTER names (addresses, services, protocols, ports) into its Match.
//
// These checks need nothing but the file. The ones that need the system
// (lines, the VPN configuration, the active rules, the caller's session)
// run in the loader.
#include <map>
#include <set>

#include "core/base/text.hpp"
#include "rules/parser.hpp"

namespace qvpn::rules {

namespace {

constexpr uint32_t kMaxPort = 65535;
constexpr uint32_t kMaxByte = 255;
constexpr int kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpV6 = 58;

class Checker {
public:
    explicit Checker(Parsed& p) : p_(p), doc_(p.doc) {}

    void run() {
        for (auto& f : doc_.filters) {
            filter(f);
        }
        interfaces();
    }

private:
    template <class... A>
    void error(const Loc& l, const char* id, A&&... values) {
        if (p_.errors.size() < kMaxErrors) {
            p_.errors.push_back(msg(id, doc_.where(l), std::forward<A>(values)...));
        }
    }

    // "80", "1024-65535"
    bool number_or_range(const Spec& s, uint32_t max, const char* kwd, uint32_t& lo,
                         uint32_t& hi, bool& is_range) {
        long long a = 0, b = 0;
        auto dash = s.value.find('-', 1);
        is_range = dash != std::string::npos;
        bool ok = is_range ? parse_int(s.value.substr(0, dash), a) &&
                                 parse_int(s.value.substr(dash + 1), b)
                           : parse_int(s.value, a);
        if (!is_range) {
            b = a;
        }
        if (!ok || a < 0 || b < 0 || a > max || b > max) {
            error(s.loc, "RUL0107", s.value, kwd);
            return false;
        }
        if (a > b) {
            error(s.loc, "RUL0111", s.value);
            return false;
        }
        lo = uint32_t(a);
        hi = uint32_t(b);
        return true;
    }

    bool numbers(const Spec& s, uint32_t max, const char* kwd, NumSet& out) {
        if (s.value == "*") {
            if (s.op != "=") {
                error(s.loc, "RUL0110", s.op, std::string(kwd) + " *");
                return false;
            }
            out = NumSet::any();
            return true;
        }
        uint32_t lo = 0, hi = 0;
        bool range = false;
        if (!number_or_range(s, max, kwd, lo, hi, range)) {
            return false;
        }
        if (range && s.op != "=" && s.op != "<>") {
            error(s.loc, "RUL0110", s.op, kwd);
            return false;
        }
        std::vector<std::pair<uint32_t, uint32_t>> r;
        if (s.op == "=") {
            r = {{lo, hi}};
        } else if (s.op == "<>") {
            r = complement(NumSet::of({{lo, hi}}, max), max);
        } else if (s.op == "<") {
            r = lo == 0 ? decltype(r){} : decltype(r){{0, lo - 1}};
        } else if (s.op == ">") {
            r = lo == max ? decltype(r){} : decltype(r){{lo + 1, max}};
        } else if (s.op == "<=") {
            r = {{0, lo}};
        } else {
            r = {{lo, max}};
        }
        if (r.empty()) {
            error(s.loc, "RUL0111", s.op + " " + s.value);
            return false;
        }
        out = NumSet::of(std::move(r), max);
        return true;
    }

    // A literal: address, subnet a/len or range a-b.
    std::optional<IpRange> literal(const std::string& v) {
        if (auto a = IpAddress::parse(v)) {
            return IpRange::single(*a);
        }
        auto slash = v.find('/');
        if (slash != std::string::npos) {
            if (auto net = IpAddress::parse(v.substr(0, slash))) {
                return IpRange::subnet(*net, v.substr(slash + 1));
            }
            return std::nullopt;
        }
        auto dash = v.find('-');
        if (dash != std::string::npos) {
            auto a = IpAddress::parse(v.substr(0, dash));
            auto b = IpAddress::parse(v.substr(dash + 1));
            if (a && b && a->family() == b->family() && !(*b < *a)) {
                return IpRange{*a, *b};
            }
        }
        return std::nullopt;
    }

    bool addresses(const Spec& s, const char* kwd, AddrSet& out) {
        if (s.value == "*") {
            if (s.op != "=") {
                error(s.loc, "RUL0110", s.op, std::string(kwd) + " *");
                return false;
            }
            out = AddrSet{};
            return true;
        }
        std::vector<IpRange> ranges;
        if (auto r = literal(s.value)) {
            ranges = {*r};
        } else {
            auto it = doc_.addresses.find(name_key(s.value));
            if (it == doc_.addresses.end()) {
                error(s.loc, "RUL0130", s.value);
                return false;
            }
            ranges = it->second.ranges;
        }
        AddrSet set = AddrSet::of(std::move(ranges));
        if (s.op == "<>") {
            auto c = complement(set.ranges, set.family);
            if (c.empty()) {
                error(s.loc, "RUL0111", "<> " + s.value);
                return false;
            }
            int fam = set.family;
            set = AddrSet::of(std::move(c));
            set.family = fam;
        }
        out = std::move(set);
        return true;
    }

    bool protocol(const Spec& s, Match& m) {
        if (s.value == "*") {
            m.proto = NumSet::any();
            return true;
        }
        if (iequals(s.value, "TCP/STARTING")) {
            m.proto = NumSet::of({{kTcp, kTcp}}, kMaxByte);
            m.starting = true;
            return true;
        }
        long long n = 0;
        if (auto named = protocol_number(s.value)) {
            n = *named;
        } else if (!parse_int(s.value, n) || n < 0 || n > 255) {
            error(s.loc, "RUL0107", s.value, "PROTOCOL");
            return false;
        }
        m.proto = NumSet::of({{uint32_t(n), uint32_t(n)}}, kMaxByte);
        return true;
    }

    // FILTER ... SERVICE = name: the service supplies protocol and ports.
    bool service(Filter& f) {
        if (!f.service.given) {
            return true;
        }
        for (const auto* s : {&f.protocol, &f.sport, &f.dport, &f.icmp_type, &f.icmp_code}) {
            if (s->given) {
                error(s->loc, "RUL0147", "SERVICE", s == &f.protocol ? "PROTOCOL"
                                                    : s == &f.sport  ? "SRCPORT"
                                                    : s == &f.dport  ? "DSTPORT"
                                                    : s == &f.icmp_type ? "TYPE" : "CODE");
                return false;
            }
        }
        auto it = doc_.services.find(name_key(f.service.value));
        if (it == doc_.services.end()) {
            error(f.service.loc, "RUL0131", f.service.value);
            return false;
        }
        const ServiceDef& d = it->second;
        f.protocol = d.protocol;
        f.sport = d.sport;
        f.dport = d.dport;
        f.icmp_type = d.icmp_type;
        f.icmp_code = d.icmp_code;
        return true;
    }

    void filter(Filter& f) {
        Match m;
        if (!service(f) || !addresses(f.src, "SRCADDR", m.src) ||
            !addresses(f.dst, "DSTADDR", m.dst) || !protocol(f.protocol, m) ||
            !numbers(f.sport, kMaxPort, "SRCPORT", m.sport) ||
            !numbers(f.dport, kMaxPort, "DSTPORT", m.dport) ||
            !numbers(f.icmp_type, kMaxByte, "TYPE", m.icmp_type) ||
            !numbers(f.icmp_code, kMaxByte, "CODE", m.icmp_code)) {
            return;
        }
        bool ok = selectors(f, m);
        ok = action(f) && ok;
        if (ok) {
            f.match = std::move(m);
        }
    }

    // Ports need TCP or UDP; TYPE and CODE need ICMP; addresses and ICMP of
    // one IP version.
    bool selectors(const Filter& f, Match& m) {
        const NumSet tcp_udp = NumSet::of({{kTcp, kTcp}, {kUdp, kUdp}}, kMaxByte);
        if (!m.sport.all || !m.dport.all) {
            if (m.proto.all) {
                m.proto = tcp_udp;
            } else if (!tcp_udp.covers(m.proto)) {
                const Spec& port = m.sport.all ? f.dport : f.sport;
                error(port.loc, "RUL0143", f.protocol.value);
                return false;
            }
        }
        int icmp_family = 0;
        if (m.proto.is_single() && m.proto.ranges[0].first == kIcmp) {
            icmp_family = 4;
        } else if (m.proto.is_single() && m.proto.ranges[0].first == kIcmpV6) {
            icmp_family = 6;
        }
        if ((!m.icmp_type.all || !m.icmp_code.all) && icmp_family == 0) {
            const Spec& t = m.icmp_type.all ? f.icmp_code : f.icmp_type;
            error(t.loc, "RUL0144", f.protocol.value);
            return false;
        }
        int fs = m.src.all ? 0 : m.src.family;
        int fd = m.dst.all ? 0 : m.dst.family;
        if (fs != 0 && fd != 0 && fs != fd) {
            error(f.dst.loc, "RUL0145");
            return false;
        }
        int fam = fs != 0 ? fs : fd;
        if (icmp_family != 0 && fam != 0 && icmp_family != fam) {
            error(f.protocol.loc, "RUL0146", f.protocol.value);
            return false;
        }
        m.family = fam != 0 ? fam
                   : (!m.icmp_type.all || !m.icmp_code.all) ? icmp_family : 0;
        return true;
    }

    bool action(Filter& f) {
        if (f.action != Action::Ipsec) {
            if (!f.connection.empty()) {
                error(f.connection_loc, "RUL0142");
                return false;
            }
            return true;
        }
        bool ok = true;
        if (f.direction_given && f.direction != Direction::Outbound) {
            error(f.direction_loc, "RUL0141", to_text(f.direction));
            ok = false;
        }
        if (f.connection.empty()) {
            error(f.loc, "RUL0140");
            ok = false;
        }
        f.direction = Direction::Outbound;
        return ok;
    }

    void interfaces() {
        std::set<std::string> defined;
        for (const auto& f : doc_.filters) {
            defined.insert(name_key(f.set));
        }
        std::set<std::string> used;
        std::map<std::string, std::set<std::string>> per_line;  // line -> sets
        for (const auto& fi : doc_.interfaces) {
            auto& sets = per_line[(fi.ppp ? "P:" : "L:") + name_key(fi.name)];
            for (const auto& [set, loc] : fi.sets) {
                std::string key = name_key(set);
                if (!defined.count(key)) {
                    error(loc, "RUL0133", set);
                    continue;
                }
                if (!sets.insert(key).second) {
                    error(loc, "RUL0134", set, fi.name);
                    continue;
                }
                used.insert(key);
            }
        }
        std::set<std::string> warned;
        for (const auto& f : doc_.filters) {
            std::string key = name_key(f.set);
            if (!used.count(key) && warned.insert(key).second) {
                p_.warnings.push_back(msg("RUL0149", doc_.where(f.set_loc), f.set));
            }
        }
    }

    Parsed& p_;
    Document& doc_;
};

}  // namespace

void check(Parsed& p) { Checker(p).run(); }

}  // namespace qvpn::rules
