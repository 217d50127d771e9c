#define BOOST_TEST_MODULE sa_xfrm_msg
#include <boost/test/unit_test.hpp>

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/xfrm/sa.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/template.h>

#include "daemon/sa/sa_json.hpp"
#include "daemon/sa/xfrm/xfrm_msg.hpp"

using namespace qvpn;
using namespace qvpn::sa;
using namespace qvpn::sa::xfrm;

namespace {

TrafficSelector ts(const char* range, uint8_t proto = 0, uint16_t from = 0,
                   uint16_t to = 65535) {
    TrafficSelector t;
    t.addrs = *parse_ip_range(range);
    t.ip_proto = proto;
    t.port_from = from;
    t.port_to = to;
    return t;
}

SecretBytes fill(size_t n, uint8_t v) {
    SecretBytes k(n);
    for (size_t i = 0; i < n; ++i) {
        k.data()[i] = uint8_t(v + i);
    }
    return k;
}

ChildSa child() {
    ChildSa sa;
    sa.conn = "test";
    sa.reqid = kReqidFirst + 1;
    sa.local = *IpAddress::parse("192.0.2.1");
    sa.remote = *IpAddress::parse("192.0.2.2");
    SaKeys in, out;
    in.spi = 0xc1000001;
    in.encr = ike::EncrId::ENCR_AES_CBC;
    in.encr_key_bits = 128;
    in.encr_key = fill(16, 1);
    in.integ = ike::IntegId::AUTH_HMAC_SHA2_256_128;
    in.integ_key = fill(32, 50);
    out = in;
    out.spi = 0xc1000002;
    sa.esp = SaPair{in, out};
    sa.ts_local = {ts("10.1.0.0/24")};
    sa.ts_remote = {ts("10.2.0.0/24")};
    return sa;
}

struct SaPtr {
    xfrmnl_sa* p = nullptr;
    ~SaPtr() {
        if (p) {
            xfrmnl_sa_put(p);
        }
    }
};

// Decode a NEWSA with libnl-xfrm's own parser: an independent reader of
// what our generic message building produced.
void parse_sa(const NlMsg& m, SaPtr& out) {
    BOOST_REQUIRE(xfrmnl_sa_parse(nlmsg_hdr(m.get()), &out.p) == 0);
    BOOST_REQUIRE(out.p != nullptr);
}

const StateSpec* find(const std::vector<StateSpec>& v, uint8_t proto, bool inbound) {
    for (const auto& s : v) {
        if (s.proto == proto && s.inbound == inbound) {
            return &s;
        }
    }
    return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(esp_state_cbc_hmac) {
    ChildSa sa = child();
    sa.lifetime = {100, 120, 1000000, 2000000};
    auto states = states_for(sa);
    BOOST_REQUIRE(states.ok());
    BOOST_REQUIRE(states->size() == 2u);
    const StateSpec* out = find(*states, IPPROTO_ESP, false);
    BOOST_REQUIRE(out);
    BOOST_TEST(out->src.to_string() == "192.0.2.1");
    BOOST_TEST(out->dst.to_string() == "192.0.2.2");
    auto m = state_msg(*out, false);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(nlmsg_hdr(m->get())->nlmsg_type == XFRM_MSG_NEWSA);
    SaPtr p;
    parse_sa(*m, p);
    BOOST_TEST(uint32_t(xfrmnl_sa_get_spi(p.p)) == 0xc1000002u);
    BOOST_TEST(xfrmnl_sa_get_proto(p.p) == IPPROTO_ESP);
    BOOST_TEST(xfrmnl_sa_get_reqid(p.p) == int(kReqidFirst + 1));
    BOOST_TEST(xfrmnl_sa_get_mode(p.p) == XFRM_MODE_TUNNEL);
    BOOST_TEST((xfrmnl_sa_get_flags(p.p) & XFRM_STATE_AF_UNSPEC) != 0);
    BOOST_TEST(xfrmnl_sa_get_replay_window(p.p) == 0);  // 64 > 32: the bitmap carries it
    char name[64];
    char key[128];
    unsigned key_len = 0, trunc = 0;
    BOOST_REQUIRE(xfrmnl_sa_get_crypto_params(p.p, name, &key_len, key) == 0);
    BOOST_TEST(std::string(name) == "cbc(aes)");
    BOOST_TEST(key_len == 128u);
    BOOST_TEST(uint8_t(key[0]) == 1);
    BOOST_TEST(uint8_t(key[15]) == 16);
    BOOST_REQUIRE(xfrmnl_sa_get_auth_params(p.p, name, &key_len, &trunc, key) == 0);
    BOOST_TEST(std::string(name) == "hmac(sha256)");
    BOOST_TEST(key_len == 256u);
    BOOST_TEST(trunc == 128u);
    BOOST_TEST(uint8_t(key[0]) == 50);
    xfrmnl_ltime_cfg* lt = xfrmnl_sa_get_lifetime_cfg(p.p);
    BOOST_REQUIRE(lt);
    BOOST_TEST(xfrmnl_ltime_cfg_get_soft_addexpires(lt) == 100u);
    BOOST_TEST(xfrmnl_ltime_cfg_get_hard_addexpires(lt) == 120u);
    BOOST_TEST(xfrmnl_ltime_cfg_get_soft_bytelimit(lt) == 1000000u);
    BOOST_TEST(xfrmnl_ltime_cfg_get_hard_packetlimit(lt) == XFRM_INF);
}

BOOST_AUTO_TEST_CASE(unset_limits_are_infinite) {
    ChildSa sa = child();
    auto states = states_for(sa);
    BOOST_REQUIRE(states.ok());
    auto m = state_msg(states->front(), false);
    BOOST_REQUIRE(m.ok());
    SaPtr p;
    parse_sa(*m, p);
    xfrmnl_ltime_cfg* lt = xfrmnl_sa_get_lifetime_cfg(p.p);
    BOOST_REQUIRE(lt);
    BOOST_TEST(xfrmnl_ltime_cfg_get_soft_bytelimit(lt) == XFRM_INF);
    BOOST_TEST(xfrmnl_ltime_cfg_get_hard_bytelimit(lt) == XFRM_INF);
    BOOST_TEST(xfrmnl_ltime_cfg_get_hard_addexpires(lt) == 0u);
}

BOOST_AUTO_TEST_CASE(esn_gcm_encap_tfc) {
    ChildSa sa = child();
    for (SaKeys* k : {&sa.esp->in, &sa.esp->out}) {
        k->encr = ike::EncrId::ENCR_AES_GCM_16;
        k->encr_key_bits = 256;
        k->encr_key = fill(36, 7);
        k->integ = ike::IntegId::NONE;
        k->integ_key = SecretBytes();
    }
    sa.esn = true;
    sa.replay_window = 128;
    sa.encap = Encap{4500, 31337};
    sa.tfc = true;
    auto states = states_for(sa);
    BOOST_REQUIRE(states.ok());
    for (bool inbound : {false, true}) {
        BOOST_TEST_CONTEXT((inbound ? "in" : "out")) {
            const StateSpec* s = find(*states, IPPROTO_ESP, inbound);
            BOOST_REQUIRE(s);
            auto m = state_msg(*s, false);
            BOOST_REQUIRE(m.ok());
            SaPtr p;
            parse_sa(*m, p);
            BOOST_TEST((xfrmnl_sa_get_flags(p.p) & XFRM_STATE_ESN) != 0);
            BOOST_TEST(xfrmnl_sa_get_replay_window(p.p) == 0);
            unsigned oseq, seq, oseq_hi, seq_hi, win, bmp_len, bmp[8];
            BOOST_REQUIRE(xfrmnl_sa_get_replay_state_esn(p.p, &oseq, &seq, &oseq_hi, &seq_hi,
                                                         &win, &bmp_len, bmp) == 0);
            BOOST_TEST(win == 128u);
            BOOST_TEST(bmp_len == 4u);
            char name[64], key[64];
            unsigned key_len = 0, icv = 0;
            BOOST_REQUIRE(xfrmnl_sa_get_aead_params(p.p, name, &key_len, &icv, key) == 0);
            BOOST_TEST(std::string(name) == "rfc4106(gcm(aes))");
            BOOST_TEST(key_len == 288u);  // AES-256 key and the 4-byte salt
            BOOST_TEST(icv == 128u);
            BOOST_TEST(uint8_t(key[35]) == 7 + 35);
            unsigned type, sport, dport;
            nl_addr* oa = nullptr;
            BOOST_REQUIRE(xfrmnl_sa_get_encap_tmpl(p.p, &type, &sport, &dport, &oa) == 0);
            nl_addr_put(oa);
            BOOST_TEST(type == unsigned(UDP_ENCAP_ESPINUDP));
            // Encap ports are those of this state's sender and receiver; libnl
            // reports them in network byte order.
            uint16_t want_s = inbound ? 31337 : 4500, want_d = inbound ? 4500 : 31337;
            BOOST_TEST((sport == want_s || ntohs(uint16_t(sport)) == want_s));
            BOOST_TEST((dport == want_d || ntohs(uint16_t(dport)) == want_d));
            int tfc = xfrmnl_sa_get_tfcpad(p.p);
            BOOST_TEST((inbound ? tfc == -1 : tfc == 0xffff));
        }
    }
}

BOOST_AUTO_TEST_CASE(wide_window_without_esn_uses_bitmap) {
    ChildSa sa = child();
    sa.replay_window = 1024;
    auto states = states_for(sa);
    BOOST_REQUIRE(states.ok());
    auto m = state_msg(states->front(), false);
    BOOST_REQUIRE(m.ok());
    SaPtr p;
    parse_sa(*m, p);
    BOOST_TEST((xfrmnl_sa_get_flags(p.p) & XFRM_STATE_ESN) == 0);
    unsigned oseq, seq, oseq_hi, seq_hi, win, bmp_len, bmp[64];
    BOOST_REQUIRE(xfrmnl_sa_get_replay_state_esn(p.p, &oseq, &seq, &oseq_hi, &seq_hi, &win,
                                                 &bmp_len, bmp) == 0);
    BOOST_TEST(win == 1024u);
    BOOST_TEST(bmp_len == 32u);
    // 32 and below: the classic field.
    sa.replay_window = 32;
    states = states_for(sa);
    m = state_msg(states->front(), false);
    SaPtr q;
    parse_sa(*m, q);
    BOOST_TEST(xfrmnl_sa_get_replay_window(q.p) == 32);
}

BOOST_AUTO_TEST_CASE(bundles_ah_esp_ipcomp) {
    ChildSa sa = child();
    SaKeys ah;
    ah.spi = 0xa1000001;
    ah.integ = ike::IntegId::AUTH_HMAC_SHA1_96;
    ah.integ_key = fill(20, 3);
    SaKeys ah_out = ah;
    ah_out.spi = 0xa1000002;
    sa.ah = SaPair{ah, ah_out};
    sa.ipcomp = IpComp{0x4001, 0x4002};
    auto states = states_for(sa);
    BOOST_REQUIRE(states.ok());
    BOOST_REQUIRE(states->size() == 6u);
    // Innermost first: IPComp in tunnel mode, ESP and AH in transport mode.
    BOOST_TEST((*states)[0].proto == IPPROTO_COMP);
    BOOST_TEST((*states)[0].mode == XFRM_MODE_TUNNEL);
    BOOST_TEST((*states)[2].proto == IPPROTO_ESP);
    BOOST_TEST((*states)[2].mode == XFRM_MODE_TRANSPORT);
    BOOST_TEST((*states)[4].proto == IPPROTO_AH);
    BOOST_TEST((*states)[4].mode == XFRM_MODE_TRANSPORT);
    const StateSpec* comp_in = find(*states, IPPROTO_COMP, true);
    BOOST_TEST(comp_in->spi == 0x4001u);
    auto m = state_msg(*comp_in, false);
    BOOST_REQUIRE(m.ok());
    SaPtr p;
    parse_sa(*m, p);
    char name[64], key[8];
    unsigned key_len = 1;
    BOOST_REQUIRE(xfrmnl_sa_get_comp_params(p.p, name, &key_len, key) == 0);
    BOOST_TEST(std::string(name) == "deflate");
    BOOST_TEST(key_len == 0u);
    BOOST_TEST(uint32_t(xfrmnl_sa_get_spi(p.p)) == 0x4001u);
    const StateSpec* ah_in = find(*states, IPPROTO_AH, true);
    m = state_msg(*ah_in, false);
    SaPtr q;
    parse_sa(*m, q);
    unsigned trunc = 0;
    char ah_key[32];
    BOOST_REQUIRE(xfrmnl_sa_get_auth_params(q.p, name, &key_len, &trunc, ah_key) == 0);
    BOOST_TEST(std::string(name) == "hmac(sha1)");
    BOOST_TEST(key_len == 160u);
    BOOST_TEST(trunc == 96u);
    BOOST_TEST(xfrmnl_sa_get_mode(q.p) == XFRM_MODE_TRANSPORT);
    // IPv4 AH is 32-bit aligned (RFC 4302 2.2), as RFC-following peers send it
    BOOST_TEST((xfrmnl_sa_get_flags(q.p) & XFRM_STATE_ALIGN4) != 0);
    m = state_msg(*find(*states, IPPROTO_ESP, true), false);
    SaPtr e;
    parse_sa(*m, e);
    BOOST_TEST((xfrmnl_sa_get_flags(e.p) & XFRM_STATE_ALIGN4) == 0);

    auto policies = policies_for(plan_of(sa));
    BOOST_REQUIRE(policies.ok());
    BOOST_REQUIRE(policies->size() == 3u);  // out, in, fwd
    for (const auto& ps : *policies) {
        BOOST_REQUIRE(ps.tmpls.size() == 3u);
        BOOST_TEST(ps.tmpls[0].proto == IPPROTO_COMP);
        BOOST_TEST(ps.tmpls[0].mode == XFRM_MODE_TUNNEL);
        BOOST_TEST(ps.tmpls[0].optional == (ps.dir != XFRM_POLICY_OUT));
        BOOST_TEST(ps.tmpls[1].proto == IPPROTO_ESP);
        BOOST_TEST(ps.tmpls[1].mode == XFRM_MODE_TRANSPORT);
        BOOST_TEST(ps.tmpls[2].proto == IPPROTO_AH);
        BOOST_TEST(ps.tmpls[0].reqid == sa.reqid);
    }
}

BOOST_AUTO_TEST_CASE(policy_messages) {
    ChildSa sa = child();
    sa.ts_local = {ts("10.1.0.0/24", 17, 53, 53)};
    sa.ts_remote = {ts("10.2.0.5-10.2.0.6")};
    auto policies = policies_for(plan_of(sa));
    BOOST_REQUIRE(policies.ok());
    // 10.2.0.5/32 + 10.2.0.6/32, each out/in/fwd
    BOOST_REQUIRE(policies->size() == 6u);
    const PolicySpec& out = policies->front();
    BOOST_TEST(out.dir == XFRM_POLICY_OUT);
    BOOST_TEST(out.sel.src.addr.to_string() == "10.1.0.0");
    BOOST_TEST(out.sel.src.len == 24);
    BOOST_TEST(out.sel.dst.addr.to_string() == "10.2.0.5");
    BOOST_TEST(out.sel.sport.port == 53);
    BOOST_TEST(out.sel.sport.mask == 0xffff);
    BOOST_TEST(out.sel.dport.mask == 0);
    BOOST_TEST(out.sel.proto == 17);
    BOOST_TEST(out.priority > kPriorityBase);

    auto m = policy_msg(out, false);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(nlmsg_hdr(m->get())->nlmsg_type == XFRM_MSG_NEWPOLICY);
    PolicyInfo pi;
    BOOST_REQUIRE(parse_policy(nlmsg_hdr(m->get()), pi));
    BOOST_TEST(pi.dir == XFRM_POLICY_OUT);
    BOOST_TEST(pi.priority == out.priority);
    BOOST_REQUIRE(pi.tmpl_reqids.size() == 1u);
    BOOST_TEST(pi.tmpl_reqids[0] == sa.reqid);

    xfrmnl_sp* sp = nullptr;
    BOOST_REQUIRE(xfrmnl_sp_parse(nlmsg_hdr(m->get()), &sp) == 0);
    xfrmnl_sel* sel = xfrmnl_sp_get_sel(sp);
    BOOST_TEST(xfrmnl_sel_get_prefixlen_s(sel) == 24);
    BOOST_TEST(xfrmnl_sel_get_prefixlen_d(sel) == 32);
    BOOST_TEST(xfrmnl_sel_get_proto(sel) == 17);
    BOOST_TEST(xfrmnl_sel_get_sport(sel) == 53);
    xfrmnl_user_tmpl* t = xfrmnl_sp_usertemplate_n(sp, 0);
    BOOST_REQUIRE(t);
    BOOST_TEST(xfrmnl_user_tmpl_get_proto(t) == IPPROTO_ESP);
    BOOST_TEST(xfrmnl_user_tmpl_get_mode(t) == XFRM_MODE_TUNNEL);
    BOOST_TEST(uint32_t(xfrmnl_user_tmpl_get_ealgos(t)) == ~0u);
    char buf[64];
    BOOST_TEST(std::string(nl_addr2str(xfrmnl_user_tmpl_get_daddr(t), buf, sizeof buf)) ==
               "192.0.2.2");
    xfrmnl_sp_put(sp);

    auto d = policy_delete_msg(out.sel, out.dir);
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(nlmsg_hdr(d->get())->nlmsg_type == XFRM_MSG_DELPOLICY);
}

BOOST_AUTO_TEST_CASE(transport_mode_and_mixed_families) {
    ChildSa sa = child();
    sa.mode = Mode::Transport;
    sa.ts_local = {ts("192.0.2.1"), ts("2001:db8::1")};
    sa.ts_remote = {ts("192.0.2.2"), ts("2001:db8::2")};
    auto policies = policies_for(plan_of(sa));
    BOOST_REQUIRE(policies.ok());
    BOOST_REQUIRE(policies->size() == 2u);  // out + in, v4 only (outer family), no fwd
    for (const auto& p : *policies) {
        BOOST_TEST(p.sel.family == 4);
        BOOST_TEST(p.tmpls[0].mode == XFRM_MODE_TRANSPORT);
        BOOST_TEST(p.tmpls[0].dst.is_unspecified());
    }
    sa.mode = Mode::Tunnel;
    policies = policies_for(plan_of(sa));
    BOOST_REQUIRE(policies.ok());
    BOOST_TEST(policies->size() == 6u);  // v4 and v6 inner, out/in/fwd each
}

BOOST_AUTO_TEST_CASE(too_many_policies) {
    ChildSa sa = child();
    sa.ts_local = {ts("10.1.0.1-10.1.0.250")};
    sa.ts_remote = {ts("10.2.0.0/24", 6, 1000, 2000)};
    auto policies = policies_for(plan_of(sa));
    BOOST_REQUIRE(!policies.ok());
    BOOST_TEST(policies.error().id == "XFR0008");
}

BOOST_AUTO_TEST_CASE(parsers_refuse_short_messages) {
    ChildSa sa = child();
    auto states = states_for(sa);
    auto m = state_msg(states->front(), false);
    BOOST_REQUIRE(m.ok());
    nlmsghdr* h = nlmsg_hdr(m->get());
    StateInfo si;
    BOOST_REQUIRE(parse_state(h, si));
    BOOST_TEST(si.spi == states->front().spi);
    BOOST_TEST(si.reqid == sa.reqid);
    std::vector<uint8_t> copy(reinterpret_cast<uint8_t*>(h),
                              reinterpret_cast<uint8_t*>(h) + h->nlmsg_len);
    auto* ch = reinterpret_cast<nlmsghdr*>(copy.data());
    ch->nlmsg_len = NLMSG_HDRLEN + 10;
    BOOST_TEST(!parse_state(ch, si));
    PolicyInfo pi;
    BOOST_TEST(!parse_policy(ch, pi));
    AcquireInfo ai;
    BOOST_TEST(!parse_acquire(ch, ai));
    // An attribute running past the message end is refused.
    auto pm = policy_msg(policies_for(plan_of(sa))->front(), false);
    nlmsghdr* ph = nlmsg_hdr(pm->get());
    std::vector<uint8_t> pc(reinterpret_cast<uint8_t*>(ph),
                            reinterpret_cast<uint8_t*>(ph) + ph->nlmsg_len);
    auto* pch = reinterpret_cast<nlmsghdr*>(pc.data());
    pch->nlmsg_len -= 4;
    BOOST_TEST(!parse_policy(pch, pi));
}
