// NAT detection (RFC 7296 2.23): the NAT_DETECTION_SOURCE_IP and
// NAT_DETECTION_DESTINATION_IP data is SHA-1(SPIi | SPIr | IP | port). A
// mismatch of the peer's source hash means the peer is behind a NAT; of its
// destination hash, that we are.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/bytes.hpp"
#include "daemon/ikev2/engine/actions.hpp"

namespace qvpn::ikev2 {

Bytes natd_hash(uint64_t spi_i, uint64_t spi_r, const Endpoint& ep);

struct NatResult {
    bool local_behind_nat = false;   // our address was changed on the way
    bool remote_behind_nat = false;  // the peer's address was changed
    bool peer_supports = false;      // the peer sent both notifies
};

// `sources`: every NAT_DETECTION_SOURCE_IP the peer sent (it may send one
// per address it has); `destination`: its NAT_DETECTION_DESTINATION_IP.
NatResult detect_nat(uint64_t spi_i, uint64_t spi_r, const Endpoint& local, const Endpoint& remote,
                     const std::vector<Bytes>& sources, const Bytes* destination);

}  // namespace qvpn::ikev2
