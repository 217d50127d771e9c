#include "daemon/trace/pcap_writer.hpp"

namespace qvpn::trace {

Bytes pcap_file_header(LinkType link) {
    ByteWriter w;
    w.u32(kPcapNanosecondMagic).u16(2).u16(4);  // version 2.4
    w.u32(0).u32(0);                            // time zone, accuracy: always zero
    w.u32(kPcapSnapLength).u32(static_cast<uint32_t>(link));
    return w.take();
}

void append_pcap_record(ByteWriter& out, const FrameRecord& rec) {
    out.u32(static_cast<uint32_t>(rec.time_ns / 1000000000u));
    out.u32(static_cast<uint32_t>(rec.time_ns % 1000000000u));
    out.u32(static_cast<uint32_t>(rec.data.size()));
    out.u32(rec.original_length);
    out.bytes(rec.data);
}

}  // namespace qvpn::trace
