// The IKEv2 exchange engine: state + message or timer -> actions.
//
// One Engine holds every IKE SA of the key manager. It never touches a
// socket, a clock or the kernel: time comes from the injected Clock,
// randomness from the injected Random, policy from a PolicySource, and
// every effect is an Action (actions.hpp) the host drains with
// take_actions() after each call. QTOKVPNIK2's event loop is one host; the
// exchange tests run two engines on an in-memory network with a fake clock.
//
// How the connection manager drives it (through the daemon):
//   initiate()   "initiate": start IKE_SA_INIT for a connection
//   acquire()    "acquire": a packet needs a CHILD_SA that is not there
//   expire()     "expire": a kilobyte (or time) lifetime of a CHILD_SA ran out
//   installed()  "installed": the answer to an InstallChild
//   terminate()  "terminate": delete the connection's SAs with the peer
//   shutdown()   SIGTERM / "shutdown": delete every IKE SA, then idle()
// and by the network: on_packet() for every IKE datagram QTOVMAN forwards,
// on_timer() when an armed timer is due.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/policy/model.hpp"
#include "daemon/ike/auth/cert_fetch.hpp"
#include "daemon/ike/auth/certs.hpp"
#include "daemon/ike/auth/keys.hpp"
#include "daemon/ike/crypto/keymat.hpp"
#include "daemon/ikev2/engine/proposals.hpp"
#include "daemon/ikev2/engine/traffic.hpp"
#include "daemon/ikev2/engine/actions.hpp"
#include "daemon/ikev2/engine/cookie.hpp"
#include "daemon/ikev2/engine/states.hpp"

