// The VPN object model: what the policy database holds, as plain values.
//
// These types are the shared vocabulary of the configuration commands, the
// connection manager and the key managers. Enum values follow the CL special
// values one to one (to_cl/from_cl in model.cpp convert both ways), so a
// column, a CL parameter and an XML attribute always spell a setting the
// same way: AuthMethod::Psk is *PSK everywhere.
//
// Object names are 1-40 characters, matched case-insensitively and stored as
// typed (the database columns use COLLATE NOCASE).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace qvpn::policy {

inline constexpr size_t kMaxNameLen = 40;
inline constexpr size_t kMaxPskLen = 128;

// --- identities -----------------------------------------------------------

// Key server identifier types (IKE ID types). AnyIp is the responder's
// "any IP address" remote key server (*ANYIP).
enum class IdType { IPv4, IPv6, Fqdn, UserFqdn, KeyId, Dn, AnyIp };

struct Identity {
    IdType type = IdType::IPv4;
    std::string value;  // address, name, user@name, hex key id, or DN text
    bool operator==(const Identity&) const = default;
};

// --- algorithms (CL names in comments) ------------------------------------

enum class Encr {
    None,                                   // *NONE (AH, or ESP with AES-GMAC)
    Des, TripleDes,                         // *DES *3DES
    AesCbc128, AesCbc192, AesCbc256,        // *AESCBC128 ...
    AesCtr128, AesCtr192, AesCtr256,        // *AESCTR128 ...
    AesGcm128, AesGcm192, AesGcm256,        // *AESGCM128 ... (16-byte ICV)
    AesGcm128_12, AesGcm192_12, AesGcm256_12,  // *AESGCM128_12 ... (12-byte ICV)
    AesGcm128_8, AesGcm192_8, AesGcm256_8,  // *AESGCM128_8 ... (8-byte ICV)
    AesCcm128, AesCcm192, AesCcm256,        // *AESCCM128 ... (16-byte ICV)
    AesCcm128_12, AesCcm192_12, AesCcm256_12,
    AesCcm128_8, AesCcm192_8, AesCcm256_8,
    AesGmac128, AesGmac192, AesGmac256,     // *AESGMAC128 ... (data only: auth, no encryption)
};

// IKE hash/PRF choice: one value sets both the PRF and, for non-AEAD
// ciphers, the integrity algorithm of the IKE SA.
enum class Hash { Md5, Sha1, Sha256, Sha384, Sha512, AesXcbc };  // *MD5 *SHA1 ... *AESXCBC

// Data (AH/ESP) authentication.
enum class DataAuth { None, HmacMd5, HmacSha1, HmacSha256, HmacSha384, HmacSha512, AesXcbc };

enum class DhGroup { None, Grp1, Grp2, Grp14, Grp19, Grp20, Grp24 };  // *NONE *GRP1 ...

enum class Protocol { Esp, Ah, AhEsp };  // *ESP *AH *AHESP
enum class Mode { Tunnel, Transport };   // *TUNNEL *TRANSPORT

// --- key exchange (IKE) policy ---------------------------------------------

enum class AuthMethod { Psk, Rsa, Ecdsa };          // *PSK *RSA *ECDSA
enum class NegotiationMode { Main, Aggressive };    // IKEv1 initiator mode: *MAIN *AGGRESSIVE

struct KeyTransform {
    Encr encryption = Encr::AesCbc128;
    Hash hash = Hash::Sha256;
    DhGroup dh_group = DhGroup::Grp19;
    bool operator==(const KeyTransform&) const = default;
};

struct KeyPolicy {
    std::string name;
    Identity remote;                 // remote key server this policy serves
    AuthMethod auth = AuthMethod::Psk;
    SecretBytes psk;                 // clear only inside a daemon; empty elsewhere
    bool has_psk = false;            // a key is stored (display shows *SET / *NONE)
    std::string cert_label;          // certificate store label for *RSA / *ECDSA
    NegotiationMode initiator_mode = NegotiationMode::Main;
    int lifetime_minutes = 480;      // IKE SA lifetime
    int lifetime_kb = 0;             // 0: no kilobyte limit
    std::vector<KeyTransform> transforms;  // in order of preference
    std::string created_by;          // group name when CRTVPNCNN made it, else empty
    std::string text;
};

// --- data policy -------------------------------------------------------------

