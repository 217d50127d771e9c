#include "rules/compile.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "core/base/text.hpp"

namespace qvpn::rules {

namespace {

// A rule expanding to more map elements than this stays a linear rule.
constexpr size_t kMaxElementsPerRule = 64;
// Blocks with interval elements check each new element against all elements
// of the block; past this many the block is closed (bounds compile time).
constexpr size_t kMaxIntervalBlock = 1024;
// Fewer rules than this in a block are cheaper as linear rules.
constexpr size_t kMinMapEntries = 3;

constexpr int kProtoTcp = 6, kProtoUdp = 17, kProtoEsp = 50, kProtoAh = 51;

bool has(uint8_t fields, Field f) { return (fields >> f) & 1; }

// --- keys ----------------------------------------------------------------------

std::array<uint8_t, 16> num_key(uint32_t v) {
    std::array<uint8_t, 16> k{};
    k[12] = uint8_t(v >> 24);
    k[13] = uint8_t(v >> 16);
    k[14] = uint8_t(v >> 8);
    k[15] = uint8_t(v);
    return k;
}

std::array<uint8_t, 16> addr_key(const IpAddress& a) {
    std::array<uint8_t, 16> k{};
    std::memcpy(k.data() + (16 - a.size()), a.data(), a.size());
    return k;
}

std::vector<Iv> field_ivs(const Match& m, Field f) {
    std::vector<Iv> out;
    auto nums = [&](const NumSet& s) {
        for (auto [lo, hi] : s.ranges) {
            out.push_back({num_key(lo), num_key(hi)});
        }
    };
    switch (f) {
        case kSrc:
        case kDst:
            for (const auto& r : (f == kSrc ? m.src : m.dst).ranges) {
                out.push_back({addr_key(r.from), addr_key(r.to)});
            }
            break;
        case kProto: nums(m.proto); break;
        case kSport: nums(m.sport); break;
        case kDport: nums(m.dport); break;
        case kItype: nums(m.icmp_type); break;
        case kIcode: nums(m.icmp_code); break;
        default: break;
    }
    return out;
}

// Cross product of the fields' intervals; empty when over the limit.
std::vector<Box> expand(const Match& m, const Shape& s) {
    std::vector<Box> boxes{Box{}};
    for (int f = 0; f < kFieldCount; ++f) {
        if (!has(s.fields, Field(f))) {
            continue;
        }
        auto ivs = field_ivs(m, Field(f));
        if (boxes.size() * ivs.size() > kMaxElementsPerRule) {
            return {};
        }
        std::vector<Box> next;
        next.reserve(boxes.size() * ivs.size());
        for (const auto& b : boxes) {
            for (const auto& iv : ivs) {
                Box nb = b;
                nb.push_back(iv);
                next.push_back(std::move(nb));
            }
        }
        boxes = std::move(next);
    }
    return boxes;
}

bool exact(const Box& b) {
    return std::all_of(b.begin(), b.end(), [](const Iv& iv) { return iv.lo == iv.hi; });
}

bool overlap(const Box& a, const Box& b) {
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].hi < b[i].lo || b[i].hi < a[i].lo) {
            return false;
        }
    }
    return true;
}

std::string key_string(const Box& b) {
    std::string k;
    k.reserve(b.size() * 16);
    for (const auto& iv : b) {
        k.append(reinterpret_cast<const char*>(iv.lo.data()), 16);
    }
    return k;
}

// --- planning ------------------------------------------------------------------

class Planner {
public:
    explicit Planner(ChainPlan& p) : p_(p) {}

    void run() {
        for (size_t i = 0; i < p_.entries.size(); ++i) {
            add(i);
        }
        close();
    }

private:
    void add(size_t i) {
        Entry& e = p_.entries[i];
        Shape s = shape_of(e.match);
        if (s.fields == 0) {
            e.boxes.clear();  // matches on nothing but the chain: always linear
        }
        if (e.boxes.empty()) {
            close();
            p_.blocks.push_back({s, false, true, {i}});
            return;
        }
        if (open_ && cur_.shape == s && admit(e)) {
            if (!e.shadowed) {
                cur_.entries.push_back(i);
            }
            return;
        }
        close();
        open_ = true;
        cur_ = Block{s, true, true, {}};
        keys_.clear();
        boxes_.clear();
        bool ok = admit(e);
        (void)ok;  // an empty block admits anything
        cur_.entries.push_back(i);
    }

