#include "daemon/ike/crypto/cipher.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <cstring>
#include <string>

#include "daemon/ike/crypto/ossl.hpp"
#include "daemon/ike/crypto/suite.hpp"

namespace qvpn::ike::crypto {

namespace detail {

enum class Mode { Cbc, Ctr, Gcm, Ccm, Des };

struct CipherImpl {
    Mode mode;
    const EVP_CIPHER* evp;
    size_t key_len;    // cipher key without salt
    size_t salt_len;
    size_t iv_len;     // explicit IV on the wire
    size_t block;      // plaintext alignment
    size_t icv_len;
};

}  // namespace detail

namespace {

using detail::Mode;

Failure unsupported(EncrId id) {
    return fail(msg("IKE0001", "ENCR", static_cast<int>(id))
                    .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
}

std::string aes_name(uint16_t bits, const char* mode) {
    return "AES-" + std::to_string(bits) + "-" + mode;
}

}  // namespace

Result<Cipher> Cipher::create(EncrId id, uint16_t key_bits) {
    if (id == EncrId::ENCR_NULL || encr_is_auth_only(id) || encr_name(id) == "ENCR_UNKNOWN") {
        return unsupported(id);
    }
    if (!encr_valid(EncrAlg{id, key_bits})) {
        return fail(msg("IKE0002", key_bits, encr_name(id))
                        .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
    }

    detail::CipherImpl impl{};
    std::string evp_name;
    switch (id) {
    case EncrId::ENCR_DES:
        // Single DES lives in OpenSSL 3's legacy provider. Three-key 3DES with
        // K1 = K2 = K3 computes exactly single DES (E(K) D(K) E(K) = E(K)), so
        // the default provider's DES-EDE3-CBC does the job without loading
        // another provider into the process.
        impl = {Mode::Des, nullptr, 8, 0, 8, 8, 0};
        key_bits = 64;
        evp_name = "DES-EDE3-CBC";
        break;
    case EncrId::ENCR_3DES:
        impl = {Mode::Cbc, nullptr, 24, 0, 8, 8, 0};
        key_bits = 192;
        evp_name = "DES-EDE3-CBC";
        break;
    case EncrId::ENCR_AES_CBC:
        impl = {Mode::Cbc, nullptr, size_t(key_bits / 8), 0, 16, 16, 0};
        evp_name = aes_name(key_bits, "CBC");
        break;
    case EncrId::ENCR_AES_CTR:
        // RFC 5930 / RFC 3686: 4-byte nonce from the key material, 8-byte IV.
        impl = {Mode::Ctr, nullptr, size_t(key_bits / 8), 4, 8, 1, 0};
        evp_name = aes_name(key_bits, "CTR");
        break;
    case EncrId::ENCR_AES_GCM_8: case EncrId::ENCR_AES_GCM_12: case EncrId::ENCR_AES_GCM_16: {
        // RFC 5282 / RFC 4106: 4-byte salt, 8-byte IV, 12-byte nonce.
        size_t icv = id == EncrId::ENCR_AES_GCM_8 ? 8 : id == EncrId::ENCR_AES_GCM_12 ? 12 : 16;
        impl = {Mode::Gcm, nullptr, size_t(key_bits / 8), 4, 8, 1, icv};
        evp_name = aes_name(key_bits, "GCM");
        break;
    }
    case EncrId::ENCR_AES_CCM_8: case EncrId::ENCR_AES_CCM_12: case EncrId::ENCR_AES_CCM_16: {
        // RFC 5282 / RFC 4309: 3-byte salt, 8-byte IV, 11-byte nonce (L = 4).
        size_t icv = id == EncrId::ENCR_AES_CCM_8 ? 8 : id == EncrId::ENCR_AES_CCM_12 ? 12 : 16;
        impl = {Mode::Ccm, nullptr, size_t(key_bits / 8), 3, 8, 1, icv};
        evp_name = aes_name(key_bits, "CCM");
        break;
    }
    default:
        return unsupported(id);
    }
    impl.evp = ossl::cipher(evp_name.c_str());
    if (impl.evp == nullptr) {
        return ossl::fail_ossl("cipher fetch");
    }
    return Cipher(id, key_bits, std::make_shared<const detail::CipherImpl>(impl));
}

std::string_view Cipher::name() const { return encr_name(id_); }
size_t Cipher::key_size() const { return impl_->key_len + impl_->salt_len; }
size_t Cipher::salt_size() const { return impl_->salt_len; }
size_t Cipher::iv_size() const { return impl_->iv_len; }
size_t Cipher::block_size() const { return impl_->block; }
size_t Cipher::icv_size() const { return impl_->icv_len; }

namespace {

// The key, IV/nonce/counter block the EVP cipher gets, wiped on exit.
struct EvpInput {
    uint8_t key[32] = {};
    uint8_t iv[16] = {};
    size_t iv_len = 0;
    ~EvpInput() {
        OPENSSL_cleanse(key, sizeof key);
        OPENSSL_cleanse(iv, sizeof iv);
    }
};

void prepare(const detail::CipherImpl& c, ByteView key, ByteView iv, EvpInput& in) {
    if (c.mode == Mode::Des) {
        std::memcpy(in.key, key.data(), 8);
        std::memcpy(in.key + 8, key.data(), 8);
        std::memcpy(in.key + 16, key.data(), 8);
    } else {
        std::memcpy(in.key, key.data(), c.key_len);
    }
    const uint8_t* salt = key.data() + c.key_len;
    switch (c.mode) {
    case Mode::Cbc: case Mode::Des:
        std::memcpy(in.iv, iv.data(), c.iv_len);
        in.iv_len = c.iv_len;
        break;
    case Mode::Ctr:
        // RFC 3686 4: nonce(4) | IV(8) | block counter(4) starting at 1.
        std::memcpy(in.iv, salt, 4);
        std::memcpy(in.iv + 4, iv.data(), 8);
        in.iv[15] = 1;
        in.iv_len = 16;
        break;
    case Mode::Gcm: case Mode::Ccm:
        std::memcpy(in.iv, salt, c.salt_len);
        std::memcpy(in.iv + c.salt_len, iv.data(), 8);
        in.iv_len = c.salt_len + 8;
        break;
    }
}

Status check_sizes(const detail::CipherImpl& c, std::string_view name, ByteView key,
                   ByteView iv) {
    if (key.size() != c.key_len + c.salt_len) {
        return fail("IKE0002", key.size(), name);
    }
    if (iv.size() != c.iv_len) {
        return fail("IKE0007", iv.size(), name, c.iv_len);
    }
    return {};
}

// Set up an AEAD context: nonce length, CCM's tag length, key and nonce.
bool aead_init(EVP_CIPHER_CTX* ctx, const detail::CipherImpl& c, const EvpInput& in,
               bool encrypt, const uint8_t* tag) {
    if (EVP_CipherInit_ex2(ctx, c.evp, nullptr, nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(in.iv_len),
                            nullptr) != 1) {
        return false;
    }
    if (c.mode == Mode::Ccm &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(c.icv_len),
                            const_cast<uint8_t*>(tag)) != 1) {
        return false;
    }
    return EVP_CipherInit_ex2(ctx, nullptr, in.key, in.iv, encrypt ? 1 : 0, nullptr) == 1;
}

}  // namespace

Result<Bytes> Cipher::encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plaintext) const {
    const auto& c = *impl_;
    QVPN_TRY(check_sizes(c, name(), key, iv));
    if (plaintext.size() % c.block != 0 || plaintext.size() > 0x7fffffff) {
        return fail("IKE0006", plaintext.size(), name());
    }
    EvpInput in;
    prepare(c, key, iv, in);
    ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return ossl::fail_ossl("encrypt");
    }
    Bytes out(plaintext.size() + c.icv_len);
    int outl = 0;
    int len = static_cast<int>(plaintext.size());
    bool aead = c.mode == Mode::Gcm || c.mode == Mode::Ccm;
    if (aead) {
        if (!aead_init(ctx.get(), c, in, true, nullptr)) {
            return ossl::fail_ossl("encrypt");
        }
        // CCM must know the message length before the associated data.
        if (c.mode == Mode::Ccm &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &outl, nullptr, len) != 1) {
            return ossl::fail_ossl("encrypt");
        }
        if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &outl, aad.data(),
                                              static_cast<int>(aad.size())) != 1) {
            return ossl::fail_ossl("encrypt");
        }
    } else if (EVP_EncryptInit_ex2(ctx.get(), c.evp, in.key, in.iv, nullptr) != 1 ||
               EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
        return ossl::fail_ossl("encrypt");
    }
    // CCM wants the (possibly empty) payload passed through Update once, with
    // non-null pointers even when it is empty.
    static uint8_t empty[1];
    const uint8_t* in_ptr = len > 0 ? plaintext.data() : empty;
    uint8_t* out_ptr = len > 0 ? out.data() : empty;
    if ((len > 0 || c.mode == Mode::Ccm) &&
        (EVP_EncryptUpdate(ctx.get(), out_ptr, &outl, in_ptr, len) != 1 || outl != len)) {
        return ossl::fail_ossl("encrypt");
    }
    int finl = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &finl) != 1 || finl != 0) {
        return ossl::fail_ossl("encrypt");
    }
    if (aead && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG,
                                    static_cast<int>(c.icv_len), out.data() + len) != 1) {
        return ossl::fail_ossl("encrypt");
    }
    return out;
}

