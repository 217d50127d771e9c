#include "core/base/bytes.hpp"

#include <openssl/crypto.h>

namespace qvpn {

bool ByteReader::need(size_t n) {
    if (failed_ || data_.size() - pos_ < n) {
        failed_ = true;
        return false;
    }
    return true;
}

uint8_t ByteReader::u8() {
    if (!need(1)) {
        return 0;
    }
    return data_[pos_++];
}

uint16_t ByteReader::u16() {
    if (!need(2)) {
        return 0;
    }
    uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
}

uint32_t ByteReader::u24() {
    if (!need(3)) {
        return 0;
    }
    uint32_t v = uint32_t(data_[pos_]) << 16 | uint32_t(data_[pos_ + 1]) << 8 | data_[pos_ + 2];
    pos_ += 3;
    return v;
}

uint32_t ByteReader::u32() {
    if (!need(4)) {
        return 0;
    }
    uint32_t v = uint32_t(data_[pos_]) << 24 | uint32_t(data_[pos_ + 1]) << 16 |
                 uint32_t(data_[pos_ + 2]) << 8 | data_[pos_ + 3];
    pos_ += 4;
    return v;
}

uint64_t ByteReader::u64() {
    uint64_t hi = u32();
    uint64_t lo = u32();
    return failed_ ? 0 : (hi << 32 | lo);
}

ByteView ByteReader::bytes(size_t n) {
    if (!need(n)) {
        return {};
    }
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

Bytes ByteReader::copy(size_t n) {
    ByteView v = bytes(n);
    return Bytes(v.begin(), v.end());
}

void ByteReader::skip(size_t n) {
    if (need(n)) {
        pos_ += n;
    }
}

ByteView ByteReader::rest() {
    if (failed_) {
        return {};
    }
    ByteView v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
}

ByteWriter& ByteWriter::u8(uint8_t v) {
    out_.push_back(v);
    return *this;
}

ByteWriter& ByteWriter::u16(uint16_t v) {
    out_.push_back(uint8_t(v >> 8));
    out_.push_back(uint8_t(v));
    return *this;
}

ByteWriter& ByteWriter::u24(uint32_t v) {
    out_.push_back(uint8_t(v >> 16));
    out_.push_back(uint8_t(v >> 8));
    out_.push_back(uint8_t(v));
    return *this;
}

ByteWriter& ByteWriter::u32(uint32_t v) {
    u16(uint16_t(v >> 16));
    return u16(uint16_t(v));
}

ByteWriter& ByteWriter::u64(uint64_t v) {
    u32(uint32_t(v >> 32));
    return u32(uint32_t(v));
}

ByteWriter& ByteWriter::bytes(ByteView v) {
    out_.insert(out_.end(), v.begin(), v.end());
    return *this;
}

ByteWriter& ByteWriter::zeros(size_t n) {
    out_.insert(out_.end(), n, 0);
    return *this;
}

void ByteWriter::patch_u16(size_t offset, uint16_t v) {
    out_.at(offset) = uint8_t(v >> 8);
    out_.at(offset + 1) = uint8_t(v);
}

void ByteWriter::patch_u32(size_t offset, uint32_t v) {
    patch_u16(offset, uint16_t(v >> 16));
    patch_u16(offset + 2, uint16_t(v));
}

std::string to_hex(ByteView b) {
    static const char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(b.size() * 2);
    for (uint8_t c : b) {
        s.push_back(kDigits[c >> 4]);
        s.push_back(kDigits[c & 15]);
    }
    return s;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

Result<Bytes> from_hex(std::string_view hex) {
    std::string_view h = hex;
    if (h.size() >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) {
        h.remove_prefix(2);
    } else if (h.size() >= 3 && (h[0] == 'x' || h[0] == 'X') && h[1] == '\'' && h.back() == '\'') {
        h = h.substr(2, h.size() - 3);
    }
    if (h.size() % 2 != 0) {
        return fail("QVP0002", std::string(hex));
    }
    Bytes out;
    out.reserve(h.size() / 2);
    for (size_t i = 0; i < h.size(); i += 2) {
        int hi = hex_digit(h[i]);
        int lo = hex_digit(h[i + 1]);
        if (hi < 0 || lo < 0) {
            return fail("QVP0002", std::string(hex));
        }
        out.push_back(uint8_t(hi << 4 | lo));
    }
    return out;
}

bool equal_ct(ByteView a, ByteView b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecretBytes& SecretBytes::operator=(const SecretBytes& o) {
    if (this != &o) {
        wipe();
        b_ = o.b_;
    }
    return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
        wipe();
        b_ = std::move(o.b_);
    }
    return *this;
}

void SecretBytes::wipe() {
    if (!b_.empty()) {
        OPENSSL_cleanse(b_.data(), b_.size());
    }
    b_.clear();
}

void SecretBytes::resize(size_t n) {
    if (n < b_.size()) {
        OPENSSL_cleanse(b_.data() + n, b_.size() - n);
    }
    b_.resize(n);
}

SecretBytes SecretBytes::slice(size_t off, size_t len) const {
    if (off > b_.size() || len > b_.size() - off) {
        return SecretBytes();
    }
    return SecretBytes(ByteView(b_.data() + off, len));
}

}  // namespace qvpn