    // Add e's elements to the open block unless one overlaps an element
    // there; an entry whose elements all repeat existing keys is shadowed.
    bool admit(Entry& e) {
        bool all_exact = std::all_of(e.boxes.begin(), e.boxes.end(), exact);
        if (cur_.exact && all_exact) {
            size_t dup = 0;
            for (const auto& b : e.boxes) {
                dup += keys_.count(key_string(b));
            }
            if (dup == e.boxes.size() && dup > 0) {
                e.shadowed = true;
                return true;
            }
            if (dup > 0) {
                return false;
            }
            for (const auto& b : e.boxes) {
                keys_.insert(key_string(b));
                boxes_.push_back(b);
            }
            return true;
        }
        if (boxes_.size() + e.boxes.size() > kMaxIntervalBlock) {
            return false;
        }
        for (const auto& nb : e.boxes) {
            for (const auto& b : boxes_) {
                if (overlap(nb, b)) {
                    return false;
                }
            }
        }
        for (const auto& b : e.boxes) {
            keys_.insert(key_string(b));
            boxes_.push_back(b);
        }
        cur_.exact = cur_.exact && all_exact;
        return true;
    }

    void close() {
        if (!open_) {
            return;
        }
        open_ = false;
        if (cur_.entries.size() >= kMinMapEntries) {
            p_.blocks.push_back(std::move(cur_));
            return;
        }
        for (size_t i : cur_.entries) {
            p_.blocks.push_back({cur_.shape, false, true, {i}});
        }
    }

    ChainPlan& p_;
    bool open_ = false;
    Block cur_;
    std::unordered_set<std::string> keys_;
    std::vector<Box> boxes_;
};

// --- rendering -----------------------------------------------------------------

