#include "daemon/ike/crypto/mac.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace qvpn::ike::crypto::detail {

namespace {

const char* md_param_name(ossl::MdName md) {
    switch (md) {
    case ossl::MdName::Md5: return "MD5";
    case ossl::MdName::Sha1: return "SHA1";
    case ossl::MdName::Sha256: return "SHA256";
    case ossl::MdName::Sha384: return "SHA384";
    case ossl::MdName::Sha512: return "SHA512";
    }
    return "SHA256";
}

// CBC-MAC state over AES-128 with K1. The last block of the message is held
// back until final(), because RFC 3566 treats it differently (XOR with K2 or
// K3) depending on whether it is complete.
class XcbcState {
public:
    Status init(ByteView key) {
        const EVP_CIPHER* ecb = ossl::cipher("AES-128-ECB");
        const EVP_CIPHER* cbc = ossl::cipher("AES-128-CBC");
        if (ecb == nullptr || cbc == nullptr || key.size() != kXcbcBlock) {
            return fail("IKE0002", key.size(), "AES-XCBC");
        }
        ctx_.reset(EVP_CIPHER_CTX_new());
        if (!ctx_) {
            return ossl::fail_ossl("AES-XCBC");
        }

        // RFC 3566 4: K1, K2, K3 = E(K, 0x01..), E(K, 0x02..), E(K, 0x03..).
        uint8_t in[48];
        std::memset(in, 1, 16);
        std::memset(in + 16, 2, 16);
        std::memset(in + 32, 3, 16);
        uint8_t k123[48];
        int outl = 0;
        if (EVP_EncryptInit_ex2(ctx_.get(), ecb, key.data(), nullptr, nullptr) != 1 ||
            EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) != 1 ||
            EVP_EncryptUpdate(ctx_.get(), k123, &outl, in, sizeof in) != 1 || outl != 48) {
            OPENSSL_cleanse(k123, sizeof k123);
            return ossl::fail_ossl("AES-XCBC key derivation");
        }
        std::memcpy(k2_, k123 + 16, 16);
        std::memcpy(k3_, k123 + 32, 16);
        static const uint8_t zero_iv[16] = {};
        bool ok = EVP_EncryptInit_ex2(ctx_.get(), cbc, k123, zero_iv, nullptr) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) == 1;
        OPENSSL_cleanse(k123, sizeof k123);
        if (!ok) {
            return ossl::fail_ossl("AES-XCBC");
        }
        return ok_status();
    }

    Status update(ByteView data) {
        const uint8_t* p = data.data();
        size_t n = data.size();
        if (n == 0) {
            return ok_status();
        }
        size_t take = std::min(kXcbcBlock - blen_, n);
        std::memcpy(buf_ + blen_, p, take);
        blen_ += take;
        p += take;
        n -= take;
        if (n == 0) {
            return ok_status();  // the buffered block may be the last one
        }
        QVPN_TRY(cbc(buf_, kXcbcBlock));
        blen_ = 0;
        // Whole blocks straight from the input, keeping 1..16 bytes back.
        size_t whole = (n - 1) / kXcbcBlock * kXcbcBlock;
        QVPN_TRY(cbc(p, whole));
        p += whole;
        n -= whole;
        std::memcpy(buf_, p, n);
        blen_ = n;
        return ok_status();
    }

    Status final(uint8_t out[kXcbcBlock]) {
        // RFC 3566 4: a complete last block is XORed with K2; otherwise it is
        // padded with 0x80 00.. and XORed with K3 (also for an empty message).
        const uint8_t* k = k2_;
        if (blen_ < kXcbcBlock) {
            buf_[blen_] = 0x80;
            std::memset(buf_ + blen_ + 1, 0, kXcbcBlock - blen_ - 1);
            k = k3_;
        }
        for (size_t i = 0; i < kXcbcBlock; ++i) {
            buf_[i] ^= k[i];
        }
        QVPN_TRY(cbc(buf_, kXcbcBlock));
        std::memcpy(out, last_, kXcbcBlock);
        return ok_status();
    }

    ~XcbcState() {
        OPENSSL_cleanse(k2_, sizeof k2_);
        OPENSSL_cleanse(k3_, sizeof k3_);
        OPENSSL_cleanse(buf_, sizeof buf_);
        OPENSSL_cleanse(last_, sizeof last_);
    }

