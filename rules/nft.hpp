// libnftables, the library behind `nft`: scripts run as one transaction.
#pragma once

#include <string>

#include "core/base/result.hpp"

struct nft_ctx;

namespace qvpn::rules {

class Nft {
public:
    Nft();
    ~Nft();
    Nft(const Nft&) = delete;
    Nft& operator=(const Nft&) = delete;

    bool valid() const { return ctx_ != nullptr; }
    // Run a script (one transaction: all of it or nothing). Fails with
    // NFT0101 carrying the first lines of libnftables' error text.
    Status run(const std::string& script);
    // `list table inet qvpn` as libnftables JSON; "" when the table does not
    // exist.
    Result<std::string> list_json();
    // Does table inet qvpn have this chain?
    bool has_chain(const std::string& chain);

private:
    nft_ctx* ctx_ = nullptr;
};

}  // namespace qvpn::rules
