// QTOIPFJRN, the resident job that turns NFLOG copies of packets matching
// JRN = FULL rules into QIPFILTER action entries (TFREVT A): what it reads,
// how it bounds what it writes, and how LODIPFTR starts and ends it.
//
// Each journaled rule logs to NFLOG group nflog_group() with the prefix
// "QF <unit> <rule> <P|D|I> <I|O>" (see compile.hpp); the job decodes the
// prefix and the IP header copy into one entry. Entries pass a token bucket
// (QVPN_IPFJRN_RATE per second, bursts of QVPN_IPFJRN_BURST) and a bound on
// the journal's size on disk (QVPN_IPFJRN_MAX_MB), besides the journal's own
// retention (oldest entries go first); what does not pass is counted as
// dropped, as are packets the kernel could not queue to the job (gaps in
// NFLOG's per-group sequence numbers). The counters are in
// $QVPN_ROOT/run/QTOIPFJRN.status, which DSPIPFTR shows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "journal/journal.hpp"

namespace qvpn::rules {

inline constexpr const char* kJournalJob = "QTOIPFJRN";

// The NFLOG group of journaled rules: $QVPN_NFLOG_GROUP, default 7301.
int nflog_group();

// --- what an NFLOG message becomes -------------------------------------------------

struct LogPrefix {
    int unit = 0;
    int rule = 0;
    char action = 'P';   // P D I
    bool inbound = true;
};
std::optional<LogPrefix> parse_log_prefix(std::string_view prefix);

struct PacketHeader {
    int family = 4;
    std::string src, dst;
    int protocol = 0;
    int sport = 0, dport = 0;  // ICMP: type and code
};
// The IP header (and transport header, when present) of a packet copy.
std::optional<PacketHeader> decode_packet(ByteView ip);

// An action entry (TFREVT A) for a packet. ICMP has no ports: TFSRCP and
// TFDSTP carry its type and code.
journal::TfEntry action_entry(const LogPrefix& p, const PacketHeader& h, const std::string& line);

// Bytes the QIPFILTER journal occupies on disk (database and WAL).
uint64_t journal_bytes();

// --- bounding ------------------------------------------------------------------------

class TokenBucket {
public:
    TokenBucket(double rate_per_s, double burst)
        : rate_(rate_per_s), burst_(burst), tokens_(burst) {}
    // Take one token at time `now`; false when the bucket is empty.
    bool take(SteadyTime now);

private:
    double rate_, burst_, tokens_;
    SteadyTime last_{};
    bool started_ = false;
};

struct JobLimits {
    double rate = 2000;                 // entries per second
    double burst = 20000;
    uint64_t max_bytes = 256ull << 20;  // journal size bound
    static JobLimits from_env();
};

// --- status and control -----------------------------------------------------------------

struct JobStatus {
    bool running = false;
    int pid = 0;
    int group = 0;
    std::string started;
    uint64_t written = 0;
    uint64_t dropped_rate = 0;
    uint64_t dropped_size = 0;
    uint64_t dropped_kernel = 0;
    uint64_t dropped() const { return dropped_rate + dropped_size + dropped_kernel; }
};

std::string job_pid_path();
std::string job_status_path();
JobStatus job_status();
// Write the status file atomically (temp file and rename).
void write_job_status(const JobStatus& s);

// Start the job and wait until it has bound its NFLOG group (NFT0142,
// NFT0145). Returns true when it was started now, false when it was
// already running.
Result<bool> start_job();
// End the job (SIGTERM, then SIGKILL after a few seconds). No-op when not
// running.
void stop_job();

}  // namespace qvpn::rules