Result<Bytes> Cipher::decrypt(ByteView key, ByteView iv, ByteView aad, ByteView input) const {
    const auto& c = *impl_;
    QVPN_TRY(check_sizes(c, name(), key, iv));
    if (input.size() < c.icv_len || (input.size() - c.icv_len) % c.block != 0 ||
        input.size() > 0x7fffffff) {
        return fail("IKE0006", input.size(), name());
    }
    const size_t ct_len = input.size() - c.icv_len;
    const uint8_t* tag = input.data() + ct_len;
    EvpInput in;
    prepare(c, key, iv, in);
    ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return ossl::fail_ossl("decrypt");
    }
    Bytes out(ct_len);
    int outl = 0;
    int len = static_cast<int>(ct_len);
    bool aead = c.mode == Mode::Gcm || c.mode == Mode::Ccm;
    if (aead) {
        if (!aead_init(ctx.get(), c, in, false, tag)) {
            return ossl::fail_ossl("decrypt");
        }
        if (c.mode == Mode::Gcm &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(c.icv_len),
                                const_cast<uint8_t*>(tag)) != 1) {
            return ossl::fail_ossl("decrypt");
        }
        if (c.mode == Mode::Ccm &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &outl, nullptr, len) != 1) {
            return ossl::fail_ossl("decrypt");
        }
        if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &outl, aad.data(),
                                              static_cast<int>(aad.size())) != 1) {
            return ossl::fail_ossl("decrypt");
        }
    } else if (EVP_DecryptInit_ex2(ctx.get(), c.evp, in.key, in.iv, nullptr) != 1 ||
               EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
        return ossl::fail_ossl("decrypt");
    }
    if (c.mode == Mode::Ccm) {
        // CCM checks the tag inside the one Update call.
        static uint8_t empty[1];
        if (EVP_DecryptUpdate(ctx.get(), len > 0 ? out.data() : empty, &outl,
                              len > 0 ? input.data() : empty, len) != 1) {
            OPENSSL_cleanse(out.data(), out.size());
            return fail("IKE0005", name());
        }
        return out;
    }
    if (len > 0 &&
        (EVP_DecryptUpdate(ctx.get(), out.data(), &outl, input.data(), len) != 1 ||
         outl != len)) {
        return ossl::fail_ossl("decrypt");
    }
    int finl = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &finl) != 1) {
        // For GCM this is the tag check: never hand out the plaintext.
        OPENSSL_cleanse(out.data(), out.size());
        if (aead) {
            return fail("IKE0005", name());
        }
        return ossl::fail_ossl("decrypt");
    }
    return out;
}

}  // namespace qvpn::ike::crypto