private:
    static Status ok_status() { return {}; }

    Status cbc(const uint8_t* p, size_t n) {
        uint8_t scratch[512];
        while (n > 0) {
            size_t chunk = std::min(n, sizeof scratch);
            int outl = 0;
            if (EVP_EncryptUpdate(ctx_.get(), scratch, &outl, p, static_cast<int>(chunk)) != 1 ||
                static_cast<size_t>(outl) != chunk) {
                return ossl::fail_ossl("AES-XCBC");
            }
            std::memcpy(last_, scratch + chunk - kXcbcBlock, kXcbcBlock);
            p += chunk;
            n -= chunk;
        }
        OPENSSL_cleanse(scratch, sizeof scratch);
        return ok_status();
    }

    ossl::CipherCtx ctx_;
    uint8_t k2_[16] = {}, k3_[16] = {};
    uint8_t buf_[16] = {};
    size_t blen_ = 0;
    uint8_t last_[16] = {};
};

}  // namespace

Status xcbc_mac(ByteView key, std::initializer_list<ByteView> parts, uint8_t out[kXcbcBlock]) {
    XcbcState st;
    QVPN_TRY(st.init(key));
    for (ByteView p : parts) {
        QVPN_TRY(st.update(p));
    }
    return st.final(out);
}

Status xcbc_prf_key(ByteView key, uint8_t out[kXcbcBlock]) {
    // RFC 4434 2: a 16-byte key is used as is, a shorter one is padded with
    // zeros, a longer one is replaced by AES-XCBC-PRF-128(0^128, key).
    if (key.size() <= kXcbcBlock) {
        std::memset(out, 0, kXcbcBlock);
        std::memcpy(out, key.data(), key.size());
        return {};
    }
    static const uint8_t zero_key[kXcbcBlock] = {};
    return xcbc_mac(ByteView(zero_key, kXcbcBlock), {key}, out);
}

Result<Mac> Mac::hmac(ossl::MdName md) {
    const EVP_MAC* mac = ossl::hmac();
    if (mac == nullptr || ossl::md(md) == nullptr) {
        return ossl::fail_ossl("HMAC fetch");
    }
    std::shared_ptr<EVP_MAC_CTX> tmpl(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(mac)),
                                      EVP_MAC_CTX_free);
    if (!tmpl) {
        return ossl::fail_ossl("HMAC");
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         const_cast<char*>(md_param_name(md)), 0),
        OSSL_PARAM_construct_end(),
    };
    // OpenSSL 3.0 cannot duplicate an HMAC context that has no key yet, so
    // the template is keyed once with a dummy key; every use re-keys it.
    static const uint8_t dummy[1] = {0};
    if (EVP_MAC_init(tmpl.get(), dummy, sizeof dummy, params) != 1) {
        return ossl::fail_ossl("HMAC");
    }
    Mac m;
    m.out_size_ = EVP_MD_get_size(ossl::md(md));
    m.tmpl_ = std::move(tmpl);
    return m;
}

Result<Mac> Mac::xcbc() {
    if (ossl::cipher("AES-128-CBC") == nullptr || ossl::cipher("AES-128-ECB") == nullptr) {
        return ossl::fail_ossl("AES fetch");
    }
    Mac m;
    m.xcbc_ = true;
    m.out_size_ = kXcbcBlock;
    return m;
}

Status Mac::compute(ByteView key, std::initializer_list<ByteView> parts, uint8_t* out) const {
    if (xcbc_) {
        return xcbc_mac(key, parts, out);
    }
    ossl::MacCtx ctx(EVP_MAC_CTX_dup(tmpl_.get()));
    if (!ctx) {
        return ossl::fail_ossl("HMAC");
    }
    // EVP_MAC_init wants a non-null pointer even for an empty key.
    static const uint8_t empty[1] = {0};
    if (EVP_MAC_init(ctx.get(), key.empty() ? empty : key.data(), key.size(), nullptr) != 1) {
        return ossl::fail_ossl("HMAC");
    }
    for (ByteView p : parts) {
        if (!p.empty() && EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) {
            return ossl::fail_ossl("HMAC");
        }
    }
    size_t outl = 0;
    if (EVP_MAC_final(ctx.get(), out, &outl, out_size_) != 1 || outl != out_size_) {
        return ossl::fail_ossl("HMAC");
    }
    return {};
}

}  // namespace qvpn::ike::crypto::detail
