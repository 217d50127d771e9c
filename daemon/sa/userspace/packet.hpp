// A packet in a fixed buffer with room in front and behind, so headers and
// trailers are added and removed in place (no copies, no allocation on the
// packet path). The data path owns the buffers; codecs only move the window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qvpn::sa::us {

struct Pkt {
    uint8_t* buf = nullptr;  // start of the whole buffer
    size_t cap = 0;          // size of the whole buffer
    size_t off = 0;          // start of the packet within buf
    size_t len = 0;          // packet length

    uint8_t* data() { return buf + off; }
    const uint8_t* data() const { return buf + off; }
    size_t headroom() const { return off; }
    size_t tailroom() const { return cap - off - len; }

    // Grow at the front; false (nothing changed) if there is no room.
    bool push(size_t n) {
        if (n > off) {
            return false;
        }
        off -= n;
        len += n;
        return true;
    }
    // Shrink at the front.
    bool pull(size_t n) {
        if (n > len) {
            return false;
        }
        off += n;
        len -= n;
        return true;
    }
    // Grow at the back; returns the new bytes or nullptr.
    uint8_t* put(size_t n) {
        if (n > tailroom()) {
            return nullptr;
        }
        uint8_t* p = buf + off + len;
        len += n;
        return p;
    }
    bool trim(size_t n) {
        if (n > len) {
            return false;
        }
        len -= n;
        return true;
    }
    void reset(size_t headroom) {
        off = headroom < cap ? headroom : cap;
        len = 0;
    }
};

inline void put_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void put_be32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}
inline void put_be64(uint8_t* p, uint64_t v) {
    put_be32(p, uint32_t(v >> 32));
    put_be32(p + 4, uint32_t(v));
}
inline uint16_t get_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t get_be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

}  // namespace qvpn::sa::us