struct DataTransform {
    Protocol protocol = Protocol::Esp;
    Encr encryption = Encr::AesCbc128;  // ESP encryption (*NONE for AH)
    DataAuth authentication = DataAuth::HmacSha256;  // *NONE with AEAD ciphers
    bool operator==(const DataTransform&) const = default;
};

struct DataPolicy {
    std::string name;
    DhGroup pfs = DhGroup::None;     // PFS group for CHILD_SA negotiation and rekey
    Mode mode = Mode::Tunnel;
    int lifetime_minutes = 60;
    int lifetime_kb = 0;             // 0: no kilobyte limit
    bool ipcomp = false;             // propose IPComp (deflate)
    std::vector<DataTransform> transforms;  // in order of preference
    std::string created_by;          // group name when CRTVPNCNN made it, else empty
    std::string text;
};

// --- dynamic-key group and connection ----------------------------------------

enum class SystemRole { Gw2Gw, Gw2Host, Host2Gw, Host2Host };  // *GW2GW *GW2HOST *HOST2GW *HOST2HOST
enum class Initiator { Both, Local, Remote };                 // *BOTH *LOCAL *REMOTE
enum class PolicyFilter { Generate, None, Rules };            // *GENERATE *NONE *RULES
enum class Journaling { None, All, ConnectionActivity, IpTraffic };  // *NONE *ALL *CNNACT *IPTRAFFIC

struct DynamicGroup {
    std::string name;
    SystemRole role = SystemRole::Gw2Gw;
    Initiator initiator = Initiator::Both;
    std::string data_policy;           // name of a DataPolicy
    PolicyFilter policy_filter = PolicyFilter::Generate;
    std::vector<std::string> lines;    // lines the generated rules apply to; empty = *ALL
    Journaling journaling = Journaling::None;
    bool populate_from_packet = false; // remote address taken from the outbound packet
    bool l2tp = false;                 // protect L2TP (UDP 1701) only
    std::string local_nat_pool;        // VPN NAT pools (empty: none)
    std::string remote_nat_pool;
    // The remote key servers this group serves, as key exchange policies in
    // the operator's order. A key policy names one remote key server
    // (KeyPolicy::remote); remote_key_servers[i] is the remote identity of
    // key_policies[i], filled in on load and ignored on save.
    std::vector<std::string> key_policies;
    std::vector<Identity> remote_key_servers;
    int position = 0;                  // 1-based group order (lookups try groups in this order)
    bool from_wizard = false;          // created by CRTVPNCNN (DLTVPNCNN removes it)
    std::string text;
};

// Data endpoint types (*IPV4 *IPV4SUBNET *IPV4RANGE *IPV6 *IPV6SUBNET
// *IPV6RANGE *ANY). Subnet: `extra` is the mask (IPv4) or prefix length;
// range: `extra` is the last address.
enum class EndpointType { IPv4, IPv4Subnet, IPv4Range, IPv6, IPv6Subnet, IPv6Range, Any };

struct DataEndpoint {
    EndpointType type = EndpointType::Any;
    std::string address;
    std::string extra;
    bool operator==(const DataEndpoint&) const = default;
};

struct DynamicConnection {
    std::string name;
    std::string group;                 // DynamicGroup name
    Identity local_id;                 // local key server identifier
    Identity remote_id;                // remote key server identifier (selects the KeyPolicy)
    DataEndpoint local;                // local data endpoint
    DataEndpoint remote;               // remote data endpoint
    int local_port = 0;                // 0: *ANY
    int remote_port = 0;
    int protocol = 0;                  // IP protocol number, 0: *ANY
    bool on_demand = false;            // install trap policies; first packet starts it
    bool autostart = false;            // start with the VPN server
    int ike_version = 2;               // 1 or 2
    bool esn = false;
    bool tfc = false;                  // traffic flow confidentiality (tunnel mode)
    bool from_wizard = false;          // created by CRTVPNCNN (DLTVPNCNN removes it)
    std::string text;
};

// --- manual connection ---------------------------------------------------------

struct ManualKeys {
    uint32_t spi_in = 0, spi_out = 0;
    SecretBytes enc_in, enc_out;       // ESP encryption keys (clear only in daemons)
    SecretBytes auth_in, auth_out;     // ESP or AH authentication keys
};

