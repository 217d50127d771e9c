// Time and randomness behind interfaces, so protocol code is deterministic
// in tests (an in-memory clock and a seeded generator) and real in daemons.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace qvpn {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    virtual SteadyTime now() const = 0;
    virtual WallTime wall() const = 0;
};

class SystemClock final : public Clock {
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    WallTime wall() const override { return std::chrono::system_clock::now(); }
};

class Random {
public:
    virtual ~Random() = default;
    virtual void fill(std::span<uint8_t> out) = 0;
    uint32_t u32();
};

// OpenSSL's RAND_bytes.
class SystemRandom final : public Random {
public:
    void fill(std::span<uint8_t> out) override;
};

// Deterministic generator for tests (not for key material in production).
class SeededRandom final : public Random {
public:
    explicit SeededRandom(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ULL) {}
    void fill(std::span<uint8_t> out) override;

private:
    uint64_t state_;
};

}  // namespace qvpn
