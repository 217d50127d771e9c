#include "core/policy/secret_box.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

namespace qvpn::policy::crypto {

namespace {

constexpr uint8_t kSealVersion = 0x01;
constexpr uint8_t kBoxVersion = 0x02;
constexpr size_t kNonceLen = 12;
constexpr size_t kTagLen = 16;
constexpr size_t kAeadKeyLen = 32;

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct KdfFree {
    void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxFree {
    void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Failure crypto_failure(std::string_view what) { return fail("PDB0015", std::string(what)); }

Result<Bytes> read_file(const std::string& path, size_t max) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(msg("PDB0011", path).with_errno(errno));
    }
    Bytes out(max + 1);
    ssize_t n = ::read(fd, out.data(), out.size());
    int e = errno;
    ::close(fd);
    if (n < 0 || static_cast<size_t>(n) > max) {
        return fail(msg("PDB0011", path).with_errno(n < 0 ? e : EFBIG));
    }
    out.resize(static_cast<size_t>(n));
    return out;
}

// Write a new file with `mode` and link it into place only if `path` does
// not exist yet (EEXIST is success: someone else created it first).
Status write_new_file(const std::string& path, ByteView data, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return fail(msg("PDB0010", path).with_errno(errno));
    }
    bool ok = ::fchmod(fd, mode) == 0 &&
              ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
              ::fsync(fd) == 0;
    int e = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return fail(msg("PDB0010", path).with_errno(e));
    }
    int rc = ::link(tmp.c_str(), path.c_str());
    e = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && e != EEXIST) {
        return fail(msg("PDB0010", path).with_errno(e));
    }
    return {};
}

Result<Pkey> x25519_from_private(ByteView raw) {
    Pkey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, raw.data(), raw.size()));
    if (!k) {
        return crypto_failure("X25519 private key");
    }
    return k;
}

Result<Bytes> raw_public(EVP_PKEY* k) {
    Bytes pub(kX25519KeyLen);
    size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(k, pub.data(), &len) != 1 || len != kX25519KeyLen) {
        return crypto_failure("X25519 public key");
    }
    return pub;
}

Result<SecretBytes> x25519(EVP_PKEY* mine, ByteView peer_public) {
    Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                          peer_public.size()));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(mine, nullptr));
    if (!peer || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
        return crypto_failure("X25519");
    }
    SecretBytes shared(kX25519KeyLen);
    size_t len = shared.size();
    if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != kX25519KeyLen) {
        return crypto_failure("X25519");
    }
    return shared;
}

Result<SecretBytes> hkdf_sha256(const SecretBytes& ikm, ByteView salt, std::string_view info) {
    std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx) {
        return crypto_failure("HKDF");
    }
    std::string info_s(info);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()),
                                          ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                          const_cast<uint8_t*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_s.data(), info_s.size()),
        OSSL_PARAM_construct_end()};
    SecretBytes out(kAeadKeyLen);
    if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
        return crypto_failure("HKDF");
    }
    return out;
}

// AES-256-GCM; `out` receives ciphertext || tag.
Status gcm_encrypt(const SecretBytes& key, ByteView nonce, ByteView plaintext,
                   std::string_view aad, Bytes& out) {
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    size_t start = out.size();
    out.resize(start + plaintext.size() + kTagLen);
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const uint8_t*>(aad.data()),
                          static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + start, &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + start + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagLen),
                            out.data() + start + plaintext.size()) != 1) {
        return crypto_failure("AES-256-GCM");
    }
    return {};
}

Result<SecretBytes> gcm_decrypt(const SecretBytes& key, ByteView nonce, ByteView sealed,
                                std::string_view aad) {
    if (sealed.size() < kTagLen) {
        return fail("PDB0012");
    }
    size_t ct_len = sealed.size() - kTagLen;
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    SecretBytes out(ct_len);
    int len = 0;
    Bytes tag(sealed.begin() + static_cast<long>(ct_len), sealed.end());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const uint8_t*>(aad.data()),
                          static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(),
                          static_cast<int>(ct_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagLen),
                            tag.data()) != 1) {
        return crypto_failure("AES-256-GCM");
    }
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
        return fail("PDB0012");
    }
    return out;
}

std::string seal_info(std::string_view context) {
    return "qvpn sealed box v1 " + std::string(context);
}

}  // namespace

std::string system_private_path(const std::string& secret_dir) {
    return secret_dir + "/system.key";
}

std::string system_public_path(const std::string& secret_dir) {
    return secret_dir + "/system.pub";
}

bool system_key_exists(const std::string& secret_dir) {
    struct stat st{};
    return ::stat(system_public_path(secret_dir).c_str(), &st) == 0 &&
           ::stat(system_private_path(secret_dir).c_str(), &st) == 0;
}

Bytes random_bytes(size_t n) {
    Bytes b(n);
    if (n != 0 && RAND_bytes(b.data(), static_cast<int>(n)) != 1) {
        // The CSPRNG failing is not something to carry on from.
        std::fprintf(stderr, "QVP0003: RAND_bytes failed\n");
        std::abort();
    }
    return b;
}

