// Helpers shared by daemon/ike's unit tests.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "core/base/bytes.hpp"

namespace qvpn::ike::test {

// Hex fixture to bytes; spaces are ignored. A malformed fixture is a test bug.
inline Bytes h(std::string_view hex) {
    std::string clean;
    for (char c : hex) {
        if (c != ' ' && c != '\n') {
            clean.push_back(c);
        }
    }
    auto r = from_hex(clean);
    return r.ok() ? *r : Bytes{0xde, 0xad};
}

inline Bytes b(std::string_view text) { return Bytes(text.begin(), text.end()); }

inline std::string hx(ByteView v) { return to_hex(v); }

// One-shot HMAC straight from OpenSSL, independent of the code under test.
inline Bytes ref_hmac(const char* digest, ByteView key, ByteView data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(), data.data(),
              data.size(), out, sizeof out, &len);
    return Bytes(out, out + len);
}

inline Bytes cat(std::initializer_list<ByteView> parts) {
    Bytes out;
    for (ByteView p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

}  // namespace qvpn::ike::test
