#include "daemon/sa/userspace/esp_crypto.hpp"

#include <cstdio>
#include <mutex>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "daemon/sa/algorithms.hpp"
#include "daemon/sa/sa_json.hpp"

namespace qvpn::sa::us {

using ike::EncrId;
using ike::IntegId;

namespace {

std::string ossl_error() {
    unsigned long e = ERR_get_error();
    if (!e) {
        return "OpenSSL gave no reason";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

Failure cipher_fail(std::string_view alg, uint32_t spi, const std::string& why) {
    char spi_text[12];
    std::snprintf(spi_text, sizeof spi_text, "%08x", spi);
    return fail("ESP0007", alg, spi_text, why);
}

struct CipherFree {
    void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherFree>;

CipherPtr fetch(const char* name) { return CipherPtr(EVP_CIPHER_fetch(nullptr, name, nullptr)); }

const char* aes_name(const char* mode, unsigned bits) {
    static const char* const kNames[][3] = {
        {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"},
        {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"},
        {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"},
        {"AES-128-CCM", "AES-192-CCM", "AES-256-CCM"},
        {"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"},
    };
    int m = std::string_view(mode) == "CBC"   ? 0
            : std::string_view(mode) == "CTR" ? 1
            : std::string_view(mode) == "GCM" ? 2
            : std::string_view(mode) == "CCM" ? 3
                                              : 4;
    int k = bits == 128 ? 0 : bits == 192 ? 1 : 2;
    return kNames[m][k];
}

const char* hmac_digest(IntegId id) {
    switch (id) {
    case IntegId::AUTH_HMAC_MD5_96: return "MD5";
    case IntegId::AUTH_HMAC_SHA1_96: return "SHA1";
    case IntegId::AUTH_HMAC_SHA2_256_128: return "SHA256";
    case IntegId::AUTH_HMAC_SHA2_384_192: return "SHA384";
    case IntegId::AUTH_HMAC_SHA2_512_256: return "SHA512";
    default: return nullptr;
    }
}

}  // namespace

bool crypto_init() {
    static std::once_flag once;
    // Kept for the life of the process (providers stay loaded).
    static OSSL_PROVIDER* dflt = nullptr;
    static OSSL_PROVIDER* legacy = nullptr;
    std::call_once(once, [] {
        // Loading any provider explicitly stops OpenSSL from loading the
        // default one implicitly, so load both. Legacy (single DES) may be
        // missing; DES SAs then fail with ESP0007 at creation.
        dflt = OSSL_PROVIDER_load(nullptr, "default");
        legacy = OSSL_PROVIDER_load(nullptr, "legacy");
        ERR_clear_error();
    });
    return dflt != nullptr;
}

// ---------------------------------------------------------------- integrity

Integrity::~Integrity() {
    EVP_MAC_CTX_free(mac_);
    EVP_CIPHER_CTX_free(xcbc_);
    OPENSSL_cleanse(k2_, sizeof k2_);
    OPENSSL_cleanse(k3_, sizeof k3_);
}

Result<std::unique_ptr<Integrity>> Integrity::create(IntegId id, ByteView key) {
    crypto_init();
    const IntegInfo* info = integ_info(id);
    if (!info || key.size() != info->key_bits / 8u) {
        return fail("XFR0002", std::string(integ_name(id)), "ESP");
    }
    std::unique_ptr<Integrity> in(new Integrity);
    in->icv_len_ = info->icv_bits / 8u;
    if (id == IntegId::AUTH_AES_XCBC_96) {
        // RFC 3566 4: K1, K2, K3 are the key's encryptions of 0x01.., 0x02..,
        // 0x03.. blocks.
        CipherPtr ecb = fetch("AES-128-ECB");
        CipherPtr cbc = fetch("AES-128-CBC");
        EVP_CIPHER_CTX* e = EVP_CIPHER_CTX_new();
        uint8_t consts[48], ks[48];
        for (int i = 0; i < 48; ++i) {
            consts[i] = uint8_t(i / 16 + 1);
        }
        int n = 0;
        bool good = ecb && cbc && e && EVP_EncryptInit_ex(e, ecb.get(), nullptr, key.data(), nullptr) &&
                    EVP_CIPHER_CTX_set_padding(e, 0) &&
                    EVP_EncryptUpdate(e, ks, &n, consts, sizeof consts) && n == 48;
        EVP_CIPHER_CTX_free(e);
        static const uint8_t kZeroIv[16] = {};
        in->xcbc_ = EVP_CIPHER_CTX_new();
        good = good && in->xcbc_ &&
               EVP_EncryptInit_ex(in->xcbc_, cbc.get(), nullptr, ks, kZeroIv) &&
               EVP_CIPHER_CTX_set_padding(in->xcbc_, 0);
        std::memcpy(in->k2_, ks + 16, 16);
        std::memcpy(in->k3_, ks + 32, 16);
        OPENSSL_cleanse(ks, sizeof ks);
        if (!good) {
            return fail("ESP0007", "AUTH_AES_XCBC_96", "-", ossl_error());
        }
        return in;
    }
    static EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    const char* digest = hmac_digest(id);
    if (!hmac || !digest) {
        return fail("ESP0007", std::string(integ_name(id)), "-", ossl_error());
    }
    in->mac_ = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (!in->mac_ || !EVP_MAC_init(in->mac_, key.data(), key.size(), params)) {
        return fail("ESP0007", std::string(integ_name(id)), "-", ossl_error());
    }
    return in;
}

bool Integrity::compute(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen,
                        uint8_t* out) {
    if (xcbc_) {
        return xcbc(a, alen, b, blen, out);
    }
    uint8_t full[EVP_MAX_MD_SIZE];
    size_t n = 0;
    // init without a key restarts from the precomputed inner pad state
    if (!EVP_MAC_init(mac_, nullptr, 0, nullptr) || !EVP_MAC_update(mac_, a, alen) ||
        (blen && !EVP_MAC_update(mac_, b, blen)) ||
        !EVP_MAC_final(mac_, full, &n, sizeof full) || n < icv_len_) {
        return false;
    }
    std::memcpy(out, full, icv_len_);
    return true;
}

bool Integrity::xcbc(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen,
                     uint8_t* out) {
    static const uint8_t kZeroIv[16] = {};
    if (!EVP_EncryptInit_ex(xcbc_, nullptr, nullptr, nullptr, kZeroIv)) {
        return false;
    }
    size_t total = alen + blen;
    // RFC 3566 4: every block but the last goes through plain CBC-MAC.
    size_t last = total == 0 ? 0 : ((total - 1) / 16) * 16;
    uint8_t scratch[512 + 16];
    auto feed = [&](const uint8_t* p, size_t n) {
        while (n) {
            size_t chunk = n > 512 ? 512 : n;
            int outl = 0;
            if (!EVP_EncryptUpdate(xcbc_, scratch, &outl, p, int(chunk))) {
                return false;
            }
            p += chunk;
            n -= chunk;
        }
        return true;
    };
    size_t from_a = alen < last ? alen : last;
    if (!feed(a, from_a) || !feed(b, last - from_a)) {
        return false;
    }
    uint8_t blk[16] = {};
    size_t tail = total - last;
    for (size_t i = 0; i < tail; ++i) {
        size_t pos = last + i;
        blk[i] = pos < alen ? a[pos] : b[pos - alen];
    }
    const uint8_t* k = k2_;
    if (tail < 16) {
        blk[tail] = 0x80;  // 10* padding
        k = k3_;
    }
    for (int i = 0; i < 16; ++i) {
        blk[i] ^= k[i];
    }
    int outl = 0;
    if (!EVP_EncryptUpdate(xcbc_, scratch, &outl, blk, 16) || outl != 16) {
        return false;
    }
    std::memcpy(out, scratch, icv_len_);
    return true;
}

// ---------------------------------------------------------------- ESP

std::string_view to_string(EspTransform::Verdict v) {
    switch (v) {
    case EspTransform::Verdict::Ok: return "ok";
    case EspTransform::Verdict::Short: return "packet too short";
    case EspTransform::Verdict::Alignment: return "ciphertext not block aligned";
    case EspTransform::Verdict::Integrity: return "integrity check failed";
    case EspTransform::Verdict::Padding: return "bad padding";
    case EspTransform::Verdict::Internal: return "cipher failure";
    }
    return "?";
}

EspTransform::~EspTransform() {
    EVP_CIPHER_CTX_free(ctx_);
    EVP_CIPHER_CTX_free(ivgen_);
    OPENSSL_cleanse(salt_, sizeof salt_);
}

Result<std::unique_ptr<EspTransform>> EspTransform::create(const SaKeys& k, bool esn,
                                                           bool encrypt) {
    if (!crypto_init()) {
        return cipher_fail(encr_name(k.encr), k.spi, "the OpenSSL default provider is missing");
    }
    const EncrInfo* info = encr_info(k.encr);
    if (!info || k.encr_key.size() != encr_key_bytes(*info, k.encr_key_bits)) {
        return fail("XFR0002", std::string(encr_name(k.encr)), "ESP");
    }
    std::unique_ptr<EspTransform> t(new EspTransform);
    t->esn_ = esn;
    t->encrypt_ = encrypt;
    t->iv_len_ = info->iv_bytes;
    t->block_ = info->block_bytes;
    size_t key_len = k.encr_key_bits / 8u;
    if (info->salt_bytes) {
        std::memcpy(t->salt_, k.encr_key.data() + key_len, info->salt_bytes);
    }

    const char* cipher = nullptr;
    switch (k.encr) {
    case EncrId::ENCR_AES_CBC:
        t->kind_ = Kind::Cbc;
        cipher = aes_name("CBC", k.encr_key_bits);
        break;
    case EncrId::ENCR_3DES:
        t->kind_ = Kind::Cbc;
        cipher = "DES-EDE3-CBC";
        break;
    case EncrId::ENCR_DES:
        t->kind_ = Kind::Cbc;
        cipher = "DES-CBC";
        break;
    case EncrId::ENCR_AES_CTR:
        t->kind_ = Kind::Ctr;
        cipher = aes_name("CTR", k.encr_key_bits);
        break;
    case EncrId::ENCR_AES_GCM_8:
    case EncrId::ENCR_AES_GCM_12:
    case EncrId::ENCR_AES_GCM_16:
        t->kind_ = Kind::Gcm;
        cipher = aes_name("GCM", k.encr_key_bits);
        break;
    case EncrId::ENCR_NULL_AUTH_AES_GMAC:
        t->kind_ = Kind::Gmac;
        cipher = aes_name("GCM", k.encr_key_bits);
        break;
    case EncrId::ENCR_AES_CCM_8:
    case EncrId::ENCR_AES_CCM_12:
    case EncrId::ENCR_AES_CCM_16:
        t->kind_ = Kind::Ccm;
        cipher = aes_name("CCM", k.encr_key_bits);
        break;
    case EncrId::ENCR_NULL:
        t->kind_ = Kind::Null;
        break;
    }

    if (info->aead) {
        t->icv_len_ = info->icv_bytes;
    } else {
        QVPN_ASSIGN(t->integ_, Integrity::create(k.integ, k.integ_key));
        t->icv_len_ = t->integ_->icv_len();
    }
    if (!cipher) {
        return t;
    }

    CipherPtr c = fetch(cipher);
    if (!c) {
        return cipher_fail(encr_name(k.encr), k.spi,
                           std::string(cipher) + " is not available: " + ossl_error());
    }
    t->ctx_ = EVP_CIPHER_CTX_new();
    int enc = encrypt ? 1 : 0;
    bool good = t->ctx_ && EVP_CipherInit_ex(t->ctx_, c.get(), nullptr, nullptr, nullptr, enc);
    if (good && t->kind_ == Kind::Ccm) {
        // RFC 4309 4: 11-byte nonce (3-byte salt, 8-byte IV); the ICV
        // length is part of CCM's first block, so set it before the key.
        good = EVP_CIPHER_CTX_ctrl(t->ctx_, EVP_CTRL_AEAD_SET_IVLEN, 11, nullptr) &&
               EVP_CIPHER_CTX_ctrl(t->ctx_, EVP_CTRL_AEAD_SET_TAG, int(t->icv_len_), nullptr);
    }
    good = good && EVP_CipherInit_ex(t->ctx_, nullptr, nullptr, k.encr_key.data(), nullptr, enc);
    if (good && t->kind_ == Kind::Cbc) {
        good = EVP_CIPHER_CTX_set_padding(t->ctx_, 0);
    }
    if (good && t->kind_ == Kind::Cbc && encrypt) {
        // RFC 4303 3.2 / RFC 3602 2.3: CBC IVs must be unpredictable. They are
        // the encryption of the sequence number under a random per-SA key:
        // unique and unpredictable without a random draw per packet.
        uint8_t ivkey[16];
        CipherPtr ecb = fetch("AES-128-ECB");
        t->ivgen_ = EVP_CIPHER_CTX_new();
        good = ecb && t->ivgen_ && RAND_bytes(ivkey, sizeof ivkey) == 1 &&
               EVP_EncryptInit_ex(t->ivgen_, ecb.get(), nullptr, ivkey, nullptr) &&
               EVP_CIPHER_CTX_set_padding(t->ivgen_, 0);
        OPENSSL_cleanse(ivkey, sizeof ivkey);
    }
    if (!good) {
        return cipher_fail(encr_name(k.encr), k.spi, ossl_error());
    }
    return t;
}

bool EspTransform::make_iv(uint64_t seq, uint8_t* iv) {
    if (kind_ != Kind::Cbc) {
        // Counter modes need a unique IV only: the sequence number is one
        // (RFC 4106 3.1, RFC 3686 3.1).
        put_be64(iv, seq);
        return true;
    }
    uint8_t in[16] = {}, out[16];
    put_be64(in, seq);
    int n = 0;
    if (!EVP_EncryptUpdate(ivgen_, out, &n, in, 16) || n != 16) {
        return false;
    }
    std::memcpy(iv, out, iv_len_);
    return true;
}

bool EspTransform::cipher_run(const uint8_t* iv, uint8_t* data, size_t len) {
    uint8_t ctr_block[16];
    const uint8_t* use_iv = iv;
    if (kind_ == Kind::Ctr) {
        // RFC 3686 4: nonce || IV || 32-bit block counter starting at 1.
        std::memcpy(ctr_block, salt_, 4);
        std::memcpy(ctr_block + 4, iv, 8);
        put_be32(ctr_block + 12, 1);
        use_iv = ctr_block;
    }
    int n = 0;
    return EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, use_iv, encrypt_ ? 1 : 0) &&
           EVP_CipherUpdate(ctx_, data, &n, data, int(len)) && size_t(n) == len;
}

// AAD per RFC 4106 5 / RFC 4309 5: SPI and the (extended) sequence number.
// For GMAC (RFC 4543 3.3) the IV and the whole payload are AAD as well.
static size_t build_aad(const uint8_t* hdr, bool esn, uint64_t seq, uint8_t* aad) {
    std::memcpy(aad, hdr, 4);
    if (esn) {
        // The low half comes from the packet itself, so the ICV covers the
        // bytes on the wire; only the high half is inferred.
        put_be32(aad + 4, uint32_t(seq >> 32));
        std::memcpy(aad + 8, hdr + 4, 4);
        return 12;
    }
    std::memcpy(aad + 4, hdr + 4, 4);
    return 8;
}

bool EspTransform::aead_seal(uint8_t* hdr, size_t plen, uint64_t seq) {
    uint8_t nonce[12];
    size_t salt_len = kind_ == Kind::Ccm ? 3 : 4;
    std::memcpy(nonce, salt_, salt_len);
    std::memcpy(nonce + salt_len, hdr + 8, 8);
    uint8_t* payload = hdr + 8 + iv_len_;
    uint8_t* icv = payload + plen;
    uint8_t aad[12];
    size_t aad_len = build_aad(hdr, esn_, seq, aad);
    int n = 0;
    if (!EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, 1)) {
        return false;
    }
    if (kind_ == Kind::Ccm && !EVP_CipherUpdate(ctx_, nullptr, &n, nullptr, int(plen))) {
        return false;
    }
    if (!EVP_CipherUpdate(ctx_, nullptr, &n, aad, int(aad_len))) {
        return false;
    }
    if (kind_ == Kind::Gmac) {
        if (!EVP_CipherUpdate(ctx_, nullptr, &n, hdr + 8, int(iv_len_ + plen))) {
            return false;
        }
    } else if (plen && !EVP_CipherUpdate(ctx_, payload, &n, payload, int(plen))) {
        return false;
    }
    return EVP_CipherFinal_ex(ctx_, payload + plen, &n) &&
           EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, int(icv_len_), icv);
}

bool EspTransform::aead_open(uint8_t* hdr, size_t clen, uint64_t seq) {
    uint8_t nonce[12];
    size_t salt_len = kind_ == Kind::Ccm ? 3 : 4;
    std::memcpy(nonce, salt_, salt_len);
    std::memcpy(nonce + salt_len, hdr + 8, 8);
    uint8_t* payload = hdr + 8 + iv_len_;
    uint8_t* icv = payload + clen;
    uint8_t aad[12];
    size_t aad_len = build_aad(hdr, esn_, seq, aad);
    int n = 0;
    if (!EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, 0) ||
        !EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, int(icv_len_), icv)) {
        return false;
    }
    if (kind_ == Kind::Ccm) {
        // CCM verifies inside the data update; there is no final step.
        return EVP_CipherUpdate(ctx_, nullptr, &n, nullptr, int(clen)) &&
               EVP_CipherUpdate(ctx_, nullptr, &n, aad, int(aad_len)) &&
               EVP_CipherUpdate(ctx_, payload, &n, payload, int(clen)) > 0;
    }
    if (!EVP_CipherUpdate(ctx_, nullptr, &n, aad, int(aad_len))) {
        return false;
    }
    if (kind_ == Kind::Gmac) {
        if (!EVP_CipherUpdate(ctx_, nullptr, &n, hdr + 8, int(iv_len_ + clen))) {
            return false;
        }
    } else if (clen && !EVP_CipherUpdate(ctx_, payload, &n, payload, int(clen))) {
        return false;
    }
    return EVP_CipherFinal_ex(ctx_, payload + clen, &n) > 0;
}

bool EspTransform::seal(Pkt& p, uint32_t spi, uint64_t seq, uint8_t next_header,
                        size_t tfc_pad_to) {
    // RFC 4303 2.7: TFC padding sits between the payload and the padding.
    if (tfc_pad_to > p.len) {
        size_t n = tfc_pad_to - p.len;
        uint8_t* z = p.put(n);
        if (!z) {
            return false;
        }
        std::memset(z, 0, n);
    }
    // RFC 4303 2.4: pad so the payload, pad length and next header end on
    // the cipher's block boundary (4 at least); padding bytes are 1, 2, 3...
    size_t pad = (block_ - (p.len + 2) % block_) % block_;
    uint8_t* tr = p.put(pad + 2 + icv_len_);
    if (!tr || !p.push(8 + iv_len_)) {
        return false;
    }
    for (size_t i = 0; i < pad; ++i) {
        tr[i] = uint8_t(i + 1);
    }
    tr[pad] = uint8_t(pad);
    tr[pad + 1] = next_header;
    uint8_t* hdr = p.data();
    put_be32(hdr, spi);
    put_be32(hdr + 4, uint32_t(seq));
    if (iv_len_ && !make_iv(seq, hdr + 8)) {
        return false;
    }
    size_t plen = p.len - 8 - iv_len_ - icv_len_;  // payload + padding + trailer
    if (kind_ == Kind::Gcm || kind_ == Kind::Ccm || kind_ == Kind::Gmac) {
        return aead_seal(hdr, plen, seq);
    }
    if (kind_ != Kind::Null && !cipher_run(hdr + 8, hdr + 8 + iv_len_, plen)) {
        return false;
    }
    // RFC 4303 2.2.1: with ESN the high half of the sequence number is
    // covered by the ICV without being sent.
    uint8_t hi[4];
    put_be32(hi, uint32_t(seq >> 32));
    return integ_->compute(hdr, 8 + iv_len_ + plen, hi, esn_ ? 4 : 0,
                           hdr + 8 + iv_len_ + plen);
}

EspTransform::Verdict EspTransform::open(Pkt& p, uint64_t seq, uint8_t& next_header) {
    if (p.len < 8 + iv_len_ + icv_len_ + 2) {
        return Verdict::Short;
    }
    uint8_t* hdr = p.data();
    size_t clen = p.len - 8 - iv_len_ - icv_len_;
    if (clen % block_ != 0) {
        return Verdict::Alignment;
    }
    if (kind_ == Kind::Gcm || kind_ == Kind::Ccm || kind_ == Kind::Gmac) {
        if (!aead_open(hdr, clen, seq)) {
            return Verdict::Integrity;
        }
    } else {
        uint8_t icv[64];
        uint8_t hi[4];
        put_be32(hi, uint32_t(seq >> 32));
        if (!integ_->compute(hdr, 8 + iv_len_ + clen, hi, esn_ ? 4 : 0, icv)) {
            return Verdict::Internal;
        }
        if (!equal_ct(ByteView(icv, icv_len_), ByteView(hdr + 8 + iv_len_ + clen, icv_len_))) {
            return Verdict::Integrity;
        }
        if (kind_ != Kind::Null && !cipher_run(hdr + 8, hdr + 8 + iv_len_, clen)) {
            return Verdict::Internal;
        }
    }
    uint8_t* plain = hdr + 8 + iv_len_;
    next_header = plain[clen - 1];
    size_t pad = plain[clen - 2];
    if (pad + 2 > clen) {
        return Verdict::Padding;
    }
    // RFC 4303 2.4: the default padding is 1, 2, 3, ...; check it.
    const uint8_t* pb = plain + clen - 2 - pad;
    for (size_t i = 0; i < pad; ++i) {
        if (pb[i] != uint8_t(i + 1)) {
            return Verdict::Padding;
        }
    }
    p.pull(8 + iv_len_);
    p.trim(icv_len_ + pad + 2);
    return Verdict::Ok;
}

}  // namespace qvpn::sa::us
