#include "rules/model.hpp"

#include <algorithm>
#include <array>

#include "core/base/text.hpp"

namespace qvpn::rules {

std::string_view to_text(Action a) {
    switch (a) {
        case Action::Permit: return "PERMIT";
        case Action::Deny: return "DENY";
        case Action::Ipsec: return "IPSEC";
    }
    return "?";
}

std::string_view to_text(Direction d) {
    switch (d) {
        case Direction::Inbound: return "INBOUND";
        case Direction::Outbound: return "OUTBOUND";
        case Direction::Both: return "*";
    }
    return "?";
}

std::string_view to_text(Fragments f) {
    switch (f) {
        case Fragments::None: return "NONE";
        case Fragments::Headers: return "HEADERS";
        case Fragments::All: return "ALL";
    }
    return "?";
}

// --- NumSet ------------------------------------------------------------------

NumSet NumSet::of(std::vector<std::pair<uint32_t, uint32_t>> r, uint32_t max) {
    std::sort(r.begin(), r.end());
    NumSet s;
    s.all = false;
    for (auto [lo, hi] : r) {
        hi = std::min(hi, max);
        if (lo > hi) {
            continue;
        }
        if (!s.ranges.empty() && uint64_t(lo) <= uint64_t(s.ranges.back().second) + 1) {
            s.ranges.back().second = std::max(s.ranges.back().second, hi);
        } else {
            s.ranges.emplace_back(lo, hi);
        }
    }
    if (s.ranges.size() == 1 && s.ranges[0].first == 0 && s.ranges[0].second == max) {
        return NumSet::any();
    }
    return s;
}

bool NumSet::contains(uint32_t v) const {
    if (all) {
        return true;
    }
    auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(v, UINT32_MAX));
    return it != ranges.begin() && std::prev(it)->second >= v;
}

bool NumSet::covers(const NumSet& o) const {
    if (all) {
        return true;
    }
    if (o.all) {
        return false;
    }
    for (auto [lo, hi] : o.ranges) {
        auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(lo, UINT32_MAX));
        if (it == ranges.begin() || std::prev(it)->second < hi) {
            return false;
        }
    }
    return true;
}

bool NumSet::overlaps(const NumSet& o) const {
    if (all || o.all) {
        return true;
    }
    size_t i = 0, j = 0;
    while (i < ranges.size() && j < o.ranges.size()) {
        if (ranges[i].second < o.ranges[j].first) {
            ++i;
        } else if (o.ranges[j].second < ranges[i].first) {
            ++j;
        } else {
            return true;
        }
    }
    return false;
}

std::vector<std::pair<uint32_t, uint32_t>> complement(const NumSet& s, uint32_t max) {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    if (s.all) {
        return out;
    }
    uint64_t next = 0;
    for (auto [lo, hi] : s.ranges) {
        if (lo > next) {
            out.emplace_back(uint32_t(next), lo - 1);
        }
        next = uint64_t(hi) + 1;
    }
    if (next <= max) {
        out.emplace_back(uint32_t(next), max);
    }
    return out;
}

// --- AddrSet -----------------------------------------------------------------

namespace {

IpAddress max_address(int family) { return IpRange::any(family).to; }

std::vector<IpRange> merge(std::vector<IpRange> r) {
    std::sort(r.begin(), r.end(), [](const IpRange& a, const IpRange& b) {
        return a.from < b.from || (a.from == b.from && a.to < b.to);
    });
    std::vector<IpRange> out;
    for (const auto& x : r) {
        if (!out.empty()) {
            IpRange& last = out.back();
            bool touches = x.from <= last.to || (last.to != max_address(last.to.family()) &&
                                                 x.from == last.to.next());
            if (touches) {
                if (last.to < x.to) {
                    last.to = x.to;
                }
                continue;
            }
        }
        out.push_back(x);
    }
    return out;
}

}  // namespace

