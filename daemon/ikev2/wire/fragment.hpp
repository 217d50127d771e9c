// Reassembly of RFC 7383 fragments. Every fragment is verified and
// decrypted on its own (sk.hpp: unprotect) before it is stored, so nothing
// unauthenticated is buffered; the assembler then only orders plaintext.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ikev2/wire/message.hpp"

namespace qvpn::ikev2 {

class FragmentAssembler {
public:
    // Adds one verified fragment of message `message_id`. Returns the inner
    // payload chain once every fragment is present, nullopt while some are
    // missing. IKE0807 for a fragment the RFC says to discard (too many
    // fragments, a smaller total than an earlier fragment's).
    Result<std::optional<std::vector<Payload>>> add(uint32_t message_id, const SkfPayload& f,
                                                    Bytes plaintext);

    // Forget a partial message (a new exchange started, or the SA is gone).
    void reset();
    bool pending() const { return !parts_.empty(); }
    size_t received() const { return parts_.size(); }

private:
    std::optional<uint32_t> message_id_;
    uint16_t total_ = 0;
    PayloadType first_ = PayloadType::NO_NEXT_PAYLOAD;
    std::map<uint16_t, Bytes> parts_;
    size_t bytes_ = 0;
};

}  // namespace qvpn::ikev2
