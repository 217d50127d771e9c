// The compiler: checked rules into nftables, one table `inet qvpn`.
//
// Table layout (every name of a load unit starts with u<unit>_):
//
//   qvpn_in   hook prerouting:  iifname vmap { "eth0" : jump u1_L0_i, ... }
//   qvpn_out  hook postrouting: oifname vmap { "eth0" : jump u1_L0_o, ... }
//   u1_L0_i   one line, one direction: the implicit permits (IKE, IPsec,
//             IPv6 neighbour discovery), the fragment class of the packet,
//             then `jump` to each set of the line in FILTER_INTERFACE order,
//             then the default deny (counted, never journaled)
//   u1_S3_i   one set, one direction, one fragment class: the set's rules in
//             file order, as blocks (below)
//   u1_m7     a verdict map holding one block of rules
//   u1_r12_o  what rule 12 does besides accept/drop: journal it (JRN = FULL)
//             or, for IPSEC, test whether the packet travels through IPsec
//
// First match wins, so rules keep their order exactly. The compiler only
// gathers runs of consecutive rules of one shape (the same selector fields)
// whose match spaces do not overlap into one verdict map keyed by the
// concatenated fields: at most one element of such a map can match a packet,
// so the map answers exactly what the rules answered one after the other.
// A rule whose space overlaps an earlier one of the run starts a new block;
// a rule wholly covered by an earlier one in the same map is unreachable and
// left out. Each element carries a counter and the comment "r<number>".
//
// A fragment is classified once per line: unfragmented packets are tested
// against every rule, first fragments against FRAGMENTS = HEADERS and ALL,
// later fragments (no transport header) against FRAGMENTS = ALL on
// addresses and protocol alone.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rules/model.hpp"

namespace qvpn::rules {

inline constexpr const char* kTable = "qvpn";
inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kNatTPort = 4500;

enum class FragClass { Whole = 0, First = 1, Later = 2 };

// The match of `f` for packets of one direction and fragment class, or
// nullopt when the rule does not apply to them.
std::optional<Match> class_match(const Filter& f, bool inbound, FragClass c);

// --- the block plan (exposed for tests) ----------------------------------------

enum Field : uint8_t { kSrc, kDst, kProto, kSport, kDport, kItype, kIcode, kFieldCount };

struct Shape {
    int family = 0;
    uint8_t fields = 0;  // bit per Field
    bool starting = false;
    bool operator==(const Shape&) const = default;
};
Shape shape_of(const Match& m);

// One closed interval of a key field, as 16 big-endian bytes each side.
struct Iv {
    std::array<uint8_t, 16> lo{}, hi{};
};
using Box = std::vector<Iv>;  // one Iv per field of the shape, in Field order

struct Entry {
    const Filter* filter = nullptr;
    Match match;
    std::vector<Box> boxes;  // empty: too many to map, the rule stays linear
    bool shadowed = false;   // covered by an earlier rule of its map
};

struct Block {
    Shape shape;
    bool map = false;
    bool exact = true;       // every element a single value (no interval flag)
    std::vector<size_t> entries;  // indexes into ChainPlan::entries
};

struct ChainPlan {
    std::vector<Entry> entries;  // the rules of one set/direction/class, in order
    std::vector<Block> blocks;
};

// Rules (already filtered to one direction and class) into blocks.
ChainPlan plan_chain(std::vector<Entry> entries);
// The plan of one set's chain: its filters, in order, for one direction and
// fragment class.
ChainPlan plan_set(const std::vector<const Filter*>& filters, bool inbound, FragClass c);

// Does any element box of `e` contain the key point `key` (one value per
// field of the block's shape)? For tests that interpret a plan.
bool box_contains(const Box& b, const std::vector<std::array<uint8_t, 16>>& key);
std::vector<std::array<uint8_t, 16>> packet_key(const Shape& s, const IpAddress& src,
                                                const IpAddress& dst, int proto, int sport,
                                                int dport, int itype, int icode);

// --- compiling one load unit ----------------------------------------------------------

struct LineBinding {
    std::string line;       // line name as written in FILTER_INTERFACE
    std::string interface;  // Linux interface; "ppp*" style for PPP_FILTER_ID
    bool ppp = false;
    std::vector<std::string> sets;  // set names, in order
};

// What one line's chains jump to: set chain names per direction (0 in,
// 1 out) and fragment class. Stored with the active rules so that the table
// can be put together again when other lines change.
struct LinePlan {
    std::string line;
    std::string interface;
    bool ppp = false;
    int unit = 0;
    std::string chain;  // u<unit>_L<k>; the chains are <chain>_i and <chain>_o
    std::array<std::array<std::vector<std::string>, 3>, 2> sets;
};

struct CompiledUnit {
    std::string body;  // maps and chains of the unit, to go inside the table
    std::vector<LinePlan> lines;
    size_t nft_rules = 0;
    size_t map_elements = 0;
    size_t maps = 0;
    size_t shadowed = 0;
};

struct CompileOptions {
    int unit = 1;
    int nflog_group = 0;
};

CompiledUnit compile_unit(const Document& doc, const std::vector<LineBinding>& lines,
                          const CompileOptions& opt);

// --- the whole table ------------------------------------------------------------

struct Implicit {
    bool ike = true;      // UDP 500 and 4500 permitted on every ruled line
    bool ipsec = false;   // ESP and AH permitted on every ruled line
};

// Does the filter speak about IKE (UDP with SRCPORT or DSTPORT = 500) / about
// ESP or AH (PROTOCOL ESP, AH or their numbers)? Implicit IKE and IPsec are
// off once any active rule does.
bool speaks_about_ike(const Filter& f);
bool speaks_about_ipsec(const Filter& f);

// The nft script that replaces table inet qvpn by the given units and
// lines in one transaction; with no lines it removes the table. `table_id`
// names an empty marker chain (table_id_chain) by which the state knows the
// table in the kernel is the one it recorded.
std::string compose_table(const std::vector<std::string>& bodies,
                          const std::vector<LinePlan>& lines, const Implicit& implicit,
                          const std::string& table_id = "");
std::string table_id_chain(const std::string& table_id);

// The NFLOG prefix of a journaled rule: "QF <unit> <rule> <P|D|I> <I|O>".
std::string log_prefix(int unit, int rule, char action, bool inbound);

}  // namespace qvpn::rules
