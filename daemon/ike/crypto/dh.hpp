// Diffie-Hellman groups of IKE (RFC 7296 Transform Type 4): MODP 768 (1),
// 1024 (2), 2048 (14) of RFC 3526/2409, the 2048-bit MODP group with a
// 256-bit prime order subgroup (24, RFC 5114), and the NIST curves P-256
// (19) and P-384 (20) with the RFC 5903 encoding (x || y, no point format
// byte; the shared secret is the x coordinate).
//
// The private value comes from an injected qvpn::Random, so tests are
// deterministic; daemons pass SystemRandom. Groups 1 and 2 work but are
// deemphasized (RFC 8247); callers log a warning when one is negotiated.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct DhParams;
struct DhPrivate;
}

class DhKeyPair;

// Facts about one group; cheap to copy (its parameters are built once per
// process and shared read-only).
class DhGroup {
public:
    // IKE0001 with INVALID_KE_PAYLOAD for a group this library does not know
    // (the responder then proposes one it does).
    static Result<DhGroup> create(DhId id);
    static bool supported(DhId id);

    DhId id() const { return id_; }
    std::string_view name() const;
    size_t public_size() const;  // KE payload data bytes
    size_t secret_size() const;  // g^ir bytes
    bool is_ecp() const;
    bool deemphasized() const;   // groups 1 and 2

    // A fresh key pair whose private value is drawn from `rng`.
    Result<DhKeyPair> generate(Random& rng) const;
    // A key pair with a given private value (big-endian): the exponent for
    // MODP, the scalar for ECP. For published test vectors. IKE0011 when the
    // value is out of range.
    Result<DhKeyPair> from_private(ByteView private_value) const;

    // The checks compute() makes on a peer's public value, on their own:
    // IKE0010 (wrong length, INVALID_SYNTAX), IKE0011 (value out of range,
    // not in the subgroup, not on the curve, the point at infinity;
    // INVALID_SYNTAX per RFC 6989).
    Status check_public(ByteView peer_public) const;

private:
    friend class DhKeyPair;
    Result<DhKeyPair> make_pair(std::unique_ptr<detail::DhPrivate> priv) const;
    DhGroup(DhId id, std::shared_ptr<const detail::DhParams> p) : id_(id), params_(std::move(p)) {}
    DhId id_ = DhId::NONE;
    std::shared_ptr<const detail::DhParams> params_;
};

// Our half of one exchange. Move-only; the private value is wiped when the
// object goes away.
class DhKeyPair {
public:
    DhKeyPair(DhKeyPair&&) noexcept;
    DhKeyPair& operator=(DhKeyPair&&) noexcept;
    DhKeyPair(const DhKeyPair&) = delete;
    DhKeyPair& operator=(const DhKeyPair&) = delete;
    ~DhKeyPair();

    const DhGroup& group() const { return group_; }
    // The KE payload's Key Exchange Data: g^x mod p left-padded to the
    // prime's length, or x || y for ECP.
    const Bytes& public_value() const { return public_; }

    // g^ir from the peer's public value, after check_public(). The result
    // has secret_size() bytes (left-padded for MODP).
    Result<SecretBytes> compute(ByteView peer_public) const;

private:
    friend class DhGroup;
    DhKeyPair(DhGroup g, std::unique_ptr<detail::DhPrivate> priv, Bytes pub);
    DhGroup group_;
    std::unique_ptr<detail::DhPrivate> priv_;
    Bytes public_;
};

}  // namespace qvpn::ike::crypto
