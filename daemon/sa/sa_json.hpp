// ChildSa in JSON: the form the key managers send CHILD_SAs to QTOVMAN in
// ("child_up", "child_rekeyed"; see core/ipc/README.md), and the file format
// of qvpn-espctl.
//
//   {"conn":"HRgw2FINgw:L1", "reqid":1364590593, "mode":"tunnel",
//    "local":"192.0.2.1", "remote":"192.0.2.2",
//    "encap":{"local_port":4500,"remote_port":4500},          (optional)
//    "esp":{"in": {"spi":"c0ffee01","encr":"ENCR_AES_GCM_16","encr_key_bits":128,
//                  "encr_key":"<hex key||salt>","integ":"NONE","integ_key":""},
//           "out":{...}},                                       (optional)
//    "ah":{"in":{...},"out":{...}},                             (optional)
//    "ipcomp":{"cpi_in":"4001","cpi_out":"4002"},               (optional)
//    "esn":false, "replay_window":64, "tfc":false,
//    "ts_local":[{"ip_proto":0,"port_from":0,"port_to":65535,"addrs":"10.1.0.0/24"}],
//    "ts_remote":[...],
//    "lifetime":{"soft_seconds":3240,"hard_seconds":3600,"soft_bytes":0,"hard_bytes":0}}
//
// Algorithms are IANA transform names (daemon/ike/iana.hpp spelling), SPIs
// and CPIs hex strings as on the wire, keys lower-case hex, addresses text;
// "addrs" is one address, a prefix "a/len" or a range "a-b". Input is strict:
// an unknown key, a wrong type or a bad value fails with XFR0001 naming the
// field; nothing throws out of these functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/base/result.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::sa {

// Serialise. Keys are included (the channel between the processes is a
// socketpair; never log the result).
nlohmann::json to_json(const ChildSa& sa);
nlohmann::json to_json(const SaKeys& k);
nlohmann::json to_json(const TrafficSelector& ts);
// The nlohmann ADL form, so `nlohmann::json j = sa;` works. There is no ADL
// from_json on purpose: parsing reports failures as Results, never throws.
inline void to_json(nlohmann::json& j, const ChildSa& sa) { j = to_json(sa); }
inline void to_json(nlohmann::json& j, const SaKeys& k) { j = to_json(k); }
inline void to_json(nlohmann::json& j, const TrafficSelector& ts) { j = to_json(ts); }

// Parse, strictly. `where` prefixes the field path in error values.
Result<ChildSa> child_sa_from_json(const nlohmann::json& j);
Result<SaKeys> sa_keys_from_json(const nlohmann::json& j, std::string_view where = "keys");
Result<TrafficSelector> selector_from_json(const nlohmann::json& j,
                                           std::string_view where = "ts");
// From text (a file or an IPC message body).
Result<ChildSa> child_sa_from_text(std::string_view text);

// "10.1.0.5", "10.1.0.0/24", "10.1.0.5-10.1.0.9" (also IPv6).
Result<IpRange> parse_ip_range(std::string_view text);

// IANA names <-> code points (nullopt/"" when unknown).
std::string_view encr_name(ike::EncrId id);
std::string_view integ_name(ike::IntegId id);
std::optional<ike::EncrId> encr_from_name(std::string_view name);
std::optional<ike::IntegId> integ_from_name(std::string_view name);

}  // namespace qvpn::sa