std::string num_text(uint32_t lo, uint32_t hi) {
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

// The prefix length when [from, to] is exactly one prefix: from and to
// differ in trailing bits only, all zero in from and all one in to.
std::optional<int> prefix_length(const IpRange& r) {
    size_t n = r.from.size();
    const uint8_t* a = r.from.data();
    const uint8_t* b = r.to.data();
    size_t i = 0;
    while (i < n && a[i] == b[i]) {
        ++i;
    }
    int len = int(i) * 8;
    if (i < n) {
        uint8_t x = a[i] ^ b[i];
        // x must be 0...01...1, with those bits clear in a
        if ((x & (x + 1)) != 0 || (a[i] & x) != 0) {
            return std::nullopt;
        }
        int ones = 0;
        for (uint8_t v = x; v != 0; v >>= 1) {
            ++ones;
        }
        len += 8 - ones;
        for (size_t j = i + 1; j < n; ++j) {
            if (a[j] != 0x00 || b[j] != 0xff) {
                return std::nullopt;
            }
        }
    }
    return len;
}

std::string range_text(const IpRange& r) {
    if (r.from == r.to) {
        return r.from.to_string();
    }
    if (auto len = prefix_length(r)) {
        return r.from.to_string() + "/" + std::to_string(*len);
    }
    return r.from.to_string() + "-" + r.to.to_string();
}

const char* field_expr(Field f, int family) {
    switch (f) {
        case kSrc: return family == 6 ? "ip6 saddr" : "ip saddr";
        case kDst: return family == 6 ? "ip6 daddr" : "ip daddr";
        case kProto: return "meta l4proto";
        case kSport: return "th sport";
        case kDport: return "th dport";
        case kItype: return family == 6 ? "icmpv6 type" : "icmp type";
        case kIcode: return family == 6 ? "icmpv6 code" : "icmp code";
        default: return "";
    }
}

const char* field_type(Field f, int family) {
    switch (f) {
        case kSrc:
        case kDst: return family == 6 ? "ipv6_addr" : "ipv4_addr";
        case kProto: return "inet_proto";
        case kSport:
        case kDport: return "inet_service";
        case kItype: return family == 6 ? "icmpv6_type" : "icmp_type";
        case kIcode: return family == 6 ? "icmpv6_code" : "icmp_code";
        default: return "";
    }
}

// The values of one field of a match, as nft set members.
std::vector<std::string> field_values(const Match& m, Field f) {
    std::vector<std::string> out;
    auto nums = [&](const NumSet& s) {
        for (auto [lo, hi] : s.ranges) {
            out.push_back(num_text(lo, hi));
        }
    };
    switch (f) {
        case kSrc:
        case kDst:
            for (const auto& r : (f == kSrc ? m.src : m.dst).ranges) {
                out.push_back(range_text(r));
            }
            break;
        case kProto: nums(m.proto); break;
        case kSport: nums(m.sport); break;
        case kDport: nums(m.dport); break;
        case kItype: nums(m.icmp_type); break;
        case kIcode: nums(m.icmp_code); break;
        default: break;
    }
    return out;
}

// Element key text of a box: "10.0.0.1 . 6 . 80-90".
std::string box_text(const Box& b, const Shape& s) {
    std::string out;
    size_t i = 0;
    for (int f = 0; f < kFieldCount; ++f) {
        if (!has(s.fields, Field(f))) {
            continue;
        }
        const Iv& iv = b[i++];
        if (!out.empty()) {
            out += " . ";
        }
        if (f == kSrc || f == kDst) {
            size_t n = s.family == 6 ? 16 : 4;
            auto lo = IpAddress::from_bytes(iv.lo.data() + 16 - n, n);
            auto hi = IpAddress::from_bytes(iv.hi.data() + 16 - n, n);
            out += range_text(IpRange{*lo, *hi});
        } else {
            auto v = [](const std::array<uint8_t, 16>& k) {
                return uint32_t(k[12]) << 24 | uint32_t(k[13]) << 16 | uint32_t(k[14]) << 8 |
                       k[15];
            };
            out += num_text(v(iv.lo), v(iv.hi));
        }
    }
    return out;
}

constexpr const char* kStarting = "tcp flags & (syn | ack) == syn";

class UnitCompiler {
public:
    UnitCompiler(const Document& doc, const CompileOptions& opt) : doc_(doc), opt_(opt) {
        for (const auto& f : doc_.filters) {
            by_set_[name_key(f.set)].push_back(&f);
        }
    }

    CompiledUnit run(const std::vector<LineBinding>& lines) {
        CompiledUnit out;
        std::map<std::string, int> set_index;  // set key -> index in this unit
        for (size_t k = 0; k < lines.size(); ++k) {
            const LineBinding& lb = lines[k];
            LinePlan lp{lb.line, lb.interface, lb.ppp, opt_.unit,
                        "u" + std::to_string(opt_.unit) + "_L" + std::to_string(k), {}};
            for (const auto& set : lb.sets) {
                std::string key = name_key(set);
                auto [it, fresh] = set_index.emplace(key, int(set_index.size()));
                if (fresh) {
                    compile_set(key, it->second);
                }
                for (int d = 0; d < 2; ++d) {
                    for (int c = 0; c < 3; ++c) {
                        const std::string& name = set_chain_[{it->second, d, c}];
                        if (!name.empty()) {
                            lp.sets[size_t(d)][size_t(c)].push_back(name);
                        }
                    }
                }
            }
            out.lines.push_back(std::move(lp));
        }
        out.body = rule_chains_ + maps_ + set_chains_;
        out.nft_rules = rules_;
        out.map_elements = elements_;
        out.maps = map_count_;
        out.shadowed = shadowed_;
        return out;
    }

private:
    std::string prefix() const { return "u" + std::to_string(opt_.unit) + "_"; }

    void compile_set(const std::string& key, int index) {
        const auto& filters = by_set_[key];
        for (int d = 0; d < 2; ++d) {
            bool inbound = d == 0;
            for (int c = 0; c < 3; ++c) {
                ChainPlan plan = plan_set(filters, inbound, FragClass(c));
                if (plan.entries.empty()) {
                    continue;
                }
                std::string name = prefix() + "S" + std::to_string(index) +
                                   (inbound ? "_i" : "_o") +
                                   (c == 1   ? "_f"
                                    : c == 2 ? "_l"
                                             : "");
                set_chain_[{index, d, c}] = name;
                render_chain(name, plan, inbound);
            }
        }
    }

    void render_chain(const std::string& name, const ChainPlan& plan, bool inbound) {
        std::string& o = set_chains_;
        o += "chain " + name + " {\n";
        for (const auto& b : plan.blocks) {
            if (b.map) {
                o += "  " + render_map(plan, b, inbound) + "\n";
                continue;
            }
            const Entry& e = plan.entries[b.entries[0]];
            o += "  " + render_linear(e, inbound) + "\n";
        }
        o += "}\n";
        for (const auto& e : plan.entries) {
            shadowed_ += e.shadowed ? 1 : 0;
        }
    }

    std::string render_linear(const Entry& e, bool inbound) {
        ++rules_;
        const Match& m = e.match;
        Shape s = shape_of(m);
        std::string r;
        for (int f = 0; f < kFieldCount; ++f) {
            if (!has(s.fields, Field(f))) {
                continue;
            }
            auto vals = field_values(m, Field(f));
            r += field_expr(Field(f), s.family);
            if (vals.size() == 1) {
                r += " " + vals[0] + " ";
            } else {
                r += " { ";
                for (size_t i = 0; i < vals.size(); ++i) {
                    r += (i ? ", " : "") + vals[i];
                }
                r += " } ";
            }
        }
        if (m.starting) {
            r += std::string(kStarting) + " ";
        }
        r += "counter " + verdict(*e.filter, inbound, true);
        r += " comment \"r" + std::to_string(e.filter->number) + "\"";
        return r;
    }

    std::string render_map(const ChainPlan& plan, const Block& b, bool inbound) {
        ++rules_;
        ++map_count_;
        std::string name = prefix() + "m" + std::to_string(map_count_) + (inbound ? "_i" : "_o");
        std::string type, key;
        for (int f = 0; f < kFieldCount; ++f) {
            if (!has(b.shape.fields, Field(f))) {
                continue;
            }
            type += (type.empty() ? "" : " . ") + std::string(field_type(Field(f), b.shape.family));
            key += (key.empty() ? "" : " . ") + std::string(field_expr(Field(f), b.shape.family));
        }
        std::string& o = maps_;
        o += "map " + name + " { type " + type + " : verdict; ";
        o += b.exact ? "" : "flags interval; ";
        o += "counter; elements = {\n";
        bool first = true;
        for (size_t i : b.entries) {
            const Entry& e = plan.entries[i];
            std::string v = verdict(*e.filter, inbound, false);
            std::string c = " comment \"r" + std::to_string(e.filter->number) + "\" : " + v;
            for (const auto& box : e.boxes) {
                o += first ? "  " : ",\n  ";
                o += box_text(box, b.shape) + c;
                first = false;
                ++elements_;
            }
        }
        o += " } }\n";
        std::string rule = b.shape.starting ? std::string(kStarting) + " " : "";
        return rule + key + " vmap @" + name;
    }

    // accept / drop, a log statement before it (inline), or a jump to the
    // rule's own chain.
    std::string verdict(const Filter& f, bool inbound, bool inline_log) {
        if (f.action == Action::Ipsec) {
            return "jump " + ipsec_chain(f, inbound);
        }
        const char* v = f.action == Action::Permit ? "accept" : "drop";
        if (!f.journal) {
            return v;
        }
        std::string log = log_stmt(f.number, f.action == Action::Permit ? 'P' : 'D', inbound);
        if (inline_log) {
            return log + " " + v;
        }
        std::string name = prefix() + "r" + std::to_string(f.number) + (inbound ? "_i" : "_o");
        if (made_.insert(name).second) {
            rule_chains_ += "chain " + name + " { " + log + " " + v + "; }\n";
        }
        return "jump " + name;
    }

    std::string log_stmt(int rule, char action, bool inbound) {
        return "log group " + std::to_string(opt_.nflog_group) + " prefix \"" +
               log_prefix(opt_.unit, rule, action, inbound) + "\"";
    }

    // Traffic of a policy filter passes only through IPsec: outbound into an
    // XFRM transform, inbound out of one (the userspace data path's traffic
    // enters and leaves through its TUN interface, not through the line).
    std::string ipsec_chain(const Filter& f, bool inbound) {
        std::string name = prefix() + "r" + std::to_string(f.number) + (inbound ? "_i" : "_o");
        if (!made_.insert(name).second) {
            return name;
        }
        std::string n = std::to_string(f.number);
        std::string secure = inbound ? "meta ipsec exists" : "rt ipsec exists";
        std::string log_ok = f.journal ? log_stmt(f.number, 'I', inbound) + " " : "";
        std::string log_no = f.journal ? log_stmt(f.number, 'D', inbound) + " " : "";
        rule_chains_ += "chain " + name + " {\n  " + secure + " counter " + log_ok +
                        "accept comment \"r" + n + " ipsec\"\n  counter " + log_no +
                        "drop comment \"r" + n + " clear\"\n}\n";
        return name;
    }

    const Document& doc_;
    CompileOptions opt_;
    std::map<std::string, std::vector<const Filter*>> by_set_;
    std::map<std::tuple<int, int, int>, std::string> set_chain_;
    std::set<std::string> made_;
    std::string rule_chains_, maps_, set_chains_;
    size_t rules_ = 0, elements_ = 0, map_count_ = 0, shadowed_ = 0;
};

// --- composing the table ---------------------------------------------------------

void line_chains(std::string& o, const LinePlan& lp, const Implicit& imp) {
    for (int d = 0; d < 2; ++d) {
        bool in = d == 0;
        std::string base = lp.chain + (in ? "_i" : "_o");
        const auto& sets = lp.sets[size_t(d)];
        auto class_target = [&](int c, const char* suffix) {
            return sets[size_t(c)].empty() ? std::string("counter drop comment \"deny\"")
                                           : "jump " + base + suffix;
        };
        o += "chain " + base + " {\n";
        if (imp.ike) {
            o += std::string("  udp ") + (in ? "dport" : "sport") +
                 " { 500, 4500 } counter accept comment \"ike\"\n";
        }
        if (imp.ipsec) {
            o += "  meta l4proto { esp, ah } counter accept comment \"ipsec\"\n";
        }
        o += "  icmpv6 type { 130-137, 143 } counter accept comment \"nd\"\n";
        std::string later = class_target(2, "_l");
        std::string first = class_target(1, "_f");
        o += "  ip frag-off & 0x1fff != 0 " + later + "\n";
        o += "  frag frag-off != 0 " + later + "\n";
        o += "  ip frag-off & 0x2000 != 0 " + first + "\n";
        o += "  exthdr frag exists " + first + "\n";
        for (const auto& s : sets[0]) {
            o += "  jump " + s + "\n";
        }
        o += "  counter drop comment \"deny\"\n}\n";
        for (int c = 1; c < 3; ++c) {
            if (sets[size_t(c)].empty()) {
                continue;
            }
            o += "chain " + base + (c == 1 ? "_f" : "_l") + " {\n";
            for (const auto& s : sets[size_t(c)]) {
                o += "  jump " + s + "\n";
            }
            o += "  counter drop comment \"deny\"\n}\n";
        }
    }
}

void hook_chain(std::string& o, const std::vector<LinePlan>& lines, bool in) {
    o += std::string("chain qvpn_") + (in ? "in" : "out") + " {\n  type filter hook " +
         (in ? "prerouting" : "postrouting") + " priority filter; policy accept;\n";
    const char* dev = in ? "iifname" : "oifname";
    const char* sfx = in ? "_i" : "_o";
    std::string vmap;
    for (const auto& lp : lines) {
        if (!lp.ppp || lp.interface.find('*') == std::string::npos) {
            vmap +=
                (vmap.empty() ? "" : ", ") + ("\"" + lp.interface + "\" : jump " + lp.chain + sfx);
        }
    }
    if (!vmap.empty()) {
        o += std::string("  ") + dev + " vmap { " + vmap + " }\n";
    }
    for (const auto& lp : lines) {
        if (lp.ppp && lp.interface.find('*') != std::string::npos) {
            o +=
                std::string("  ") + dev + " \"" + lp.interface + "\" jump " + lp.chain + sfx + "\n";
        }
    }
    o += "}\n";
}

}  // namespace

