// Two IKEv2 engines on an in-memory network with a fake clock: the test bed
// of every exchange test. Nothing here touches a socket or the kernel:
// SendPacket actions become deliveries, ArmTimer actions entries in a timer
// list, InstallChild/RemoveChild changes of a fake SA table that checks
// what a real backend would refuse (a second install of an SPI, a removal
// of something not installed).
#pragma once

#include <boost/test/unit_test.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <cstdio>
#include <cstdlib>

#include "core/base/clock.hpp"
#include "core/msg/catalog.hpp"
#include "daemon/ike/identity.hpp"
#include "daemon/ikev2/engine/engine.hpp"
#include "daemon/ikev2/wire/message.hpp"

namespace qvpn::ikev2::test {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
public:
    SteadyTime now() const override { return t_; }
    WallTime wall() const override { return std::chrono::system_clock::now() + (t_ - start_); }
    void set(SteadyTime t) { t_ = t; }

private:
    SteadyTime start_ = SteadyTime{} + std::chrono::hours(1000);
    SteadyTime t_ = start_;
};

// The policy database of one peer, as plain values.
class StaticPolicies final : public PolicySource {
public:
    std::vector<ResolvedPeer> peers;  // responder side: who may connect
    policy::VpnAttributes attributes;
    int init_lookups = 0, auth_lookups = 0;
    std::map<std::string, Bytes> urls;  // Hash and URL: what each URL serves
    int fetches = 0;

    Result<Bytes> fetch_certificate(const ike::auth::HashAndUrl& h) override {
        ++fetches;
        auto it = urls.find(h.url);
        if (it == urls.end()) {
            return fail("IKE0122", h.url);
        }
        return it->second;
    }

    Result<InitPolicy> for_init(const IpAddress& peer) override {
        ++init_lookups;
        InitPolicy ip;
        ip.attributes = attributes;
        for (const auto& p : peers) {
            for (const auto& t : p.policy.key.transforms) {
                ip.transforms.push_back(t);
            }
            if (p.policy.key.auth != policy::AuthMethod::Psk) {
                ip.certificates = true;
                ip.trust = p.creds.trust;
            }
        }
        if (ip.transforms.empty()) {
            return fail("IKE0905", "*ANY", peer.to_string());
        }
        return ip;
    }

    Result<ResolvedPeer> for_auth(const IpAddress& peer, const policy::Identity& id) override {
        ++auth_lookups;
        for (const auto& p : peers) {
            if (ike::identity_matches(p.policy.key.remote, id)) {
                ResolvedPeer r = p;
                r.policy.attributes = attributes;
                return r;
            }
        }
        return fail("IKE0905", ike::identity_text(id), peer.to_string());
    }
};

struct Packet {
    Endpoint from, to;
    bool marker = false;
    Bytes data;
    int sender = 0;  // index of the sending peer
};

// One side: an engine, its policies, its timers and its fake SA table.
struct Side {
    std::string name;
    Endpoint addr;  // where it receives (port 500; 4500 is the same address)
    SeededRandom rng;
    StaticPolicies policies;
    std::unique_ptr<Engine> engine;
    std::map<TimerId, SteadyTime> timers;
    std::vector<Action> all;  // every action ever returned, in order
    std::map<uint32_t, sa::ChildSa> installed;  // by inbound SPI
    std::map<uint32_t, int> installed_per_reqid_min;  // lowest count seen after the first install
    std::vector<std::string> errors;  // what a real backend would have refused

    Side(std::string n, const std::string& ip, uint64_t seed)
        : name(std::move(n)), addr{*IpAddress::parse(ip), 500}, rng(seed) {}

    template <class T>
    std::vector<T> of() const {
        std::vector<T> out;
        for (const auto& a : all) {
            if (const auto* x = std::get_if<T>(&a)) {
                out.push_back(*x);
            }
        }
        return out;
    }
    size_t count_log(const std::string& id) const {
        size_t n = 0;
        for (const auto& l : of<LogLine>()) {
            n += l.msg.id == id ? 1 : 0;
        }
        return n;
    }
    std::vector<uint32_t> live_spis(uint32_t reqid) const {
        std::vector<uint32_t> out;
        for (const auto& [spi, c] : installed) {
            if (c.reqid == reqid) {
                out.push_back(spi);
            }
        }
        return out;
    }
};

class Net {
public:
    Net() = default;
    Net(const std::string& ip_a, const std::string& ip_b) : a("A", ip_a, 11), b("B", ip_b, 22) {}

    FakeClock clock;
    Side a{"A", "192.0.2.1", 11};
    Side b{"B", "192.0.2.2", 22};
    std::deque<Packet> wire;
    std::vector<Packet> delivered;
    // Returns true to drop a packet (loss, a silent peer).
    std::function<bool(const Packet&)> drop;
    // Optional change of a packet in flight (tampering tests).
    std::function<void(Packet&)> tamper;
    // A NAT in front of A: A's packets leave from nat_addr, ports mapped.
    std::optional<IpAddress> nat_addr;
    std::map<uint16_t, uint16_t> nat_out;  // A's port -> outside port
    size_t keepalives = 0;
    size_t dropped = 0;

