// Fuzz target: what QTOVMAN reads from its command socket (request lines)
// and what commands read back (reply lines), through LineBuffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/ipc/control.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    qvpn::ipc::LineBuffer lines(4096);
    lines.append(text);
    while (auto line = lines.next_line()) {
        auto req = qvpn::ipc::parse_request(*line);
        auto j = nlohmann::json::parse(*line, nullptr, false);
        if (!j.is_discarded()) {
            auto reply = qvpn::ipc::Reply::from_json(j);
            if (reply.ok()) {
                // A reply that parses renders again without loss of messages.
                auto again = qvpn::ipc::Reply::from_json(reply->to_json());
                if (!again.ok() || again->msgs.size() != reply->msgs.size()) {
                    __builtin_trap();
                }
            }
        }
        (void)req;
    }
    return 0;
}
