// What DSPIPFTR shows: the active rules per line, with the nftables
// counters of every rule, the implicit permits and the default deny, and
// the journal job's counters.
//
// A set's rules are compiled once per load and shared by every line of that
// load that applies the set, so a rule's counters count its packets on all
// those lines together; the implicit permits and the default deny are
// counted per line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "rules/journal_job.hpp"
#include "rules/store.hpp"

namespace qvpn::rules {

struct Counter {
    uint64_t packets = 0, bytes = 0;
    Counter& operator+=(const Counter& o) {
        packets += o.packets;
        bytes += o.bytes;
        return *this;
    }
};

// Counters read from `nft -j list table inet qvpn`.
struct Counters {
    // (unit, rule, inbound) -> counter; for IPSEC rules also "ipsec"/"clear".
    std::map<std::tuple<int, int, bool>, Counter> rules;
    std::map<std::tuple<int, int, bool>, Counter> ipsec_secure, ipsec_clear;
    // (line chain "u3_L0", inbound, what: ike ipsec nd deny) -> counter
    std::map<std::tuple<std::string, bool, std::string>, Counter> lines;
};

Counters parse_counters(const std::string& nft_json);

nlohmann::json display_json(const State& st, const Counters& c, const JobStatus& job,
                            const std::string& only_line);
std::string display_text(const nlohmann::json& j);

}  // namespace qvpn::rules
