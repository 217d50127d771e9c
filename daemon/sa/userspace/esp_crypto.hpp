// ESP (RFC 4303) protection of one SA direction in userspace, with OpenSSL
// EVP: AES-CBC, AES-CTR (RFC 3686), AES-GCM (RFC 4106), AES-CCM (RFC 4309),
// AES-GMAC (RFC 4543), 3DES-CBC, DES-CBC and NULL encryption; HMAC-MD5-96,
// HMAC-SHA1-96, HMAC-SHA2 (RFC 4868) and AES-XCBC-MAC-96 (RFC 3566)
// integrity; extended sequence numbers (RFC 4303 2.2.1).
//
// An EspTransform holds precomputed contexts (keys scheduled once) and is
// used by one thread at a time: the data path keeps one per worker thread.
// Nothing here allocates per packet.
#pragma once

#include <cstdint>
#include <memory>

#include <openssl/evp.h>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/sa/sa_types.hpp"
#include "daemon/sa/userspace/packet.hpp"

namespace qvpn::sa::us {

// Load the OpenSSL providers the algorithms need (default, and legacy for
// single DES). Idempotent; false if the default provider is missing.
bool crypto_init();

// HMAC or AES-XCBC over one or two pieces, truncated to icv_len().
class Integrity {
public:
    static Result<std::unique_ptr<Integrity>> create(ike::IntegId id, ByteView key);
    ~Integrity();
    Integrity(const Integrity&) = delete;
    Integrity& operator=(const Integrity&) = delete;

    size_t icv_len() const { return icv_len_; }
    // ICV of a || b (b may be empty). out gets icv_len() bytes.
    bool compute(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t* out);

private:
    Integrity() = default;
    bool xcbc(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t* out);

    size_t icv_len_ = 0;
    EVP_MAC_CTX* mac_ = nullptr;        // HMAC
    EVP_CIPHER_CTX* xcbc_ = nullptr;    // AES-128-CBC keyed with K1, zero IV
    uint8_t k2_[16] = {}, k3_[16] = {};  // RFC 3566 derived keys
};

class EspTransform {
public:
    enum class Verdict { Ok, Short, Alignment, Integrity, Padding, Internal };

    // One direction of an ESP SA. `encrypt` selects sealing or opening.
    static Result<std::unique_ptr<EspTransform>> create(const SaKeys& keys, bool esn,
                                                        bool encrypt);
    ~EspTransform();
    EspTransform(const EspTransform&) = delete;
    EspTransform& operator=(const EspTransform&) = delete;

    // Bytes ESP adds at most: in front (header + IV) and behind (padding,
    // trailer, ICV).
    size_t header_len() const { return 8 + iv_len_; }
    size_t max_trailer_len() const { return block_ + 1 + 2 + icv_len_; }

    // p holds the payload (an inner IP packet in tunnel mode, the transport
    // payload otherwise); afterwards it holds the ESP packet, SPI to ICV.
    // tfc_pad_to > 0 pads the payload with zeros to that length first
    // (RFC 4303 2.7; only where the payload carries its own length).
    // False when the buffer lacks room (nothing usable is left in p then).
    bool seal(Pkt& p, uint32_t spi, uint64_t seq, uint8_t next_header, size_t tfc_pad_to = 0);

    // p holds an ESP packet (SPI to ICV) whose full sequence number is `seq`
    // (from the replay window). On Ok, p holds the payload and next_header
    // is set; otherwise p is unspecified and the packet must be dropped.
    Verdict open(Pkt& p, uint64_t seq, uint8_t& next_header);

private:
    enum class Kind { Cbc, Ctr, Gcm, Ccm, Gmac, Null };
    EspTransform() = default;
    bool make_iv(uint64_t seq, uint8_t* iv);
    bool aead_seal(uint8_t* hdr, size_t plen, uint64_t seq);
    bool aead_open(uint8_t* hdr, size_t clen, uint64_t seq);
    bool cipher_run(const uint8_t* iv, uint8_t* data, size_t len);

    Kind kind_ = Kind::Null;
    bool esn_ = false;
    bool encrypt_ = false;
    size_t iv_len_ = 0, block_ = 4, icv_len_ = 0;
    uint8_t salt_[4] = {};
    EVP_CIPHER_CTX* ctx_ = nullptr;     // the cipher (or AEAD), keyed
    EVP_CIPHER_CTX* ivgen_ = nullptr;   // CBC: AES-ECB over the sequence number
    std::unique_ptr<Integrity> integ_;
};

std::string_view to_string(EspTransform::Verdict v);

}  // namespace qvpn::sa::us
