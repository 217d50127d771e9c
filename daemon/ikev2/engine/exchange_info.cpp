// INFORMATIONAL (RFC 7296 1.4, 2.4):
//
//   delete CHILD_SAs:  HDR, SK {D(ESP, our inbound SPIs)}  -->
//                                 <--  HDR, SK {D(ESP, its inbound SPIs)}
//   delete the IKE SA: HDR, SK {D(IKE)}  -->
//                                 <--  HDR, SK {}
//   liveness check:    HDR, SK {}  -->
//                                 <--  HDR, SK {}
#include <algorithm>

#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/ike_sa.hpp"

namespace qvpn::ikev2 {

void Engine::start_delete_children(IkeSa& sa, std::vector<uint32_t> spis_in, ProtocolId proto) {
    if (sa.state != IkeState::Established && sa.state != IkeState::Rekeyed) {
        return;
    }
    // Only what still exists: a CHILD_SA the peer deleted meanwhile is gone.
    std::vector<uint32_t> live;
    for (uint32_t spi : spis_in) {
        if (sa.child_by_in(spi) != nullptr) {
            live.push_back(spi);
        }
    }
    if (live.empty()) {
        return;
    }
    for (uint32_t spi : live) {
        ChildSaState* c = sa.child_by_in(spi);
        c->delete_sent = true;
        if (c->state == ChildState::Installed || c->state == ChildState::Rekeying ||
            c->state == ChildState::Rekeyed) {
            set_state(sa, *c, ChildState::Deleting);
        }
    }
    Request req;
    req.kind = RequestKind::DeleteChild;
    req.delete_proto = proto;
    req.delete_spis = live;
    // HDR, SK {D(ESP or AH, SPIs)} -->
    send_request(sa, std::move(req), ExchangeType::INFORMATIONAL,
                 {make_payload(PayloadType::DELETE, DeletePayload{proto, live})});
}

void Engine::start_delete_ike(IkeSa& sa) {
    if (sa.state == IkeState::Deleting || sa.state == IkeState::Closed) {
        return;
    }
    if (sa.state != IkeState::Established && sa.state != IkeState::Rekeyed) {
        close_sa(sa, "ended", true);
        return;
    }
    set_state(sa, IkeState::Deleting);
    cancel(sa.rekey_timer);
    cancel(sa.dpd_timer);
    cancel(sa.retry_timer);
    sa.queue.clear();
    auto send = [this](IkeSa& s) {
        Request req;
        req.kind = RequestKind::DeleteIke;
        // HDR, SK {D(IKE)} -->
        send_request(s, std::move(req), ExchangeType::INFORMATIONAL,
                     {make_payload(PayloadType::DELETE, DeletePayload{ProtocolId::IKE, {}})});
    };
    // The window holds one request: a request in flight finishes first.
    if (sa.outstanding) {
        sa.queue.push_back(send);
    } else {
        send(sa);
    }
}

void Engine::start_dpd(IkeSa& sa) {
    Request req;
    req.kind = RequestKind::Dpd;
    debug(&sa, "dpd", "liveness check");
    // HDR, SK {} -->
    send_request(sa, std::move(req), ExchangeType::INFORMATIONAL, {});
}

void Engine::handle_info_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p) {
    std::vector<Payload> answer;
    bool delete_ike = false;
    for (const auto& x : p) {
        const auto* d = std::get_if<DeletePayload>(&x.body);
        if (d == nullptr) {
            continue;
        }
        if (d->protocol == ProtocolId::IKE) {
            delete_ike = true;
            continue;
        }
        // RFC 7296 1.4.1: answer with our inbound SPIs of the pairs, except
        // those we are deleting ourselves.
        std::vector<uint32_t> ours;
        for (uint32_t spi : d->spis) {
            ChildSaState* c = sa.child_by_out(spi);
            if (c == nullptr) {
                continue;
            }
            if (!c->delete_sent) {
                ours.push_back(c->spi_in);
            }
            // The old SA of a simultaneous rekey the peer decided first: its
            // own new CHILD_SA took over.
            c->replaced = c->replaced || c->peer_successor.has_value();
            remove_child(sa, *c, c->replaced ? "rekeyed" : "deleted by the peer");
        }
        if (!ours.empty()) {
            answer.push_back(make_payload(PayloadType::DELETE, DeletePayload{d->protocol, ours}));
        }
    }
    const auto* auth_failed = find_notify(p, NotifyType::AUTHENTICATION_FAILED);
    // <-- HDR, SK {[D(...)]}
    send_response(sa, h, std::move(answer));
    if (auth_failed != nullptr) {
        // The peer could not verify our AUTH after answering IKE_AUTH
        // (RFC 7296 2.21.2): for it the IKE SA never existed.
        ++counters_.auth_failures;
        fail(sa, reason::kAuthFailed, msg("IKE0909", sa.remote.to_string(),
                                          "the peer refused our authentication"));
        return;
    }
    if (delete_ike) {
        close_sa(sa, sa.state == IkeState::Rekeyed ? "rekeyed" : "deleted by the peer", true);
    }
}

void Engine::handle_info_response(IkeSa& sa, Request& req, const std::vector<Payload>&) {
    switch (req.kind) {
    case RequestKind::DeleteChild:
        for (uint32_t spi : req.delete_spis) {
            if (ChildSaState* c = sa.child_by_in(spi)) {
                remove_child(sa, *c, c->replaced ? "rekeyed" : "deleted");
            }
        }
        break;
    case RequestKind::DeleteIke:
        close_sa(sa, sa.replaced_by ? "rekeyed" : "deleted", true);
        break;
    default:
        break;
    }
}

}  // namespace qvpn::ikev2
