// Fuzz target for the packet decoder and everything PRTCMNTRC does with its
// result. Input: one byte choosing the link type (even: Ethernet, odd: raw
// IP), then the frame.
#include <cstddef>
#include <cstdint>

#include "daemon/trace/decoder.hpp"
#include "daemon/trace/printer.hpp"
#include "daemon/trace/selection.hpp"

using namespace qvpn;
using namespace qvpn::trace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    LinkType link = (data[0] & 1) == 0 ? LinkType::Ethernet : LinkType::Raw;
    ByteView frame(data + 1, size - 1);
    DecodedFrame f = decode(link, frame);
    if (f.user_data_offset > frame.size()) {
        __builtin_trap();
    }
    if (user_data_offset(link, frame) != f.user_data_offset) {
        __builtin_trap();
    }
    FrameRecord rec{.time_ns = 0,
                    .direction = Direction::Receive,
                    .sliced = false,
                    .original_length = static_cast<uint32_t>(frame.size()),
                    .data = frame};
    (void)frame_text(1, rec, f, PrintOptions{});
    (void)frame_json(1, rec, f, true).dump();
    Selection s;
    s.address1 = IpAddress::parse("192.0.2.1");
    s.port = 500;
    s.broadcasts = false;
    (void)selected(f, s);
    return 0;
}
