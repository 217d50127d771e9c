// The trace buffer: the ring of frame records, the trace file header, and
// the recorder that applies DTADIR and USRDTA on the way in.
#define BOOST_TEST_MODULE trace_buffer
#include <boost/test/unit_test.hpp>

#include <deque>
#include <random>

#include "daemon/trace/decoder.hpp"
#include "daemon/trace/frame_ring.hpp"
#include "daemon/trace/recorder.hpp"
#include "daemon/trace/tests/frames.hpp"
#include "daemon/trace/trace_file.hpp"

using namespace qvpn;
using namespace qvpn::trace;
using namespace qvpn::trace::test;

namespace {

// A frame whose bytes say which frame it is: its number in the first 4 bytes.
Bytes numbered(uint32_t n, size_t len) {
    Bytes b = filler(std::max<size_t>(len, 4), static_cast<uint8_t>(n));
    b[0] = static_cast<uint8_t>(n >> 24);
    b[1] = static_cast<uint8_t>(n >> 16);
    b[2] = static_cast<uint8_t>(n >> 8);
    b[3] = static_cast<uint8_t>(n);
    return b;
}

uint32_t number_of(const FrameRecord& r) {
    ByteReader rd(r.data);
    return rd.u32();
}

std::vector<uint32_t> numbers(const Bytes& storage, const RingLayout& layout) {
    auto recs = read_records(storage, layout, "test");
    BOOST_REQUIRE(recs.ok());
    std::vector<uint32_t> out;
    for (const auto& r : *recs) {
        out.push_back(number_of(r));
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(empty_ring_reads_nothing) {
    Bytes storage(1024);
    FrameRing ring(storage, TraceFull::Wrap);
    BOOST_TEST(ring.layout().count == 0u);
    BOOST_TEST(numbers(storage, ring.layout()).empty());
}

BOOST_AUTO_TEST_CASE(records_round_trip) {
    Bytes storage(1024);
    FrameRing ring(storage, TraceFull::Wrap);
    Bytes a = numbered(1, 60);
    BOOST_TEST(static_cast<int>(ring.put(111, Direction::Send, 1500, a, true)) ==
               static_cast<int>(PutResult::Stored));
    auto recs = read_records(storage, ring.layout(), "t");
    BOOST_REQUIRE(recs.ok());
    BOOST_REQUIRE(recs->size() == 1u);
    const FrameRecord& r = recs->front();
    BOOST_TEST(r.time_ns == 111u);
    BOOST_TEST(r.direction == Direction::Send);
    BOOST_TEST(r.original_length == 1500u);
    BOOST_TEST(r.sliced);
    BOOST_TEST(Bytes(r.data.begin(), r.data.end()) == a);
    BOOST_TEST(ring.layout().used == 80u);
}

BOOST_AUTO_TEST_CASE(wrap_keeps_the_newest_frames) {
    // 10 records of 100 bytes fit in 1000; the 11th replaces the first.
    Bytes storage(1000);
    FrameRing ring(storage, TraceFull::Wrap);
    for (uint32_t i = 1; i <= 10; ++i) {
        BOOST_TEST(static_cast<int>(ring.put(i, Direction::Receive, 80, numbered(i, 80), false)) ==
                   static_cast<int>(PutResult::Stored));
    }
    BOOST_TEST(ring.layout().used == 1000u);
    BOOST_TEST(static_cast<int>(ring.put(11, Direction::Receive, 80, numbered(11, 80), false)) ==
               static_cast<int>(PutResult::Wrapped));
    BOOST_TEST(numbers(storage, ring.layout()) ==
               std::vector<uint32_t>({2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    BOOST_TEST(ring.overwritten() == 1u);
    BOOST_TEST(ring.layout().split);
    // 25 more: still the newest ten, in order.
    for (uint32_t i = 12; i <= 36; ++i) {
        (void)ring.put(i, Direction::Receive, 80, numbered(i, 80), false);
    }
    BOOST_TEST(numbers(storage, ring.layout()) ==
               std::vector<uint32_t>({27, 28, 29, 30, 31, 32, 33, 34, 35, 36}));
    BOOST_TEST(ring.overwritten() == 26u);
    BOOST_TEST(ring.stored() == 36u);
}

BOOST_AUTO_TEST_CASE(stop_refuses_and_changes_nothing) {
    Bytes storage(1000);
    FrameRing ring(storage, TraceFull::StopTrace);
    for (uint32_t i = 1; i <= 10; ++i) {
        BOOST_TEST(static_cast<int>(ring.put(i, Direction::Receive, 80, numbered(i, 80), false)) ==
                   static_cast<int>(PutResult::Stored));
    }
    RingLayout before = ring.layout();
    Bytes copy = storage;
    BOOST_TEST(static_cast<int>(ring.put(11, Direction::Receive, 4, numbered(11, 4), false)) ==
               static_cast<int>(PutResult::Full));
    BOOST_TEST(ring.layout().count == before.count);
    BOOST_TEST(ring.layout().tail == before.tail);
    BOOST_TEST(storage == copy);
    BOOST_TEST(numbers(storage, ring.layout()).size() == 10u);
    BOOST_TEST(ring.overwritten() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_uses_the_room_left) {
    // 950 of 1000 bytes used: a 40-byte record fits, a 60-byte one does not.
    Bytes storage(1000);
    FrameRing ring(storage, TraceFull::StopTrace);
    (void)ring.put(1, Direction::Receive, 930, numbered(1, 930), false);
    BOOST_TEST(static_cast<int>(ring.put(2, Direction::Receive, 40, numbered(2, 40), false)) ==
               static_cast<int>(PutResult::Full));
    BOOST_TEST(static_cast<int>(ring.put(3, Direction::Receive, 20, numbered(3, 30), false)) ==
               static_cast<int>(PutResult::Stored));
    BOOST_TEST(numbers(storage, ring.layout()) == std::vector<uint32_t>({1, 3}));
}

BOOST_AUTO_TEST_CASE(oversized_frame_is_sliced_to_fit) {
    Bytes storage(256);
    FrameRing ring(storage, TraceFull::Wrap);
    (void)ring.put(1, Direction::Receive, 1000, numbered(1, 1000), false);
    auto recs = read_records(storage, ring.layout(), "t");
    BOOST_REQUIRE(recs.ok());
    BOOST_TEST(recs->front().data.size() == 256u - kRecordHeaderBytes);
    BOOST_TEST(recs->front().sliced);
    BOOST_TEST(recs->front().original_length == 1000u);
}

BOOST_AUTO_TEST_CASE(random_sizes_never_exceed_the_buffer) {
    // Against a model: the ring must always hold a run of the newest frames,
    // never more bytes than its capacity, and read back exactly.
    std::mt19937 rng(7);
    for (size_t capacity : {200u, 1000u, 4096u}) {
        Bytes storage(capacity);
        FrameRing ring(storage, TraceFull::Wrap);
        for (uint32_t i = 1; i <= 2000; ++i) {
            size_t len = 4 + rng() % (capacity / 3);
            (void)ring.put(i, Direction::Receive, static_cast<uint32_t>(len), numbered(i, len),
                           false);
            const RingLayout& g = ring.layout();
            BOOST_REQUIRE(g.used <= capacity);
            std::vector<uint32_t> got = numbers(storage, g);
            BOOST_REQUIRE(!got.empty());
            BOOST_REQUIRE(got.back() == i);
            for (size_t k = 1; k < got.size(); ++k) {
                BOOST_REQUIRE(got[k] == got[k - 1] + 1);
            }
            BOOST_REQUIRE(got.size() == g.count);
        }
    }
}

BOOST_AUTO_TEST_CASE(reattached_ring_continues) {
    Bytes storage(500);
    RingLayout saved;
    {
        FrameRing ring(storage, TraceFull::Wrap);
        for (uint32_t i = 1; i <= 8; ++i) {
            (void)ring.put(i, Direction::Receive, 80, numbered(i, 80), false);
        }
        saved = ring.layout();
    }
    FrameRing again(storage, TraceFull::Wrap, saved);
    (void)again.put(9, Direction::Receive, 80, numbered(9, 80), false);
    std::vector<uint32_t> got = numbers(storage, again.layout());
    BOOST_TEST(got.back() == 9u);
    BOOST_TEST(got.size() == 5u);
}

BOOST_AUTO_TEST_CASE(header_round_trip) {
    FileHeader h;
    h.link = LinkType::Raw;
    h.ring = {.capacity = 4096,
              .head = 100,
              .tail = 50,
              .end = 4000,
              .split = true,
              .count = 9,
              .used = 3950};
    h.trcfull = TraceFull::StopTrace;
    h.dtadir = DataDir::Send;
    h.full = true;
    h.usrdta = 100;
    h.counters = {.seen = 20, .stored = 19, .overwritten = 10, .refused = 1, .kernel_drops = 3};
    h.start_ns = 1'700'000'000'000'000'000ull;
    h.update_ns = h.start_ns + 5;
    Bytes b = serialize_header(h);
    BOOST_TEST(b.size() == kFileHeaderBytes);
    BOOST_TEST(std::string(b.begin(), b.begin() + 8) == "QVPNCTRC");
    auto p = parse_header(b, "f");
    BOOST_REQUIRE(p.ok());
    BOOST_TEST(p->link == LinkType::Raw);
    BOOST_TEST(p->ring.head == 100u);
    BOOST_TEST(p->ring.tail == 50u);
    BOOST_TEST(p->ring.end == 4000u);
    BOOST_TEST(p->ring.split);
    BOOST_TEST(p->ring.count == 9u);
    BOOST_TEST(p->trcfull == TraceFull::StopTrace);
    BOOST_TEST(p->dtadir == DataDir::Send);
    BOOST_TEST(p->full);
    BOOST_TEST(p->wrapped());
    BOOST_TEST(p->usrdta == 100u);
    BOOST_TEST(p->counters.kernel_drops == 3u);
    BOOST_TEST(p->counters.refused == 1u);
    BOOST_TEST(p->update_ns == h.start_ns + 5);
}

BOOST_AUTO_TEST_CASE(damaged_headers_are_refused) {
    FileHeader h;
    h.ring.capacity = 1000;
    Bytes good = serialize_header(h);
    auto check = [](Bytes b, const std::string& why) {
        auto p = parse_header(b, "x.qct");
        BOOST_REQUIRE(!p.ok());
        BOOST_TEST(p.error().id == "TRC0015");
        BOOST_TEST(p.error().values.at(1) == why);
    };
    Bytes magic = good;
    magic[0] = 'X';
    check(magic, "not a qvpn trace file");
    Bytes version = good;
    version[9] = 9;
    check(version, "unsupported version 9");
    Bytes link = good;
    link[15] = 7;
    check(link, "unknown link type 7");
    check(Bytes(good.begin(), good.begin() + 60), "header truncated");
    Bytes opts = good;
    opts[49] = 5;
    check(opts, "bad trace options");
    FileHeader off = h;
    off.ring.tail = 2000;
    check(serialize_header(off), "ring offsets outside the buffer");
    FileHeader split = h;
    split.ring = {.capacity = 1000, .head = 10, .tail = 500, .end = 900, .split = true};
    check(serialize_header(split), "ring offsets outside the buffer");
    check(Bytes(5, 0), "not a qvpn trace file");
}

BOOST_AUTO_TEST_CASE(damaged_records_are_refused) {
    Bytes storage(1000);
    FrameRing ring(storage, TraceFull::Wrap);
    for (uint32_t i = 1; i <= 3; ++i) {
        (void)ring.put(i, Direction::Receive, 80, numbered(i, 80), false);
    }
    RingLayout g = ring.layout();
    Bytes bad_len = storage;
    bad_len[3] = 5;  // first record says 5 bytes long
    auto r1 = read_records(bad_len, g, "f");
    BOOST_REQUIRE(!r1.ok());
    BOOST_TEST(r1.error().id == "TRC0015");
    Bytes bad_dir = storage;
    bad_dir[12] = 9;
    BOOST_TEST(!read_records(bad_dir, g, "f").ok());
    RingLayout wrong_count = g;
    wrong_count.count = 4;
    BOOST_TEST(!read_records(storage, wrong_count, "f").ok());
    BOOST_TEST(!read_records(Bytes(100), g, "f").ok());
}

// --- the recorder ---------------------------------------------------------

namespace {

FileHeader options(TraceFull full, DataDir dir, uint32_t usrdta) {
    FileHeader h;
    h.link = LinkType::Ethernet;
    h.trcfull = full;
    h.dtadir = dir;
    h.usrdta = usrdta;
    return h;
}

Bytes udp_frame(size_t payload) {
    return ethernet(mac_bytes(2), mac_bytes(1), 0x0800,
                    ipv4("192.0.2.1", "192.0.2.2", 17, udp(9, 9, filler(payload))));
}

CapturedFrame captured(const Bytes& b, Direction d = Direction::Receive, uint64_t t = 1) {
    return CapturedFrame{t, d, static_cast<uint32_t>(b.size()), b};
}

}  // namespace

BOOST_AUTO_TEST_CASE(usrdta_keeps_headers_and_n_bytes) {
    Bytes storage(4096);
    TraceRecorder rec(storage, options(TraceFull::Wrap, DataDir::Both, 100));
    Bytes f = udp_frame(500);
    BOOST_TEST(static_cast<int>(rec.record(captured(f))) == static_cast<int>(RecordEvent::Stored));
    FileHeader h = rec.header(5);
    auto recs = read_records(storage, h.ring, "t");
    BOOST_REQUIRE(recs.ok());
    BOOST_TEST(recs->front().data.size() == 42u + 100u);
    BOOST_TEST(recs->front().original_length == f.size());
    BOOST_TEST(recs->front().sliced);
    BOOST_TEST(h.update_ns == 5u);

    // A short frame is kept whole and not marked sliced.
    Bytes small = udp_frame(10);
    (void)rec.record(captured(small));
    recs = read_records(storage, rec.header(6).ring, "t");
    BOOST_TEST(recs->back().data.size() == small.size());
    BOOST_TEST(!recs->back().sliced);
}

BOOST_AUTO_TEST_CASE(usrdta_zero_and_max) {
    Bytes storage(8192);
    TraceRecorder zero(storage, options(TraceFull::Wrap, DataDir::Both, 0));
    Bytes ike = ethernet(mac_bytes(2), mac_bytes(1), 0x0800,
                         ipv4("192.0.2.1", "192.0.2.2", 17, udp(500, 500, ike_sa_init(3))));
    (void)zero.record(captured(ike));
    auto recs = read_records(storage, zero.header(0).ring, "t");
    // The IKE header is a header: USRDTA(0) still keeps its SPIs.
    BOOST_TEST(recs->front().data.size() == 14u + 20u + 8u + 28u);

    Bytes s2(8192);
    TraceRecorder all(s2, options(TraceFull::Wrap, DataDir::Both, kUserDataAll));
    (void)all.record(captured(ike));
    recs = read_records(s2, all.header(0).ring, "t");
    BOOST_TEST(recs->front().data.size() == ike.size());
    BOOST_TEST(!recs->front().sliced);
}

BOOST_AUTO_TEST_CASE(dtadir_skips_the_other_direction) {
    Bytes storage(4096);
    TraceRecorder snd(storage, options(TraceFull::Wrap, DataDir::Send, kUserDataAll));
    Bytes f = udp_frame(10);
    BOOST_TEST(static_cast<int>(snd.record(captured(f, Direction::Receive))) ==
               static_cast<int>(RecordEvent::Skipped));
    BOOST_TEST(static_cast<int>(snd.record(captured(f, Direction::Send))) ==
               static_cast<int>(RecordEvent::Stored));
    BOOST_TEST(snd.header(0).counters.seen == 1u);
    BOOST_TEST(snd.header(0).ring.count == 1u);
    Bytes s2(4096);
    TraceRecorder rcv(s2, options(TraceFull::Wrap, DataDir::Receive, kUserDataAll));
    BOOST_TEST(static_cast<int>(rcv.record(captured(f, Direction::Send))) ==
               static_cast<int>(RecordEvent::Skipped));
}

BOOST_AUTO_TEST_CASE(first_wrap_is_reported_once) {
    Bytes storage(1000);
    TraceRecorder rec(storage, options(TraceFull::Wrap, DataDir::Both, kUserDataAll));
    int wraps = 0;
    for (int i = 0; i < 100; ++i) {
        if (rec.record(captured(udp_frame(60))) == RecordEvent::FirstWrap) {
            ++wraps;
        }
    }
    BOOST_TEST(wraps == 1);
    FileHeader h = rec.header(0);
    BOOST_TEST(h.wrapped());
    BOOST_TEST(!h.full);
    BOOST_TEST(h.counters.seen == 100u);
    BOOST_TEST(h.counters.stored == 100u);
    BOOST_TEST(h.counters.overwritten + h.ring.count == 100u);
    BOOST_TEST(h.ring.used <= 1000u);
}

BOOST_AUTO_TEST_CASE(stoptrc_fills_then_refuses) {
    Bytes storage(1000);
    TraceRecorder rec(storage, options(TraceFull::StopTrace, DataDir::Both, kUserDataAll));
    int stored = 0;
    RecordEvent ev = RecordEvent::Stored;
    while ((ev = rec.record(captured(udp_frame(60)))) == RecordEvent::Stored) {
        ++stored;
    }
    BOOST_TEST(static_cast<int>(ev) == static_cast<int>(RecordEvent::Full));
    BOOST_TEST(stored == 8);  // 8 x (20 + 102) = 976 bytes; a 9th does not fit
    BOOST_TEST(rec.full());
    BOOST_TEST(static_cast<int>(rec.record(captured(udp_frame(1)))) ==
               static_cast<int>(RecordEvent::Full));
    FileHeader h = rec.header(0);
    BOOST_TEST(h.full);
    BOOST_TEST(!h.wrapped());
    BOOST_TEST(h.counters.refused == 2u);
    BOOST_TEST(h.counters.seen == 10u);
    BOOST_TEST(h.ring.count == 8u);
    rec.add_kernel_drops(4);
    BOOST_TEST(rec.header(0).counters.kernel_drops == 4u);
}

BOOST_AUTO_TEST_CASE(maxstg_and_usrdta_spellings) {
    BOOST_TEST(*parse_maxstg("2048") == 2048u * 1024);
    BOOST_TEST(*parse_maxstg("128") == 128u * 1024);
    BOOST_TEST(*parse_maxstg("65536") == 64u << 20);
    BOOST_TEST(*parse_maxstg("*MIN") == 128u * 1024);
    BOOST_TEST(*parse_maxstg("*max") == 64u << 20);
    BOOST_TEST(*parse_maxstg("16M") == 16u << 20);
    BOOST_TEST(*parse_maxstg("128k") == 128u * 1024);
    BOOST_TEST(!parse_maxstg("127").has_value());
    BOOST_TEST(!parse_maxstg("65537").has_value());
    BOOST_TEST(!parse_maxstg("128M").has_value());
    BOOST_TEST(!parse_maxstg("1G").has_value());
    BOOST_TEST(!parse_maxstg("lots").has_value());
    BOOST_TEST(parse_usrdta("*CALC")->bytes == 100u);
    BOOST_TEST(parse_usrdta("*MAX")->all);
    BOOST_TEST(parse_usrdta("0")->bytes == 0u);
    BOOST_TEST(!parse_usrdta("70000").has_value());
    BOOST_TEST(!parse_usrdta("-1").has_value());
}
