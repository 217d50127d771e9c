// The QVPN and QIPFILTER journals.
//
// Each journal is an SQLite database under paths::journal_dir() (QVPN.db,
// QIPFILTER.db) in WAL mode with synchronous=FULL: an append returns only
// after its entry is on disk, so a crash never loses a committed entry, and
// a batch is one transaction (all of it or none).
//
// Every entry carries the common header of IBM's outfile layouts (sequence
// number, journal code M, entry type, SAA timestamp, job, user, job number,
// program, user profile, system name) and the entry-specific fields under
// the seed's names: TS for QVPN (connection activity), TF for QIPFILTER
// (packet-rule events and journaled packets). Sequence numbers only grow;
// retention (QVPNJRNRET days and an entry-count bound) removes the oldest.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/result.hpp"

namespace qvpn::journal {

enum class Journal { Qvpn, Qipfilter };

std::string_view journal_name(Journal j);   // "QVPN", "QIPFILTER"
std::string_view entry_type(Journal j);     // "TS", "TF"
std::optional<Journal> journal_from_name(std::string_view name);  // case-insensitive
std::string db_path(Journal j);

// Who writes: the job fields of the header.
struct Origin {
    std::string job;           // TSJOB/TFJOB: QTOVMAN, QTOIPFJRN, LODIPFTR ...
    std::string user;          // TSUSER/TFUSER: user the job runs under
    int job_number = 0;        // TSNBR/TFNBR: process id, modulo 1000000
    std::string program;       // TSPGM/TFPGM
    std::string user_profile;  // TSUSPF/TFUSPF: profile the work is done for
    // This process: effective user name (upper case), pid.
    static Origin current(std::string job, std::string program);
};

struct Header {
    int64_t seq = 0;          // TSSEQN/TFSEQN
    char code = 'M';          // TSCODE/TFCODE
    std::string type;         // TSENTT/TFENTT
    std::string time;         // SAA timestamp, local time: 2026-12-03-17.40.01.123456
    int64_t time_us = 0;      // the same instant, microseconds since the epoch
    Origin origin;
    std::string system;       // TSSYNM/TFSYMN
};

// QVPN entry (TS). Dates are YYYYMMDD, times HHMMSS; empty when not known.
struct TsEntry {
    std::string cmpn;  // TSCMPN VPN component: QTOVMAN (connection manager)
    std::string conm;  // TSCONM connection name
    std::string coty;  // TSCOTY *DYNAMIC or *MANUAL
    std::string cos;   // TSCOS state after the event: *STARTING *ENABLED *ONDEMAND *STOPPED *ERROR
    std::string cosd, cost;  // TSCOSD/TSCOST connection start date/time
    std::string coed, coet;  // TSCOED/TSCOET connection end date/time
    std::string trpr;  // TSTRPR transport protocol: *ANY or the protocol number
    std::string lcad;  // TSLCAD local data endpoint (address, subnet or range)
    std::string lcpr;  // TSLCPR local ports: *ANY or n or n-m
    std::string rcad;  // TSRCAD remote data endpoint
    std::string cpr;   // TSCPR remote ports
    std::string lep;   // TSLEP local connection endpoint
    std::string rep;   // TSREP remote connection endpoint
    std::string corf;  // TSCORF times refreshed (decimal)
    std::string rfda, rfti;  // TSRFDA/TSRFTI next refresh date/time
    std::string rfls;  // TSRFLS refresh life-size: kilobytes, or *NOMAX
    std::string saph;  // TSSAPH SA phase: 1 (IKE SA) or 2 (data SAs)
    std::string auth;  // TSAUTH authentication (*HMACSHA256, *PSK ...)
    std::string encr;  // TSENCR encryption (*AESCBC128 ...)
    std::string dhgr;  // TSDHGR Diffie-Hellman group number, blank for none
    std::string errc;  // TSERRC message ID of the failure (TCP8606), blank on success
    bool operator==(const TsEntry&) const = default;
};

// QIPFILTER entry (TF).
struct TfEntry {
    std::string line;  // TFLINE
    std::string revt;  // TFREVT L* L U* A
    std::string pdir;  // TFPDIR O I
    std::string rnum;  // TFRNUM
    std::string act;   // TFACT PERMIT DENY IPSEC
    std::string prot;  // TFPROT
    std::string srca;  // TFSRCA
    std::string srcp;  // TFSRCP
    std::string dsta;  // TFDSTA
    std::string dstp;  // TFDSTP
    std::string text;  // TFTEXT
    bool operator==(const TfEntry&) const = default;
};

struct Entry {
    Header header;
    std::variant<TsEntry, TfEntry> data;
    const TsEntry* ts() const { return std::get_if<TsEntry>(&data); }
    const TfEntry* tf() const { return std::get_if<TfEntry>(&data); }
};

// The outfile layout of a journal, in the seed's field order.
struct FieldDef {
    std::string_view name;
    int length;
    bool numeric;
    std::string_view description;
};
const std::vector<FieldDef>& fields(Journal j);
// An entry's values in fields() order (numbers as decimal text, reserved
// fields empty).
std::vector<std::string> field_values(const Entry& e);

// Retention: entries older than `days` (0: no age limit) and beyond the
// newest `max_entries` (0: no count limit) are removed.
struct Retention {
    int days = 30;
    int64_t max_entries = 1000000;
};

class Writer {
public:
    // Opens (creating) the journal's database. The clock may be replaced in
    // tests; it must outlive the writer.
    static Result<std::unique_ptr<Writer>> open(Journal j, Origin origin, Retention r = {},
                                                const Clock* clock = nullptr);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Append one entry; returns its sequence number. The user profile may
    // name the user the work was done for (the command's caller).
    Result<int64_t> append(const TsEntry& e, std::string_view user_profile = {});
    Result<int64_t> append(const TfEntry& e, std::string_view user_profile = {});
    // Many TF entries in one transaction (the NFLOG reader); returns the
    // sequence number of the last, or 0 for an empty batch.
    Result<int64_t> append_batch(const std::vector<TfEntry>& entries);
    // Apply the retention now; returns how many entries were removed.
    Result<int64_t> apply_retention();

    Journal journal() const { return journal_; }

private:
    struct Impl;
    Writer(Journal j, std::unique_ptr<Impl> impl);
    Journal journal_;
    std::unique_ptr<Impl> impl_;
};

struct Selection {
    std::optional<int64_t> from_time_us, to_time_us;  // inclusive
    std::optional<int64_t> from_seq, to_seq;          // inclusive
    std::vector<std::string> entry_types;             // empty: *ALL
    std::vector<char> codes;                           // empty: *ALL
    std::string job;                                   // empty: any
    size_t max_entries = 0;                            // 0: all
};

// Entries matching the selection, oldest first. A journal that was never
// written has no entries (not an error).
Result<std::vector<Entry>> read(Journal j, const Selection& s);

// SAA timestamp text for an instant (local time).
std::string saa_timestamp(int64_t time_us);
// YYYYMMDD and HHMMSS for an instant (local time).
std::string date8(int64_t time_us);
std::string time6(int64_t time_us);

}  // namespace qvpn::journal
