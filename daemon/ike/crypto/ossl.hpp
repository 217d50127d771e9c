// Internal helpers shared by daemon/ike's OpenSSL code: owning pointers,
// cached algorithm fetches and error texts. Not part of the published API.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "core/base/result.hpp"

namespace qvpn::ike::ossl {

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
    void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using BnCtx = std::unique_ptr<BN_CTX, BnCtxFree>;

// Fetched once per process (thread-safe static initialisation) and never
// freed: OpenSSL's method store keeps them alive anyway. nullptr when the
// provider lacks the algorithm.
enum class MdName { Md5, Sha1, Sha256, Sha384, Sha512 };
const EVP_MD* md(MdName name);
const EVP_MAC* hmac();
// Cipher by OpenSSL name ("AES-128-GCM"); cached per name.
const EVP_CIPHER* cipher(const char* name);

// The oldest queued OpenSSL error as text (and clears the queue).
std::string last_error();
// IKE0003 with the operation and OpenSSL's reason.
Failure fail_ossl(const char* operation);

}  // namespace qvpn::ike::ossl
