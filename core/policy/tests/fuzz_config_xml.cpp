// Fuzz target for the CPYVPNCFGF reader: any input either fails with a
// message or gives a document that writes back to a file which reads again
// to the same text (the writer and the reader agree).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/policy/config_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = qvpn::policy::parse_config(text);
    if (!doc.ok()) {
        if (doc.error().id.empty()) {
            __builtin_trap();
        }
        return 0;
    }
    std::string first = qvpn::policy::write_config(*doc);
    auto again = qvpn::policy::parse_config(first);
    if (!again.ok() || qvpn::policy::write_config(*again) != first) {
        __builtin_trap();
    }
    return 0;
}
