#define BOOST_TEST_MODULE sa_json
#include <boost/test/unit_test.hpp>

#include "daemon/sa/backend.hpp"
#include "daemon/sa/sa_json.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using nlohmann::json;

namespace {

SecretBytes key(size_t n, uint8_t seed) {
    SecretBytes k(n);
    for (size_t i = 0; i < n; ++i) {
        k.data()[i] = uint8_t(seed + i);
    }
    return k;
}

TrafficSelector ts(const char* range, uint8_t proto = 0, uint16_t from = 0,
                   uint16_t to = 65535) {
    TrafficSelector t;
    t.addrs = *parse_ip_range(range);
    t.ip_proto = proto;
    t.port_from = from;
    t.port_to = to;
    return t;
}

ChildSa sample() {
    ChildSa sa;
    sa.conn = "HRgw2FINgw:L1";
    sa.reqid = kReqidFirst + 6;
    sa.mode = Mode::Tunnel;
    sa.local = *IpAddress::parse("192.0.2.1");
    sa.remote = *IpAddress::parse("192.0.2.2");
    sa.encap = Encap{4500, 31337};
    SaKeys in;
    in.spi = 0xc0ffee01;
    in.encr = ike::EncrId::ENCR_AES_CBC;
    in.encr_key_bits = 256;
    in.encr_key = key(32, 1);
    in.integ = ike::IntegId::AUTH_HMAC_SHA2_256_128;
    in.integ_key = key(32, 100);
    SaKeys out = in;
    out.spi = 0xc0ffee02;
    out.encr_key = key(32, 50);
    sa.esp = SaPair{in, out};
    sa.ipcomp = IpComp{0x4001, 0x4002};
    sa.esn = true;
    sa.replay_window = 128;
    sa.tfc = true;
    sa.ts_local = {ts("10.1.0.0/24"), ts("2001:db8:1::/48", 6, 80, 80)};
    sa.ts_remote = {ts("10.2.0.5-10.2.0.9", 17, 1000, 2000), ts("2001:db8:2::7")};
    sa.lifetime = {3240, 3600, 1u << 30, 1u << 31};
    return sa;
}

bool same_keys(const SaKeys& a, const SaKeys& b) {
    return a.spi == b.spi && a.encr == b.encr && a.encr_key_bits == b.encr_key_bits &&
           equal_ct(a.encr_key, b.encr_key) && a.encr_key.size() == b.encr_key.size() &&
           a.integ == b.integ && a.integ_key.size() == b.integ_key.size() &&
           equal_ct(a.integ_key, b.integ_key);
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_through_text) {
    ChildSa sa = sample();
    std::string text = to_json(sa).dump();
    auto back = child_sa_from_text(text);
    BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().id + " " + back.error().value(2)));
    const ChildSa& b = *back;
    BOOST_TEST(b.conn == sa.conn);
    BOOST_TEST(b.reqid == sa.reqid);
    BOOST_TEST((b.mode == Mode::Tunnel));
    BOOST_TEST((b.local == sa.local));
    BOOST_TEST((b.remote == sa.remote));
    BOOST_REQUIRE(b.encap.has_value());
    BOOST_TEST((*b.encap == *sa.encap));
    BOOST_REQUIRE(b.esp.has_value());
    BOOST_TEST(same_keys(b.esp->in, sa.esp->in));
    BOOST_TEST(same_keys(b.esp->out, sa.esp->out));
    BOOST_TEST(!b.ah.has_value());
    BOOST_REQUIRE(b.ipcomp.has_value());
    BOOST_TEST(b.ipcomp->cpi_in == 0x4001);
    BOOST_TEST(b.ipcomp->cpi_out == 0x4002);
    BOOST_TEST(b.esn);
    BOOST_TEST(b.replay_window == 128u);
    BOOST_TEST(b.tfc);
    BOOST_TEST((b.ts_local == sa.ts_local));
    BOOST_TEST((b.ts_remote == sa.ts_remote));
    BOOST_TEST(b.lifetime.soft_seconds == 3240u);
    BOOST_TEST(b.lifetime.hard_bytes == (1ull << 31));
    BOOST_TEST(validate(b).ok());
}

BOOST_AUTO_TEST_CASE(wire_spellings) {
    json j = to_json(sample());
    BOOST_TEST(j["esp"]["in"]["spi"] == "c0ffee01");
    BOOST_TEST(j["esp"]["in"]["encr"] == "ENCR_AES_CBC");
    BOOST_TEST(j["esp"]["in"]["integ"] == "AUTH_HMAC_SHA2_256_128");
    BOOST_TEST(j["esp"]["in"]["encr_key"].get<std::string>().substr(0, 6) == "010203");
    BOOST_TEST(j["ipcomp"]["cpi_in"] == "4001");
    BOOST_TEST(j["ts_local"][0]["addrs"] == "10.1.0.0/24");
    BOOST_TEST(j["ts_remote"][0]["addrs"] == "10.2.0.5-10.2.0.9");
    BOOST_TEST(j["ts_remote"][1]["addrs"] == "2001:db8:2::7");
    json adl = sample();
    BOOST_TEST(adl == j);
}

