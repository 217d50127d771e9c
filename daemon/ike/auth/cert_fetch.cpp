#include "daemon/ike/auth/cert_fetch.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>

#include "core/base/text.hpp"
#include "daemon/ike/crypto/ossl.hpp"
#include "daemon/ike/iana.hpp"

namespace qvpn::ike::auth {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHashSize = 20;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxHeader = 8192;

Msg with_auth_failed(Msg m) {
    return m.with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED));
}

struct Url {
    std::string host;  // without brackets
    std::string port = "80";
    std::string path = "/";
    std::string host_header;
};

Result<Url> parse_url(std::string_view url) {
    auto bad = [&] { return fail(with_auth_failed(msg("IKE0121", url))); };
    if (url.size() > kMaxUrl || !starts_with_icase(url, "http://")) {
        return bad();
    }
    std::string_view rest = url.substr(7);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    Url u;
    if (slash != std::string_view::npos) {
        u.path = std::string(rest.substr(slash));
    }
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return bad();
    }
    u.host_header = std::string(authority);
    std::string_view port;
    if (authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return bad();
        }
        u.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return bad();
            }
            port = after.substr(1);
        }
    } else {
        size_t colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
        }
    }
    if (!port.empty()) {
        long long p = 0;
        if (!parse_int(port, p) || p < 1 || p > 65535) {
            return bad();
        }
        u.port = std::string(port);
    }
    for (char c : u.path) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return bad();  // would break the request line
        }
    }
    if (u.host.empty()) {
        return bad();
    }
    return u;
}

long remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<long>(left.count()) : 0;
}

// Non-blocking connect to each resolved address in turn, within `deadline`.
Result<int> connect_to(const Url& u, std::string_view url, Clock::time_point deadline,
                       std::chrono::milliseconds limit) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    // getaddrinfo blocks without a timeout of its own; the caller runs this
    // whole fetch off the packet path.
    if (getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res) != 0 || res == nullptr) {
        return fail(with_auth_failed(msg("IKE0122", u.host_header)));
    }
    int last_errno = ECONNREFUSED;
    bool timed_out = false;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            rc = poll(&p, 1, static_cast<int>(remaining_ms(deadline)));
            if (rc == 0) {
                timed_out = true;
                close(fd);
                break;
            }
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = err == 0 ? 0 : -1;
            errno = err;
        }
        if (rc == 0) {
            freeaddrinfo(res);
            return fd;
        }
        last_errno = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (timed_out) {
        return fail(with_auth_failed(msg("IKE0123", url, limit.count())));
    }
    return fail(with_auth_failed(msg("IKE0122", u.host_header).with_errno(last_errno)));
}

struct Fd {
    int fd;
    ~Fd() { close(fd); }
};

// Decodes a chunked body (RFC 9112 7.1); nullopt when malformed.
std::optional<Bytes> dechunk(ByteView body, size_t limit, bool& too_big) {
    Bytes out;
    size_t pos = 0;
    while (true) {
        size_t eol = pos;
        while (eol + 1 < body.size() && !(body[eol] == '\r' && body[eol + 1] == '\n')) {
            ++eol;
        }
        if (eol + 1 >= body.size()) {
            return std::nullopt;
        }
        std::string line(body.begin() + pos, body.begin() + eol);
        line = line.substr(0, line.find(';'));
        size_t size = 0;
        try {
            size_t used = 0;
            size = std::stoul(line, &used, 16);
            if (used == 0) {
                return std::nullopt;
            }
        } catch (...) {
            return std::nullopt;
        }
        pos = eol + 2;
        if (size == 0) {
            return out;
        }
        if (size > limit || out.size() + size > limit) {
            too_big = true;
            return std::nullopt;
        }
        if (body.size() - pos < size + 2) {
            return std::nullopt;
        }
        out.insert(out.end(), body.begin() + pos, body.begin() + pos + size);
        pos += size + 2;
    }
}

}  // namespace

