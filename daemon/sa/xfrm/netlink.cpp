#include "daemon/sa/xfrm/netlink.hpp"

#include <cerrno>
#include <cstring>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

namespace qvpn::sa::xfrm {

namespace {

constexpr size_t kRecvBuf = 256 * 1024;

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

// The extended ack's reason text, after the (capped) error header.
std::string ext_ack_text(const nlmsghdr* h) {
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) {
        return "";
    }
    size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
    const auto* p = reinterpret_cast<const uint8_t*>(h);
    while (off + sizeof(nlattr) <= h->nlmsg_len) {
        nlattr a;
        std::memcpy(&a, p + off, sizeof a);
        if (a.nla_len < sizeof(nlattr) || off + a.nla_len > h->nlmsg_len) {
            break;
        }
        if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const char* s = reinterpret_cast<const char*>(p + off + sizeof(nlattr));
            size_t n = a.nla_len - sizeof(nlattr);
            return std::string(s, strnlen(s, n));
        }
        off += NLA_ALIGN(a.nla_len);
    }
    return "";
}

}  // namespace

void NlMsgFree::operator()(nl_msg* m) const {
    if (!m) {
        return;
    }
    nlmsghdr* h = nlmsg_hdr(m);
    if (h) {
        OPENSSL_cleanse(h, h->nlmsg_len);
    }
    nlmsg_free(m);
}

std::string Ack::text() const {
    std::string t = std::strerror(err);
    t += " (" + std::to_string(err) + ")";
    if (!ext.empty()) {
        t += ": " + ext;
    }
    return t;
}

bool for_each_msg(const uint8_t* data, size_t len,
                  const std::function<bool(const nlmsghdr*)>& fn) {
    size_t off = 0;
    while (off + NLMSG_HDRLEN <= len) {
        const auto* h = reinterpret_cast<const nlmsghdr*>(data + off);
        if (h->nlmsg_len < NLMSG_HDRLEN || off + h->nlmsg_len > len) {
            return false;
        }
        if (!fn(h)) {
            return true;
        }
        off += NLMSG_ALIGN(h->nlmsg_len);
    }
    return off == len || len - off < NLMSG_HDRLEN;
}

NlSocket::NlSocket(nl_sock* sk) : sk_(sk), buf_(kRecvBuf) {}

NlSocket::NlSocket(NlSocket&& o) noexcept : sk_(o.sk_), buf_(std::move(o.buf_)) {
    o.sk_ = nullptr;
}

NlSocket& NlSocket::operator=(NlSocket&& o) noexcept {
    if (this != &o) {
        if (sk_) {
            nl_socket_free(sk_);
        }
        sk_ = o.sk_;
        buf_ = std::move(o.buf_);
        o.sk_ = nullptr;
    }
    return *this;
}

NlSocket::~NlSocket() {
    if (sk_) {
        nl_socket_free(sk_);
    }
}

int NlSocket::fd() const { return sk_ ? nl_socket_get_fd(sk_) : -1; }

Result<NlSocket> NlSocket::open(const std::vector<unsigned>& groups) {
    nl_sock* sk = nl_socket_alloc();
    if (!sk) {
        return fail(msg("XFR0101", "out of memory").with_errno(ENOMEM));
    }
    NlSocket s(sk);
    int err = nl_connect(sk, NETLINK_XFRM);
    if (err < 0) {
        int e = errno ? errno : EPROTONOSUPPORT;
        return fail(msg("XFR0101", nl_geterror(err)).with_errno(e));
    }
    int fd = nl_socket_get_fd(sk);
    int one = 1;
    // Reasons for refusals, without the echo of our (key-bearing) request.
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    nl_socket_set_buffer_size(sk, 1 << 20, 1 << 20);
    if (!groups.empty()) {
        nl_socket_disable_seq_check(sk);
        for (unsigned g : groups) {
            if (nl_socket_add_membership(sk, int(g)) < 0) {
                int e = errno;
                return fail(msg("XFR0101", std::string("joining group ") + std::to_string(g) +
                                               ": " + std::strerror(e))
                                .with_errno(e));
            }
        }
        nl_socket_set_nonblocking(sk);
    }
    return s;
}

Result<Ack> NlSocket::transact(nl_msg* m) {
    nlmsghdr* h = nlmsg_hdr(m);
    h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nl_complete_msg(sk_, m);
    uint32_t seq = h->nlmsg_seq;
    if (nl_sendto(sk_, h, h->nlmsg_len) < 0) {
        int e = errno;
        return fail(msg("XFR0101", std::string("send: ") + std::strerror(e)).with_errno(e));
    }
    return wait(seq, nullptr);
}

Result<Ack> NlSocket::query(nl_msg* m, const std::function<void(const nlmsghdr*)>& on_msg) {
    nlmsghdr* h = nlmsg_hdr(m);
    h->nlmsg_flags |= NLM_F_REQUEST;
    nl_complete_msg(sk_, m);
    uint32_t seq = h->nlmsg_seq;
    if (nl_sendto(sk_, h, h->nlmsg_len) < 0) {
        int e = errno;
        return fail(msg("XFR0101", std::string("send: ") + std::strerror(e)).with_errno(e));
    }
    return wait(seq, &on_msg);
}

Result<Ack> NlSocket::wait(uint32_t seq, const std::function<void(const nlmsghdr*)>* on_msg) {
    int fd = nl_socket_get_fd(sk_);
    for (;;) {
        ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            return fail(msg("XFR0101", std::string("receive: ") + std::strerror(e)).with_errno(e));
        }
        bool done = false;
        Ack ack;
        bool well_formed = for_each_msg(buf_.data(), size_t(n), [&](const nlmsghdr* h) {
            if (h->nlmsg_seq != seq) {
                return true;  // a late answer to an earlier request
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr)) {
                    ack.err = EBADMSG;
                } else {
                    nlmsgerr e;
                    std::memcpy(&e, NLMSG_DATA(h), sizeof e);
                    ack.err = -e.error;
                    ack.ext = ext_ack_text(h);
                }
                done = true;
                return false;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                return false;
            }
            if (on_msg) {
                (*on_msg)(h);
                // A GET (not a dump) ends with its one answer.
                if (!(h->nlmsg_flags & NLM_F_MULTI)) {
                    done = true;
                    return false;
                }
            }
            return true;
        });
        if (!well_formed) {
            return fail(msg("XFR0105", "a reply's header length is wrong").with_errno(EBADMSG));
        }
        if (done) {
            return ack;
        }
    }
}

bool NlSocket::drain(const std::function<void(const nlmsghdr*)>& on_msg) {
    int fd = nl_socket_get_fd(sk_);
    bool ok = true;
    for (;;) {
        ssize_t n = recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                ok = false;
                continue;
            }
            return ok;  // EAGAIN: nothing more
        }
        for_each_msg(buf_.data(), size_t(n), [&](const nlmsghdr* h) {
            on_msg(h);
            return true;
        });
    }
}

}  // namespace qvpn::sa::xfrm
