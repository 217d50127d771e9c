// Two real QTOKVPNIK2 processes, each with its own state root and policy
// database, and this test in the place of QTOVMAN for both: it starts them
// on socketpairs, relays their IKE datagrams to each other, answers child_up
// with "installed", and checks what they report, their job logs, and how
// they end on SIGTERM. No root, no network: the datagrams only cross the
// socketpairs.
#define BOOST_TEST_MODULE ikev2_daemon
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ipc/km_channel.hpp"
#include "core/ipc/policy_json.hpp"
#include "core/policy/policy_db.hpp"
#include "daemon/ikev2/daemon/db_policy_source.hpp"
#include "daemon/sa/sa_json.hpp"

using namespace qvpn;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Job {
    std::string name;
    fs::path root;
    IpAddress addr;
    pid_t pid = -1;
    int fd = -1;
    std::vector<json> reports;  // every 'J' message received
    int exit_status = -1;

    ~Job() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (fd >= 0) {
            ::close(fd);
        }
        std::error_code ec;
        fs::remove_all(root, ec);
    }

    std::vector<json> ops(const std::string& op) const {
        std::vector<json> out;
        for (const auto& j : reports) {
            if (j.value("op", "") == op) {
                out.push_back(j);
            }
        }
        return out;
    }

    std::string joblog() const {
        std::ifstream in(root / "joblog" / "QTOKVPNIK2.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

std::string binary() {
    const char* b = std::getenv("QVPN_BUILD_DIR");
    BOOST_REQUIRE_MESSAGE(b != nullptr, "QVPN_BUILD_DIR is not set");
    return std::string(b) + "/libexec/qvpn/QTOKVPNIK2";
}

void start(Job& j) {
    auto pair = ipc::km_socketpair();
    BOOST_REQUIRE(pair.ok());
    int child_end = pair->second;
    j.fd = pair->first;
    j.pid = ::fork();
    BOOST_REQUIRE(j.pid >= 0);
    if (j.pid == 0) {
        ::fcntl(child_end, F_SETFD, 0);  // keep it across exec
        std::string fd = std::to_string(child_end);
        ::setenv("QVPN_IPC_FD", fd.c_str(), 1);
        ::setenv("QVPN_ROOT", j.root.c_str(), 1);
        std::string bin = binary();
        ::execl(bin.c_str(), "QTOKVPNIK2", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(child_end);
}

void send_json(Job& j, const json& m) {
    BOOST_REQUIRE(ipc::km_send(j.fd, ipc::encode_control(m)).ok());
}

// The relay: what one job sends to the other's address goes there, with the
// header turned around. Runs until `done` or the time runs out.
void relay(Job& a, Job& b, const std::function<bool()>& done, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        pollfd fds[2] = {{a.fd, POLLIN, 0}, {b.fd, POLLIN, 0}};
        if (::poll(fds, 2, 100) <= 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            Job& from = i == 0 ? a : b;
            Job& to = i == 0 ? b : a;
            if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) {
                continue;
            }
            auto r = ipc::km_recv(from.fd);
            if (!r.ok() || !r->has_value()) {
                continue;
            }
            auto m = ipc::decode_km(**r);
            BOOST_REQUIRE(m.ok());
            if (m->is_control()) {
                from.reports.push_back(m->control);
                if (m->control.value("op", "") == "child_up") {
                    send_json(from, {{"op", "installed"},
                                     {"conn", m->control["conn"]},
                                     {"reqid", m->control["reqid"]},
                                     {"ok", true}});
                }
                continue;
            }
            // An IKE datagram: deliver it to the job that owns the address.
            if (!(m->header.remote == to.addr)) {
                continue;
            }
            ipc::PacketHeader h{m->header.remote, m->header.remote_port, m->header.local,
                                m->header.local_port, m->header.non_esp_marker};
            if (h.remote.is_unspecified()) {
                h.remote = from.addr;
            }
            BOOST_REQUIRE(ipc::km_send(to.fd, ipc::encode_packet(h, m->payload)).ok());
        }
    }
}

bool wait_exit(Job& j, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        int st = 0;
        pid_t r = ::waitpid(j.pid, &st, WNOHANG);
        if (r == j.pid) {
            j.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            j.pid = -1;
            return true;
        }
        ::usleep(20000);
    }
    return false;
}

fs::path temp_root(const char* tag) {
    std::string t = std::string("/tmp/qv-ik2-") + tag + "-XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back(0);
    BOOST_REQUIRE(::mkdtemp(buf.data()) != nullptr);
    return fs::path(buf.data());
}

// The seed's branch office in a policy database: `local`/`remote` are the
// gateways, the subnets are 10.6.0.0/16 (HR) and 10.196.8.0/24 (finance).
void configure(const fs::path& root, bool hr_side) {
    auto db = policy::PolicyDb::open((root / "policy.db").string(), policy::Access::ReadWrite);
    BOOST_REQUIRE_MESSAGE(db.ok(), (db.ok() ? std::string() : db.error().id));
    std::string me = hr_side ? "192.0.2.1" : "192.0.2.2";
    std::string peer = hr_side ? "192.0.2.2" : "192.0.2.1";
    policy::KeyPolicy k;
    k.name = "HRgw2FINgw";
    k.remote = {policy::IdType::IPv4, peer};
    k.auth = policy::AuthMethod::Psk;
    k.psk = SecretBytes(as_view("topsecretstuff"));
    k.has_psk = true;
    k.transforms = {{policy::Encr::AesCbc128, policy::Hash::Sha256, policy::DhGroup::Grp19}};
    policy::DataPolicy d;
    d.name = "HRgw2FINgw";
    d.transforms = {{policy::Protocol::Esp, policy::Encr::AesGcm128, policy::DataAuth::None}};
    policy::DynamicGroup g;
    g.name = "HRgw2FINgw";
    g.data_policy = "HRgw2FINgw";
    g.key_policies = {"HRgw2FINgw"};
    policy::DynamicConnection c;
    c.name = "HRgw2FINgw:L1";
    c.group = "HRgw2FINgw";
    c.local_id = {policy::IdType::IPv4, me};
    c.remote_id = {policy::IdType::IPv4, peer};
    c.local = hr_side ? policy::DataEndpoint{policy::EndpointType::IPv4Subnet, "10.6.0.0",
                                             "255.255.0.0"}
                      : policy::DataEndpoint{policy::EndpointType::IPv4Subnet, "10.196.8.0",
                                             "255.255.255.0"};
    c.remote = hr_side ? policy::DataEndpoint{policy::EndpointType::IPv4Subnet, "10.196.8.0",
                                              "255.255.255.0"}
                       : policy::DataEndpoint{policy::EndpointType::IPv4Subnet, "10.6.0.0",
                                              "255.255.0.0"};
    auto s = db->transaction([&]() -> Status {
        QVPN_TRY(db->create_key_policy(k));
        QVPN_TRY(db->create_data_policy(d));
        QVPN_TRY(db->create_group(g));
        return db->create_connection(c);
    });
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().id + " " + s.error().value(1)));
}

