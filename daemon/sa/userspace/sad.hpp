// The userspace data path's security association and policy databases.
//
// The backend builds them; the workers read them. Everything a worker reads
// hangs off one immutable Snapshot, published with an atomic shared_ptr
// swap: an install or remove builds a new snapshot, workers pick it up at
// their next batch, and an SA lives as long as any worker still holds the
// snapshot that had it. The mutable parts of an SA (sequence numbers,
// counters, the replay window) are atomics or behind the SA's own lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/sa/replay.hpp"
#include "daemon/sa/sa_types.hpp"
#include "daemon/sa/selector.hpp"
#include "daemon/sa/userspace/ah.hpp"
#include "daemon/sa/userspace/esp_crypto.hpp"

namespace qvpn::sa::us {

using Clock = std::chrono::steady_clock;

// Lifetime bookkeeping shared by both directions' SAs.
struct Life {
    Lifetime limits;
    Clock::time_point added = Clock::now();
    std::atomic<uint64_t> bytes{0}, packets{0};
    std::atomic<int64_t> last_use_ns{0};  // steady clock, 0 = never
    std::atomic<bool> soft_sent{false};
    std::atomic<bool> dead{false};         // hard limit reached: no more traffic
};

struct OutSa {
    uint32_t reqid = 0;
    std::string conn;
    Mode mode = Mode::Tunnel;
    IpAddress local, remote;
    std::optional<Encap> encap;
    bool tfc = false;
    bool esn = false;
    std::optional<uint16_t> cpi;  // IPComp
    uint32_t esp_spi = 0, ah_spi = 0;
    std::vector<std::unique_ptr<EspTransform>> esp;  // per outbound worker
    std::vector<std::unique_ptr<AhTransform>> ah;
    std::atomic<uint64_t> esp_seq{0}, ah_seq{0};
    std::atomic<uint16_t> ip_id{0};
    Life life;
    std::atomic<uint64_t> send_errors{0}, drops_logged{0};
    // The SA counters report: AH when present, else ESP.
    uint32_t outer_spi() const { return ah_spi ? ah_spi : esp_spi; }
};

struct InSa {
    uint32_t reqid = 0;
    std::string conn;
    uint8_t proto = 50;  // IPPROTO_ESP or IPPROTO_AH
    uint32_t spi = 0;
    Mode mode = Mode::Tunnel;
    IpAddress local, remote;
    bool esn = false;
    bool ipcomp = false;
    bool outer = true;      // the outermost protocol of its CHILD_SA (counted)
    uint32_t inner_esp_spi = 0;  // AH+ESP: the ESP SA inside this AH SA
    std::vector<SelectorPair> pairs;
    std::vector<std::unique_ptr<EspTransform>> esp;  // per inbound worker (+1 external)
    std::vector<std::unique_ptr<AhTransform>> ah;
    std::mutex replay_mu;
    ReplayWindow replay{0, false};
    Life life;
    std::atomic<uint64_t> integrity_failures{0}, replay_drops{0}, selector_drops{0},
        malformed{0}, drops_logged{0};
    uint64_t drops() const {
        return integrity_failures + replay_drops + selector_drops + malformed;
    }
};

// Rate limit for a trap's acquire events.
struct TrapState {
    std::atomic<int64_t> last_acquire_ns{0};
};

struct SpdEntry {
    SelectorPair pair;
    uint32_t reqid = 0;
    std::string conn;
    uint32_t rank = 0;                    // specificity: higher first
    std::shared_ptr<OutSa> sa;            // null: a trap
    std::shared_ptr<TrapState> trap;
};

struct Snapshot {
    std::vector<SpdEntry> spd;
    std::unordered_map<uint32_t, std::shared_ptr<InSa>> esp_in, ah_in;
};

}  // namespace qvpn::sa::us
