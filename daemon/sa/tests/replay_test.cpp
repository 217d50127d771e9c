#define BOOST_TEST_MODULE sa_replay
#include <boost/test/unit_test.hpp>

#include "daemon/sa/replay.hpp"

using namespace qvpn::sa;
using V = ReplayWindow::Verdict;

namespace {

// Receive: check, and accept when the check passes (the ICV "verified").
V rx(ReplayWindow& w, uint32_t lo, uint64_t* full = nullptr) {
    auto c = w.check(lo);
    if (full) {
        *full = c.seq;
    }
    if (c.verdict == V::Ok) {
        w.accept(c.seq);
    }
    return c.verdict;
}

uint64_t seq64(uint32_t hi, uint32_t lo) { return uint64_t(hi) << 32 | lo; }

}  // namespace

BOOST_AUTO_TEST_CASE(basic_window_without_esn) {
    ReplayWindow w(64, false);
    BOOST_TEST((rx(w, 0) == V::Zero));
    for (uint32_t s = 1; s <= 64; ++s) {
        BOOST_TEST((rx(w, s) == V::Ok));
    }
    BOOST_TEST((rx(w, 1) == V::Replayed));
    BOOST_TEST((rx(w, 64) == V::Replayed));
    BOOST_TEST((rx(w, 100) == V::Ok));
    // RFC 4303 3.4.3: the window's right edge is 100; 37..100 is inside.
    BOOST_TEST((rx(w, 36) == V::TooOld));
    BOOST_TEST((rx(w, 37) == V::Replayed));  // seen before the jump, still in the window
    BOOST_TEST((rx(w, 65) == V::Ok));        // skipped by the jump
    BOOST_TEST((rx(w, 65) == V::Replayed));
    BOOST_TEST((rx(w, 99) == V::Ok));
    BOOST_TEST(w.highest() == 100u);
}

BOOST_AUTO_TEST_CASE(out_of_order_and_jumps) {
    ReplayWindow w(32, false);
    for (uint32_t s : {5u, 3u, 4u, 1u, 2u}) {
        BOOST_TEST((rx(w, s) == V::Ok));
    }
    for (uint32_t s = 1; s <= 5; ++s) {
        BOOST_TEST((rx(w, s) == V::Replayed));
    }
    // A jump far beyond the bitmap clears everything.
    BOOST_TEST((rx(w, 100000) == V::Ok));
    BOOST_TEST((rx(w, 99999) == V::Ok));
    BOOST_TEST((rx(w, 99968) == V::TooOld));
    BOOST_TEST((rx(w, 99969) == V::Ok));
    // Bits of numbers that fell out of the window must not linger when the
    // window moves over their slots again.
    ReplayWindow v(64, false);
    BOOST_TEST((rx(v, 10) == V::Ok));
    BOOST_TEST((rx(v, 10 + 4096) == V::Ok));   // same bitmap slot as 10
    BOOST_TEST((rx(v, 10 + 4096 - 1) == V::Ok));
    BOOST_TEST((rx(v, 10 + 8192) == V::Ok));
    BOOST_TEST((rx(v, 10 + 8192 - 2) == V::Ok));
}

BOOST_AUTO_TEST_CASE(unverified_packets_do_not_move_the_window) {
    ReplayWindow w(64, false);
    BOOST_TEST((rx(w, 10) == V::Ok));
    auto c = w.check(1000);  // a forgery: its ICV fails, accept() is never called
    BOOST_TEST((c.verdict == V::Ok));
    BOOST_TEST(w.highest() == 10u);
    BOOST_TEST((rx(w, 9) == V::Ok));
    BOOST_TEST((rx(w, 1000) == V::Ok));
}

BOOST_AUTO_TEST_CASE(disabled_window) {
    ReplayWindow w(0, false);
    BOOST_TEST((rx(w, 5) == V::Ok));
    BOOST_TEST((rx(w, 5) == V::Ok));
    BOOST_TEST((rx(w, 1) == V::Ok));
    BOOST_TEST((rx(w, 0) == V::Zero));
}

