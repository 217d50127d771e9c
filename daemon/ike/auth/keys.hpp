// Public and private keys for IKE authentication (RSA and ECDSA), held as
// reference-counted OpenSSL EVP_PKEY objects: copies share the key, and the
// key is freed (and OpenSSL wipes it) when the last copy goes away.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

struct evp_pkey_st;

namespace qvpn::ike::auth {

enum class KeyType { Rsa, EcP256, EcP384, EcP521, Other };

std::string_view key_type_name(KeyType t);

class PublicKey {
public:
    // DER SubjectPublicKeyInfo. IKE0100 when it does not parse.
    static Result<PublicKey> from_spki_der(ByteView der);
    // Takes a reference of an existing EVP_PKEY (public half used only).
    static PublicKey from_evp(evp_pkey_st* pkey);

    KeyType type() const;
    size_t bits() const;
    Bytes spki_der() const;
    evp_pkey_st* native() const { return key_.get(); }

private:
    explicit PublicKey(std::shared_ptr<evp_pkey_st> k) : key_(std::move(k)) {}
    std::shared_ptr<evp_pkey_st> key_;
};

class PrivateKey {
public:
    // PEM ("-----BEGIN PRIVATE KEY-----", RSA/EC PRIVATE KEY forms too) or
    // DER (PKCS#8 or the traditional forms). Encrypted keys are refused.
    // IKE0101 when nothing parses.
    static Result<PrivateKey> from_pem(std::string_view pem);
    static Result<PrivateKey> from_der(ByteView der);
    static PrivateKey from_evp(evp_pkey_st* pkey);  // takes a reference

    KeyType type() const;
    size_t bits() const;
    PublicKey public_key() const;
    // PKCS#8 DER (for tests and for handing a generated key on).
    Bytes to_der() const;
    evp_pkey_st* native() const { return key_.get(); }

private:
    explicit PrivateKey(std::shared_ptr<evp_pkey_st> k) : key_(std::move(k)) {}
    std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace qvpn::ike::auth