struct ManualConnection {
    std::string name;
    SystemRole role = SystemRole::Host2Host;
    Mode mode = Mode::Transport;
    Protocol protocol = Protocol::Esp;
    std::string local_address;         // local connection endpoint
    std::string remote_address;        // remote connection endpoint
    DataEndpoint local, remote;        // data endpoints
    int local_port = 0, remote_port = 0, ip_protocol = 0;
    Encr encryption = Encr::AesCbc128; // ESP
    DataAuth authentication = DataAuth::HmacSha256;  // ESP auth, or AH's algorithm
    DataAuth ah_authentication = DataAuth::None;     // AH in *AHESP
    ManualKeys esp, ah;
    bool has_keys = false;             // keys are stored (display shows *SET)
    PolicyFilter policy_filter = PolicyFilter::Generate;
    std::vector<std::string> lines;
    Journaling journaling = Journaling::None;
    bool autostart = false;
    std::string text;
};

// --- lines, global attributes, system values -------------------------------------

// An IBM i line description mapped to a Linux interface (CRTLINETH
// LIND(TRLINE) RSRCNAME(eth0)). Without a line object, a line name is the
// interface name itself.
struct Line {
    std::string name;
    std::string interface;
    std::string text;
};

enum class DataPath { Auto, Kernel, Userspace };  // system value QVPNDTAPTH: *AUTO *KERNEL *USERSPACE

// Global VPN properties (CHGVPNA) and server-wide responder policy.
struct VpnAttributes {
    bool ikesa_rekey = false;          // "Enable IKE_SA rekey for IKEv2"
    bool http_cert_lookup = false;     // "Allow HTTP lookup of certificates"
    bool esn = false;                  // default ESN for new connections
    bool responder_aggressive = true;  // IKEv1 responder accepts aggressive mode
    int dpd_seconds = 30;              // liveness check interval, 0: off
    int half_open_limit = 200;         // responder: cookies above this many half-open SAs
    bool autostart_server = false;     // STRTCP starts the VPN server
    bool generated_permit_other = true; // generated rules end with "permit all other traffic"
};

// Defaults that seed new objects (CHGVPNDFT): the security level used when a
// policy is created without transforms, and the lifetimes used when a policy
// is created without them.
enum class SecurityLevel { Highest, Balanced, Minimum };  // *HIGHEST *BALANCED *MINIMUM

struct VpnDefaults {
    SecurityLevel key_level = SecurityLevel::Balanced;
    SecurityLevel data_level = SecurityLevel::Balanced;
    int key_lifetime_minutes = 480;   // IKE SA
    int key_lifetime_kb = 0;
    int data_lifetime_minutes = 60;   // IPsec SA
    int data_lifetime_kb = 0;
    bool operator==(const VpnDefaults&) const = default;
};

// The transforms of a security level, in order of preference:
//   *HIGHEST  IKE AES-CBC-256/SHA-512/group 20; ESP AES-GCM-256, then
//             AES-CBC-256 with HMAC-SHA-512; PFS group 20
//   *BALANCED IKE AES-CBC-128/SHA-256 with group 19, then group 14; ESP
//             AES-GCM-128, then AES-CBC-128 with HMAC-SHA-256; PFS group 19
//   *MINIMUM  IKE AES-CBC-128/SHA-1/group 14; ESP AES-CBC-128 with
//             HMAC-SHA-1; no PFS
std::vector<KeyTransform> key_transforms(SecurityLevel level);
std::vector<DataTransform> data_transforms(SecurityLevel level);
DhGroup pfs_group(SecurityLevel level);

// System values (CHGSYSVAL/DSPSYSVAL), by their IBM i names.
inline constexpr std::string_view kQRETSVRSEC = "QRETSVRSEC";  // '0' | '1': keep keys at rest
inline constexpr std::string_view kQVPNDTAPTH = "QVPNDTAPTH";  // *AUTO | *KERNEL | *USERSPACE
inline constexpr std::string_view kQVPNJRNRET = "QVPNJRNRET";  // journal retention, days
inline constexpr std::string_view kQCMNTRCMAX = "QCMNTRCMAX";  // trace storage limit, bytes

struct SystemValueDef {
    std::string_view name;
    std::string_view description;
    std::string_view default_value;  // as CHGSYSVAL takes it
};
// Every system value qvpn knows, in display order.
const std::vector<SystemValueDef>& system_value_defs();
// Check (and normalize: upper-case specials, decimal numbers) a value for a
// system value. Fails with CPD0084/CPD0076/CPD0077 style messages.
Result<std::string> normalize_system_value(std::string_view name, std::string_view value);

// --- connection runtime state ------------------------------------------------------

