// Keys at rest: the system key pair, sealed boxes and passphrase boxes.
//
// Preshared keys, manual keys and certificate private keys are stored in the
// policy database sealed to the system's X25519 public key:
//
//   sealed = 0x01 || ephemeral X25519 public key (32) || nonce (12)
//            || AES-256-GCM ciphertext || tag (16)
//   key    = HKDF-SHA256(ikm = X25519(ephemeral, system public key),
//                        salt = ephemeral public || system public,
//                        info = "qvpn sealed box v1 " || context)
//
// `context` (e.g. "PSK") is also the GCM additional data, so a blob sealed
// for one purpose does not open as another. Anyone who can read
// $QVPN_ROOT/secret/system.pub (0644) can seal; only root can read
// system.key (0600) and open. CPYVPNCFGF exports keys under an operator
// passphrase instead:
//
//   boxed  = 0x02 || nonce (12) || AES-256-GCM ciphertext || tag (16)
//   key    = scrypt(passphrase, salt, N, r, p), 32 bytes
//
// All cryptography goes through OpenSSL EVP.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace qvpn::policy::crypto {

inline constexpr size_t kX25519KeyLen = 32;
inline constexpr size_t kSealOverhead = 1 + 32 + 12 + 16;
inline constexpr size_t kBoxOverhead = 1 + 12 + 16;

std::string system_private_path(const std::string& secret_dir);  // <dir>/system.key
std::string system_public_path(const std::string& secret_dir);   // <dir>/system.pub

// Create the key pair when it does not exist yet (needs write access to the
// secret directory, i.e. root). Safe against a concurrent creator: the first
// one wins and the other uses its files.
Status ensure_system_key(const std::string& secret_dir);
bool system_key_exists(const std::string& secret_dir);

// The raw 32-byte public key (PDB0011 when unreadable or missing).
Result<Bytes> load_system_public(const std::string& secret_dir);
// The raw 32-byte private key (PDB0011: only root can read it).
Result<SecretBytes> load_system_private(const std::string& secret_dir);

Result<Bytes> seal(ByteView recipient_public, ByteView plaintext, std::string_view context);
Result<SecretBytes> unseal(const SecretBytes& recipient_private, ByteView sealed,
                           std::string_view context);

struct ScryptParams {
    Bytes salt;             // 16 random bytes for a new export
    uint64_t n = 32768;     // cost (2^15)
    uint32_t r = 8;
    uint32_t p = 1;
};
// Fails with PDB0014 for parameters outside sane bounds (n a power of two
// from 2^10 to 2^20, r 1-32, p 1-16, salt 8-64 bytes): an imported file must
// not make us allocate gigabytes.
Result<SecretBytes> derive_passphrase_key(std::string_view passphrase, const ScryptParams& p);
Result<Bytes> box(const SecretBytes& key, ByteView plaintext, std::string_view context);
Result<SecretBytes> unbox(const SecretBytes& key, ByteView boxed, std::string_view context);

Bytes random_bytes(size_t n);

}  // namespace qvpn::policy::crypto