    void start(EngineConfig ca = {}, EngineConfig cb = {}) {
        a.engine = std::make_unique<Engine>(clock, a.rng, a.policies, ca);
        b.engine = std::make_unique<Engine>(clock, b.rng, b.policies, cb);
        a.engine->set_attributes(a.policies.attributes);
        b.engine->set_attributes(b.policies.attributes);
    }

    Side& side(int i) { return i == 0 ? a : b; }

    // Carry out the actions of both engines and deliver packets until the
    // network is quiet (timers are not fired).
    void pump(size_t limit = 10000) {
        for (size_t n = 0; n < limit; ++n) {
            collect(0);
            collect(1);
            if (wire.empty()) {
                return;
            }
            Packet p = std::move(wire.front());
            wire.pop_front();
            deliver(p);
        }
        BOOST_FAIL("network did not settle");
    }

    // Advance the clock to `until`, firing every timer on the way (timers
    // due at the same instant all fire before any packet moves).
    void run_until(SteadyTime until) {
        pump();
        for (;;) {
            std::optional<SteadyTime> next;
            for (int i = 0; i < 2; ++i) {
                for (const auto& [id, t] : side(i).timers) {
                    if (!next || t < *next) {
                        next = t;
                    }
                }
            }
            if (!next || *next > until) {
                break;
            }
            clock.set(std::max(clock.now(), *next));
            for (int i = 0; i < 2; ++i) {
                std::vector<TimerId> due;
                for (const auto& [id, t] : side(i).timers) {
                    if (t <= *next) {
                        due.push_back(id);
                    }
                }
                for (TimerId id : due) {
                    side(i).timers.erase(id);
                    side(i).engine->on_timer(id);
                }
            }
            pump();
        }
        clock.set(std::max(clock.now(), until));
    }
    void run_for(std::chrono::milliseconds d) { run_until(clock.now() + d); }

    // Both engines' live CHILD_SAs pair up: A's outbound SPI is B's inbound
    // one with the same keys, both ways.
    void check_pairs() {
        for (const auto& [spi, ca] : a.installed) {
            const sa::SaPair* pa = ca.esp ? &*ca.esp : &*ca.ah;
            auto it = b.installed.find(pa->out.spi);
            BOOST_REQUIRE_MESSAGE(it != b.installed.end(),
                                  "A's outbound SPI " << pa->out.spi << " is not installed in B");
            const sa::SaPair* pb = it->second.esp ? &*it->second.esp : &*it->second.ah;
            BOOST_TEST(pb->out.spi == pa->in.spi);
            BOOST_TEST(equal_ct(pa->out.encr_key, pb->in.encr_key));
            BOOST_TEST(equal_ct(pa->out.integ_key, pb->in.integ_key));
            BOOST_TEST(equal_ct(pa->in.encr_key, pb->out.encr_key));
            BOOST_TEST(equal_ct(pa->in.integ_key, pb->out.integ_key));
            BOOST_TEST(ca.ts_local == it->second.ts_remote);
            BOOST_TEST(ca.ts_remote == it->second.ts_local);
            BOOST_TEST((ca.mode == it->second.mode));
            BOOST_TEST(ca.esn == it->second.esn);
        }
        BOOST_TEST(a.installed.size() == b.installed.size());
        BOOST_TEST(a.errors.empty());
        BOOST_TEST(b.errors.empty());
        for (const auto& e : a.errors) {
            BOOST_TEST_MESSAGE("A: " << e);
        }
        for (const auto& e : b.errors) {
            BOOST_TEST_MESSAGE("B: " << e);
        }
    }