Result<HashAndUrl> parse_hash_and_url(ByteView data) {
    auto bad = [](const char* why) {
        return fail(msg("IKE0120", why).with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    };
    if (data.size() <= kHashSize) {
        return bad("shorter than the 20-byte hash and a URL");
    }
    HashAndUrl out;
    out.sha1.assign(data.begin(), data.begin() + kHashSize);
    out.url.assign(data.begin() + kHashSize, data.end());
    for (unsigned char c : out.url) {
        if (c <= 0x20 || c >= 0x7f) {
            return bad("the URL is not printable ASCII");
        }
    }
    return out;
}

Bytes encode_hash_and_url(const HashAndUrl& h) {
    Bytes out = h.sha1;
    out.insert(out.end(), h.url.begin(), h.url.end());
    return out;
}

Result<Bytes> fetch_certificate(std::string_view url, ByteView sha1, const FetchLimits& limits) {
    QVPN_ASSIGN(Url u, parse_url(url));
    auto connect_deadline = Clock::now() + limits.connect_timeout;
    QVPN_ASSIGN(int raw_fd, connect_to(u, url, connect_deadline, limits.connect_timeout));
    Fd fd{raw_fd};

    std::string req = "GET " + u.path + " HTTP/1.1\r\nHost: " + u.host_header +
                      "\r\nAccept: application/pkix-cert\r\nConnection: close\r\n"
                      "User-Agent: qvpn\r\n\r\n";
    auto deadline = Clock::now() + limits.read_timeout;
    auto timeout = [&] {
        return fail(with_auth_failed(msg("IKE0123", url, limits.read_timeout.count())));
    };
    size_t sent = 0;
    while (sent < req.size()) {
        pollfd p{fd.fd, POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(remaining_ms(deadline))) <= 0) {
            return timeout();
        }
        ssize_t n = send(fd.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return fail(with_auth_failed(msg("IKE0122", u.host_header).with_errno(errno)));
        }
        sent += n > 0 ? static_cast<size_t>(n) : 0;
    }

    // Read until the server closes, the deadline passes or the limit is hit.
    const size_t cap = kMaxHeader + limits.max_body_bytes + 64;
    Bytes resp;
    uint8_t buf[4096];
    while (true) {
        pollfd p{fd.fd, POLLIN, 0};
        int rc = poll(&p, 1, static_cast<int>(remaining_ms(deadline)));
        if (rc == 0 || remaining_ms(deadline) == 0) {
            return timeout();
        }
        ssize_t n = recv(fd.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        resp.insert(resp.end(), buf, buf + n);
        if (resp.size() > cap) {
            return fail(with_auth_failed(msg("IKE0125", url, limits.max_body_bytes)));
        }
    }

    // Status line and headers.
    std::string_view text(reinterpret_cast<const char*>(resp.data()), resp.size());
    size_t head_end = text.find("\r\n\r\n");
    auto bad_answer = [&](std::string_view what) {
        return fail(with_auth_failed(msg("IKE0124", url, what)));
    };
    if (head_end == std::string_view::npos || head_end > kMaxHeader) {
        return bad_answer("a malformed response");
    }
    std::string_view head = text.substr(0, head_end);
    size_t eol = head.find("\r\n");
    std::string_view status = head.substr(0, eol);
    if (!starts_with_icase(status, "HTTP/1.") || status.size() < 12) {
        return bad_answer("a malformed status line");
    }
    if (status.substr(9, 3) != "200") {
        return bad_answer(status.substr(9));
    }
    bool chunked = false;
    std::optional<long long> content_length;
    for (const auto& line :
         split(head.substr(eol == std::string_view::npos ? head.size() : eol + 2), '\n')) {
        std::string_view l = trim(line);
        size_t colon = l.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view name = trim(l.substr(0, colon)), value = trim(l.substr(colon + 1));
        if (iequals(name, "Content-Length")) {
            long long v = 0;
            if (!parse_int(value, v) || v < 0) {
                return bad_answer("a malformed Content-Length");
            }
            content_length = v;
        } else if (iequals(name, "Transfer-Encoding") && to_lower(value).find("chunked") !=
                                                             std::string::npos) {
            chunked = true;
        }
    }
    ByteView body = ByteView(resp).subspan(head_end + 4);
    Bytes der;
    if (chunked) {
        bool too_big = false;
        auto d = dechunk(body, limits.max_body_bytes, too_big);
        if (too_big) {
            return fail(with_auth_failed(msg("IKE0125", url, limits.max_body_bytes)));
        }
        if (!d) {
            return bad_answer("a malformed chunked body");
        }
        der = std::move(*d);
    } else {
        if (content_length && static_cast<size_t>(*content_length) > limits.max_body_bytes) {
            return fail(with_auth_failed(msg("IKE0125", url, limits.max_body_bytes)));
        }
        if (content_length && static_cast<size_t>(*content_length) != body.size()) {
            return bad_answer("a body shorter or longer than its Content-Length");
        }
        der.assign(body.begin(), body.end());
    }
    if (der.size() > limits.max_body_bytes) {
        return fail(with_auth_failed(msg("IKE0125", url, limits.max_body_bytes)));
    }
    if (der.empty()) {
        return bad_answer("an empty body");
    }

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(der.data(), der.size(), md, &len, ossl::md(ossl::MdName::Sha1), nullptr);
    if (!equal_ct(ByteView(md, len), sha1)) {
        return fail(with_auth_failed(msg("IKE0126", url)));
    }
    return der;
}

}  // namespace qvpn::ike::auth
