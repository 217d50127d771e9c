// The trace buffer: a ring of variable-length frame records in a fixed
// span of bytes (MAXSTG). Pure: the trace job backs the span with the mapped
// trace file, the tests with a vector.
//
// TRCFULL(*WRAP): a frame that does not fit replaces the oldest records, so
// the buffer always holds the newest frames. TRCFULL(*STOPTRC): a frame that
// does not fit is refused and the buffer stays as it is; the trace stops.
// The buffer never holds more than its capacity, whatever the frame sizes.
#pragma once

#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "daemon/trace/trace_file.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

enum class PutResult {
    Stored,   // the frame is in the buffer, nothing was overwritten
    Wrapped,  // the frame is in the buffer, older records were overwritten
    Full,     // *STOPTRC: the frame does not fit; nothing changed
};

class FrameRing {
public:
    // An empty ring over `storage` (its size is the capacity).
    FrameRing(std::span<uint8_t> storage, TraceFull mode);
    // A ring whose layout was saved earlier (the header of a trace file).
    FrameRing(std::span<uint8_t> storage, TraceFull mode, const RingLayout& layout);

    // Store one frame. Data longer than the ring can ever hold is cut to fit
    // and marked sliced.
    PutResult put(uint64_t time_ns, Direction dir, uint32_t original_length, ByteView data,
                  bool sliced);

    const RingLayout& layout() const { return layout_; }
    uint64_t overwritten() const { return overwritten_; }
    uint64_t stored() const { return stored_; }
    uint64_t capacity() const { return storage_.size(); }
    // The bytes a record of `data_len` captured bytes takes in the ring.
    static uint64_t record_size(size_t data_len) { return kRecordHeaderBytes + data_len; }

private:
    void write_at(uint64_t off, uint64_t time_ns, Direction dir, uint32_t orig, ByteView data,
                  bool sliced);
    void evict_oldest();
    bool fits_without_eviction(uint64_t n) const;

    std::span<uint8_t> storage_;
    TraceFull mode_;
    RingLayout layout_;
    uint64_t overwritten_ = 0;
    uint64_t stored_ = 0;
};

}  // namespace qvpn::trace
