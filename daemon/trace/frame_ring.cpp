#include "daemon/trace/frame_ring.hpp"

#include <cassert>

namespace qvpn::trace {

FrameRing::FrameRing(std::span<uint8_t> storage, TraceFull mode) : storage_(storage), mode_(mode) {
    layout_.capacity = storage.size();
}

FrameRing::FrameRing(std::span<uint8_t> storage, TraceFull mode, const RingLayout& layout)
    : storage_(storage), mode_(mode), layout_(layout) {
    layout_.capacity = storage.size();
}

void FrameRing::write_at(uint64_t off, uint64_t time_ns, Direction dir, uint32_t orig,
                         ByteView data, bool sliced) {
    store_record(storage_.subspan(off, record_size(data.size())), time_ns, dir, sliced, orig, data);
    layout_.count += 1;
    layout_.used += record_size(data.size());
    stored_ += 1;
}

void FrameRing::evict_oldest() {
    uint32_t len = record_length_at(storage_, layout_.head);
    // The ring wrote this record itself; a length that does not fit means
    // the storage was changed under us.
    assert(len >= kRecordHeaderBytes && layout_.head + len <= layout_.capacity);
    layout_.head += len;
    layout_.count -= 1;
    layout_.used -= len;
    overwritten_ += 1;
    if (layout_.count == 0) {
        layout_ = RingLayout{.capacity = layout_.capacity};
        return;
    }
    if (layout_.split && layout_.head == layout_.end) {
        // The upper segment is gone: the records are now [0, tail).
        layout_.head = 0;
        layout_.split = false;
        layout_.end = layout_.tail;
    }
}

bool FrameRing::fits_without_eviction(uint64_t n) const {
    const RingLayout& g = layout_;
    if (g.split) {
        return g.head - g.tail >= n;
    }
    return g.capacity - g.tail >= n || g.head >= n;
}

PutResult FrameRing::put(uint64_t time_ns, Direction dir, uint32_t original_length, ByteView data,
                         bool sliced) {
    if (record_size(data.size()) > layout_.capacity) {
        data = data.first(layout_.capacity - kRecordHeaderBytes);
        sliced = true;
    }
    const uint64_t n = record_size(data.size());
    if (layout_.count == 0) {
        layout_ = RingLayout{.capacity = layout_.capacity};
    }
    if (mode_ == TraceFull::StopTrace && !fits_without_eviction(n)) {
        return PutResult::Full;
    }

    bool evicted = false;
    for (;;) {
        RingLayout& g = layout_;
        if (!g.split) {
            if (g.capacity - g.tail >= n) {
                write_at(g.tail, time_ns, dir, original_length, data, sliced);
                g.tail += n;
                g.end = g.tail;
                break;
            }
            // Continue at the start of the buffer: the bytes after the last
            // record stay unused until the ring comes round again.
            g.split = true;
            g.end = g.tail;
            g.tail = 0;
            continue;
        }
        if (g.head - g.tail >= n) {
            write_at(g.tail, time_ns, dir, original_length, data, sliced);
            g.tail += n;
            break;
        }
        evict_oldest();
        evicted = true;
    }
    return evicted ? PutResult::Wrapped : PutResult::Stored;
}

}  // namespace qvpn::trace