namespace qvpn::ikev2 {

// Our certificate material for *RSA / *ECDSA key policies.
struct Credentials {
    std::vector<ike::auth::CertChain> certs;             // ours, in order of preference
    std::optional<ike::auth::PrivateKey> key;            // signs our AUTH
    std::shared_ptr<const ike::auth::TrustStore> trust;  // CAs we accept for the peer
};

// What the responder knows at IKE_SA_INIT, before any identity is seen.
struct InitPolicy {
    std::vector<policy::KeyTransform> transforms;  // acceptable IKE transforms, in order
    bool certificates = false;                     // some policy for this peer uses *RSA/*ECDSA
    std::shared_ptr<const ike::auth::TrustStore> trust;  // for CERTREQ
    policy::VpnAttributes attributes;
};

// The connection that serves a peer identity (IKE_AUTH, responder). An
// empty connection name makes the engine name it "<group>:R<n>".
struct ResolvedPeer {
    policy::ConnectionPolicy policy;
    Credentials creds;
};

// The engine's window on the policy database and the certificate store.
// The daemon implements it over PolicyDb; tests with plain values.
class PolicySource {
public:
    virtual ~PolicySource() = default;
    // IKE0905 (reason 8307) when no key policy serves `peer`.
    virtual Result<InitPolicy> for_init(const IpAddress& peer) = 0;
    // IKE0905 (8307) when no group serves the identity; the caller checks
    // the preshared key (8308) and the group's initiator setting.
    virtual Result<ResolvedPeer> for_auth(const IpAddress& peer,
                                          const policy::Identity& peer_id) = 0;
    // Hash and URL (RFC 7296 3.6): fetch a certificate. Called only when
    // "Allow HTTP lookup of certificates" is on; it may block.
    virtual Result<Bytes> fetch_certificate(const ike::auth::HashAndUrl& h);
};

struct EngineConfig {
    // Retransmission (RFC 7296 2.1): the first wait, multiplied by
    // `backoff` after each try, at most `retransmit_max`; after `tries`
    // transmissions without an answer the exchange has timed out.
    std::chrono::milliseconds retransmit_base{1000};
    double backoff = 2.0;
    std::chrono::milliseconds retransmit_max{30000};
    int tries = 6;
    // Responder: an IKE SA without IKE_AUTH after this long is dropped.
    std::chrono::seconds half_open_timeout{30};
    // Responder: never more half-open SAs than this (cookies start at the
    // VpnAttributes::half_open_limit).
    size_t half_open_hard_limit = 20000;
    std::chrono::seconds cookie_rotation{120};
    int max_cookie_retries = 3;
    int max_ke_retries = 3;
    // RFC 7383: fragment encrypted messages larger than this many bytes
    // (the IKE message, without IP/UDP headers and the non-ESP marker).
    bool fragmentation = true;
    size_t fragment_size = 1232;
    // NAT-T keepalives when we are behind a NAT (RFC 3948 4).
    std::chrono::seconds keepalive{20};
    // Rekeying starts at (100 - rekey_margin_percent)% of a lifetime minus
    // up to jitter_percent% at random, so both peers rarely start together.
    int rekey_margin_percent = 10;
    int jitter_percent = 5;
    // After TEMPORARY_FAILURE (RFC 7296 2.25) a rekey is tried again after
    // a random delay of up to this long.
    std::chrono::milliseconds retry_delay_max{3000};
    // reqids the engine gives CHILD_SAs a peer creates (responder side);
    // initiated connections use the reqid QTOVMAN passes.
    uint32_t responder_reqid_base = 0x40000000;
    // Rate limit of log lines a remote peer can trigger, per message ID.
    int log_burst = 5;
    std::chrono::seconds log_period{10};
    size_t nonce_len = 32;
};

struct Counters {
    uint64_t packets_in = 0, packets_out = 0;
    uint64_t malformed = 0, integrity_failures = 0, unknown_spi = 0;
    uint64_t out_of_window = 0, retransmits_sent = 0, retransmits_answered = 0;
    uint64_t cookies_sent = 0, cookies_refused = 0, half_open_dropped = 0;
    uint64_t ike_established = 0, ike_rekeyed = 0, children_installed = 0,
             children_rekeyed = 0, children_deleted = 0;
    uint64_t collisions = 0, dead_peers = 0, auth_failures = 0;
    uint64_t logs_suppressed = 0;
};

struct ChildStatus {
    uint32_t reqid = 0;
    uint32_t spi_in = 0, spi_out = 0;
    std::string state, protocol, algorithms;
    std::string ts_local, ts_remote;
};

struct IkeSaStatus {
    std::string conn, ike, state, peer;
    bool initiator = false;
    std::string algorithms;
    std::vector<ChildStatus> children;
};

struct IkeSa;
struct ChildSaState;
struct Request;
struct ChildOutcome;

class Engine {
public:
    Engine(const Clock& clock, Random& rng, PolicySource& policies, EngineConfig cfg = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Start a connection: IKE_SA_INIT to `remote` (port 500). `local` may
    // have an unspecified address (QTOVMAN's socket picks the source).
    void initiate(const policy::ConnectionPolicy& policy, uint32_t reqid, const Endpoint& local,
                  const Endpoint& remote, Credentials creds = {});
    // Traffic for a connection without a CHILD_SA: a new CHILD_SA on its IKE
    // SA, or a new IKE SA. false when the engine does not know `conn` (the
    // daemon then resolves the policy and calls initiate()).
    bool acquire(const std::string& conn, uint32_t reqid);
    // A CHILD_SA lifetime ran out in the SA backend (kilobytes, usually).
    // soft: rekey now; hard: the SA is gone, delete it with the peer.
    void expire(const std::string& conn, uint32_t reqid, uint32_t spi, bool hard);
    // QTOVMAN's answer to InstallChild. A failed install deletes the
    // CHILD_SA with the peer and reports 8400.
    void installed(const std::string& conn, uint32_t reqid, bool ok);
    // Delete a connection's IKE SAs (and so its CHILD_SAs) with the peer.
    void terminate(const std::string& conn);
    // Delete every IKE SA; idle() turns true once all are gone (answered or
    // timed out).
    void shutdown();
    bool idle() const;

    // One IKE datagram (without the non-ESP marker, which `marker` reports).
    void on_packet(const Endpoint& local, const Endpoint& remote, bool marker, ByteView data);
    void on_timer(TimerId id);

    std::vector<Action> take_actions();
    std::vector<IkeSaStatus> status() const;
    // Global VPN properties: the responder's half-open limit before
    // cookies are asked for (initiated SAs use their policy's copy).
    void set_attributes(const policy::VpnAttributes& a) { attributes_ = a; }
    const Counters& counters() const { return counters_; }
    const EngineConfig& config() const { return cfg_; }

private:
    friend struct EngineAccess;
    enum class TimerKind {
        Retransmit, HalfOpen, IkeRekey, IkeExpire, ChildRekey, ChildExpire, Dpd, Keepalive,
        Retry, RekeyedLinger
    };
    struct TimerRef {
        uint64_t spi = 0;
        TimerKind kind = TimerKind::Retransmit;
        uint32_t child = 0;
    };

    // --- bookkeeping (engine.cpp) ---
    IkeSa* find_sa(uint64_t our_spi);
    IkeSa& add_sa(std::unique_ptr<IkeSa> sa);
    uint64_t new_spi();
    uint32_t new_child_spi();
    uint32_t new_reqid();
    TimerId arm(IkeSa& sa, TimerKind kind, SteadyTime when, uint32_t child = 0);
    void cancel(TimerId& id);
    void cancel_all_timers(IkeSa& sa);
    void set_state(IkeSa& sa, IkeState to);
    void set_state(IkeSa& sa, ChildSaState& c, ChildState to);
    void close_sa(IkeSa& sa, const std::string& reason, bool remove_children);
    void log(const IkeSa* sa, joblog::Level level, Msg m, uint32_t child = 0);
    void log_peer(const Endpoint& peer, joblog::Level level, Msg m);
    void debug(const IkeSa* sa, std::string_view component, std::string text);
    void fail(IkeSa& sa, int reason_code, Msg detail);
    size_t half_open_count() const;
    void purge_closed();

    // --- transport (transport.cpp) ---
    using Builder = std::function<void(IkeSa&)>;
    void enqueue(IkeSa& sa, Builder start);
    void start_next(IkeSa& sa);
    void send_request(IkeSa& sa, Request req, ExchangeType ex, std::vector<Payload> p);
    void send_response(IkeSa& sa, const Header& req, std::vector<Payload> p);
    Result<std::vector<Bytes>> encode(IkeSa& sa, Header h, const std::vector<Payload>& p);
    void transmit(IkeSa& sa, const std::vector<Bytes>& datagrams);
    void send_raw(const Endpoint& local, const Endpoint& remote, bool marker, Bytes data);
    void retransmit(IkeSa& sa);
    void exchange_timed_out(IkeSa& sa);
    void send_clear_notify(const Endpoint& local, const Endpoint& remote, bool marker,
                           const Header& req, NotifyType type, Bytes data);
    void handle_encrypted(IkeSa& sa, const Endpoint& local, const Endpoint& remote, bool marker,
                          ByteView data, const Message& m);
    void dispatch(IkeSa& sa, const Header& h, std::vector<Payload> payloads,
                  const Endpoint& local, const Endpoint& remote, bool marker);
    bool rate_ok(const std::string& msgid);

    // --- IKE_SA_INIT (exchange_init.cpp) ---
    void start_init(IkeSa& sa);
    void handle_init_request(const Endpoint& local, const Endpoint& remote, bool marker,
                             ByteView data, const Message& m);
    void handle_init_response(IkeSa& sa, ByteView data, const Message& m);
    void handle_response(IkeSa& sa, const Header& h, std::vector<Payload> p);

    // --- IKE_AUTH (exchange_auth.cpp) ---
    void start_auth(IkeSa& sa);
    void handle_auth_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p);
    void handle_auth_response(IkeSa& sa, Request& req, const std::vector<Payload>& p);
    void established(IkeSa& sa);
    IkeUp ike_up_action(const IkeSa& sa) const;
    Result<Bytes> signed_octets(IkeSa& sa, bool ours, const IdPayload& id);
    Result<IdPayload> our_id(IkeSa& sa);
    Result<AuthPayload> make_auth(IkeSa& sa, const IdPayload& id);
    std::vector<Payload> cert_payloads(IkeSa& sa);
    Status verify_peer_auth(IkeSa& sa, const IdPayload& id, const AuthPayload& auth,
                            const std::vector<Payload>& p, const policy::Identity& peer_id);
    std::string responder_name(IkeSa& sa, const policy::Identity& peer_id);
    std::optional<uint32_t> adopt_replaced_child(IkeSa& sa, ChildSaState& child);
    void drop_stale_sas(IkeSa& sa);

