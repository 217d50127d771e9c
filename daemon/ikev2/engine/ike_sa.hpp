// The engine's per-SA state (internal to daemon/ikev2/engine): one IkeSa
// per IKE SA, holding its CHILD_SAs, keys, message ID windows, the request
// in flight and the work waiting for it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/ike/crypto/dh.hpp"
#include "daemon/ike/crypto/prf.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/engine/proposals.hpp"
#include "daemon/ikev2/engine/states.hpp"
#include "daemon/ikev2/engine/traffic.hpp"
#include "daemon/ikev2/wire/fragment.hpp"
#include "daemon/ikev2/wire/sk.hpp"

namespace qvpn::ikev2 {

// SPIs as the job log shows them (lower-case hex, fixed width).
std::string hex64(uint64_t v);
std::string hex32(uint32_t v);

// Keys of an IKE SA from its SKEYSEED (RFC 7296 2.14): SK_d, SK_p*, and the
// SK payload protection in our direction of use.
Status derive_ike_sa_keys(IkeSa& sa, const ike::crypto::Prf& prf, ByteView skeyseed);

struct ChildSaState {
    ChildState state = ChildState::Creating;
    uint32_t reqid = 0;
    ChildChoice choice;
    uint32_t spi_in = 0, spi_out = 0;  // of the negotiated protocol
    sa::ChildSa sa;                    // what was handed over for installation (keys included)
    SteadyTime established{};
    TimerId rekey_timer = 0, expire_timer = 0;
    // RFC 7296 2.8.1: the CHILD_SA the peer's rekey of this one created,
    // with the nonces of that exchange, until our own rekey finishes.
    std::optional<uint32_t> peer_successor;
    Bytes peer_rekey_ni, peer_rekey_nr;
    bool delete_sent = false;
    bool removed = false;   // RemoveChild already handed out
    bool replaced = false;  // a newer CHILD_SA took over (rekey or reauthentication)
    SteadyTime rekey_at{}, expire_at{};  // where the timers point (kept when moved)
};

// The responder's side of a CHILD_SA negotiation: the payloads of the
// answer (SA, [KEr], TSi, TSr, notifies; or the error notify), and the
// CHILD_SA when one was agreed, else the TCP8606 reason and its cause.
struct ChildOutcome {
    std::vector<Payload> payloads;
    std::optional<ChildSaState> child;
    int reason = 0;
    Msg detail;
};

enum class RequestKind {
    IkeSaInit, IkeAuth, CreateChild, RekeyChild, RekeyIke, DeleteChild, DeleteIke, Dpd, Notify
};

// The request in flight (window size 1: at most one per IKE SA).
struct Request {
    RequestKind kind = RequestKind::IkeSaInit;
    uint32_t message_id = 0;
    std::vector<Bytes> datagrams;  // one message, or its fragments
    int sent = 0;
    std::chrono::milliseconds wait{};
    TimerId timer = 0;
    bool retransmit = true;  // a Notify after a failed IKE_AUTH is sent once

    // CREATE_CHILD_SA for a CHILD_SA
    uint32_t reqid = 0;
    std::optional<uint32_t> rekey_spi;  // our inbound SPI of the CHILD_SA rekeyed
    uint32_t new_spi = 0;
    Bytes nonce;
    std::optional<ike::crypto::DhKeyPair> dh;
    std::vector<ChildOffer> offers;
    Selectors ts_i, ts_r;
    uint16_t ipcomp_cpi = 0;
    bool transport = false;
    ike::DhId pfs = ike::DhId::NONE;

    // CREATE_CHILD_SA for the IKE SA
    uint64_t new_ike_spi = 0;

    // INFORMATIONAL DELETE
    ProtocolId delete_proto = ProtocolId::NONE;
    std::vector<uint32_t> delete_spis;
};

struct IkeSa {
    uint64_t spi_i = 0, spi_r = 0;
    bool initiator = true;  // the original initiator of this IKE SA
    bool local_conn = false;  // the connection was started here (initiate), not by the peer
    IkeState state = IkeState::Idle;
    std::string conn;
    policy::ConnectionPolicy policy;
    Credentials creds;
    uint32_t first_reqid = 0;
    Endpoint local, remote;
    bool natt = false;  // IKE on port 4500 with the non-ESP marker (RFC 7296 2.23)
    bool nat_local = false, nat_remote = false;

    uint64_t our_spi() const { return initiator ? spi_i : spi_r; }
    std::string ike_text() const;

    // IKE_SA_INIT and the keys (RFC 7296 2.14)
    Bytes ni, nr;
    std::optional<ike::crypto::DhKeyPair> dh;
    Bytes init_request, init_response;  // the first two messages, for AUTH
    Bytes cookie;
    int cookie_tries = 0, ke_tries = 0;
    std::vector<ike::crypto::IkeSuite> suites;
    ike::crypto::IkeSuite suite;
    std::optional<ike::crypto::Prf> prf;
    std::optional<SkCrypto> sk;
    SecretBytes sk_d, sk_pi, sk_pr;
    InitPolicy init_policy;  // responder: what IKE_SA_INIT was answered with

    // What the peer told us about itself
    bool peer_fragmentation = false;
    bool peer_http_cert = false;
    bool peer_sig_hashes = false;
    std::vector<ike::HashAlgorithm> peer_hashes;
    bool peer_certreq = false;
    Bytes peer_certreq_data;

    // Message IDs (RFC 7296 2.3): our next request, the last request of the
    // peer answered and the answer, kept for its retransmissions.
    uint32_t next_request_id = 0;
    std::optional<uint32_t> last_peer_request;
    std::vector<Bytes> last_response;
    std::optional<Request> outstanding;
    std::deque<std::function<void(IkeSa&)>> queue;
    FragmentAssembler fragments;

    std::vector<ChildSaState> children;
    ChildSaState* child_by_in(uint32_t spi);
    ChildSaState* child_by_out(uint32_t spi);
    ChildSaState* child_by_reqid(uint32_t reqid);  // the live (not rekeyed) one
    void drop_closed_children();

    // Timers of this SA (0: not armed)
    TimerId halfopen_timer = 0, rekey_timer = 0, expire_timer = 0, dpd_timer = 0,
            keepalive_timer = 0, retry_timer = 0, linger_timer = 0;
    SteadyTime last_heard{}, established_at{};
    uint64_t lifetime_seconds = 0;

    // IKE SA rekey (RFC 7296 1.3.2, 2.8.1) and reauthentication
    std::optional<uint64_t> peer_rekeyed_to;  // our SPI of the SA the peer's rekey made
    Bytes peer_rekey_ni, peer_rekey_nr;
    std::optional<uint64_t> replaced_by;      // our SPI of the SA that took over
    std::optional<uint64_t> reauth_of;        // this SA replaces that one (reauthentication)
    bool rekey_queued = false;
    bool reauth_started = false;
    std::optional<policy::Identity> peer_id;  // authenticated identity of the peer
    bool closing_reported = false;
};

}  // namespace qvpn::ikev2
