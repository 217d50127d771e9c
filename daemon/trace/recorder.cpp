#include "daemon/trace/recorder.hpp"

#include <algorithm>

#include "daemon/trace/decoder.hpp"

namespace qvpn::trace {

TraceRecorder::TraceRecorder(std::span<uint8_t> storage, const FileHeader& header)
    : ring_(storage, header.trcfull), header_(header) {
    header_.ring = ring_.layout();
    header_.counters = {};
    header_.full = false;
}

RecordEvent TraceRecorder::record(const CapturedFrame& f) {
    if ((header_.dtadir == DataDir::Send && f.direction != Direction::Send) ||
        (header_.dtadir == DataDir::Receive && f.direction != Direction::Receive)) {
        return RecordEvent::Skipped;
    }
    header_.counters.seen += 1;
    if (header_.full) {
        header_.counters.refused += 1;
        return RecordEvent::Full;
    }

    // USRDTA counts user data: the protocol headers are always kept.
    size_t keep = f.data.size();
    if (header_.usrdta != kUserDataAll) {
        keep = std::min<size_t>(keep, user_data_offset(header_.link, f.data) + header_.usrdta);
    }
    uint32_t original = std::max<uint32_t>(f.original_length, static_cast<uint32_t>(keep));
    bool sliced = keep < original;

    bool had_wrapped = header_.wrapped();
    PutResult r = ring_.put(f.time_ns, f.direction, original, f.data.first(keep), sliced);
    header_.ring = ring_.layout();
    header_.counters.stored = ring_.stored();
    header_.counters.overwritten = ring_.overwritten();
    if (r == PutResult::Full) {
        header_.full = true;
        header_.counters.refused += 1;
        return RecordEvent::Full;
    }
    if (r == PutResult::Wrapped && !had_wrapped) {
        return RecordEvent::FirstWrap;
    }
    return RecordEvent::Stored;
}

FileHeader TraceRecorder::header(uint64_t now_ns) const {
    FileHeader h = header_;
    h.update_ns = now_ns;
    return h;
}

}  // namespace qvpn::trace