    // --- CHILD_SAs in IKE_AUTH and CREATE_CHILD_SA (exchange_child.cpp) ---
    IpAddress local_host(const IkeSa& sa) const;
    IpAddress remote_host(const IkeSa& sa) const;
    Result<std::vector<Payload>> offer_child(IkeSa& sa, Request& req, bool in_ike_auth);
    ChildSaState build_child(IkeSa& sa, const ChildChoice& choice, uint32_t spi_in,
                             ike::crypto::ChildKeys keys, Selectors ts_local, Selectors ts_remote,
                             bool transport, std::optional<sa::IpComp> ipcomp, bool tfc_ok);
    ChildOutcome answer_child(IkeSa& sa, const std::vector<Payload>& p, bool in_ike_auth,
                              const Bytes& ni, const Bytes& nr);
    Result<ChildSaState> accept_child_answer(IkeSa& sa, const Request& req,
                                             const std::vector<Payload>& p, bool in_ike_auth,
                                             const Bytes& ni, const Bytes& nr, ByteView g_ir);
    void install_child(IkeSa& sa, ChildSaState c, std::optional<uint32_t> rekey_of);
    void discard_child(IkeSa& sa, ChildSaState c, uint32_t rekeyed_spi);
    void report_child_failure(IkeSa& sa, int code, const Msg& detail);
    void remove_child(IkeSa& sa, ChildSaState& c, const std::string& why);

