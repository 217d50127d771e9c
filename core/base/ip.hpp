// IP addresses, prefixes and ranges (IPv4 and IPv6), parsed and printed in
// the usual text forms. Used by the policy model, rules, traffic selectors,
// the SA backends and the trace decoder.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace qvpn {

class IpAddress {
public:
    IpAddress() = default;  // IPv4 0.0.0.0
    static IpAddress v4(uint32_t host_order);
    static IpAddress v6(const std::array<uint8_t, 16>& bytes);
    // "192.0.2.1" or "2001:db8::1"; nullopt if neither.
    static std::optional<IpAddress> parse(std::string_view text);
    // From 4 or 16 network-order bytes.
    static std::optional<IpAddress> from_bytes(const uint8_t* p, size_t len);

    bool is_v4() const { return family_ == 4; }
    bool is_v6() const { return family_ == 6; }
    int family() const { return family_; }     // 4 or 6
    int af() const;                              // AF_INET / AF_INET6
    size_t size() const { return is_v4() ? 4 : 16; }
    const uint8_t* data() const { return bytes_.data(); }  // network order
    uint32_t v4_host_order() const;
    std::string to_string() const;
    bool is_unspecified() const;

    // Address plus/minus one, saturating (for range arithmetic).
    IpAddress next() const;
    IpAddress prev() const;

    auto operator<=>(const IpAddress&) const = default;
    bool operator==(const IpAddress&) const = default;

private:
    int family_ = 4;
    std::array<uint8_t, 16> bytes_{};  // v4 uses the first 4 bytes
};

// An inclusive address range of one family: a single address, a subnet or
// an arbitrary from-to range (IKE traffic selectors and filter rules both
// think in ranges).
struct IpRange {
    IpAddress from, to;

    static IpRange single(const IpAddress& a) { return {a, a}; }
    // 10.6.0.0 with mask 255.255.0.0, or with prefix length "16".
    static std::optional<IpRange> subnet(const IpAddress& net, std::string_view mask_or_len);
    static IpRange prefix(const IpAddress& net, int len);
    static IpRange any(int family);  // 0.0.0.0-255.255.255.255 or ::-ffff:...

    bool contains(const IpAddress& a) const;
    bool contains(const IpRange& r) const;
    bool overlaps(const IpRange& r) const;
    bool is_single() const { return from == to; }
    // "10.6.0.0/16" when it is a prefix, "a-b" otherwise, "a" for one address.
    std::string to_string() const;
    // The prefix length when the range is exactly one prefix.
    std::optional<int> prefix_len() const;
    bool operator==(const IpRange&) const = default;
};

// Mask text ("255.255.255.0") or a length ("24") to a prefix length.
std::optional<int> parse_mask(std::string_view text, int family);

}  // namespace qvpn
