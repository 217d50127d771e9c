#include "core/base/clock.hpp"

#include <openssl/rand.h>

#include <cstdlib>

namespace qvpn {

uint32_t Random::u32() {
    uint8_t b[4];
    fill(b);
    return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

void SystemRandom::fill(std::span<uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        // Without randomness no key can be made safely: stop (severity 40).
        std::abort();
    }
}

void SeededRandom::fill(std::span<uint8_t> out) {
    for (auto& b : out) {
        // splitmix64
        state_ += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        b = static_cast<uint8_t>(z ^ (z >> 31));
    }
}

}  // namespace qvpn
