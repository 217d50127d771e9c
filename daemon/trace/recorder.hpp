// What the trace job does with each captured frame, without the I/O: apply
// DTADIR and USRDTA, put the frame in the ring, keep the counters, and say
// when the buffer wraps for the first time or fills. Pure, so the buffer
// rules are tested without root or sockets.
#pragma once

#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "daemon/trace/frame_ring.hpp"
#include "daemon/trace/trace_file.hpp"

namespace qvpn::trace {

struct CapturedFrame {
    uint64_t time_ns = 0;
    Direction direction = Direction::Receive;
    uint32_t original_length = 0;  // the frame on the wire
    ByteView data;                 // what the kernel handed over
};

enum class RecordEvent {
    Stored,
    Skipped,    // not in DTADIR
    FirstWrap,  // stored, and the buffer wrapped for the first time
    Full,       // TRCFULL(*STOPTRC): not stored; the trace must stop
};

class TraceRecorder {
public:
    // `header` carries the trace options (link, TRCFULL, DTADIR, USRDTA) and
    // the start time; the ring is `storage`, empty.
    TraceRecorder(std::span<uint8_t> storage, const FileHeader& header);

    RecordEvent record(const CapturedFrame& frame);
    void add_kernel_drops(uint64_t n) { header_.counters.kernel_drops += n; }
    // The header as it should be on disk now.
    FileHeader header(uint64_t now_ns) const;
    bool full() const { return header_.full; }

private:
    FrameRing ring_;
    FileHeader header_;
};

}  // namespace qvpn::trace
