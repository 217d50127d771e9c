#include "daemon/trace/trace_file.hpp"

#include <algorithm>
#include <string_view>

namespace qvpn::trace {

namespace {

constexpr std::string_view kMagic = "QVPNCTRC";
constexpr uint8_t kFlagFull = 1;
constexpr uint8_t kFlagWrapped = 2;
constexpr uint8_t kRecordSliced = 1;

void put_be(std::span<uint8_t> at, size_t off, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; ++i) {
        at[off + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
    }
}

Failure damaged(const std::string& file, std::string why) {
    return fail("TRC0015", file, std::move(why));
}

}  // namespace

Bytes serialize_header(const FileHeader& h) {
    ByteWriter w;
    w.bytes(as_view(kMagic));
    w.u16(kFileVersion).u16(kFileHeaderBytes).u32(static_cast<uint32_t>(h.link));
    w.u64(h.ring.capacity).u64(h.ring.head).u64(h.ring.tail).u64(h.ring.end);
    uint8_t flags =
        static_cast<uint8_t>((h.full ? kFlagFull : 0) | (h.wrapped() ? kFlagWrapped : 0));
    w.u8(h.ring.split ? 1 : 0).u8(static_cast<uint8_t>(h.trcfull));
    w.u8(static_cast<uint8_t>(h.dtadir)).u8(flags);
    w.u32(h.usrdta);
    w.u64(h.ring.count).u64(h.ring.used);
    w.u64(h.counters.seen).u64(h.counters.stored).u64(h.counters.overwritten);
    w.u64(h.counters.refused).u64(h.counters.kernel_drops);
    w.u64(h.start_ns).u64(h.update_ns);
    w.zeros(kFileHeaderBytes - w.size());
    return w.take();
}

Result<FileHeader> parse_header(ByteView bytes, const std::string& file_name) {
    ByteReader r(bytes);
    ByteView magic = r.bytes(kMagic.size());
    if (r.failed() || !std::equal(magic.begin(), magic.end(), kMagic.begin())) {
        return damaged(file_name, "not a qvpn trace file");
    }
    uint16_t version = r.u16();
    uint16_t header_len = r.u16();
    if (version != kFileVersion || header_len != kFileHeaderBytes) {
        return damaged(file_name, "unsupported version " + std::to_string(version));
    }
    FileHeader h;
    uint32_t link = r.u32();
    if (link != static_cast<uint32_t>(LinkType::Ethernet) &&
        link != static_cast<uint32_t>(LinkType::Raw)) {
        return damaged(file_name, "unknown link type " + std::to_string(link));
    }
    h.link = static_cast<LinkType>(link);
    h.ring.capacity = r.u64();
    h.ring.head = r.u64();
    h.ring.tail = r.u64();
    h.ring.end = r.u64();
    h.ring.split = r.u8() != 0;
    uint8_t trcfull = r.u8();
    uint8_t dtadir = r.u8();
    uint8_t flags = r.u8();
    if (trcfull > 1 || dtadir > 2) {
        return damaged(file_name, "bad trace options");
    }
    h.trcfull = static_cast<TraceFull>(trcfull);
    h.dtadir = static_cast<DataDir>(dtadir);
    h.full = (flags & kFlagFull) != 0;
    h.usrdta = r.u32();
    h.ring.count = r.u64();
    h.ring.used = r.u64();
    h.counters.seen = r.u64();
    h.counters.stored = r.u64();
    h.counters.overwritten = r.u64();
    h.counters.refused = r.u64();
    h.counters.kernel_drops = r.u64();
    h.start_ns = r.u64();
    h.update_ns = r.u64();
    if (r.failed()) {
        return damaged(file_name, "header truncated");
    }
    const RingLayout& g = h.ring;
    bool offsets_ok = g.head <= g.capacity && g.tail <= g.capacity && g.end <= g.capacity &&
                      g.used <= g.capacity &&
                      (g.split ? (g.tail <= g.head && g.head <= g.end) : (g.head <= g.tail));
    if (!offsets_ok) {
        return damaged(file_name, "ring offsets outside the buffer");
    }
    return h;
}

void store_record(std::span<uint8_t> at, uint64_t time_ns, Direction dir, bool sliced,
                  uint32_t original_length, ByteView data) {
    put_be(at, 0, kRecordHeaderBytes + data.size(), 4);
    put_be(at, 4, time_ns, 8);
    at[12] = static_cast<uint8_t>(dir);
    at[13] = sliced ? kRecordSliced : 0;
    put_be(at, 14, 0, 2);
    put_be(at, 16, original_length, 4);
    std::copy(data.begin(), data.end(), at.begin() + kRecordHeaderBytes);
}

uint32_t record_length_at(std::span<const uint8_t> ring, uint64_t offset) {
    ByteReader r(ring.subspan(offset));
    return r.u32();
}

namespace {

// Records of one contiguous segment [from, to) of the ring.
Status read_segment(ByteView ring, uint64_t from, uint64_t to, const std::string& file,
                    std::vector<FrameRecord>& out) {
    ByteReader r(ring.subspan(from, to - from));
    while (r.remaining() > 0) {
        uint32_t len = r.u32();
        if (r.failed() || len < kRecordHeaderBytes || len - 4 > r.remaining()) {
            return damaged(file, "record at offset " + std::to_string(from + r.position()) +
                                     " does not fit the buffer");
        }
        FrameRecord f;
        f.time_ns = r.u64();
        uint8_t dir = r.u8();
        uint8_t flags = r.u8();
        r.skip(2);
        f.original_length = r.u32();
        f.data = r.bytes(len - kRecordHeaderBytes);
        if (dir != static_cast<uint8_t>(Direction::Receive) &&
            dir != static_cast<uint8_t>(Direction::Send)) {
            return damaged(file, "record with unknown direction " + std::to_string(dir));
        }
        f.direction = static_cast<Direction>(dir);
        f.sliced = (flags & kRecordSliced) != 0;
        out.push_back(f);
    }
    return {};
}

}  // namespace

Result<std::vector<FrameRecord>> read_records(ByteView ring, const RingLayout& layout,
                                              const std::string& file_name) {
    if (ring.size() < layout.capacity) {
        return damaged(file_name, "file shorter than its buffer");
    }
    std::vector<FrameRecord> out;
    if (layout.count == 0) {
        return out;
    }
    out.reserve(std::min<uint64_t>(layout.count, 1u << 20));
    uint64_t first_end = layout.split ? layout.end : layout.tail;
    QVPN_TRY(read_segment(ring, layout.head, first_end, file_name, out));
    if (layout.split) {
        QVPN_TRY(read_segment(ring, 0, layout.tail, file_name, out));
    }
    if (out.size() != layout.count) {
        return damaged(file_name, "header counts " + std::to_string(layout.count) +
                                      " records, the buffer holds " + std::to_string(out.size()));
    }
    return out;
}

}  // namespace qvpn::trace