Status ensure_system_key(const std::string& secret_dir) {
    if (system_key_exists(secret_dir)) {
        return {};
    }
    if (::mkdir(secret_dir.c_str(), 0711) != 0 && errno != EEXIST) {
        return fail(msg("PDB0010", secret_dir).with_errno(errno));
    }
    // Search permission for others, so members of qvpnadm can read
    // system.pub by name; the directory stays unlistable and system.key
    // stays 0600.
    if (::chmod(secret_dir.c_str(), 0711) != 0) {
        return fail(msg("PDB0010", secret_dir).with_errno(errno));
    }
    struct stat st{};
    if (::stat(system_private_path(secret_dir).c_str(), &st) != 0) {
        Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
        if (!k) {
            return crypto_failure("X25519 key generation");
        }
        SecretBytes raw(kX25519KeyLen);
        size_t len = raw.size();
        if (EVP_PKEY_get_raw_private_key(k.get(), raw.data(), &len) != 1) {
            return crypto_failure("X25519 key generation");
        }
        QVPN_TRY(write_new_file(system_private_path(secret_dir), raw.view(), 0600));
    }
    // The public key is always derived from whichever private key won.
    QVPN_ASSIGN(SecretBytes priv, load_system_private(secret_dir));
    QVPN_ASSIGN(Pkey k, x25519_from_private(priv.view()));
    QVPN_ASSIGN(Bytes pub, raw_public(k.get()));
    return write_new_file(system_public_path(secret_dir), pub, 0644);
}

Result<Bytes> load_system_public(const std::string& secret_dir) {
    QVPN_ASSIGN(Bytes b, read_file(system_public_path(secret_dir), kX25519KeyLen));
    if (b.size() != kX25519KeyLen) {
        return fail("PDB0011", system_public_path(secret_dir));
    }
    return b;
}

Result<SecretBytes> load_system_private(const std::string& secret_dir) {
    QVPN_ASSIGN(Bytes b, read_file(system_private_path(secret_dir), kX25519KeyLen));
    SecretBytes key(std::move(b));
    if (key.size() != kX25519KeyLen) {
        return fail("PDB0011", system_private_path(secret_dir));
    }
    return key;
}

Result<Bytes> seal(ByteView recipient_public, ByteView plaintext, std::string_view context) {
    if (recipient_public.size() != kX25519KeyLen) {
        return crypto_failure("X25519 public key length");
    }
    Pkey eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    if (!eph) {
        return crypto_failure("X25519 key generation");
    }
    QVPN_ASSIGN(Bytes eph_pub, raw_public(eph.get()));
    QVPN_ASSIGN(SecretBytes shared, x25519(eph.get(), recipient_public));
    Bytes salt = eph_pub;
    salt.insert(salt.end(), recipient_public.begin(), recipient_public.end());
    QVPN_ASSIGN(SecretBytes key, hkdf_sha256(shared, salt, seal_info(context)));

    Bytes out;
    out.push_back(kSealVersion);
    out.insert(out.end(), eph_pub.begin(), eph_pub.end());
    Bytes nonce = random_bytes(kNonceLen);
    out.insert(out.end(), nonce.begin(), nonce.end());
    QVPN_TRY(gcm_encrypt(key, nonce, plaintext, context, out));
    return out;
}

Result<SecretBytes> unseal(const SecretBytes& recipient_private, ByteView sealed,
                           std::string_view context) {
    if (sealed.size() < kSealOverhead || sealed[0] != kSealVersion) {
        return fail("PDB0012");
    }
    QVPN_ASSIGN(Pkey mine, x25519_from_private(recipient_private.view()));
    QVPN_ASSIGN(Bytes my_pub, raw_public(mine.get()));
    ByteView eph_pub = sealed.subspan(1, kX25519KeyLen);
    ByteView nonce = sealed.subspan(1 + kX25519KeyLen, kNonceLen);
    ByteView ct = sealed.subspan(1 + kX25519KeyLen + kNonceLen);
    QVPN_ASSIGN(SecretBytes shared, x25519(mine.get(), eph_pub));
    Bytes salt(eph_pub.begin(), eph_pub.end());
    salt.insert(salt.end(), my_pub.begin(), my_pub.end());
    QVPN_ASSIGN(SecretBytes key, hkdf_sha256(shared, salt, seal_info(context)));
    return gcm_decrypt(key, nonce, ct, context);
}

Result<SecretBytes> derive_passphrase_key(std::string_view passphrase, const ScryptParams& p) {
    bool pow2 = p.n != 0 && (p.n & (p.n - 1)) == 0;
    if (!pow2 || p.n < 1024 || p.n > (1u << 20) || p.r < 1 || p.r > 32 || p.p < 1 ||
        p.p > 16 || p.salt.size() < 8 || p.salt.size() > 64 ||
        128ULL * p.n * p.r > 256ULL * 1024 * 1024) {
        return fail("PDB0014");
    }
    std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx) {
        return crypto_failure("scrypt");
    }
    std::string pass(passphrase);
    uint64_t n = p.n;
    uint32_t r = p.r, par = p.p;
    uint64_t maxmem = 512ULL * 1024 * 1024;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, pass.data(), pass.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                          const_cast<uint8_t*>(p.salt.data()), p.salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end()};
    SecretBytes key(kAeadKeyLen);
    int rc = EVP_KDF_derive(ctx.get(), key.data(), key.size(), params);
    std::fill(pass.begin(), pass.end(), '\0');
    if (rc != 1) {
        return crypto_failure("scrypt");
    }
    return key;
}

Result<Bytes> box(const SecretBytes& key, ByteView plaintext, std::string_view context) {
    Bytes out;
    out.push_back(kBoxVersion);
    Bytes nonce = random_bytes(kNonceLen);
    out.insert(out.end(), nonce.begin(), nonce.end());
    QVPN_TRY(gcm_encrypt(key, nonce, plaintext, context, out));
    return out;
}

Result<SecretBytes> unbox(const SecretBytes& key, ByteView boxed, std::string_view context) {
    if (boxed.size() < kBoxOverhead || boxed[0] != kBoxVersion) {
        return fail("PDB0012");
    }
    return gcm_decrypt(key, boxed.subspan(1, kNonceLen), boxed.subspan(1 + kNonceLen), context);
}

}  // namespace qvpn::policy::crypto