BOOST_AUTO_TEST_CASE(window_sizes) {
    for (uint32_t size : {1u, 32u, 64u, 128u, 1000u, 4096u}) {
        BOOST_TEST_CONTEXT("window " << size) {
            ReplayWindow w(size, false);
            BOOST_TEST((rx(w, 10000) == V::Ok));
            BOOST_TEST((rx(w, 10000 - size + 1) == (size == 1 ? V::Replayed : V::Ok)));
            BOOST_TEST((rx(w, 10000 - size) == V::TooOld));
        }
    }
}

// RFC 4303 A2.2 case A: Tl >= W - 1, the window lies in one subspace.
BOOST_AUTO_TEST_CASE(esn_case_a) {
    ReplayWindow w(64, true);
    BOOST_TEST((rx(w, 1000) == V::Ok));
    uint64_t full = 0;
    // Seql >= Tl - W + 1: same subspace.
    BOOST_TEST((rx(w, 990, &full) == V::Ok));
    BOOST_TEST(full == seq64(0, 990));
    // Seql < Tl - W + 1: the next subspace (far ahead, still accepted).
    auto c = w.check(5);
    BOOST_TEST((c.verdict == V::Ok));
    BOOST_TEST(c.seq == seq64(1, 5));
    // Too old can never happen in case A for low numbers: they roll over.
    BOOST_TEST(w.check(936).seq == seq64(1, 936));
}

// Case B: Tl < W - 1, the window spans the previous subspace's top.
BOOST_AUTO_TEST_CASE(esn_case_b) {
    ReplayWindow w(64, true);
    // Walk up to the top of subspace 0 and over it.
    BOOST_TEST((rx(w, 0xfffffff0) == V::Ok));
    uint64_t full = 0;
    BOOST_TEST((rx(w, 0xffffffff, &full) == V::Ok));
    BOOST_TEST(full == seq64(0, 0xffffffff));
    // Low 32 bits 0 in subspace 1 is a valid number with ESN.
    BOOST_TEST((rx(w, 0, &full) == V::Ok));
    BOOST_TEST(full == seq64(1, 0));
    BOOST_TEST((rx(w, 10, &full) == V::Ok));
    BOOST_TEST(full == seq64(1, 10));
    // Now Th=1, Tl=10 < W-1. A late packet from subspace 0's top:
    auto c = w.check(0xfffffff5);
    BOOST_TEST(c.seq == seq64(0, 0xfffffff5));
    BOOST_TEST((c.verdict == V::Ok));
    BOOST_TEST((rx(w, 0xfffffff0) == V::Replayed));
    BOOST_TEST((rx(w, 0xffffffff) == V::Replayed));
    BOOST_TEST((rx(w, 0) == V::Replayed));
    // Below the window's bottom the RFC places the number in the current
    // subspace (far ahead); its ICV then fails with the wrong high bits.
    BOOST_TEST(w.check(0xffffffc0).seq == seq64(1, 0xffffffc0));
    // Numbers in the current subspace.
    BOOST_TEST((rx(w, 5, &full) == V::Ok));
    BOOST_TEST(full == seq64(1, 5));
    BOOST_TEST((rx(w, 5) == V::Replayed));
    BOOST_TEST(w.highest() == seq64(1, 10));
}

BOOST_AUTO_TEST_CASE(esn_wrap_many_subspaces) {
    ReplayWindow w(128, true);
    uint64_t expect = 1;
    // Walk in steps of 2^31 - 1 low bits: every packet must be placed in the
    // right subspace.
    uint64_t s = 1;
    for (int i = 0; i < 20; ++i) {
        uint64_t full = 0;
        BOOST_TEST((rx(w, uint32_t(s), &full) == V::Ok));
        BOOST_TEST(full == s);
        expect = s;
        s += 0x7fffffff;
    }
    BOOST_TEST(w.highest() == expect);
    BOOST_TEST(w.highest() > 0xffffffffULL * 8);
}

BOOST_AUTO_TEST_CASE(esn_start_of_life) {
    // At the start (T = 0) a number near 2^32 cannot be from subspace -1.
    ReplayWindow w(64, true);
    auto c = w.check(0xfffffff0);
    BOOST_TEST(c.seq == seq64(0, 0xfffffff0));
    BOOST_TEST((w.check(0).verdict == V::Zero));
}
