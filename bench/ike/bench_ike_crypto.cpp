// bench_ike_crypto: how many IKE crypto operations per second one core does,
// as a table. The key manager's 1000-handshake target needs, per IKE SA,
// one DH key pair and shared secret per side, one signature and one
// verification (or two PSK MICs), a few dozen PRF calls and the SK payload
// encryptions; the rows below measure each of those.
//
// Usage: bench_ike_crypto [seconds per row, default 0.3]
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "core/base/clock.hpp"
#include "daemon/ike/auth/auth.hpp"
#include "daemon/ike/crypto/cipher.hpp"
#include "daemon/ike/crypto/dh.hpp"
#include "daemon/ike/crypto/keymat.hpp"
#include "daemon/ike/crypto/prf.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::crypto;

namespace {

double g_seconds = 0.3;
bool g_failed = false;

// Runs `op` repeatedly for about g_seconds and prints one table row.
void row(const std::string& name, const std::function<bool()>& op) {
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    auto until = start + std::chrono::duration<double>(g_seconds);
    long n = 0;
    while (Clock::now() < until) {
        if (!op()) {
            std::printf("%-44s %12s\n", name.c_str(), "FAILED");
            g_failed = true;
            return;
        }
        ++n;
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-44s %12.0f %10.1f\n", name.c_str(), n / secs, 1e6 * secs / n);
}

auth::PrivateKey keygen(const char* type, const char* curve) {
    EVP_PKEY* k = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048});
    auth::PrivateKey key = auth::PrivateKey::from_evp(k);
    EVP_PKEY_free(k);
    return key;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        g_seconds = std::atof(argv[1]);
        if (g_seconds <= 0 || g_seconds > 10) {
            std::fprintf(stderr, "seconds per row must be in (0, 10]\n");
            return 2;
        }
    }
    SystemRandom rng;
    std::printf("%-44s %12s %10s\n", "operation", "ops/s", "us/op");
    std::printf("%-44s %12s %10s\n", std::string(44, '-').c_str(), "------------", "----------");

    // --- Diffie-Hellman: one side's work is generate + compute -------------------
    for (DhId id : {DhId::MODP_2048, DhId::ECP_256, DhId::ECP_384}) {
        auto g = DhGroup::create(id);
        auto peer = g->generate(rng);
        if (!g.ok() || !peer.ok()) {
            return 1;
        }
        std::string name(g->name());
        row("DH " + name + " generate", [&] { return g->generate(rng).ok(); });
        auto mine = g->generate(rng);
        row("DH " + name + " shared secret (with checks)",
            [&] { return mine->compute(peer->public_value()).ok(); });
    }

    // --- signatures ----------------------------------------------------------------
    const Bytes octets(600, 0x5a);
    struct Sig {
        const char* name;
        auth::PrivateKey key;
        auth::SignScheme scheme;
    };
    Sig sigs[] = {
        {"RSA-2048 PKCS#1 SHA-1 (method 1)", keygen("RSA", nullptr),
         {AuthMethod::RSA_DIGITAL_SIGNATURE, HashAlgorithm::SHA1}},
        {"RSA-2048 SHA-256 (method 14)", keygen("RSA", nullptr),
         {AuthMethod::DIGITAL_SIGNATURE, HashAlgorithm::SHA2_256}},
        {"ECDSA P-256 SHA-256 (method 9)", keygen("EC", "P-256"),
         {AuthMethod::ECDSA_SHA256_P256, HashAlgorithm::SHA2_256}},
        {"ECDSA P-384 SHA-384 (method 10)", keygen("EC", "P-384"),
         {AuthMethod::ECDSA_SHA384_P384, HashAlgorithm::SHA2_384}},
    };
    for (auto& s : sigs) {
        auto sig = auth::sign(s.scheme, s.key, octets);
        if (!sig.ok()) {
            return 1;
        }
        auth::PublicKey pub = s.key.public_key();
        row(std::string(s.name) + " sign", [&] { return auth::sign(s.scheme, s.key, octets).ok(); });
        row(std::string(s.name) + " verify",
            [&] { return auth::verify(s.scheme.method, pub, octets, *sig).ok(); });
    }
    auto prf256 = Prf::create(PrfId::PRF_HMAC_SHA2_256);
    row("PSK AUTH (HMAC-SHA-256)",
        [&] { return auth::psk_auth(*prf256, as_view("topsecretstuff"), octets).ok(); });

    // --- key derivation: one IKE SA's SKEYSEED and seven keys -----------------------
    Bytes ni(32, 1), nr(32, 2), gir(32, 3);
    IkeSuite suite{{EncrId::ENCR_AES_GCM_16, 256}, PrfId::PRF_HMAC_SHA2_256, IntegId::NONE,
                   DhId::ECP_256};
    row("IKE SA keys (SKEYSEED + prf+, SHA-256, GCM)", [&] {
        auto seed = skeyseed(*prf256, ni, nr, gir);
        return seed.ok() && derive_ike_keys(suite, *prf256, *seed, ni, nr, 1, 2).ok();
    });
    auto xcbc = Prf::create(PrfId::PRF_AES128_XCBC);
    row("AES-XCBC-PRF-128 over 64 bytes",
        [&] { return xcbc->compute(Bytes(16, 1), Bytes(64, 2)).ok(); });

    // --- SK payload encryption at 1400 bytes -------------------------------------------
    const Bytes plain(1400, 0x42), aad(32, 0x01), iv(8, 0x07);
    struct Enc {
        EncrId id;
        uint16_t bits;
    } encs[] = {{EncrId::ENCR_AES_GCM_16, 128}, {EncrId::ENCR_AES_GCM_16, 256},
                {EncrId::ENCR_AES_CCM_16, 128}, {EncrId::ENCR_AES_CTR, 128}};
    for (auto e : encs) {
        auto c = Cipher::create(e.id, e.bits);
        Bytes key(c->key_size(), 0x33);
        auto ct = c->encrypt(key, iv, aad, plain);
        std::string name = std::string(c->name()) + "-" + std::to_string(e.bits) + " 1400 B";
        row(name + " encrypt", [&] { return c->encrypt(key, iv, aad, plain).ok(); });
        row(name + " decrypt", [&] { return c->decrypt(key, iv, aad, *ct).ok(); });
    }
    auto cbc = Cipher::create(EncrId::ENCR_AES_CBC, 128);
    // CBC plaintext is padded to the block size by the caller: 1408 bytes.
    Bytes cbc_key(16, 0x33), cbc_iv(16, 0x07), padded(1408, 0x42);
    row("ENCR_AES_CBC-128 1408 B encrypt",
        [&] { return cbc->encrypt(cbc_key, cbc_iv, {}, padded).ok(); });
    return g_failed ? 1 : 0;
}
