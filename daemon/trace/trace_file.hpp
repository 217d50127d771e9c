// The trace file: one file per trace, $QVPN_ROOT/trace/<TYPE>.<NAME>/frames.qct.
//
// The file is the trace buffer itself: a 256-byte header followed by a ring
// of exactly MAXSTG bytes. The trace job maps it and appends frame records;
// PRTCMNTRC reads it back. All integers are big-endian. README.md in this
// directory describes the layout field by field.
//
//   header (256 bytes)
//     0  magic "QVPNCTRC"         8  version (u16) = 1   10 header length (u16) = 256
//    12  link type (u32, pcap)   16  ring capacity (u64)
//    24  head  32 tail  40 end (u64 ring offsets)        48 split (u8)
//    49  TRCFULL (u8)  50 DTADIR (u8)  51 flags (u8: 1 full, 2 wrapped)
//    52  USRDTA bytes (u32, 0xffffffff = *MAX)
//    56  records in the ring  64 bytes used  72 frames seen  80 frames stored
//    88  frames overwritten   96 frames refused  104 kernel drops (all u64)
//   112  start time (ns since 1970)  120 last update (ns)   128..255 zero
//   ring (capacity bytes), records back to back:
//     0 record length (u32, header included)  4 time (u64 ns since 1970)
//    12 direction (u8: 1 received, 2 sent)   13 flags (u8: 1 sliced by USRDTA)
//    14 reserved (u16)  16 original length (u32)  20 captured bytes
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

inline constexpr size_t kFileHeaderBytes = 256;
inline constexpr size_t kRecordHeaderBytes = 20;
inline constexpr uint16_t kFileVersion = 1;
inline constexpr uint32_t kUserDataAll = 0xffffffff;

// Where the records are in the ring. Not split: records fill [head, tail).
// Split: records fill [head, end), then continue at 0 and fill [0, tail).
struct RingLayout {
    uint64_t capacity = 0;
    uint64_t head = 0;
    uint64_t tail = 0;
    uint64_t end = 0;
    bool split = false;
    uint64_t count = 0;  // records in the ring
    uint64_t used = 0;   // bytes of those records
};

struct TraceCounters {
    uint64_t seen = 0;          // frames the job read (after DTADIR)
    uint64_t stored = 0;        // frames ever put in the ring
    uint64_t overwritten = 0;   // stored frames later replaced (TRCFULL(*WRAP))
    uint64_t refused = 0;       // frames not stored because the buffer was full
    uint64_t kernel_drops = 0;  // frames the kernel dropped before the job read them
};

struct FileHeader {
    LinkType link = LinkType::Ethernet;
    RingLayout ring;
    TraceFull trcfull = TraceFull::Wrap;
    DataDir dtadir = DataDir::Both;
    bool full = false;  // TRCFULL(*STOPTRC) hit the end of the buffer
    uint32_t usrdta = kUserDataAll;
    TraceCounters counters;
    uint64_t start_ns = 0;
    uint64_t update_ns = 0;

    bool wrapped() const { return counters.overwritten > 0; }
};

// One record read back.
struct FrameRecord {
    uint64_t time_ns = 0;
    Direction direction = Direction::Receive;
    bool sliced = false;  // fewer bytes kept than the frame had
    uint32_t original_length = 0;
    ByteView data;  // the captured bytes (points into the file)
};

Bytes serialize_header(const FileHeader& h);
// Checks the magic, version, link type and that the ring offsets fit the
// capacity; TRC0015 with the reason otherwise.
Result<FileHeader> parse_header(ByteView bytes, const std::string& file_name);

// Write / read one record header at a ring offset (storage must hold it).
void store_record(std::span<uint8_t> at, uint64_t time_ns, Direction dir, bool sliced,
                  uint32_t original_length, ByteView data);
uint32_t record_length_at(std::span<const uint8_t> ring, uint64_t offset);

// Every record of a ring in order, oldest first. Each length is checked
// against the layout; a record that does not fit gives TRC0015.
Result<std::vector<FrameRecord>> read_records(ByteView ring, const RingLayout& layout,
                                              const std::string& file_name);

}  // namespace qvpn::trace