AddrSet AddrSet::of(std::vector<IpRange> r) {
    AddrSet s;
    s.all = false;
    s.family = r.empty() ? 4 : r[0].from.family();
    s.ranges = merge(std::move(r));
    return s;
}

bool AddrSet::contains(const IpAddress& a) const {
    if (all) {
        return true;
    }
    if (a.family() != family) {
        return false;
    }
    auto it = std::upper_bound(ranges.begin(), ranges.end(), a,
                               [](const IpAddress& v, const IpRange& r) { return v < r.from; });
    return it != ranges.begin() && std::prev(it)->contains(a);
}

bool AddrSet::covers(const IpRange& r) const {
    if (all) {
        return true;
    }
    if (r.from.family() != family) {
        return false;
    }
    for (const auto& x : ranges) {
        if (x.contains(r)) {
            return true;
        }
    }
    return false;
}

bool AddrSet::overlaps(const AddrSet& o) const {
    if (all || o.all) {
        return true;
    }
    if (family != o.family) {
        return false;
    }
    size_t i = 0, j = 0;
    while (i < ranges.size() && j < o.ranges.size()) {
        if (ranges[i].to < o.ranges[j].from) {
            ++i;
        } else if (o.ranges[j].to < ranges[i].from) {
            ++j;
        } else {
            return true;
        }
    }
    return false;
}

std::vector<IpRange> complement(const std::vector<IpRange>& merged, int family) {
    std::vector<IpRange> out;
    IpAddress lo = IpRange::any(family).from;
    IpAddress top = max_address(family);
    bool open = true;  // lo is still a candidate start
    for (const auto& r : merged) {
        if (open && lo < r.from) {
            out.push_back({lo, r.from.prev()});
        }
        if (r.to == top) {
            open = false;
            break;
        }
        lo = r.to.next();
    }
    if (open) {
        out.push_back({lo, top});
    }
    return out;
}

// --- Filter ------------------------------------------------------------------

Match Filter::match_for(bool inbound) const {
    if (action != Action::Ipsec || !inbound) {
        return match;
    }
    Match m = match;
    std::swap(m.src, m.dst);
    std::swap(m.sport, m.dport);
    return m;
}

bool Filter::applies(bool inbound) const {
    if (action == Action::Ipsec) {
        return true;  // written OUTBOUND; its mirror applies inbound
    }
    switch (direction) {
        case Direction::Inbound: return inbound;
        case Direction::Outbound: return !inbound;
        case Direction::Both: return true;
    }
    return false;
}

std::string Document::where(const Loc& l) const {
    std::string f = l.file >= 0 && size_t(l.file) < files.size() ? files[size_t(l.file)] : "?";
    return f + ":" + std::to_string(l.line) + ":" + std::to_string(l.col);
}

// --- names -------------------------------------------------------------------

namespace {

struct ProtoName {
    const char* name;
    int number;
};

// IANA protocol numbers (the names operators write in PROTOCOL).
constexpr std::array<ProtoName, 14> kProtocols{{
    {"ICMP", 1},
    {"IGMP", 2},
    {"IPIP", 4},
    {"TCP", 6},
    {"EGP", 8},
    {"IGP", 9},
    {"UDP", 17},
    {"IPV6", 41},
    {"GRE", 47},
    {"ESP", 50},
    {"AH", 51},
    {"ICMPV6", 58},
    {"OSPF", 89},
    {"SCTP", 132},
}};

}  // namespace

std::optional<int> protocol_number(std::string_view name) {
    for (const auto& p : kProtocols) {
        if (iequals(p.name, name)) {
            return p.number;
        }
    }
    if (iequals(name, "IPV6-ICMP")) {
        return 58;
    }
    return std::nullopt;
}

std::string protocol_name(int number) {
    for (const auto& p : kProtocols) {
        if (p.number == number) {
            return p.name;
        }
    }
    return std::to_string(number);
}

std::string name_key(std::string_view name) { return to_upper(name); }

}  // namespace qvpn::rules
