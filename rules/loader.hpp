// LODIPFTR and RMVTCPTBL: checking, compiling and activating packet rules,
// all or nothing.
//
// A load reads the rules (STMF, the VPN-generated rules, or both), checks
// them against the file alone and then against the system (connection
// definitions, lines, active connections, the order of connection
// definitions on other lines, and on request the caller's session), compiles
// them, and replaces table inet qvpn in one nftables transaction while the
// state transaction (ipfilter.db) is open; the state commits only after
// nftables took the rules. Any error leaves both as they were.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace qvpn::rules {

struct LoadOptions {
    bool unload = false;        // OPTION(*UNLOAD)
    std::string line = "*ALL";  // LIND
    std::string stmf;           // STMF, "" when not given
    bool incvpn = false;        // INCVPN(*YES)
    bool check_lockout = false; // CHKLCKOUT(*YES)
};

// Diagnostics (warnings and the errors behind a failure) go to `diags` in
// the order they were found; the result is the completion message or the
// escape message.
Result<Msg> lodipftr(const LoadOptions& opt, std::vector<Msg>& diags);

enum class Table { All, IpFilter };  // RMVTCPTBL TBL(*ALL) / TBL(*IPFTR)

// Remove every qvpn filter: end the VPN server if it runs, delete table
// inet qvpn and the active-rules state, end the journal job, delete the
// generated rules (*ALL), start the VPN server again.
Result<Msg> rmvtcptbl(Table t, std::vector<Msg>& diags);

}  // namespace qvpn::rules
