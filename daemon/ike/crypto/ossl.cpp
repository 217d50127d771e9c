#include "daemon/ike/crypto/ossl.hpp"

#include <openssl/err.h>

#include <map>
#include <mutex>
#include <string_view>

namespace qvpn::ike::ossl {

const EVP_MD* md(MdName name) {
    static const EVP_MD* const table[] = {
        EVP_MD_fetch(nullptr, "MD5", nullptr),    EVP_MD_fetch(nullptr, "SHA1", nullptr),
        EVP_MD_fetch(nullptr, "SHA256", nullptr), EVP_MD_fetch(nullptr, "SHA384", nullptr),
        EVP_MD_fetch(nullptr, "SHA512", nullptr),
    };
    return table[static_cast<int>(name)];
}

const EVP_MAC* hmac() {
    static const EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

const EVP_CIPHER* cipher(const char* name) {
    // A handful of names over the process's life: a locked map is simple and
    // the lock is taken only when a Cipher object is created.
    // The map is never destroyed, like the fetched ciphers it holds: they
    // stay valid for code that runs during process exit.
    static std::mutex lock;
    static auto* cache = new std::map<std::string, EVP_CIPHER*, std::less<>>;
    std::lock_guard<std::mutex> g(lock);
    auto it = cache->find(std::string_view(name));
    if (it != cache->end()) {
        return it->second;
    }
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name, nullptr);
    cache->emplace(name, c);
    return c;
}

std::string last_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) {
        return "no reason given";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

Failure fail_ossl(const char* operation) { return fail("IKE0003", operation, last_error()); }

}  // namespace qvpn::ike::ossl