json resolve(const fs::path& root, const std::string& conn) {
    auto db = policy::PolicyDb::open((root / "policy.db").string(), policy::Access::ReadOnly);
    BOOST_REQUIRE(db.ok());
    auto p = db->resolve(conn);
    BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.error().id));
    return ipc::policy_to_json(*p);
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_jobs_negotiate_report_and_end_on_sigterm) {
    Job a{"A", temp_root("a"), *IpAddress::parse("192.0.2.1")};
    Job b{"B", temp_root("b"), *IpAddress::parse("192.0.2.2")};
    configure(a.root, true);
    configure(b.root, false);
    start(a);
    start(b);
    relay(a, b, [&] { return !a.ops("hello").empty() && !b.ops("hello").empty(); }, 10s);
    BOOST_REQUIRE(!a.ops("hello").empty());
    BOOST_TEST(a.ops("hello")[0]["job"] == "QTOKVPNIK2");
    BOOST_TEST(a.ops("hello")[0]["ike_version"] == 2);

    // QTOVMAN: {"op":"initiate","conn":"HRgw2FINgw:L1","reqid":...,"policy":{...}}
    send_json(a, {{"op", "initiate"}, {"conn", "HRgw2FINgw:L1"}, {"reqid", 0x51560001},
                  {"policy", resolve(a.root, "HRgw2FINgw:L1")}});
    relay(a, b, [&] { return !a.ops("child_up").empty() && !b.ops("child_up").empty(); }, 20s);
    BOOST_REQUIRE_EQUAL(a.ops("ike_up").size(), 1u);
    BOOST_REQUIRE_EQUAL(b.ops("ike_up").size(), 1u);
    BOOST_REQUIRE_EQUAL(a.ops("child_up").size(), 1u);
    BOOST_REQUIRE_EQUAL(b.ops("child_up").size(), 1u);
    json ua = a.ops("ike_up")[0];
    BOOST_TEST(ua["conn"] == "HRgw2FINgw:L1");
    BOOST_TEST(ua["encr"] == "*AESCBC128");
    BOOST_TEST(ua["auth"] == "*PSK");
    BOOST_TEST(ua["peer"] == "192.0.2.2:500");
    // B found the configured connection for the peer (its data endpoints
    // narrow the selectors) and names what the peer started <group>:R<n>.
    BOOST_TEST(b.ops("ike_up")[0]["conn"] == "HRgw2FINgw:R1");
    BOOST_TEST(b.ops("ike_up")[0]["group"] == "HRgw2FINgw");

    auto ca = sa::child_sa_from_json(a.ops("child_up")[0]["sa"]);
    auto cb = sa::child_sa_from_json(b.ops("child_up")[0]["sa"]);
    BOOST_REQUIRE_MESSAGE(ca.ok(), (ca.ok() ? std::string() : ca.error().id + " " + ca.error().value(1)));
    BOOST_REQUIRE(cb.ok());
    BOOST_TEST(ca->reqid == 0x51560001u);
    BOOST_TEST(a.ops("child_up")[0]["reqid"] == 0x51560001u);
    BOOST_TEST(cb->reqid >= 0x51568001u);  // a responder reqid from the upper band
    BOOST_REQUIRE(ca->esp && cb->esp);
    BOOST_TEST(ca->esp->out.spi == cb->esp->in.spi);
    BOOST_TEST(equal_ct(ca->esp->out.encr_key, cb->esp->in.encr_key));
    BOOST_TEST((ca->esp->out.encr == ike::EncrId::ENCR_AES_GCM_16));
    BOOST_TEST(ca->ts_local[0].addrs.to_string() == "10.6.0.0/16");
    BOOST_TEST(cb->ts_local[0].addrs.to_string() == "10.196.8.0/24");

    // {"op":"status"} is answered with the IKE SAs and counters.
    send_json(a, {{"op", "status"}});
    relay(a, b, [&] { return !a.ops("status").empty(); }, 5s);
    BOOST_REQUIRE(!a.ops("status").empty());
    json st = a.ops("status")[0];
    BOOST_REQUIRE(st["ike_sas"].size() == 1u);
    BOOST_TEST(st["ike_sas"][0]["state"] == "ESTABLISHED");
    BOOST_TEST(st["ike_sas"][0]["children"].size() == 1u);
    BOOST_TEST(st["counters"]["ike_established"] == 1);

    // A rekey signalled like the SA backend's soft expiry.
    char spi[9];
    std::snprintf(spi, sizeof spi, "%08x", ca->esp->in.spi);
    send_json(a, {{"op", "expire"}, {"conn", "HRgw2FINgw:L1"}, {"reqid", 0x51560001},
                  {"spi", spi}, {"hard", false}});
    relay(a, b, [&] { return !a.ops("child_rekeyed").empty() && !b.ops("child_rekeyed").empty(); },
          10s);
    BOOST_REQUIRE_EQUAL(a.ops("child_rekeyed").size(), 1u);
    BOOST_TEST(a.ops("child_rekeyed")[0]["old_reqid"] == 0x51560001u);
    BOOST_TEST(a.ops("child_rekeyed")[0]["old_spi"] == spi);
    // The old SA's removal after the DELETE is not a connection going down.
    relay(a, b, [] { return false; }, 1s);
    BOOST_TEST(a.ops("child_down").empty());
    BOOST_TEST(b.ops("child_down").empty());

    // SIGTERM: A deletes its IKE SA with B, then ends.
    ::kill(a.pid, SIGTERM);
    relay(a, b, [&] { return !b.ops("ike_down").empty(); }, 10s);
    BOOST_REQUIRE(wait_exit(a, 10s));
    BOOST_TEST(a.exit_status == 0);
    BOOST_REQUIRE_EQUAL(b.ops("ike_down").size(), 1u);
    BOOST_TEST(b.ops("ike_down")[0]["reason"] == "deleted by the peer");
    BOOST_TEST(b.ops("child_down").size() == 1u);

    // "shutdown" ends B (nothing left to delete).
    send_json(b, {{"op", "shutdown"}});
    BOOST_REQUIRE(wait_exit(b, 10s));
    BOOST_TEST(b.exit_status == 0);

    // The job logs: one line per lifecycle event, with message IDs and the
    // object keys; never a key.
    std::string la = a.joblog();
    BOOST_TEST(la.find("\"msgid\":\"IKE0B00\"") != std::string::npos);
    BOOST_TEST(la.find("\"msgid\":\"IKE0A01\"") != std::string::npos);
    BOOST_TEST(la.find("\"msgid\":\"IKE0A10\"") != std::string::npos);
    BOOST_TEST(la.find("\"msgid\":\"IKE0A11\"") != std::string::npos);
    BOOST_TEST(la.find("\"msgid\":\"IKE0B02\"") != std::string::npos);
    BOOST_TEST(la.find("\"conn\":\"HRgw2FINgw:L1\"") != std::string::npos);
    BOOST_TEST(la.find("\"ike\":\"") != std::string::npos);
    std::string key_hex = to_hex(ca->esp->out.encr_key);
    BOOST_TEST(la.find(key_hex) == std::string::npos);
    BOOST_TEST(la.find("topsecretstuff") == std::string::npos);
    BOOST_TEST(b.joblog().find(key_hex) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_wrong_psk_is_reported_as_tcp8606_reason_24) {
    Job a{"A", temp_root("a"), *IpAddress::parse("192.0.2.1")};
    Job b{"B", temp_root("b"), *IpAddress::parse("192.0.2.2")};
    configure(a.root, true);
    configure(b.root, false);
    start(a);
    start(b);
    json pol = resolve(a.root, "HRgw2FINgw:L1");
    pol["key"]["psk"] = to_hex(as_view("a different key"));
    send_json(a, {{"op", "initiate"}, {"conn", "HRgw2FINgw:L1"}, {"reqid", 0x51560002},
                  {"policy", pol}});
    relay(a, b, [&] { return !a.ops("failed").empty(); }, 20s);
    BOOST_REQUIRE(!a.ops("failed").empty());
    json f = a.ops("failed")[0];
    BOOST_TEST(f["msgid"] == "TCP8606");
    BOOST_TEST(f["values"][0] == "HRgw2FINgw:L1");
    BOOST_TEST(f["values"][1] == "24");
    BOOST_TEST(f["detail"]["msgid"] == "IKE0909");
    BOOST_TEST(a.ops("ike_up").empty());
}

BOOST_AUTO_TEST_CASE(without_its_socket_the_job_refuses_to_start) {
    fs::path root = temp_root("x");
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::unsetenv("QVPN_IPC_FD");
        ::setenv("QVPN_ROOT", root.c_str(), 1);
        std::string bin = binary();
        ::execl(bin.c_str(), "QTOKVPNIK2", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    BOOST_TEST(WIFEXITED(st));
    BOOST_TEST(WEXITSTATUS(st) == 1);
    std::ifstream in(root / "joblog" / "QTOKVPNIK2.log");
    std::stringstream ss;
    ss << in.rdbuf();
    BOOST_TEST(ss.str().find("IKE0B01") != std::string::npos);
    fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(policy_source_over_the_database) {
    fs::path root = temp_root("db");
    configure(root, false);  // finance side: serves 192.0.2.1
    {
        auto db = policy::PolicyDb::open((root / "policy.db").string(), policy::Access::ReadWrite);
        BOOST_REQUIRE(db.ok());
        // A second group for a peer known by name, with its own transforms,
        // and a third that only initiates.
        policy::KeyPolicy k;
        k.name = "ROAMER";
        k.remote = {policy::IdType::Fqdn, "roamer.example.com"};
        k.psk = SecretBytes(as_view("another key"));
        k.has_psk = true;
        k.transforms = {{policy::Encr::AesCbc256, policy::Hash::Sha384, policy::DhGroup::Grp20}};
        policy::KeyPolicy l = k;
        l.name = "OUTBOUND";
        l.remote = {policy::IdType::Fqdn, "out.example.com"};
        l.transforms = {{policy::Encr::TripleDes, policy::Hash::Sha1, policy::DhGroup::Grp14}};
        policy::DynamicGroup g;
        g.name = "ROAMERS";
        g.data_policy = "HRgw2FINgw";
        g.key_policies = {"ROAMER"};
        policy::DynamicGroup o = g;
        o.name = "OUTONLY";
        o.key_policies = {"OUTBOUND"};
        o.initiator = policy::Initiator::Local;
        auto s = db->transaction([&]() -> Status {
            QVPN_TRY(db->create_key_policy(k));
            QVPN_TRY(db->create_key_policy(l));
            QVPN_TRY(db->create_group(g));
            return db->create_group(o);
        });
        BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().id));
    }
    ikev2::DbPolicySource src((root / "policy.db").string());

    // A known address: that key policy's transforms only.
    auto known = src.for_init(*IpAddress::parse("192.0.2.1"));
    BOOST_REQUIRE(known.ok());
    BOOST_REQUIRE(known->transforms.size() == 1u);
    BOOST_TEST((known->transforms[0].encryption == policy::Encr::AesCbc128));
    BOOST_TEST(!known->certificates);

    // An unknown address may still name itself in IKE_AUTH: every group a
    // remote may start offers its transforms (not the *LOCAL one).
    auto any = src.for_init(*IpAddress::parse("198.51.100.77"));
    BOOST_REQUIRE(any.ok());
    bool has_roamer = false, has_outbound = false;
    for (const auto& t : any->transforms) {
        has_roamer = has_roamer || t.encryption == policy::Encr::AesCbc256;
        has_outbound = has_outbound || t.encryption == policy::Encr::TripleDes;
    }
    BOOST_TEST(has_roamer);
    BOOST_TEST(!has_outbound);

    auto r = src.for_auth(*IpAddress::parse("198.51.100.77"),
                          {policy::IdType::Fqdn, "ROAMER.example.com"});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().id));
    BOOST_TEST(r->policy.group.name == "ROAMERS");
    BOOST_TEST(r->policy.connection.name.empty());  // the engine names it ROAMERS:R<n>
    BOOST_TEST(r->policy.key.psk.size() == 11u);
    BOOST_TEST((r->policy.connection.remote.type == policy::EndpointType::Any));

    auto c = src.for_auth(*IpAddress::parse("192.0.2.1"), {policy::IdType::IPv4, "192.0.2.1"});
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(c->policy.connection.name == "HRgw2FINgw:L1");

    auto none = src.for_auth(*IpAddress::parse("198.51.100.78"),
                             {policy::IdType::Fqdn, "stranger.example.com"});
    BOOST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().id == "IKE0905");

    // No database at all: a clear failure, no crash.
    ikev2::DbPolicySource missing((root / "nothing" / "policy.db").string());
    BOOST_TEST(!missing.for_init(*IpAddress::parse("192.0.2.1")).ok());
    fs::remove_all(root);
}
