// ChildSa values in status replies (the wire form is daemon/sa/sa_json.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::vman {

// For status and sa_list replies: everything but key material.
nlohmann::json child_summary(const sa::ChildSa& c);

}  // namespace qvpn::vman
