#include "core/base/ip.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "core/base/text.hpp"

namespace qvpn {

IpAddress IpAddress::v4(uint32_t host_order) {
    IpAddress a;
    a.family_ = 4;
    a.bytes_[0] = uint8_t(host_order >> 24);
    a.bytes_[1] = uint8_t(host_order >> 16);
    a.bytes_[2] = uint8_t(host_order >> 8);
    a.bytes_[3] = uint8_t(host_order);
    return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
    IpAddress a;
    a.family_ = 6;
    a.bytes_ = bytes;
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    std::string s(trim(text));
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
        a.family_ = 4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
        a.family_ = 6;
        return a;
    }
    return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_bytes(const uint8_t* p, size_t len) {
    if (len != 4 && len != 16) {
        return std::nullopt;
    }
    IpAddress a;
    a.family_ = len == 4 ? 4 : 6;
    std::memcpy(a.bytes_.data(), p, len);
    return a;
}

int IpAddress::af() const { return is_v4() ? AF_INET : AF_INET6; }

uint32_t IpAddress::v4_host_order() const {
    return uint32_t(bytes_[0]) << 24 | uint32_t(bytes_[1]) << 16 | uint32_t(bytes_[2]) << 8 |
           bytes_[3];
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(af(), bytes_.data(), buf, sizeof buf);
    return buf;
}

bool IpAddress::is_unspecified() const {
    for (size_t i = 0; i < size(); ++i) {
        if (bytes_[i] != 0) {
            return false;
        }
    }
    return true;
}

IpAddress IpAddress::next() const {
    IpAddress r = *this;
    for (size_t i = size(); i-- > 0;) {
        if (++r.bytes_[i] != 0) {
            return r;
        }
    }
    return *this;  // was all ones: saturate
}

IpAddress IpAddress::prev() const {
    IpAddress r = *this;
    for (size_t i = size(); i-- > 0;) {
        if (r.bytes_[i]-- != 0) {
            return r;
        }
    }
    return *this;  // was all zeros: saturate
}

std::optional<int> parse_mask(std::string_view text, int family) {
    int max = family == 4 ? 32 : 128;
    long long n = 0;
    if (parse_int(trim(text), n)) {
        if (n < 0 || n > max) {
            return std::nullopt;
        }
        return static_cast<int>(n);
    }
    auto m = IpAddress::parse(text);
    if (!m || m->family() != family) {
        return std::nullopt;
    }
    // A mask is ones then zeros.
    int len = 0;
    bool zero_seen = false;
    for (size_t i = 0; i < m->size(); ++i) {
        for (int b = 7; b >= 0; --b) {
            bool one = (m->data()[i] >> b) & 1;
            if (one && zero_seen) {
                return std::nullopt;
            }
            if (one) {
                ++len;
            } else {
                zero_seen = true;
            }
        }
    }
    return len;
}

IpRange IpRange::prefix(const IpAddress& net, int len) {
    std::array<uint8_t, 16> lo{}, hi{};
    size_t n = net.size();
    for (size_t i = 0; i < n; ++i) {
        int bits = std::max(0, std::min(8, len - static_cast<int>(i) * 8));
        uint8_t mask = bits == 0 ? 0 : uint8_t(0xFF << (8 - bits));
        lo[i] = net.data()[i] & mask;
        hi[i] = uint8_t(lo[i] | ~mask);
    }
    IpRange r;
    r.from = *IpAddress::from_bytes(lo.data(), n);
    r.to = *IpAddress::from_bytes(hi.data(), n);
    return r;
}

std::optional<IpRange> IpRange::subnet(const IpAddress& net, std::string_view mask_or_len) {
    auto len = parse_mask(mask_or_len, net.family());
    if (!len) {
        return std::nullopt;
    }
    return prefix(net, *len);
}

IpRange IpRange::any(int family) {
    return prefix(family == 4 ? IpAddress::v4(0) : IpAddress::v6({}), 0);
}

bool IpRange::contains(const IpAddress& a) const {
    return a.family() == from.family() && from <= a && a <= to;
}

bool IpRange::contains(const IpRange& r) const { return contains(r.from) && contains(r.to); }

bool IpRange::overlaps(const IpRange& r) const {
    return r.from.family() == from.family() && r.from <= to && from <= r.to;
}

std::optional<int> IpRange::prefix_len() const {
    int max = from.is_v4() ? 32 : 128;
    for (int len = 0; len <= max; ++len) {
        if (prefix(from, len) == *this) {
            return len;
        }
    }
    return std::nullopt;
}

std::string IpRange::to_string() const {
    if (is_single()) {
        return from.to_string();
    }
    if (auto len = prefix_len()) {
        return from.to_string() + "/" + std::to_string(*len);
    }
    return from.to_string() + "-" + to.to_string();
}

}  // namespace qvpn
