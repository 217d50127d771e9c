// Key derivation of RFC 7296: SKEYSEED and the IKE SA keys (2.14), the
// SKEYSEED of a rekeyed IKE SA (2.18) and the CHILD_SA key material (2.17),
// split into the qvpn::sa::SaKeys the SA backends install.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/crypto/prf.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/sa/sa_types.hpp"

namespace qvpn::ike::crypto {

// RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir). For AES-XCBC-PRF-128 only
// the first 64 bits of each nonce form the key (RFC 7296 2.14, RFC 4434).
// IKE0009 when a nonce is shorter than that.
Result<SecretBytes> skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir);

// RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), computed
// with the old IKE SA's PRF.
Result<SecretBytes> skeyseed_rekey(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir,
                                   ByteView ni, ByteView nr);

// The seven keys of an IKE SA. sk_ai/sk_ar are empty with AEAD ciphers.
struct IkeKeys {
    SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

// RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
// prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), sized by the suite (prf must be the
// suite's PRF). IKE0008 for an invalid suite, IKE0004 if prf+ cannot
// deliver that much.
Result<IkeKeys> derive_ike_keys(const IkeSuite& suite, const Prf& prf, ByteView skeyseed,
                                ByteView ni, ByteView nr, uint64_t spi_i, uint64_t spi_r);

// One protocol of a CHILD_SA: its suite and our SPIs (spi_in is the SPI we
// chose and the peer sends to; spi_out the peer's).
struct ChildProto {
    ChildSuite suite;
    uint32_t spi_in = 0;
    uint32_t spi_out = 0;
};

struct ChildKeys {
    std::optional<sa::SaPair> esp, ah;
};

// RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (g_ir empty
// without PFS). Keys for initiator -> responder come first, then responder
// -> initiator; within a direction the protocols in the order their headers
// appear in a packet (AH before ESP), each encryption key before its
// integrity key. `initiator` says whether we initiated the exchange, which
// decides whether the first keys are our outbound (`out`) or inbound ones.
// IKE0008 for an invalid suite, IKE0004 if prf+ cannot deliver that much.
Result<ChildKeys> derive_child_keys(const Prf& prf, ByteView sk_d, ByteView g_ir, ByteView ni,
                                    ByteView nr, std::span<const ChildProto> protos,
                                    bool initiator);

}  // namespace qvpn::ike::crypto