// --- public ---------------------------------------------------------------------

std::optional<Match> class_match(const Filter& f, bool inbound, FragClass c) {
    if (!f.applies(inbound)) {
        return std::nullopt;
    }
    if ((c == FragClass::First && f.fragments == Fragments::None) ||
        (c == FragClass::Later && f.fragments != Fragments::All)) {
        return std::nullopt;
    }
    Match m = f.match_for(inbound);
    if (c == FragClass::Later) {
        // No transport header: addresses and protocol are all there is.
        m.sport = m.dport = m.icmp_type = m.icmp_code = NumSet::any();
        m.starting = false;
    }
    return m;
}

Shape shape_of(const Match& m) {
    Shape s;
    s.family = m.family;
    s.starting = m.starting;
    auto set = [&](Field f, bool on) { s.fields |= uint8_t(on ? 1u << f : 0u); };
    bool icmp = !m.icmp_type.all || !m.icmp_code.all;
    set(kSrc, !m.src.all);
    set(kDst, !m.dst.all);
    set(kProto, !m.proto.all && !icmp);
    set(kSport, !m.sport.all);
    set(kDport, !m.dport.all);
    set(kItype, !m.icmp_type.all);
    set(kIcode, !m.icmp_code.all);
    return s;
}

ChainPlan plan_set(const std::vector<const Filter*>& filters, bool inbound, FragClass c) {
    std::vector<Entry> entries;
    for (const Filter* f : filters) {
        if (auto m = class_match(*f, inbound, c)) {
            Entry e;
            e.filter = f;
            e.match = std::move(*m);
            e.boxes = expand(e.match, shape_of(e.match));
            entries.push_back(std::move(e));
        }
    }
    return plan_chain(std::move(entries));
}