    // Inject a datagram as if it came from `from` to side `to`.
    void inject(int to, const Endpoint& from, Bytes data, bool marker = false) {
        Side& s = side(to);
        Endpoint local = s.addr;
        local.port = marker ? 4500 : 500;
        s.engine->on_packet(local, from, marker, data);
        collect(to);
    }

private:
    void collect(int i) {
        Side& s = side(i);
        static const bool trace = std::getenv("QVPN_TEST_TRACE") != nullptr;
        for (auto& act : s.engine->take_actions()) {
            s.all.push_back(act);
            if (trace) {
                if (const auto* l = std::get_if<LogLine>(&act)) {
                    std::fprintf(stderr, "%s %s %s%s [%s %s]\n", s.name.c_str(),
                                 l->msg.id.empty() ? l->component.c_str() : l->msg.id.c_str(),
                                 l->text.c_str(),
                                 l->msg.id.empty() ? "" : msgcat::first_level(l->msg).c_str(),
                                 l->fields.conn.c_str(), l->fields.ike.c_str());
                } else if (const auto* f = std::get_if<Failed>(&act)) {
                    std::fprintf(stderr, "%s FAILED %d\n", s.name.c_str(), f->reason_code);
                }
            }
            if (auto* p = std::get_if<SendPacket>(&act)) {
                Packet pk{p->local, p->remote, p->non_esp_marker, p->data, i};
                if (pk.from.addr.is_unspecified()) {
                    pk.from.addr = s.addr.addr;
                }
                if (p->data.size() == 1 && p->data[0] == 0xff) {
                    ++keepalives;  // QTOVMAN never hands these to a key manager
                    continue;
                }
                if (i == 0 && nat_addr) {
                    auto [it, fresh] = nat_out.emplace(pk.from.port,
                                                       uint16_t(40000 + nat_out.size()));
                    pk.from = Endpoint{*nat_addr, it->second};
                }
                wire.push_back(std::move(pk));
            } else if (auto* t = std::get_if<ArmTimer>(&act)) {
                s.timers[t->id] = t->when;
            } else if (auto* c = std::get_if<CancelTimer>(&act)) {
                s.timers.erase(c->id);
            } else if (auto* in = std::get_if<InstallChild>(&act)) {
                uint32_t spi = in->sa.esp ? in->sa.esp->in.spi : in->sa.ah->in.spi;
                if (s.installed.count(spi) != 0) {
                    s.errors.push_back("SPI installed twice");
                }
                if (in->rekey_of && s.installed.count(*in->rekey_of) == 0) {
                    s.errors.push_back("rekey of an SA that is not installed");
                }
                s.installed[spi] = in->sa;
            } else if (auto* rm = std::get_if<RemoveChild>(&act)) {
                if (s.installed.erase(rm->spi_in) == 0) {
                    s.errors.push_back("removal of an SA that is not installed");
                }
            }
        }
    }

    void deliver(Packet& p) {
        if (tamper) {
            tamper(p);
        }
        if (drop && drop(p)) {
            ++dropped;
            return;
        }
        int to = -1;
        if (nat_addr && p.to.addr == *nat_addr) {
            // Back through the NAT to A.
            for (const auto& [inside, outside] : nat_out) {
                if (outside == p.to.port) {
                    p.to = Endpoint{a.addr.addr, inside};
                    to = 0;
                }
            }
        } else if (p.to.addr == a.addr.addr) {
            to = 0;
        } else if (p.to.addr == b.addr.addr) {
            to = 1;
        }
        if (to < 0) {
            ++dropped;
            return;
        }
        delivered.push_back(p);
        side(to).engine->on_packet(p.to, p.from, p.marker, p.data);
    }
};

// --- policies for the seed's branch office scenario -------------------------------------

inline policy::ConnectionPolicy branch_policy(const std::string& conn, const std::string& local_ip,
                                             const std::string& remote_ip,
                                             const std::string& local_net,
                                             const std::string& local_mask,
                                             const std::string& remote_net,
                                             const std::string& remote_mask) {
    policy::ConnectionPolicy p;
    p.connection.name = conn;
    p.connection.group = "HRgw2FINgw";
    p.connection.local_id = {policy::IdType::IPv4, local_ip};
    p.connection.remote_id = {policy::IdType::IPv4, remote_ip};
    p.connection.local = {policy::EndpointType::IPv4Subnet, local_net, local_mask};
    p.connection.remote = {policy::EndpointType::IPv4Subnet, remote_net, remote_mask};
    p.group.name = "HRgw2FINgw";
    p.group.role = policy::SystemRole::Gw2Gw;
    p.key.name = "HRgw2FINgwKP";
    p.key.remote = {policy::IdType::IPv4, remote_ip};
    p.key.auth = policy::AuthMethod::Psk;
    p.key.psk = SecretBytes(as_view("topsecretstuff"));
    p.key.has_psk = true;
    p.key.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    p.data.name = "HRgw2FINgwDP";
    p.data.transforms = {
        {policy::Protocol::Esp, policy::Encr::AesCbc128, policy::DataAuth::HmacSha256}};
    return p;
}

// A: the HR gateway (10.6.0.0/16), B: the finance gateway (10.196.8.0/24).
inline policy::ConnectionPolicy policy_a() {
    return branch_policy("HRgw2FINgw:L1", "192.0.2.1", "192.0.2.2", "10.6.0.0", "255.255.0.0",
                         "10.196.8.0", "255.255.255.0");
}
inline policy::ConnectionPolicy policy_b() {
    return branch_policy("", "192.0.2.2", "192.0.2.1", "10.196.8.0", "255.255.255.0",
                         "10.6.0.0", "255.255.0.0");
}

// The usual set-up: B answers with policy_b(), A initiates policy_a().
inline void setup_branch(Net& net, EngineConfig ca = {}, EngineConfig cb = {}) {
    net.b.policies.peers.push_back(ResolvedPeer{policy_b(), {}});
    net.start(ca, cb);
}

inline void initiate(Net& net, const policy::ConnectionPolicy& p, uint32_t reqid = 7,
                     Credentials creds = {}) {
    net.a.engine->initiate(p, reqid, Endpoint{net.a.addr.addr, 500},
                           Endpoint{net.b.addr.addr, 500}, std::move(creds));
    net.pump();
}

}  // namespace qvpn::ikev2::test
