// ChildSa values in status replies (the wire form is daemon/sa/sa_json.hpp).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::vman {

// For status and sa_list replies: everything but key material. SPIs in hex,
// algorithms by IANA name, `since_us` (installed, microseconds since the
// epoch) gives the installation time and the next refresh (soft lifetime).
nlohmann::json child_summary(const sa::ChildSa& c, int64_t since_us);

}  // namespace qvpn::vman
