// ChildSa values on the key-manager channel and in status replies.
#pragma once

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::vman {

// The "sa" object of child_up / child_rekeyed (keys included).
Result<sa::ChildSa> child_from_json(const nlohmann::json& j);

// For status and sa_list replies: everything but key material.
nlohmann::json child_summary(const sa::ChildSa& c);

}  // namespace qvpn::vman
