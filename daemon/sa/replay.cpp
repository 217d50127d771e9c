#include "daemon/sa/replay.hpp"

namespace qvpn::sa {

ReplayWindow::ReplayWindow(uint32_t window, bool esn)
    : window_(window > kMaxWindow ? kMaxWindow : window), esn_(esn) {}

bool ReplayWindow::test(uint64_t seq) const {
    uint32_t pos = uint32_t(seq % kBits);
    return (bits_[pos / 64] >> (pos % 64)) & 1;
}

void ReplayWindow::set(uint64_t seq) {
    uint32_t pos = uint32_t(seq % kBits);
    bits_[pos / 64] |= uint64_t(1) << (pos % 64);
}

void ReplayWindow::clear(uint64_t seq) {
    uint32_t pos = uint32_t(seq % kBits);
    bits_[pos / 64] &= ~(uint64_t(1) << (pos % 64));
}

ReplayWindow::Check ReplayWindow::check(uint32_t seq_lo) const {
    uint64_t seq = seq_lo;
    if (esn_) {
        // RFC 4303 A2.2: infer Seqh from where Seql falls relative to the
        // bottom of the window (Tl - W + 1, modulo 2^32).
        uint32_t th = uint32_t(top_ >> 32);
        uint32_t tl = uint32_t(top_);
        uint32_t w = window_ ? window_ : 1;
        uint32_t bottom = tl - w + 1;  // wraps on purpose in case B
        uint32_t seqh;
        if (tl >= w - 1) {
            // Case A: the window lies within one 2^32 subspace.
            seqh = seq_lo >= bottom ? th : th + 1;
        } else {
            // Case B: the window spans the previous and the current subspace.
            seqh = seq_lo >= bottom ? th - 1 : th;
            if (th == 0 && seq_lo >= bottom) {
                // Nothing exists below subspace 0: such a number can only be
                // in subspace 0 itself.
                seqh = 0;
            }
        }
        seq = uint64_t(seqh) << 32 | seq_lo;
    }
    if (seq == 0) {
        // RFC 4303 3.3.3: the first packet carries 1; 0 is never sent.
        return {Verdict::Zero, seq};
    }
    if (window_ == 0 || seq > top_) {
        return {Verdict::Ok, seq};
    }
    if (top_ - seq >= window_) {
        return {Verdict::TooOld, seq};
    }
    return {test(seq) ? Verdict::Replayed : Verdict::Ok, seq};
}

void ReplayWindow::accept(uint64_t seq) {
    if (seq > top_) {
        uint64_t diff = seq - top_;
        if (diff >= kBits) {
            bits_.fill(0);
        } else {
            for (uint64_t s = top_ + 1; s < seq; ++s) {
                clear(s);
            }
        }
        top_ = seq;
        set(seq);
        return;
    }
    if (window_ != 0 && top_ - seq < window_) {
        set(seq);
    }
}

}  // namespace qvpn::sa
