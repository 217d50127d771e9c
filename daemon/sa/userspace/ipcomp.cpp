#include "daemon/sa/userspace/ipcomp.hpp"

#include <cstring>

#include <zlib.h>

namespace qvpn::sa::us {

struct Deflater::Streams {
    z_stream def{};
    z_stream inf{};
    bool def_ok = false, inf_ok = false;
};

Deflater::Deflater() : s_(new Streams) {
    // Negative window bits: raw deflate without zlib header (RFC 2394 2).
    s_->def_ok = deflateInit2(&s_->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -11, 8,
                              Z_DEFAULT_STRATEGY) == Z_OK;
    s_->inf_ok = inflateInit2(&s_->inf, -15) == Z_OK;
    ok_ = s_->def_ok && s_->inf_ok;
}

Deflater::~Deflater() {
    if (s_->def_ok) {
        deflateEnd(&s_->def);
    }
    if (s_->inf_ok) {
        inflateEnd(&s_->inf);
    }
}

size_t Deflater::compress(const uint8_t* in, size_t len, uint8_t* out, size_t out_cap) {
    if (!ok_ || deflateReset(&s_->def) != Z_OK) {
        return 0;
    }
    // RFC 2394 2: each datagram is compressed on its own (no history).
    size_t limit = len < out_cap ? len : out_cap;
    s_->def.next_in = const_cast<uint8_t*>(in);
    s_->def.avail_in = uInt(len);
    s_->def.next_out = out;
    s_->def.avail_out = uInt(limit);
    int r = deflate(&s_->def, Z_FINISH);
    if (r != Z_STREAM_END) {
        return 0;  // did not fit in fewer bytes than the input
    }
    size_t n = limit - s_->def.avail_out;
    return n < len ? n : 0;
}

size_t Deflater::decompress(const uint8_t* in, size_t len, uint8_t* out, size_t out_cap) {
    if (!ok_ || inflateReset(&s_->inf) != Z_OK) {
        return 0;
    }
    s_->inf.next_in = const_cast<uint8_t*>(in);
    s_->inf.avail_in = uInt(len);
    s_->inf.next_out = out;
    s_->inf.avail_out = uInt(out_cap);
    int r = inflate(&s_->inf, Z_FINISH);
    if (r != Z_STREAM_END) {
        return 0;
    }
    return out_cap - s_->inf.avail_out;
}

}  // namespace qvpn::sa::us