BOOST_AUTO_TEST_CASE(strict_input) {
    json good = to_json(sample());
    struct Case {
        const char* name;
        std::function<void(json&)> mutate;
        const char* field;
    };
    std::vector<Case> cases = {
        {"unknown key", [](json& j) { j["colour"] = "red"; }, "sa.colour"},
        {"reqid string", [](json& j) { j["reqid"] = "7"; }, "sa.reqid"},
        {"reqid negative", [](json& j) { j["reqid"] = -1; }, "sa.reqid"},
        {"reqid too big", [](json& j) { j["reqid"] = 1ull << 33; }, "sa.reqid"},
        {"mode", [](json& j) { j["mode"] = "beet"; }, "sa.mode"},
        {"local", [](json& j) { j["local"] = "192.0.2.300"; }, "sa.local"},
        {"missing remote", [](json& j) { j.erase("remote"); }, "sa.remote"},
        {"spi not hex", [](json& j) { j["esp"]["in"]["spi"] = "xyz"; }, "sa.esp.in.spi"},
        {"spi too long", [](json& j) { j["esp"]["in"]["spi"] = "123456789"; }, "sa.esp.in.spi"},
        {"encr name", [](json& j) { j["esp"]["out"]["encr"] = "AES"; }, "sa.esp.out.encr"},
        {"integ name", [](json& j) { j["esp"]["out"]["integ"] = "SHA1"; }, "sa.esp.out.integ"},
        {"odd key", [](json& j) { j["esp"]["in"]["encr_key"] = "abc"; }, "sa.esp.in.encr_key"},
        {"no out", [](json& j) { j["esp"].erase("out"); }, "sa.esp.out"},
        {"esp key extra", [](json& j) { j["esp"]["in"]["salt"] = "00"; }, "sa.esp.in.salt"},
        {"ts addrs", [](json& j) { j["ts_local"][0]["addrs"] = "10.1.0.0/33"; },
         "sa.ts_local[0].addrs"},
        {"ts range backwards", [](json& j) { j["ts_local"][0]["addrs"] = "10.1.0.9-10.1.0.1"; },
         "sa.ts_local[0].addrs"},
        {"ts mixed range", [](json& j) { j["ts_local"][0]["addrs"] = "10.1.0.1-2001:db8::1"; },
         "sa.ts_local[0].addrs"},
        {"ts ports", [](json& j) { j["ts_local"][0]["port_from"] = 70000; },
         "sa.ts_local[0].port_from"},
        {"ts not array", [](json& j) { j["ts_local"] = "10.0.0.0/8"; }, "sa.ts_local"},
        {"encap port", [](json& j) { j["encap"]["local_port"] = true; }, "sa.encap.local_port"},
        {"cpi", [](json& j) { j["ipcomp"]["cpi_in"] = "12345"; }, "sa.ipcomp.cpi_in"},
        {"lifetime", [](json& j) { j["lifetime"]["soft_bytes"] = 1.5; }, "sa.lifetime.soft_bytes"},
        {"esn type", [](json& j) { j["esn"] = 1; }, "sa.esn"},
        {"not object", [](json& j) { j = json::array(); }, "sa"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            json j = good;
            c.mutate(j);
            auto r = child_sa_from_json(j);
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "XFR0001");
            BOOST_TEST(r.error().value(1) == c.field);
        }
    }
    auto r = child_sa_from_text("{\"conn\": ");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().id == "XFR0001");
}

