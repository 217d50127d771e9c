// Byte buffers and bounds-checked wire readers/writers.
//
// Wire parsers never cast packet bytes to structs: they read fields through
// ByteReader, which checks every length first and reports a short buffer as
// a failed read (sticky), so a parser can read a whole header and check once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace qvpn {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_view(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class ByteReader {
public:
    explicit ByteReader(ByteView data) : data_(data) {}

    // Each read returns 0/empty and marks the reader failed when too short.
    uint8_t u8();
    uint16_t u16();  // network byte order
    uint32_t u24();
    uint32_t u32();
    uint64_t u64();
    ByteView bytes(size_t n);
    Bytes copy(size_t n);
    void skip(size_t n);
    ByteView rest();

    size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }
    size_t position() const { return pos_; }
    bool failed() const { return failed_; }
    bool at_end() const { return !failed_ && pos_ == data_.size(); }

private:
    bool need(size_t n);
    ByteView data_;
    size_t pos_ = 0;
    bool failed_ = false;
};

class ByteWriter {
public:
    ByteWriter() = default;
    explicit ByteWriter(Bytes initial) : out_(std::move(initial)) {}

    ByteWriter& u8(uint8_t v);
    ByteWriter& u16(uint16_t v);
    ByteWriter& u24(uint32_t v);
    ByteWriter& u32(uint32_t v);
    ByteWriter& u64(uint64_t v);
    ByteWriter& bytes(ByteView v);
    ByteWriter& zeros(size_t n);

    // Overwrite a 16-bit field written earlier (lengths known only later).
    void patch_u16(size_t offset, uint16_t v);
    void patch_u32(size_t offset, uint32_t v);

    size_t size() const { return out_.size(); }
    const Bytes& data() const { return out_; }
    Bytes take() { return std::move(out_); }

private:
    Bytes out_;
};

// Lower-case hex without separators.
std::string to_hex(ByteView b);
// Accepts an optional 0x/X' prefix, upper or lower case; rejects odd lengths.
Result<Bytes> from_hex(std::string_view hex);

// Constant-time comparison for MACs and hashes.
bool equal_ct(ByteView a, ByteView b);

// Key material: wiped when destroyed or reassigned.
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(size_t n) : b_(n) {}
    explicit SecretBytes(ByteView v) : b_(v.begin(), v.end()) {}
    explicit SecretBytes(Bytes&& v) : b_(std::move(v)) {}
    SecretBytes(const SecretBytes& o) : b_(o.b_) {}
    SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) {}
    SecretBytes& operator=(const SecretBytes& o);
    SecretBytes& operator=(SecretBytes&& o) noexcept;
    ~SecretBytes() { wipe(); }

    void wipe();
    uint8_t* data() { return b_.data(); }
    const uint8_t* data() const { return b_.data(); }
    size_t size() const { return b_.size(); }
    bool empty() const { return b_.empty(); }
    void resize(size_t n);
    ByteView view() const { return {b_.data(), b_.size()}; }
    operator ByteView() const { return view(); }
    // A sub-range copy (for splitting derived key material).
    SecretBytes slice(size_t off, size_t len) const;

private:
    Bytes b_;
};

}  // namespace qvpn