ChainPlan plan_chain(std::vector<Entry> entries) {
    ChainPlan p;
    p.entries = std::move(entries);
    Planner(p).run();
    return p;
}

bool box_contains(const Box& b, const std::vector<std::array<uint8_t, 16>>& key) {
    if (b.size() != key.size()) {
        return false;
    }
    for (size_t i = 0; i < b.size(); ++i) {
        if (key[i] < b[i].lo || b[i].hi < key[i]) {
            return false;
        }
    }
    return true;
}

std::vector<std::array<uint8_t, 16>> packet_key(const Shape& s, const IpAddress& src,
                                                const IpAddress& dst, int proto, int sport,
                                                int dport, int itype, int icode) {
    std::vector<std::array<uint8_t, 16>> k;
    if (has(s.fields, kSrc)) {
        k.push_back(addr_key(src));
    }
    if (has(s.fields, kDst)) {
        k.push_back(addr_key(dst));
    }
    if (has(s.fields, kProto)) {
        k.push_back(num_key(uint32_t(proto)));
    }
    if (has(s.fields, kSport)) {
        k.push_back(num_key(uint32_t(sport)));
    }
    if (has(s.fields, kDport)) {
        k.push_back(num_key(uint32_t(dport)));
    }
    if (has(s.fields, kItype)) {
        k.push_back(num_key(uint32_t(itype)));
    }
    if (has(s.fields, kIcode)) {
        k.push_back(num_key(uint32_t(icode)));
    }
    return k;
}

