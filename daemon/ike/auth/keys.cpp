#include "daemon/ike/auth/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include <cstring>

#include "daemon/ike/crypto/ossl.hpp"

namespace qvpn::ike::auth {

namespace {

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }

KeyType type_of(EVP_PKEY* k) {
    if (k == nullptr) {
        return KeyType::Other;
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        return KeyType::Rsa;
    }
    if (EVP_PKEY_is_a(k, "EC")) {
        char group[64] = {};
        size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &len) != 1) {
            return KeyType::Other;
        }
        std::string_view g(group, len);
        if (g == "prime256v1" || g == "P-256") {
            return KeyType::EcP256;
        }
        if (g == "secp384r1" || g == "P-384") {
            return KeyType::EcP384;
        }
        if (g == "secp521r1" || g == "P-521") {
            return KeyType::EcP521;
        }
    }
    return KeyType::Other;
}

// Decodes a private key in the given input form; nullptr when it is not one.
EVP_PKEY* decode_private(const char* form, ByteView data) {
    EVP_PKEY* pkey = nullptr;
    OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, form, nullptr, nullptr, OSSL_KEYMGMT_SELECT_PRIVATE_KEY, nullptr, nullptr);
    if (dctx == nullptr) {
        return nullptr;
    }
    // No passphrase callback: encrypted keys fail to decode.
    const unsigned char* p = data.data();
    size_t len = data.size();
    if (OSSL_DECODER_from_data(dctx, &p, &len) != 1) {
        pkey = nullptr;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

Result<PrivateKey> checked_private(EVP_PKEY* k) {
    if (k == nullptr) {
        ERR_clear_error();
        return fail("IKE0101", "not an unencrypted PEM or DER private key");
    }
    PrivateKey key = PrivateKey::from_evp(k);
    EVP_PKEY_free(k);  // from_evp took its own reference
    if (key.type() == KeyType::Other) {
        return fail("IKE0101", "not an RSA or P-256/P-384/P-521 ECDSA key");
    }
    return key;
}

}  // namespace

std::string_view key_type_name(KeyType t) {
    switch (t) {
    case KeyType::Rsa: return "RSA";
    case KeyType::EcP256: return "ECDSA-P256";
    case KeyType::EcP384: return "ECDSA-P384";
    case KeyType::EcP521: return "ECDSA-P521";
    case KeyType::Other: break;
    }
    return "OTHER";
}

Result<PublicKey> PublicKey::from_spki_der(ByteView der) {
    const unsigned char* p = der.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (k == nullptr || p != der.data() + der.size()) {
        EVP_PKEY_free(k);
        ERR_clear_error();
        return fail("IKE0100", "not a DER SubjectPublicKeyInfo");
    }
    PublicKey key(own(k));
    if (key.type() == KeyType::Other) {
        return fail("IKE0100", "not an RSA or P-256/P-384/P-521 ECDSA key");
    }
    return key;
}

PublicKey PublicKey::from_evp(evp_pkey_st* pkey) {
    EVP_PKEY_up_ref(pkey);
    return PublicKey(own(pkey));
}

KeyType PublicKey::type() const { return type_of(key_.get()); }
size_t PublicKey::bits() const { return static_cast<size_t>(EVP_PKEY_get_bits(key_.get())); }

Bytes PublicKey::spki_der() const {
    unsigned char* buf = nullptr;
    int len = i2d_PUBKEY(key_.get(), &buf);
    if (len <= 0) {
        return {};
    }
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    return checked_private(decode_private("PEM", as_view(pem)));
}

Result<PrivateKey> PrivateKey::from_der(ByteView der) {
    return checked_private(decode_private("DER", der));
}

PrivateKey PrivateKey::from_evp(evp_pkey_st* pkey) {
    EVP_PKEY_up_ref(pkey);
    return PrivateKey(own(pkey));
}

KeyType PrivateKey::type() const { return type_of(key_.get()); }
size_t PrivateKey::bits() const { return static_cast<size_t>(EVP_PKEY_get_bits(key_.get())); }
PublicKey PrivateKey::public_key() const { return PublicKey::from_evp(key_.get()); }

Bytes PrivateKey::to_der() const {
    OSSL_ENCODER_CTX* ectx = OSSL_ENCODER_CTX_new_for_pkey(
        key_.get(), OSSL_KEYMGMT_SELECT_KEYPAIR, "DER", "PrivateKeyInfo", nullptr);
    unsigned char* buf = nullptr;
    size_t len = 0;
    Bytes out;
    if (ectx != nullptr && OSSL_ENCODER_to_data(ectx, &buf, &len) == 1) {
        out.assign(buf, buf + len);
        OPENSSL_clear_free(buf, len);
    }
    OSSL_ENCODER_CTX_free(ectx);
    return out;
}

}  // namespace qvpn::ike::auth
