// IPComp (RFC 3173) with DEFLATE (RFC 2394) in userspace, through zlib.
// Raw deflate streams with a 2^11 window, as the Linux kernel uses, so its
// decompressor (which allocates only that window) always accepts ours.
// One Deflater per thread; nothing allocates per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace qvpn::sa::us {

inline constexpr uint8_t kIpprotoComp = 108;
inline constexpr size_t kIpcompHdr = 4;
// Below this size compression rarely pays (the kernel's threshold for
// deflate is the same); such packets go out uncompressed (RFC 3173 2.2).
inline constexpr size_t kIpcompThreshold = 90;

class Deflater {
public:
    Deflater();
    ~Deflater();
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;
    bool ok() const { return ok_; }

    // Compress in into out (at most out_cap bytes). Returns the compressed
    // length, or 0 if the result would not be smaller than the input.
    size_t compress(const uint8_t* in, size_t len, uint8_t* out, size_t out_cap);
    // Decompress; returns the length, or 0 on a malformed stream or one
    // that does not fit in out_cap.
    size_t decompress(const uint8_t* in, size_t len, uint8_t* out, size_t out_cap);

private:
    struct Streams;
    std::unique_ptr<Streams> s_;
    bool ok_ = false;
};

}  // namespace qvpn::sa::us