CompiledUnit compile_unit(const Document& doc, const std::vector<LineBinding>& lines,
                          const CompileOptions& opt) {
    return UnitCompiler(doc, opt).run(lines);
}

bool speaks_about_ike(const Filter& f) {
    // Written for IKE: UDP (or any protocol) with a port selector "= 500".
    // Ranges and comparisons that happen to include 500 are not.
    if (f.match.proto.all || !f.match.proto.contains(kProtoUdp)) {
        return false;
    }
    auto is_ike = [](const Spec& s) {
        long long v = 0;
        return s.op == "=" && parse_int(s.value, v) && v == kIkePort;
    };
    return is_ike(f.sport) || is_ike(f.dport);
}

bool speaks_about_ipsec(const Filter& f) {
    const Match& m = f.match;
    return !m.proto.all && (m.proto.contains(kProtoEsp) || m.proto.contains(kProtoAh));
}

std::string table_id_chain(const std::string& table_id) { return "qvpn_id_" + table_id; }

std::string compose_table(const std::vector<std::string>& bodies,
                          const std::vector<LinePlan>& lines, const Implicit& implicit,
                          const std::string& table_id) {
    // Creating the table first makes the delete valid when it did not exist;
    // the whole script is one nftables transaction.
    std::string o = "table inet qvpn {}\ndelete table inet qvpn\n";
    if (lines.empty()) {
        return o;
    }
    size_t size = 0;
    for (const auto& b : bodies) {
        size += b.size();
    }
    o.reserve(size + 4096 + lines.size() * 2048);
    o += "table inet qvpn {\n";
    if (!table_id.empty()) {
        o += "chain " + table_id_chain(table_id) + " {\n}\n";
    }
    for (const auto& b : bodies) {
        o += b;
    }
    for (const auto& lp : lines) {
        line_chains(o, lp, implicit);
    }
    hook_chain(o, lines, true);
    hook_chain(o, lines, false);
    o += "}\n";
    return o;
}

std::string log_prefix(int unit, int rule, char action, bool inbound) {
    return "QF " + std::to_string(unit) + " " + std::to_string(rule) + " " + action + " " +
           (inbound ? "I" : "O");
}

}  // namespace qvpn::rules
