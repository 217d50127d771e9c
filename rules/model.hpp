// The packet rules model: what a .i3p file says, as plain values.
//
// The parser fills the "as written" parts (keywords, operators, value text
// and where they stood); the checks resolve names and fill the normalized
// selectors the compiler, the evaluator and rules::ActiveRules work from.
// See man/qvpn-rules.5 for the language.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/ip.hpp"

namespace qvpn::rules {

// Where something was written: index into Document::files, 1-based line and
// column. Messages show it as "file:line:column".
struct Loc {
    int file = 0;
    int line = 0;
    int col = 0;
};

enum class Action { Permit, Deny, Ipsec };
enum class Direction { Inbound, Outbound, Both };
// NONE: unfragmented packets only. HEADERS: also first fragments (they carry
// the transport header). ALL: also later fragments, which are matched on
// addresses and protocol alone.
enum class Fragments { None, Headers, All };

std::string_view to_text(Action a);       // PERMIT DENY IPSEC
std::string_view to_text(Direction d);    // INBOUND OUTBOUND *
std::string_view to_text(Fragments f);    // NONE HEADERS ALL

// A set of closed intervals over unsigned numbers (ports, protocol numbers,
// ICMP types and codes). `all` means unconstrained; otherwise `ranges` is
// sorted, disjoint, merged and not empty.
struct NumSet {
    bool all = true;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;

    static NumSet any() { return {}; }
    static NumSet of(std::vector<std::pair<uint32_t, uint32_t>> r, uint32_t max);
    bool contains(uint32_t v) const;
    bool is_single() const {
        return !all && ranges.size() == 1 && ranges[0].first == ranges[0].second;
    }
    // Every value of `o` is in this set.
    bool covers(const NumSet& o) const;
    bool overlaps(const NumSet& o) const;
    bool operator==(const NumSet&) const = default;
};

// Addresses of one family as merged, sorted ranges; `all` means any address
// of either family.
struct AddrSet {
    bool all = true;
    int family = 0;  // 4 or 6 when !all
    std::vector<IpRange> ranges;

    static AddrSet of(std::vector<IpRange> r);  // one family, not empty
    bool contains(const IpAddress& a) const;
    bool covers(const IpRange& r) const;
    bool overlaps(const AddrSet& o) const;
    bool operator==(const AddrSet&) const = default;
};

// The complement of `s` within [0, max] (may be empty: `<> *`).
std::vector<std::pair<uint32_t, uint32_t>> complement(const NumSet& s, uint32_t max);
std::vector<IpRange> complement(const std::vector<IpRange>& merged, int family);

// A selector as written: operator and value text ("*" when omitted).
struct Spec {
    std::string op = "=";
    std::string value = "*";
    Loc loc;
    bool given = false;
};

// What a packet must look like to match one direction of a rule.
struct Match {
    int family = 0;        // 0: both, 4 or 6
    AddrSet src, dst;
    NumSet proto;          // IP protocol numbers
    bool starting = false; // TCP with SYN and without ACK (TCP/STARTING)
    NumSet sport, dport;   // only with proto within {6, 17}
    NumSet icmp_type, icmp_code;  // only with proto {1} or {58}
    bool operator==(const Match&) const = default;
};

struct Filter {
    int number = 0;  // rule number: position among the FILTER statements, 1-based
    Loc loc;
    std::string set;
    Loc set_loc;
    Action action = Action::Permit;
    Direction direction = Direction::Both;
    bool direction_given = false;
    Loc direction_loc;
    Spec src, dst;           // SRCADDR, DSTADDR
    Spec protocol;           // PROTOCOL
    Spec sport, dport;       // SRCPORT, DSTPORT
    Spec icmp_type, icmp_code;  // TYPE, CODE
    Spec service;            // SERVICE = name
    Fragments fragments = Fragments::None;
    bool journal = false;    // JRN = FULL
    std::string connection;  // CONNECTION_DEFINITION
    Loc connection_loc;

    // Filled by the checks: the rule as written for OUTBOUND (and for
    // INBOUND rules, as written for INBOUND).
    Match match;

    // The match for packets of direction `inbound`: IPSEC rules are written
    // for the outbound packet and match its mirror inbound.
    Match match_for(bool inbound) const;
    bool applies(bool inbound) const;
};

enum class AddressType { Trusted, Untrusted, Border };

struct AddressDef {
    std::string name;
    Loc loc;
    std::vector<IpRange> ranges;  // merged, one family
    AddressType type = AddressType::Trusted;
    std::string text;             // as written, for display
};

struct ServiceDef {
    std::string name;
    Loc loc;
    Spec protocol, sport, dport, icmp_type, icmp_code;
};

struct FilterInterface {
    Loc loc;
    bool ppp = false;      // PPP_FILTER_ID = id instead of LINE = name
    std::string name;
    std::vector<std::pair<std::string, Loc>> sets;
};

struct Document {
    std::vector<std::string> files;  // Loc::file indexes this; [0] is the main file
    std::vector<Filter> filters;     // in file order (INCLUDEs expanded in place)
    std::vector<FilterInterface> interfaces;
    std::map<std::string, AddressDef> addresses;  // key: upper-case name
    std::map<std::string, ServiceDef> services;

    std::string where(const Loc& l) const;  // "file:line:col"
};

// Protocol names the language knows, and their numbers.
std::optional<int> protocol_number(std::string_view name);
std::string protocol_name(int number);  // "TCP" or the number

// Key for names (sets, addresses, services, lines): IBM i names are
// case-insensitive.
std::string name_key(std::string_view name);

}  // namespace qvpn::rules
