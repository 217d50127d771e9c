// Moving messages: the request window (RFC 7296 2.3, size 1), retransmission
// with exponential backoff (2.1), cached answers to retransmitted requests,
// fragmentation (RFC 7383), and the demultiplexing of incoming datagrams to
// the IKE SA and exchange they belong to.
#include <algorithm>

#include "core/base/text.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"

namespace qvpn::ikev2 {

namespace {

// The payload type an UNSUPPORTED_CRITICAL_PAYLOAD notify names (RFC 7296
// 3.10.1: one octet), from the codec's IKE0803 message.
Bytes critical_type(const Msg& m) {
    long long t = 0;
    if (m.notify != ike::notify_code(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD) ||
        !parse_int(m.value(1), t) || t < 0 || t > 255) {
        return {};
    }
    return {static_cast<uint8_t>(t)};
}

std::string exchange_word(RequestKind k) {
    switch (k) {
    case RequestKind::IkeSaInit: return "IKE_SA_INIT";
    case RequestKind::IkeAuth: return "IKE_AUTH";
    case RequestKind::CreateChild:
    case RequestKind::RekeyChild:
    case RequestKind::RekeyIke: return "CREATE_CHILD_SA";
    case RequestKind::DeleteChild:
    case RequestKind::DeleteIke:
    case RequestKind::Dpd:
    case RequestKind::Notify: return "INFORMATIONAL";
    }
    return "?";
}

}  // namespace

// --- our requests ------------------------------------------------------------------------

void Engine::enqueue(IkeSa& sa, Builder start) {
    sa.queue.push_back(std::move(start));
    start_next(sa);
}

void Engine::start_next(IkeSa& sa) {
    while (!sa.outstanding && !sa.queue.empty() && sa.state != IkeState::Closed) {
        Builder b = std::move(sa.queue.front());
        sa.queue.pop_front();
        b(sa);
    }
}

Result<std::vector<Bytes>> Engine::encode(IkeSa& sa, Header h, const std::vector<Payload>& p) {
    if (h.exchange == ExchangeType::IKE_SA_INIT) {
        return std::vector<Bytes>{serialize_message(h, p)};
    }
    if (!sa.sk) {
        return qvpn::fail("QVP0003", "QTOKVPNIK2", "encrypted message without keys");
    }
    QVPN_ASSIGN(Bytes whole, protect(h, p, *sa.sk, rng_));
    // RFC 7383 2.5: fragment only when the peer announced support and the
    // message would not fit.
    if (whole.size() <= cfg_.fragment_size || !cfg_.fragmentation || !sa.peer_fragmentation) {
        return std::vector<Bytes>{std::move(whole)};
    }
    return protect_fragments(h, p, *sa.sk, rng_, cfg_.fragment_size);
}

void Engine::send_request(IkeSa& sa, Request req, ExchangeType ex, std::vector<Payload> p) {
    Header h;
    h.spi_i = sa.spi_i;
    h.spi_r = sa.spi_r;
    h.exchange = ex;
    h.flags = sa.initiator ? kFlagInitiator : 0;
    if (ex == ExchangeType::IKE_SA_INIT) {
        h.message_id = 0;  // retries after COOKIE or INVALID_KE_PAYLOAD reuse 0
        sa.next_request_id = 1;
    } else {
        h.message_id = sa.next_request_id++;
    }
    auto d = encode(sa, h, p);
    if (!d) {
        fail(sa, reason::kNetworkError, d.error());
        return;
    }
    if (ex == ExchangeType::IKE_SA_INIT) {
        sa.init_request = d->front();
    }
    req.message_id = h.message_id;
    req.datagrams = std::move(*d);
    req.sent = 1;
    req.wait = cfg_.retransmit_base;
    transmit(sa, req.datagrams);
    req.timer = arm(sa, TimerKind::Retransmit, clock_.now() + req.wait);
    sa.outstanding = std::move(req);
}

void Engine::transmit(IkeSa& sa, const std::vector<Bytes>& datagrams) {
    for (const auto& d : datagrams) {
        send_raw(sa.local, sa.remote, sa.natt, d);
    }
}

void Engine::send_raw(const Endpoint& local, const Endpoint& remote, bool marker, Bytes data) {
    ++counters_.packets_out;
    actions_.push_back(SendPacket{local, remote, marker, std::move(data)});
}

void Engine::retransmit(IkeSa& sa) {
    Request& req = *sa.outstanding;
    if (!req.retransmit) {
        sa.outstanding.reset();
        start_next(sa);
        return;
    }
    if (req.sent >= cfg_.tries) {
        exchange_timed_out(sa);
        return;
    }
    ++req.sent;
    ++counters_.retransmits_sent;
    auto next = std::chrono::duration_cast<std::chrono::milliseconds>(req.wait * cfg_.backoff);
    req.wait = std::min(next, cfg_.retransmit_max);
    debug(&sa, "send",
          "retransmit " + exchange_word(req.kind) + " message " + std::to_string(req.message_id) +
              " (try " + std::to_string(req.sent) + ")");
    transmit(sa, req.datagrams);
    req.timer = arm(sa, TimerKind::Retransmit, clock_.now() + req.wait);
}

void Engine::exchange_timed_out(IkeSa& sa) {
    Request& req = *sa.outstanding;
    RequestKind kind = req.kind;
    int tries = req.sent;
    sa.outstanding.reset();
    // A DELETE that is never answered ends the SA all the same.
    if (kind == RequestKind::DeleteIke || sa.state == IkeState::Rekeyed ||
        sa.state == IkeState::Deleting) {
        close_sa(sa, "deleted (peer did not answer)", true);
        return;
    }
    int code = reason::kPeerNotResponding;
    switch (kind) {
    case RequestKind::IkeSaInit:
    case RequestKind::IkeAuth:
    case RequestKind::RekeyIke: code = reason::kPhase1Timeout; break;
    case RequestKind::CreateChild:
    case RequestKind::RekeyChild: code = reason::kPhase2Timeout; break;
    default: break;
    }
    if (code == reason::kPeerNotResponding) {
        ++counters_.dead_peers;
        log(&sa, joblog::Level::Warning, msg("IKE0A13", sa.remote.to_string(), sa.conn));
    }
    fail(sa, code, msg("IKE090C", exchange_word(kind), sa.remote.to_string(), tries));
}

// --- our answers ---------------------------------------------------------------------------

void Engine::send_response(IkeSa& sa, const Header& req, std::vector<Payload> p) {
    Header h;
    h.spi_i = sa.spi_i;
    h.spi_r = sa.spi_r;
    h.exchange = req.exchange;
    h.flags = kFlagResponse | (sa.initiator ? kFlagInitiator : 0);
    h.message_id = req.message_id;
    auto d = encode(sa, h, p);
    if (!d) {
        log(&sa, joblog::Level::Error, d.error());
        return;
    }
    transmit(sa, *d);
    sa.last_peer_request = req.message_id;
    sa.last_response = std::move(*d);
}

void Engine::send_clear_notify(const Endpoint& local, const Endpoint& remote, bool marker,
                               const Header& req, NotifyType type, Bytes data) {
    Header h = req;
    h.flags = kFlagResponse;
    h.major = kIkeMajorVersion;
    h.minor = kIkeMinorVersion;
    send_raw(local, remote, marker, serialize_message(h, {make_notify(type, std::move(data))}));
}

// --- incoming datagrams ---------------------------------------------------------------------

void Engine::on_packet(const Endpoint& local, const Endpoint& remote, bool marker,
                       ByteView data) {
    ++counters_.packets_in;
    auto h = parse_header(data);
    if (!h) {
        ++counters_.malformed;
        if (rate_ok(h.error().id)) {
            log_peer(remote, joblog::Level::Warning, h.error());
        }
        // RFC 7296 1.5: tell a peer speaking a newer major version which one
        // we speak, in an unprotected answer to its request.
        if (h.error().notify == ike::notify_code(NotifyType::INVALID_MAJOR_VERSION) &&
            data.size() >= kIkeHeaderLen && (data[19] & kFlagResponse) == 0 &&
            rate_ok("INVALID_MAJOR_VERSION")) {
            ByteReader r(data);
            Header req;
            req.spi_i = r.u64();
            req.spi_r = r.u64();
            r.skip(2);
            req.exchange = static_cast<ExchangeType>(r.u8());
            r.skip(1);
            req.message_id = r.u32();
            send_clear_notify(local, remote, marker, req, NotifyType::INVALID_MAJOR_VERSION,
                              {uint8_t(kIkeMajorVersion << 4)});
        }
        purge_closed();
        return;
    }

    IkeSa* sa = nullptr;
    if (h->from_initiator()) {
        // We are the responder of this IKE SA: our SPI is SPIr.
        if (h->spi_r == 0) {
            if (h->exchange == ExchangeType::IKE_SA_INIT && !h->is_response()) {
                auto m = parse_message(data);
                if (!m) {
                    ++counters_.malformed;
                    if (rate_ok(m.error().id)) {
                        log_peer(remote, joblog::Level::Warning, m.error());
                    }
                    if (m.error().notify != 0 && h->message_id == 0) {
                        send_clear_notify(local, remote, marker, *h,
                                          static_cast<NotifyType>(m.error().notify),
                                          critical_type(m.error()));
                    }
                } else {
                    handle_init_request(local, remote, marker, data, *m);
                }
            }
            purge_closed();
            return;
        }
        sa = find_sa(h->spi_r);
        if (sa != nullptr && (sa->initiator || sa->spi_i != h->spi_i)) {
            sa = nullptr;
        }
    } else {
        sa = find_sa(h->spi_i);
        if (sa != nullptr && !sa->initiator) {
            sa = nullptr;
        }
    }
    if (sa == nullptr) {
        ++counters_.unknown_spi;
        if (rate_ok("unknown-spi")) {
            debug(nullptr, "recv",
                  "message for an unknown IKE SA from " + remote.to_string() + " dropped");
        }
        purge_closed();
        return;
    }

    auto m = parse_message(data);
    if (!m) {
        ++counters_.malformed;
        if (rate_ok(m.error().id)) {
            log(sa, joblog::Level::Warning, m.error());
        }
        purge_closed();
        return;
    }
    if (h->exchange == ExchangeType::IKE_SA_INIT) {
        if (sa->initiator && h->is_response() && sa->state == IkeState::InitSent) {
            handle_init_response(*sa, data, *m);
        }
        purge_closed();
        return;
    }
    // Anything after IKE_SA_INIT must be protected: an unprotected message
    // never changes an IKE SA (a forged INVALID_SPI or DELETE stays harmless).
    if (!m->encrypted_offset) {
        ++counters_.malformed;
        if (rate_ok("IKE0800")) {
            debug(sa, "recv", "unprotected " + name(h->exchange) + " dropped");
        }
        purge_closed();
        return;
    }
    handle_encrypted(*sa, local, remote, marker, data, *m);
    purge_closed();
}

void Engine::handle_encrypted(IkeSa& sa, const Endpoint& local, const Endpoint& remote,
                              bool marker, ByteView data, const Message& m) {
    if (!sa.sk) {
        return;
    }
    const Header& h = m.header;
    bool fragment = m.payloads.back().type == PayloadType::SKF;

    // RFC 7296 2.3: answers must match our request in flight; requests must
    // be the next one, or the last one again (a retransmission).
    bool retransmitted = false;
    if (h.is_response()) {
        if (!sa.outstanding || h.message_id != sa.outstanding->message_id) {
            ++counters_.out_of_window;
            return;
        }
    } else {
        uint32_t expected = sa.last_peer_request ? *sa.last_peer_request + 1 : 0;
        retransmitted = sa.last_peer_request && h.message_id == *sa.last_peer_request;
        if (!retransmitted && h.message_id != expected) {
            ++counters_.out_of_window;
            if (rate_ok("IKE0914")) {
                log(&sa, joblog::Level::Warning,
                    msg("IKE0914", remote.to_string(), h.message_id, expected));
            }
            return;
        }
    }

    // Authenticate (and decrypt) before believing anything.
    auto plain = unprotect(data, m, *sa.sk);
    if (!plain) {
        if (plain.error().id == "IKE0805") {
            ++counters_.integrity_failures;
        } else {
            ++counters_.malformed;
        }
        if (rate_ok(plain.error().id)) {
            log(&sa, joblog::Level::Warning, plain.error());
        }
        return;
    }
    sa.last_heard = clock_.now();

    if (retransmitted) {
        // RFC 7383 2.6.1: answer a fragmented retransmission once, on its
        // first fragment.
        const auto* skf = fragment ? std::get_if<SkfPayload>(&m.payloads.back().body) : nullptr;
        if (skf == nullptr || skf->number == 1) {
            ++counters_.retransmits_answered;
            transmit(sa, sa.last_response);
        }
        return;
    }

    std::vector<Payload> payloads;
    if (fragment) {
        const auto& skf = std::get<SkfPayload>(m.payloads.back().body);
        auto r = sa.fragments.add(h.message_id, skf, std::move(*plain));
        if (!r) {
            if (rate_ok(r.error().id)) {
                log(&sa, joblog::Level::Warning, r.error());
            }
            return;
        }
        if (!r->has_value()) {
            return;  // more fragments to come
        }
        payloads = std::move(**r);
    } else {
        auto sk = std::get<SkPayload>(m.payloads.back().body);
        auto r = parse_payloads(sk.inner, *plain);
        if (!r) {
            ++counters_.malformed;
            if (rate_ok(r.error().id)) {
                log(&sa, joblog::Level::Warning, r.error());
            }
            // RFC 7296 2.21.3: a protected request that cannot be parsed gets
            // the matching notify (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD).
            if (!h.is_response() && r.error().notify != 0) {
                send_response(sa, h, {make_notify(static_cast<NotifyType>(r.error().notify),
                                                  critical_type(r.error()))});
            }
            return;
        }
        payloads = std::move(*r);
    }

    // RFC 7296 2.23: behind a NAT the peer's address and port may change;
    // follow the last authenticated message. A move to port 4500 happens
    // after IKE_SA_INIT when either side detected a NAT.
    if (marker && !sa.natt) {
        sa.natt = true;
        sa.local = local;
        sa.remote = remote;
    } else if (sa.nat_remote && !(remote == sa.remote)) {
        debug(&sa, "nat", "peer moved from " + sa.remote.to_string() + " to " + remote.to_string());
        sa.remote = remote;
        sa.local = local;
    }
    dispatch(sa, h, std::move(payloads), local, remote, marker);
}

void Engine::dispatch(IkeSa& sa, const Header& h, std::vector<Payload> payloads,
                      const Endpoint&, const Endpoint&, bool) {
    if (h.is_response()) {
        handle_response(sa, h, std::move(payloads));
        return;
    }
    switch (h.exchange) {
    case ExchangeType::IKE_AUTH:
        if (sa.state == IkeState::InitDone && !sa.initiator) {
            handle_auth_request(sa, h, payloads);
        } else {
            send_response(sa, h, {make_notify(NotifyType::INVALID_SYNTAX)});
        }
        break;
    case ExchangeType::CREATE_CHILD_SA:
        handle_create_child_request(sa, h, payloads);
        break;
    case ExchangeType::INFORMATIONAL:
        handle_info_request(sa, h, payloads);
        break;
    default:
        // RFC 7296 2.21: an exchange type we do not know is not answered
        // with anything but an error.
        send_response(sa, h, {make_notify(NotifyType::INVALID_SYNTAX)});
        break;
    }
    start_next(sa);
}

void Engine::handle_response(IkeSa& sa, const Header& h, std::vector<Payload> payloads) {
    Request req = std::move(*sa.outstanding);
    sa.outstanding.reset();
    cancel(req.timer);
    switch (req.kind) {
    case RequestKind::IkeAuth:
        if (h.exchange == ExchangeType::IKE_AUTH) {
            handle_auth_response(sa, req, payloads);
        }
        break;
    case RequestKind::CreateChild:
    case RequestKind::RekeyChild:
        if (h.exchange == ExchangeType::CREATE_CHILD_SA) {
            handle_create_child_response(sa, req, payloads);
        }
        break;
    case RequestKind::RekeyIke:
        if (h.exchange == ExchangeType::CREATE_CHILD_SA) {
            handle_rekey_ike_response(sa, req, payloads);
        }
        break;
    case RequestKind::DeleteChild:
    case RequestKind::DeleteIke:
    case RequestKind::Dpd:
    case RequestKind::Notify:
        if (h.exchange == ExchangeType::INFORMATIONAL) {
            handle_info_response(sa, req, payloads);
        }
        break;
    case RequestKind::IkeSaInit:
        break;
    }
    if (sa.state != IkeState::Closed) {
        start_next(sa);
    }
}

}  // namespace qvpn::ikev2
