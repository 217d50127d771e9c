// "Hash and URL of X.509 certificate" (RFC 7296 3.6, CERT encoding 12):
// the CERT data is a 20-byte SHA-1 hash of the DER certificate followed by
// an http:// URL it can be fetched from. The fetch is a small blocking
// HTTP/1.1 GET over TCP with connect and read timeouts and a size limit;
// the caller runs it off the packet path, and only when the global property
// "Allow HTTP lookup of certificates" is on.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::auth {

struct HashAndUrl {
    Bytes sha1;       // 20 bytes
    std::string url;  // as received
};

// IKE0120 (INVALID_SYNTAX) when the data is shorter than the hash or the
// URL is empty or not printable ASCII.
Result<HashAndUrl> parse_hash_and_url(ByteView cert_data);
Bytes encode_hash_and_url(const HashAndUrl& h);

struct FetchLimits {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds read_timeout{5000};  // whole response
    size_t max_body_bytes = 64 * 1024;
};

// GET `url` (http:// only: IKE0121 for any other scheme or a malformed URL),
// check the DER body's SHA-1 against `sha1`, return the body. Errors:
// IKE0122 (cannot connect or resolve, with errno), IKE0123 (timeout),
// IKE0124 (HTTP status other than 200, or a malformed response), IKE0125
// (body larger than the limit), IKE0126 (hash mismatch). All of them carry
// AUTHENTICATION_FAILED for the caller's answer.
Result<Bytes> fetch_certificate(std::string_view url, ByteView sha1,
                                const FetchLimits& limits = {});

}  // namespace qvpn::ike::auth
