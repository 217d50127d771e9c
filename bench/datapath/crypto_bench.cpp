// bench_datapath_crypto: the cipher ceiling for the data path benchmark.
//
// On 1400-byte buffers, single thread, for AES-GCM-128 and for
// AES-CBC-128 with HMAC-SHA-256-128:
//   bulk    OpenSSL EVP encrypting one long stream (no per-packet set-up; the
//           figure `openssl speed -evp` prints)
//   raw     OpenSSL EVP per packet (key set once; a fresh IV, the AAD and the
//           tag per buffer): the ceiling any ESP implementation on this CPU
//           and library can reach
//   seal    qvpn's EspTransform::seal (ESP header, IV, padding, ICV)
//   open    qvpn's EspTransform::open (ICV check, decrypt, padding check)
// Prints one line per measurement: "<name> <Gbit/s> <ns per packet>", and
// "# ..." comments. Used by bench/datapath/run.sh.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <cstdio>
#include <cstring>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "daemon/sa/userspace/esp_crypto.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using namespace qvpn::sa::us;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kLen = 1400;

// The best of three timed rounds: on a shared machine the slowest rounds
// measure the neighbours, the fastest one the code.
double run(const char* name, double seconds, const std::function<bool()>& one) {
    for (int i = 0; i < 2000; ++i) {
        one();  // warm up
    }
    double best_gbps = 0, best_ns = 0;
    for (int round = 0; round < 3; ++round) {
        uint64_t n = 0;
        auto t0 = Clock::now();
        auto end = t0 + std::chrono::duration<double>(seconds / 3);
        while (Clock::now() < end) {
            for (int i = 0; i < 1000; ++i) {
                if (!one()) {
                    std::printf("# %s failed\n", name);
                    return 0;
                }
            }
            n += 1000;
        }
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        double gbps = double(n) * kLen * 8 / secs / 1e9;
        if (gbps > best_gbps) {
            best_gbps = gbps;
            best_ns = secs * 1e9 / double(n);
        }
    }
    std::printf("%s %.2f %.0f\n", name, best_gbps, best_ns);
    return best_gbps;
}

SaKeys keys(ike::EncrId e, ike::IntegId i) {
    SaKeys k;
    k.spi = 0x1000;
    k.encr = e;
    k.encr_key_bits = 128;
    k.encr_key = SecretBytes(e == ike::EncrId::ENCR_AES_CBC ? 16 : 20);
    k.integ = i;
    k.integ_key = SecretBytes(i == ike::IntegId::NONE ? 0 : 32);
    for (size_t n = 0; n < k.encr_key.size(); ++n) {
        k.encr_key.data()[n] = uint8_t(n * 3 + 1);
    }
    for (size_t n = 0; n < k.integ_key.size(); ++n) {
        k.integ_key.data()[n] = uint8_t(n * 5 + 2);
    }
    return k;
}

}  // namespace

int main(int argc, char** argv) {
    double secs = argc > 1 ? std::atof(argv[1]) : 1.0;
    crypto_init();
    std::vector<uint8_t> buf(kLen + 64), out(kLen + 64);
    uint8_t key[32] = {1, 2, 3}, iv[16] = {}, tag[16];
    uint64_t ctr = 0;

    // bulk AES-128-GCM: one long stream, as `openssl speed -evp` measures it
    EVP_CIPHER* gcm0 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    EVP_CIPHER_CTX* g0 = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(g0, gcm0, nullptr, key, iv);
    run("bulk-aes128gcm", secs, [&] {
        int n = 0;
        return EVP_EncryptUpdate(g0, out.data(), &n, buf.data(), int(kLen)) == 1;
    });
    EVP_CIPHER_CTX_free(g0);
    EVP_CIPHER_free(gcm0);

    // raw AES-128-GCM per packet: IV, ESP's 8 bytes of AAD, data, tag
    EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    EVP_CIPHER_CTX* g = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(g, gcm, nullptr, key, nullptr);
    run("raw-aes128gcm", secs, [&] {
        int n = 0;
        std::memcpy(iv, &++ctr, 8);
        return EVP_EncryptInit_ex(g, nullptr, nullptr, nullptr, iv) &&
               EVP_EncryptUpdate(g, nullptr, &n, iv, 8) &&
               EVP_EncryptUpdate(g, out.data(), &n, buf.data(), int(kLen)) &&
               EVP_EncryptFinal_ex(g, out.data() + n, &n) &&
               EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    });

    // raw AES-128-CBC + HMAC-SHA-256 (encrypt-then-MAC, as ESP does)
    EVP_CIPHER* cbc = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, cbc, nullptr, key, nullptr);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* m = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                            const_cast<char*>("SHA256"), 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_init(m, key, 32, params);
    run("raw-aes128cbc-hmacsha256", secs, [&] {
        int n = 0;
        size_t mlen = 0;
        uint8_t mac[32];
        std::memcpy(iv, &++ctr, 8);
        return EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv) &&
               EVP_EncryptUpdate(c, out.data(), &n, buf.data(), int(kLen)) &&
               EVP_MAC_init(m, nullptr, 0, nullptr) && EVP_MAC_update(m, out.data(), kLen) &&
               EVP_MAC_final(m, mac, &mlen, sizeof mac);
    });

    // qvpn's ESP transforms on a 1400-byte inner packet
    struct Alg {
        const char* name;
        ike::EncrId e;
        ike::IntegId i;
    } algs[] = {
        {"aes128gcm", ike::EncrId::ENCR_AES_GCM_16, ike::IntegId::NONE},
        {"aes128cbc-hmacsha256", ike::EncrId::ENCR_AES_CBC, ike::IntegId::AUTH_HMAC_SHA2_256_128},
    };
    std::vector<uint8_t> mem(4096);
    for (const auto& a : algs) {
        SaKeys k = keys(a.e, a.i);
        auto tx = EspTransform::create(k, false, true);
        auto rx = EspTransform::create(k, false, false);
        if (!tx || !rx) {
            std::printf("# %s: cannot create the transforms\n", a.name);
            return 1;
        }
        uint64_t seq = 0;
        Pkt p;
        p.buf = mem.data();
        p.cap = mem.size();
        std::string seal = std::string("qvpn-seal-") + a.name;
        run(seal.c_str(), secs, [&] {
            p.reset(128);
            p.put(kLen);
            return (*tx)->seal(p, k.spi, ++seq, 4);
        });
        // open needs real packets: seal one and open copies of it
        p.reset(128);
        p.put(kLen);
        (*tx)->seal(p, k.spi, 1, 4);
        std::vector<uint8_t> wire(p.data(), p.data() + p.len);
        std::string open = std::string("qvpn-open-") + a.name;
        run(open.c_str(), secs, [&] {
            p.reset(128);
            std::memcpy(p.put(wire.size()), wire.data(), wire.size());
            uint8_t nh = 0;
            return (*rx)->open(p, 1, nh) == EspTransform::Verdict::Ok;
        });
    }
    EVP_CIPHER_CTX_free(g);
    EVP_CIPHER_CTX_free(c);
    EVP_MAC_CTX_free(m);
    EVP_MAC_free(hmac);
    EVP_CIPHER_free(gcm);
    EVP_CIPHER_free(cbc);
    return 0;
}
