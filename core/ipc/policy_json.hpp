// The ConnectionPolicy JSON form of the "initiate" control message
// (QTOVMAN -> key manager). Enums travel in their CL spelling (*AESCBC128),
// exactly as the policy database and the commands write them; the PSK
// travels as hex and is parsed straight into SecretBytes.
#pragma once

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::ipc {

nlohmann::json policy_to_json(const policy::ConnectionPolicy& p);
// IPC0003 names the first field that is missing or has a value the model
// does not know.
Result<policy::ConnectionPolicy> policy_from_json(const nlohmann::json& j);

}  // namespace qvpn::ipc
