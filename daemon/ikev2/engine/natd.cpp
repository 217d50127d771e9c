#include "daemon/ikev2/engine/natd.hpp"

#include <openssl/evp.h>

namespace qvpn::ikev2 {

Bytes natd_hash(uint64_t spi_i, uint64_t spi_r, const Endpoint& ep) {
    ByteWriter w;
    w.u64(spi_i).u64(spi_r).bytes(ByteView(ep.addr.data(), ep.addr.size())).u16(ep.port);
    Bytes out(20);
    unsigned int len = 0;
    if (EVP_Digest(w.data().data(), w.size(), out.data(), &len, EVP_sha1(), nullptr) != 1) {
        // A hash that matches nothing: NAT is assumed, which only costs
        // UDP encapsulation.
        out.assign(20, 0);
    }
    return out;
}

NatResult detect_nat(uint64_t spi_i, uint64_t spi_r, const Endpoint& local, const Endpoint& remote,
                     const std::vector<Bytes>& sources, const Bytes* destination) {
    NatResult r;
    if (sources.empty() || destination == nullptr) {
        return r;
    }
    r.peer_supports = true;
    Bytes remote_hash = natd_hash(spi_i, spi_r, remote);
    bool source_matches = false;
    for (const auto& s : sources) {
        source_matches = source_matches || equal_ct(s, remote_hash);
    }
    r.remote_behind_nat = !source_matches;
    r.local_behind_nat = !equal_ct(*destination, natd_hash(spi_i, spi_r, local));
    return r;
}

}  // namespace qvpn::ikev2
