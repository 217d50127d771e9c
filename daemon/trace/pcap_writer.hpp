// Trace records as a pcap file for Wireshark and tshark (IBM i has no such
// export). The classic pcap format with nanosecond timestamps (magic
// a1b23c4d), written big-endian; readers detect the byte order from the
// magic. The link type is the trace file's, already a pcap LINKTYPE.
#pragma once

#include "core/base/bytes.hpp"
#include "daemon/trace/trace_file.hpp"

namespace qvpn::trace {

inline constexpr uint32_t kPcapNanosecondMagic = 0xa1b23c4d;
inline constexpr uint32_t kPcapSnapLength = 262144;

Bytes pcap_file_header(LinkType link);
void append_pcap_record(ByteWriter& out, const FrameRecord& rec);

}  // namespace qvpn::trace
