// Value checks of the object model, shared by the configuration commands,
// the XML importer and the database itself (which runs them on every save,
// so no path can store an object these reject). Each failure names the
// object and the value with a PDB message.
#pragma once

#include <optional>
#include <string_view>

#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::policy {

// PDB0131 when v is outside lo..hi; `what` names the keyword.
Status check_range(std::string_view what, long long v, long long lo, long long hi);
// 1-40 characters; `kind` names the object type in the message.
Status check_name(std::string_view kind, std::string_view name);
// Line names are Linux interface names too: 1-15 characters, no '/' or blank.
Status check_line_name(std::string_view name);

// Addresses in canonical text form (2001:DB8::1 -> 2001:db8::1).
Identity normalize(Identity id);
DataEndpoint normalize(DataEndpoint ep);
Status check_identity(const Identity& id, bool allow_anyip);
Status check_endpoint(const DataEndpoint& ep);
// The addresses of an endpoint; nullopt for *ANY. Assumes check_endpoint.
std::optional<IpRange> endpoint_range(const DataEndpoint& ep);

Status check_key_transform(const KeyTransform& t);
Status check_data_transform(const DataTransform& t);
Status check_key_policy(const KeyPolicy& p);
Status check_data_policy(const DataPolicy& p);
Status check_group(const DynamicGroup& g);
Status check_connection(const DynamicConnection& c);
Status check_manual_connection(const ManualConnection& c);
Status check_line(const Line& l);

// Transport mode protects traffic between the two key servers themselves,
// so both ends must be hosts.
Status check_mode_role(Mode mode, SystemRole role, std::string_view object);
// A host's data endpoint is its key server: for the host side(s) of `role`
// the data endpoint must be that single address.
Status check_connection_role(const DynamicConnection& c, SystemRole role);

// Manual key lengths for the connection's algorithms, in bytes.
size_t manual_enc_key_bytes(Encr e);
size_t manual_auth_key_bytes(DataAuth a);

}  // namespace qvpn::policy