BOOST_AUTO_TEST_CASE(validation) {
    auto expect = [](const char* name, std::function<void(ChildSa&)> mutate, const char* id) {
        BOOST_TEST_CONTEXT(name) {
            ChildSa sa = sample();
            mutate(sa);
            Status s = validate(sa);
            BOOST_REQUIRE(!s.ok());
            BOOST_TEST(s.error().id == id);
        }
    };
    expect("reqid below band", [](ChildSa& s) { s.reqid = 7; }, "XFR0004");
    expect("mixed outer families",
           [](ChildSa& s) { s.remote = *IpAddress::parse("2001:db8::2"); }, "XFR0007");
    expect("no protocol", [](ChildSa& s) { s.esp.reset(); }, "XFR0007");
    expect("short key", [](ChildSa& s) { s.esp->in.encr_key.resize(16); }, "XFR0003");
    expect("bad key bits", [](ChildSa& s) { s.esp->in.encr_key_bits = 100; }, "XFR0001");
    expect("short integ key", [](ChildSa& s) { s.esp->out.integ_key.resize(20); }, "XFR0003");
    expect("encryption only", [](ChildSa& s) { s.esp->out.integ = ike::IntegId::NONE; },
           "XFR0002");
    expect("gcm with integ",
           [](ChildSa& s) {
               s.esp->in.encr = ike::EncrId::ENCR_AES_GCM_16;
               s.esp->in.encr_key_bits = 128;
               s.esp->in.encr_key = SecretBytes(20);
           },
           "XFR0007");
    expect("gmac as AH integ",
           [](ChildSa& s) {
               SaKeys k;
               k.spi = 0x1000;
               k.integ = ike::IntegId::AUTH_AES_128_GMAC;
               k.integ_key = SecretBytes(20);
               s.encap.reset();
               s.ah = SaPair{k, k};
           },
           "XFR0002");
    expect("ah with encap",
           [](ChildSa& s) {
               SaKeys k;
               k.spi = 0x1000;
               k.integ = ike::IntegId::AUTH_HMAC_SHA1_96;
               k.integ_key = SecretBytes(20);
               s.ah = SaPair{k, k};
           },
           "XFR0007");
    expect("reserved spi", [](ChildSa& s) { s.esp->in.spi = 200; }, "XFR0001");
    expect("esn without window", [](ChildSa& s) { s.replay_window = 0; }, "XFR0007");
    expect("soft beyond hard", [](ChildSa& s) { s.lifetime.soft_seconds = 4000; }, "XFR0007");
    expect("no selectors", [](ChildSa& s) { s.ts_remote.clear(); }, "XFR0007");
    expect("transport v6 only",
           [](ChildSa& s) {
               s.mode = Mode::Transport;
               s.ts_local = {ts("2001:db8:1::1")};
               s.ts_remote = {ts("2001:db8:2::1")};
           },
           "XFR0007");

    // Every ESP transform with its key layout validates.
    struct Alg {
        ike::EncrId e;
        unsigned bits;
        size_t bytes;
        ike::IntegId i;
        size_t ikey;
    };
    const Alg algs[] = {
        {ike::EncrId::ENCR_AES_GCM_16, 128, 20, ike::IntegId::NONE, 0},
        {ike::EncrId::ENCR_AES_GCM_8, 256, 36, ike::IntegId::NONE, 0},
        {ike::EncrId::ENCR_AES_CCM_12, 192, 27, ike::IntegId::NONE, 0},
        {ike::EncrId::ENCR_NULL_AUTH_AES_GMAC, 128, 20, ike::IntegId::NONE, 0},
        {ike::EncrId::ENCR_AES_CTR, 128, 20, ike::IntegId::AUTH_AES_XCBC_96, 16},
        {ike::EncrId::ENCR_3DES, 192, 24, ike::IntegId::AUTH_HMAC_MD5_96, 16},
        {ike::EncrId::ENCR_DES, 64, 8, ike::IntegId::AUTH_HMAC_SHA1_96, 20},
        {ike::EncrId::ENCR_NULL, 0, 0, ike::IntegId::AUTH_HMAC_SHA2_512_256, 64},
        {ike::EncrId::ENCR_AES_CBC, 192, 24, ike::IntegId::AUTH_HMAC_SHA2_384_192, 48},
    };
    for (const auto& a : algs) {
        BOOST_TEST_CONTEXT(encr_name(a.e)) {
            ChildSa sa = sample();
            for (SaKeys* k : {&sa.esp->in, &sa.esp->out}) {
                k->encr = a.e;
                k->encr_key_bits = uint16_t(a.bits);
                k->encr_key = SecretBytes(a.bytes);
                k->integ = a.i;
                k->integ_key = SecretBytes(a.ikey);
            }
            Status s = validate(sa);
            BOOST_TEST(s.ok(), (s.ok() ? std::string() : s.error().id + " " + s.error().value(2)));
        }
    }
}

BOOST_AUTO_TEST_CASE(ip_ranges) {
    BOOST_TEST(parse_ip_range("10.0.0.0/8")->to_string() == "10.0.0.0/8");
    BOOST_TEST(parse_ip_range("10.0.0.1")->is_single());
    BOOST_TEST(parse_ip_range("2001:db8::/32")->prefix_len().value() == 32);
    BOOST_TEST(!parse_ip_range("10.0.0.0/").ok());
    BOOST_TEST(!parse_ip_range("10.0.0.0/-1").ok());
    BOOST_TEST(!parse_ip_range("10.0.0.0/1000").ok());
    BOOST_TEST(!parse_ip_range("").ok());
    BOOST_TEST(!parse_ip_range("-").ok());
}
