// A NETLINK_XFRM socket: requests with acknowledgements (and the kernel's
// extended-ack reason text), dumps, and multicast events. Built on libnl's
// socket and message objects; replies are read into our own buffer so an
// error's extended ack (which libnl's nl_wait_for_ack drops) reaches the
// operator's message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <linux/netlink.h>

#include "core/base/result.hpp"

struct nl_sock;
struct nl_msg;

namespace qvpn::sa::xfrm {

// An nl_msg that may hold key material: wiped before it is freed.
struct NlMsgFree {
    void operator()(nl_msg* m) const;
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgFree>;

// The kernel's answer to one request.
struct Ack {
    int err = 0;           // 0, or a positive errno
    std::string ext;       // extended ack text, "" if none
    // "No such process (3)" or "Invalid argument (22): Unknown algorithm".
    std::string text() const;
};

class NlSocket {
public:
    // groups: XFRMNLGRP_* numbers to join (event socket), empty for requests.
    static Result<NlSocket> open(const std::vector<unsigned>& groups = {});
    NlSocket(NlSocket&& o) noexcept;
    NlSocket& operator=(NlSocket&& o) noexcept;
    ~NlSocket();

    int fd() const;

    // Send, then wait for the acknowledgement (or the error). A transport
    // failure (socket gone) is a Failure; a kernel refusal is an Ack with err.
    Result<Ack> transact(nl_msg* msg);

    // Send a request whose answer is data (GET, or a dump with NLM_F_DUMP):
    // each reply message goes to on_msg. A kernel error is returned as Ack.
    Result<Ack> query(nl_msg* msg, const std::function<void(const nlmsghdr*)>& on_msg);

    // Events: read whatever is queued without blocking and hand each message
    // to on_msg. Returns false on an overrun (ENOBUFS: events were lost).
    bool drain(const std::function<void(const nlmsghdr*)>& on_msg);

private:
    explicit NlSocket(nl_sock* sk);
    Result<Ack> wait(uint32_t seq, const std::function<void(const nlmsghdr*)>* on_msg);

    nl_sock* sk_ = nullptr;
    std::vector<uint8_t> buf_;
};

// Walk the messages in one datagram; false if a header is malformed.
bool for_each_msg(const uint8_t* data, size_t len,
                  const std::function<bool(const nlmsghdr*)>& fn);

}  // namespace qvpn::sa::xfrm