// Written by the connection manager, read by the display commands and by the
// "object in use" checks of the configuration commands.
enum class ConnectionType { Dynamic, Manual };  // *DYNAMIC *MANUAL
enum class ConnectionState { Idle, OnDemand, Starting, Enabled, Stopping, Error };
// *IDLE *ONDEMAND *STARTING *ENABLED *STOPPING *ERROR

struct ConnectionStatus {
    std::string name;                  // GROUP:L1, GROUP:R3, or a manual connection
    ConnectionType type = ConnectionType::Dynamic;
    ConnectionState state = ConnectionState::Idle;
    std::string group;                 // dynamic-key group; empty for manual connections
    std::string error_msgid;           // last error (kept until the next error or reset)
    std::vector<std::string> error_values;
    int64_t error_time = 0;            // seconds since the epoch, 0: no error recorded
    int64_t since = 0;                 // when `state` was entered, seconds since the epoch
    bool operator==(const ConnectionStatus&) const = default;
};

// Objects used by a connection in this state cannot be changed or deleted.
bool is_active(ConnectionState s);

// --- certificate store (Digital Certificate Manager) -----------------------------------

enum class CertKind { System, Ca };    // *SYSTEM (with its private key) | *CA (trusted)
enum class KeyType { Rsa, Ecdsa };     // *RSA *ECDSA

struct CertificateInfo {
    std::string label;                 // 1-40 characters, case-insensitive
    CertKind kind = CertKind::System;
    std::string subject;               // RFC 2253 text
    std::string issuer;
    int64_t not_before = 0, not_after = 0;  // seconds since the epoch
    KeyType key_type = KeyType::Rsa;
    int key_bits = 0;                  // RSA modulus bits, or the curve's size (256/384/521)
    std::string curve;                 // P-256, P-384, P-521; empty for RSA
    std::string fingerprint;           // SHA-256 of the DER, upper-case hex with colons
    bool has_private_key = false;
    Bytes der;                         // the certificate
    std::string text;
};

// --- the resolved view a daemon works from ------------------------------------------

// Everything needed to start (or answer for) one dynamic-key connection,
// with keys in clear. Only the daemons resolve this (they hold the key file).
struct ConnectionPolicy {
    DynamicConnection connection;
    DynamicGroup group;
    KeyPolicy key;
    DataPolicy data;
    VpnAttributes attributes;
};

// --- CL spellings ---------------------------------------------------------------------

std::string_view to_cl(IdType v);
std::string_view to_cl(Encr v);
std::string_view to_cl(Hash v);
std::string_view to_cl(DataAuth v);
std::string_view to_cl(DhGroup v);
std::string_view to_cl(Protocol v);
std::string_view to_cl(Mode v);
std::string_view to_cl(AuthMethod v);
std::string_view to_cl(NegotiationMode v);
std::string_view to_cl(SystemRole v);
std::string_view to_cl(Initiator v);
std::string_view to_cl(PolicyFilter v);
std::string_view to_cl(Journaling v);
std::string_view to_cl(EndpointType v);
std::string_view to_cl(DataPath v);
std::string_view to_cl(SecurityLevel v);
std::string_view to_cl(ConnectionType v);
std::string_view to_cl(ConnectionState v);
std::string_view to_cl(CertKind v);
std::string_view to_cl(KeyType v);

// from_cl<T>("*AESCBC128") -> Encr::AesCbc128; case-insensitive; nullopt if unknown.
template <class T>
std::optional<T> from_cl(std::string_view s);

// All CL spellings of an enum, in declaration order (for CL parameter choices).
template <class T>
std::vector<std::string> cl_values();

// Algorithm facts the configuration checks need.
bool is_aead(Encr e);           // GCM, CCM: no separate authentication
bool is_auth_only(Encr e);      // AES-GMAC: authentication without encryption
bool is_deemphasized(Encr e);   // DES
bool is_deemphasized(Hash h);   // MD5
bool is_deemphasized(DhGroup g);  // groups 1, 2
int key_bits(Encr e);           // cipher key length, 0 for *NONE
bool ike_allowed(Encr e);       // usable for the IKE SA (not GMAC, not *NONE)
int key_bits(DataAuth a);       // HMAC/XCBC key length for manual keys, 0 for *NONE
// Manual ESP keys carry the salt after the cipher key: 4 bytes for CTR, GCM
// and GMAC, 3 bytes for CCM (RFC 3686, 4106, 4309, 4543).
int salt_bytes(Encr e);

// An object name: 1-40 characters (kMaxNameLen).
bool valid_name_length(std::string_view name);

}  // namespace qvpn::policy
