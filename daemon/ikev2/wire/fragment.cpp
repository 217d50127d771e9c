#include "daemon/ikev2/wire/fragment.hpp"

#include "daemon/ikev2/wire/sk.hpp"

namespace qvpn::ikev2 {

namespace {
// Whole reassembled messages are bounded like any other message.
constexpr size_t kMaxReassembledLen = kMaxMessageLen;
}  // namespace

void FragmentAssembler::reset() {
    message_id_.reset();
    total_ = 0;
    first_ = PayloadType::NO_NEXT_PAYLOAD;
    parts_.clear();
    bytes_ = 0;
}

Result<std::optional<std::vector<Payload>>> FragmentAssembler::add(uint32_t message_id,
                                                                   const SkfPayload& f,
                                                                   Bytes plaintext) {
    if (f.total > kMaxFragments) {
        return Failure{msg("IKE0807", f.number, f.total,
                           "more than " + std::to_string(kMaxFragments) + " fragments")};
    }
    if (message_id_ && *message_id_ != message_id) {
        reset();
    }
    // RFC 7383 2.6: a larger total means the sender started over with a
    // smaller fragment size; a smaller one belongs to an older attempt.
    if (message_id_ && f.total < total_) {
        return Failure{msg("IKE0807", f.number, f.total, "older fragmentation of the message")};
    }
    if (message_id_ && f.total > total_) {
        reset();
    }
    if (parts_.count(f.number) != 0) {
        return std::optional<std::vector<Payload>>{};  // a duplicate: ignore it
    }
    if (bytes_ + plaintext.size() > kMaxReassembledLen) {
        reset();
        return Failure{msg("IKE0807", f.number, f.total, "reassembled message too large")};
    }
    message_id_ = message_id;
    total_ = f.total;
    if (f.number == 1) {
        first_ = f.inner;
    }
    bytes_ += plaintext.size();
    parts_.emplace(f.number, std::move(plaintext));
    if (parts_.size() < total_) {
        return std::optional<std::vector<Payload>>{};
    }

    Bytes whole;
    whole.reserve(bytes_);
    for (const auto& [n, part] : parts_) {
        whole.insert(whole.end(), part.begin(), part.end());
    }
    PayloadType first = first_;
    reset();
    QVPN_ASSIGN(auto payloads, parse_payloads(first, whole));
    return std::optional<std::vector<Payload>>(std::move(payloads));
}

}  // namespace qvpn::ikev2