    // --- CREATE_CHILD_SA (exchange_child.cpp) ---
    void start_create_child(IkeSa& sa, uint32_t reqid, std::optional<uint32_t> rekey_spi);
    void start_rekey_ike(IkeSa& sa);
    void handle_create_child_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p);
    void handle_create_child_response(IkeSa& sa, Request& req, const std::vector<Payload>& p);
    void handle_rekey_ike_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p);
    void handle_rekey_ike_response(IkeSa& sa, Request& req, const std::vector<Payload>& p);
    void move_children(IkeSa& from, IkeSa& to);
    IkeSa& make_rekeyed(IkeSa& old, bool we_initiated, uint64_t our_spi, uint64_t peer_spi,
                        const Bytes& ni, const Bytes& nr, const ike::crypto::IkeSuite& suite);
    void rekeyed_up(IkeSa& n);
    void start_reauth(IkeSa& sa);
    std::optional<uint32_t> reauth_replaces(IkeSa& n, uint32_t reqid);
    void finish_reauth(IkeSa& n);

    // --- INFORMATIONAL (exchange_info.cpp) ---
    void start_delete_children(IkeSa& sa, std::vector<uint32_t> spis_in, ProtocolId proto);
    void start_delete_ike(IkeSa& sa);
    void start_dpd(IkeSa& sa);
    void handle_info_request(IkeSa& sa, const Header& h, const std::vector<Payload>& p);
    void handle_info_response(IkeSa& sa, Request& req, const std::vector<Payload>& p);

    // --- timers of an established SA ---
    void arm_lifetimes(IkeSa& sa);
    void arm_child_lifetimes(IkeSa& sa, ChildSaState& c);
    SteadyTime rekey_time(uint64_t lifetime_seconds);

    const Clock& clock_;
    Random& rng_;
    PolicySource& policies_;
    EngineConfig cfg_;
    CookieJar cookies_;
    std::map<uint64_t, std::unique_ptr<IkeSa>> sas_;
    // SAs (by our SPI) that closed, or closed a CHILD_SA, since the last
    // purge_closed(): it looks at these only, not at every SA.
    std::vector<uint64_t> closed_;
    // Responder: (peer address and port, SPIi) of IKE_SA_INIT requests
    // answered, for retransmissions and duplicates.
    std::map<std::pair<std::string, uint64_t>, uint64_t> half_open_;
    std::map<TimerId, TimerRef> timers_;
    TimerId next_timer_ = 1;
    std::vector<Action> actions_;
    uint32_t next_reqid_ = 0;
    uint32_t responder_seq_ = 0;
    bool shutting_down_ = false;
    policy::VpnAttributes attributes_;
    struct LogBucket {
        SteadyTime start{};
        int count = 0;
        uint64_t suppressed = 0;
    };
    std::map<std::string, LogBucket> log_buckets_;
    Counters counters_;
};

}  // namespace qvpn::ikev2
