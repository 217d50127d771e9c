#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <atomic>
#include <string>
#include <thread>

#include "daemon/ike/auth/cert_fetch.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using namespace qvpn::ike::auth;
using namespace std::chrono_literals;

namespace {

Bytes sha1(ByteView v) {
    unsigned char md[20];
    unsigned int len = 0;
    EVP_Digest(v.data(), v.size(), md, &len, EVP_sha1(), nullptr);
    return Bytes(md, md + 20);
}

// A small HTTP/1.1 server on 127.0.0.1 with an ephemeral port, one thread,
// answering by path until stopped. "/slow" accepts and never answers.
class TinyServer {
public:
    explicit TinyServer(Bytes body) : body_(std::move(body)) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd_, 8);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~TinyServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int requests() const { return requests_; }

private:
    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) {
                continue;
            }
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) {
                continue;
            }
            ++requests_;
            serve(c);
            close(c);
        }
    }

    void serve(int c) {
        std::string req;
        char buf[1024];
        while (req.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0) {
                return;
            }
            req.append(buf, n);
        }
        std::string path = req.substr(4, req.find(' ', 4) - 4);
        std::string body(body_.begin(), body_.end());
        std::string resp;
        if (path == "/cert.der") {
            resp = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
        } else if (path == "/chunked") {
            std::string half1 = body.substr(0, body.size() / 2),
                        half2 = body.substr(body.size() / 2);
            auto hex = [](size_t n) {
                char b[16];
                snprintf(b, sizeof b, "%zx", n);
                return std::string(b);
            };
            resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + hex(half1.size()) +
                   "\r\n" + half1 + "\r\n" + hex(half2.size()) + "\r\n" + half2 + "\r\n0\r\n\r\n";
        } else if (path == "/big") {
            std::string big(100 * 1024, 'x');
            resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) +
                   "\r\n\r\n" + big;
        } else if (path == "/big-unsized") {
            resp = "HTTP/1.1 200 OK\r\n\r\n" + std::string(100 * 1024, 'y');
        } else if (path == "/short") {
            resp = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body;
        } else if (path == "/garbage") {
            resp = "SSH-2.0-OpenSSH\r\n\r\n";
        } else if (path == "/slow") {
            for (int i = 0; i < 40 && !stop_; ++i) {
                std::this_thread::sleep_for(50ms);
            }
            return;
        } else {
            resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        }
        size_t sent = 0;
        while (sent < resp.size()) {
            ssize_t n = send(c, resp.data() + sent, resp.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            sent += n;
        }
    }

    Bytes body_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

const Bytes kCert = [] {
    Bytes b(1500);
    for (size_t i = 0; i < b.size(); ++i) {
        b[i] = static_cast<uint8_t>(i * 31 + 7);
    }
    return b;
}();

}  // namespace

BOOST_AUTO_TEST_SUITE(cert_fetch)

BOOST_AUTO_TEST_CASE(hash_and_url_encoding) {
    HashAndUrl hu{Bytes(20, 0xaa), "http://192.0.2.9/c.der"};
    Bytes data = encode_hash_and_url(hu);
    BOOST_TEST(data.size() == 20u + hu.url.size());
    auto back = parse_hash_and_url(data);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->url == hu.url);
    BOOST_TEST((back->sha1 == hu.sha1));
    auto shortr = parse_hash_and_url(Bytes(20, 1));
    BOOST_TEST(shortr.error().id == "IKE0120");
    BOOST_TEST(shortr.error().notify == notify_code(NotifyType::INVALID_SYNTAX));
    Bytes ctl = data;
    ctl.push_back('\n');
    BOOST_TEST(parse_hash_and_url(ctl).error().id == "IKE0120");
}

BOOST_AUTO_TEST_CASE(fetch_ok_and_chunked) {
    TinyServer srv(kCert);
    auto r = fetch_certificate(srv.url("/cert.der"), sha1(kCert));
    BOOST_REQUIRE(r.ok());
    BOOST_TEST((*r == kCert));
    auto c = fetch_certificate(srv.url("/chunked"), sha1(kCert));
    BOOST_REQUIRE(c.ok());
    BOOST_TEST((*c == kCert));
}

BOOST_AUTO_TEST_CASE(fetch_failures) {
    TinyServer srv(kCert);
    auto expect = [](const Result<Bytes>& r, const char* id) {
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().id == id);
        BOOST_TEST(r.error().notify == notify_code(NotifyType::AUTHENTICATION_FAILED));
    };
    Bytes wrong = sha1(kCert);
    wrong[0] ^= 1;
    expect(fetch_certificate(srv.url("/cert.der"), wrong), "IKE0126");
    auto nf = fetch_certificate(srv.url("/missing"), sha1(kCert));
    expect(nf, "IKE0124");
    BOOST_TEST(nf.error().values.at(1).rfind("404", 0) == 0);
    expect(fetch_certificate(srv.url("/big"), sha1(kCert)), "IKE0125");
    expect(fetch_certificate(srv.url("/big-unsized"), sha1(kCert)), "IKE0125");
    expect(fetch_certificate(srv.url("/short"), sha1(kCert)), "IKE0124");
    expect(fetch_certificate(srv.url("/garbage"), sha1(kCert)), "IKE0124");

    FetchLimits quick;
    quick.read_timeout = 300ms;
    auto t0 = std::chrono::steady_clock::now();
    expect(fetch_certificate(srv.url("/slow"), sha1(kCert), quick), "IKE0123");
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1500ms));

    // A smaller size limit applies to an otherwise good answer.
    FetchLimits tiny;
    tiny.max_body_bytes = 1000;
    expect(fetch_certificate(srv.url("/cert.der"), sha1(kCert), tiny), "IKE0125");
}

BOOST_AUTO_TEST_CASE(refused_urls_and_connect_errors) {
    for (const char* url :
         {"https://127.0.0.1/c.der", "ftp://127.0.0.1/c", "ldap://x/", "http://",
          "http://user@127.0.0.1/", "http://127.0.0.1:0/", "http://127.0.0.1:99999/",
          "http://[::1/", "http://127.0.0.1/a b", "127.0.0.1/c.der"}) {
        auto r = fetch_certificate(url, Bytes(20, 0));
        BOOST_TEST_CONTEXT(url) {
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "IKE0121");
        }
    }
    // A port nobody listens on: bind one, then close it.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    auto r = fetch_certificate("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x",
                               Bytes(20, 0));
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "IKE0122");
    BOOST_TEST(r.error().sys_errno == ECONNREFUSED);
    auto unresolvable = fetch_certificate("http://host.invalid/x", Bytes(20, 0));
    BOOST_TEST(unresolvable.error().id == "IKE0122");
}

BOOST_AUTO_TEST_SUITE_END()
