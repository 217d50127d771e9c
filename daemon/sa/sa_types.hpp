// A negotiated (or manually keyed) security association pair, as the key
// managers hand it to the connection manager and the connection manager
// hands it to an SA backend (kernel XFRM or the userspace data path).
//
// Algorithms use the IANA transform IDs; each backend maps them to its own
// names (XFRM "rfc4106(gcm(aes))", OpenSSL EVP ciphers). Key material is
// exactly what RFC 7296 2.17 (or the manual key) gives for that transform:
// for AES-GCM/CCM/GMAC and AES-CTR the salt/nonce bytes follow the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::sa {

enum class IpsecProto : uint8_t { Esp = 50, Ah = 51 };
enum class Mode : uint8_t { Tunnel, Transport };

// One traffic selector (RFC 7296 3.13.1): a protocol, a port range and an
// address range. ip_proto 0 means any; ports 0-65535 mean any.
struct TrafficSelector {
    uint8_t ip_proto = 0;
    uint16_t port_from = 0;
    uint16_t port_to = 65535;
    IpRange addrs;
    bool operator==(const TrafficSelector&) const = default;
};

// Keys and parameters of one direction of one protocol.
struct SaKeys {
    uint32_t spi = 0;                    // network SPI value (host order here)
    ike::EncrId encr = ike::EncrId::ENCR_NULL;
    uint16_t encr_key_bits = 0;          // cipher key length without salt
    SecretBytes encr_key;                // key || salt (GCM/CCM/GMAC/CTR)
    ike::IntegId integ = ike::IntegId::NONE;
    SecretBytes integ_key;
};

struct Lifetime {
    uint64_t soft_seconds = 0, hard_seconds = 0;  // 0: none
    uint64_t soft_bytes = 0, hard_bytes = 0;      // 0: none
};

// UDP encapsulation (RFC 3948): ports of the outer UDP header.
struct Encap {
    uint16_t local_port = 4500;
    uint16_t remote_port = 4500;
    bool operator==(const Encap&) const = default;
};

struct IpComp {
    uint16_t cpi_in = 0, cpi_out = 0;  // deflate only
};

// A protocol's inbound and outbound SAs.
struct SaPair {
    SaKeys in, out;
};

struct ChildSa {
    std::string conn;                    // connection name (for logs, journal, cleanup)
    uint32_t reqid = 0;                  // ties states to policies; unique per CHILD_SA
    Mode mode = Mode::Tunnel;
    IpAddress local, remote;             // outer addresses (connection endpoints)
    std::optional<Encap> encap;          // ESP in UDP when set
    std::optional<SaPair> esp;           // ESP SAs, or
    std::optional<SaPair> ah;            // AH SAs (both for AH with ESP)
    std::optional<IpComp> ipcomp;
    bool esn = false;
    uint32_t replay_window = 64;         // packets; 0 disables anti-replay
    bool tfc = false;                    // pad tunnel-mode packets (RFC 4303 2.7)
    std::vector<TrafficSelector> ts_local, ts_remote;
    Lifetime lifetime;
};

// Byte and packet counters of one SA, read back from the backend.
struct Counters {
    uint64_t bytes = 0, packets = 0;
    uint64_t replay_drops = 0, integrity_failures = 0;
    uint64_t add_time = 0, use_time = 0;  // seconds since epoch, 0 if unknown
};

}  // namespace qvpn::sa
