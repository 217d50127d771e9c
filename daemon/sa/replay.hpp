// Anti-replay window for ESP and AH receivers, with extended sequence
// numbers (RFC 4303 3.4.3 and appendix A; RFC 4302 3.4.3).
//
// Receiving is two-phase, as the RFC wants: check() before the ICV is
// verified (cheap rejection, and the inferred high 32 bits the ICV needs
// with ESN), accept() only after the ICV verified, so forged packets never
// move the window. Not thread-safe; the data path holds the SA's lock.
#pragma once

#include <array>
#include <cstdint>

namespace qvpn::sa {

class ReplayWindow {
public:
    static constexpr uint32_t kMaxWindow = 4096;

    // window 0 disables the check (every sequence number is accepted, but
    // ESN still needs the highest number seen to infer the high bits).
    ReplayWindow(uint32_t window, bool esn);

    enum class Verdict { Ok, Replayed, TooOld, Zero };

    struct Check {
        Verdict verdict;
        uint64_t seq;   // full sequence number (high bits inferred with ESN)
    };

    // Phase 1: what would the packet with the low 32 bits `seq_lo` be?
    Check check(uint32_t seq_lo) const;
    // Phase 2: record a packet whose ICV verified (seq from check()).
    void accept(uint64_t seq);

    uint64_t highest() const { return top_; }
    uint32_t window() const { return window_; }
    bool esn() const { return esn_; }

private:
    static constexpr uint32_t kBits = kMaxWindow;  // bitmap size (>= window)
    bool test(uint64_t seq) const;
    void set(uint64_t seq);
    void clear(uint64_t seq);

    uint32_t window_;
    bool esn_;
    uint64_t top_ = 0;  // highest authenticated sequence number (T)
    std::array<uint64_t, kBits / 64> bits_{};
};

}  // namespace qvpn::sa
