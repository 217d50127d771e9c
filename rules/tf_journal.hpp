// QIPFILTER journal entries (journal code M, entry type TF), with the
// fields of IBM's QATOFIPF outfile: TFLINE, TFREVT, TFPDIR, TFRNUM, TFACT,
// TFPROT, TFSRCA, TFSRCP, TFDSTA, TFDSTP, TFTEXT and the common header
// (TFTIME, TFJOB, TFUSER, TFNBR, TFPGM, TFUSPF, TFSYMN). TFENTL, TFSEQN,
// TFCODE and TFENTT belong to the journal writer.
//
// TODO(journal): the QVPN/QIPFILTER journal writer of journal/ is not on
// main yet. Until it is, TfJournal stores entries itself in table rules_tf of
// $QVPN_ROOT/journal/QIPFILTER.db, one column per TF field; DSPJRN cannot
// show them until TfJournal is switched to that writer. Only this file
// knows where entries go.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/result.hpp"

struct sqlite3;

namespace qvpn::rules {

struct TfEntry {
    WallTime time{};           // TFTIME
    std::string job;           // TFJOB
    std::string user;          // TFUSER: the job's user profile
    uint32_t job_number = 0;   // TFNBR
    std::string program;       // TFPGM
    std::string user_profile;  // TFUSPF: the user who asked (for loads)
    std::string system;        // TFSYMN
    std::string line;          // TFLINE: *ALL for U*, blank for L*, the line for L and A
    std::string event;         // TFREVT: L*, L, U*, U, A
    std::string direction;     // TFPDIR: I or O
    int rule = 0;              // TFRNUM
    std::string action;        // TFACT: PERMIT, DENY, IPSEC
    int protocol = 0;          // TFPROT
    std::string src;           // TFSRCA
    int sport = 0;             // TFSRCP (ICMP: the type)
    std::string dst;           // TFDSTA
    int dport = 0;             // TFDSTP (ICMP: the code)
    std::string text;          // TFTEXT, at most 76 characters
};

// An entry with the header fields of this process filled in.
TfEntry tf_entry(std::string_view event, std::string_view program);

// "2026-12-03-17.40.01.123456" (SAA timestamp, local time).
std::string saa_timestamp(WallTime t);

class TfJournal {
public:
    ~TfJournal();
    TfJournal(const TfJournal&) = delete;
    TfJournal& operator=(const TfJournal&) = delete;

    static Result<std::unique_ptr<TfJournal>> open();
    // All entries in one durable transaction (NFT0144 on failure).
    Status append(const std::vector<TfEntry>& entries);
    // Bytes the journal occupies on disk.
    uint64_t size_bytes() const;
    const std::string& path() const { return path_; }

private:
    TfJournal(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    sqlite3* db_;
    std::string path_;
};

}  // namespace qvpn::rules
