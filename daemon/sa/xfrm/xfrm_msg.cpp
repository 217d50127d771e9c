#include "daemon/sa/xfrm/xfrm_msg.hpp"

#include <cstdio>
#include <cstring>

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/xfrm/lifetime.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/template.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include "daemon/sa/algorithms.hpp"
#include "daemon/sa/sa_json.hpp"

namespace qvpn::sa::xfrm {

namespace {

void to_xfrm_addr(const IpAddress& a, xfrm_address_t& out) {
    std::memset(&out, 0, sizeof out);
    std::memcpy(&out, a.data(), a.size());
}

IpAddress from_xfrm_addr(const xfrm_address_t& a, int af) {
    const auto* p = reinterpret_cast<const uint8_t*>(&a);
    return af == AF_INET6 ? *IpAddress::from_bytes(p, 16) : *IpAddress::from_bytes(p, 4);
}

uint64_t inf_if_zero(uint64_t v) { return v ? v : XFRM_INF; }

struct NlAddrPut {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;

NlAddr nl_address(const IpAddress& a, int prefix_len = -1) {
    nl_addr* n = nl_addr_build(a.af(), a.data(), a.size());
    if (n && prefix_len >= 0) {
        nl_addr_set_prefixlen(n, prefix_len);
    }
    return NlAddr(n);
}

IpAddress zero_of(int family) {
    return family == 6 ? IpAddress::v6({}) : IpAddress::v4(0);
}

std::string port_text(const PortMask& p) {
    if (p.mask == 0) {
        return "any";
    }
    if (p.mask == 0xffff) {
        return std::to_string(p.port);
    }
    return std::to_string(p.port) + "/" + std::to_string(p.mask);
}

// The attributes after a fixed header, walked with bounds checks.
template <class Fn>
bool for_each_attr(const nlmsghdr* h, size_t fixed, Fn fn) {
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
    const auto* base = reinterpret_cast<const uint8_t*>(h);
    while (off + sizeof(nlattr) <= h->nlmsg_len) {
        nlattr a;
        std::memcpy(&a, base + off, sizeof a);
        if (a.nla_len < sizeof(nlattr) || off + a.nla_len > h->nlmsg_len) {
            return false;
        }
        fn(a.nla_type & NLA_TYPE_MASK, base + off + sizeof(nlattr), a.nla_len - sizeof(nlattr));
        off += NLA_ALIGN(a.nla_len);
    }
    return true;
}

std::vector<uint32_t> tmpl_reqids(const uint8_t* data, size_t len) {
    std::vector<uint32_t> out;
    for (size_t off = 0; off + sizeof(xfrm_user_tmpl) <= len; off += sizeof(xfrm_user_tmpl)) {
        xfrm_user_tmpl t;
        std::memcpy(&t, data + off, sizeof t);
        out.push_back(t.reqid);
    }
    return out;
}

}  // namespace

std::string spi_hex(uint32_t spi) {
    char buf[12];
    std::snprintf(buf, sizeof buf, "%08x", spi);
    return buf;
}

std::string StateSpec::name() const {
    return proto == IPPROTO_ESP ? "ESP" : proto == IPPROTO_AH ? "AH" : "IPCOMP";
}

std::string PolicySpec::describe() const {
    const char* d = dir == XFRM_POLICY_OUT ? "out" : dir == XFRM_POLICY_IN ? "in" : "fwd";
    return std::string(d) + " " + sel.src.addr.to_string() + "/" + std::to_string(sel.src.len) +
           "[" + port_text(sel.sport) + "] -> " + sel.dst.addr.to_string() + "/" +
           std::to_string(sel.dst.len) + "[" + port_text(sel.dport) + "] proto " +
           (sel.proto ? std::to_string(sel.proto) : std::string("any"));
}

// ---------------------------------------------------------------- plans

Plan plan_of(const ChildSa& sa) {
    Plan p;
    p.conn = sa.conn;
    p.reqid = sa.reqid;
    p.mode = sa.mode;
    p.local = sa.local;
    p.remote = sa.remote;
    p.esp = sa.esp.has_value();
    p.ah = sa.ah.has_value();
    p.ipcomp = sa.ipcomp.has_value();
    p.ts_local = sa.ts_local;
    p.ts_remote = sa.ts_remote;
    return p;
}

Plan plan_of(const Trap& t) {
    Plan p;
    p.conn = t.conn;
    p.reqid = t.reqid;
    p.mode = t.mode;
    p.local = t.local;
    p.remote = t.remote;
    p.esp = t.esp;
    p.ah = t.ah;
    p.ipcomp = t.ipcomp;
    p.ts_local = t.ts_local;
    p.ts_remote = t.ts_remote;
    return p;
}

namespace {

// Innermost first: IPComp, ESP, AH; the first one gets the CHILD_SA's mode.
std::vector<std::pair<uint8_t, uint8_t>> layers(const Plan& p) {
    std::vector<std::pair<uint8_t, uint8_t>> out;
    uint8_t mode = p.mode == Mode::Tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
    for (auto [use, proto] : {std::pair{p.ipcomp, uint8_t(IPPROTO_COMP)},
                              std::pair{p.esp, uint8_t(IPPROTO_ESP)},
                              std::pair{p.ah, uint8_t(IPPROTO_AH)}}) {
        if (use) {
            out.push_back({proto, mode});
            mode = XFRM_MODE_TRANSPORT;
        }
    }
    return out;
}

void fill_keys(StateSpec& s, const SaKeys& k) {
    s.spi = k.spi;
    if (s.proto == IPPROTO_ESP) {
        const EncrInfo* e = encr_info(k.encr);
        s.enc_key = k.encr_key;
        s.enc_key_bits = unsigned(k.encr_key.size() * 8);
        if (e->aead) {
            s.aead = std::string(e->xfrm_name);
            s.aead_icv_bits = e->icv_bytes * 8u;
            return;
        }
        s.enc = std::string(e->xfrm_name);
    }
    const IntegInfo* i = integ_info(k.integ);
    s.auth = std::string(i->xfrm_name);
    s.auth_trunc_bits = i->icv_bits;
    s.auth_key = k.integ_key;
}

}  // namespace

Result<std::vector<StateSpec>> states_for(const ChildSa& sa) {
    QVPN_TRY(validate(sa));
    std::vector<StateSpec> out;
    for (auto [proto, mode] : layers(plan_of(sa))) {
        for (bool inbound : {false, true}) {
            StateSpec s;
            s.proto = proto;
            s.mode = mode;
            s.inbound = inbound;
            s.src = inbound ? sa.remote : sa.local;
            s.dst = inbound ? sa.local : sa.remote;
            s.reqid = sa.reqid;
            if (proto == IPPROTO_COMP) {
                s.spi = inbound ? sa.ipcomp->cpi_in : sa.ipcomp->cpi_out;
                s.comp = "deflate";
                out.push_back(std::move(s));
                continue;
            }
            const SaPair& pair = proto == IPPROTO_ESP ? *sa.esp : *sa.ah;
            fill_keys(s, inbound ? pair.in : pair.out);
            s.esn = sa.esn;
            s.replay_window = sa.replay_window;
            s.lifetime = sa.lifetime;
            if (proto == IPPROTO_ESP && sa.encap) {
                Encap e;
                e.local_port = inbound ? sa.encap->remote_port : sa.encap->local_port;
                e.remote_port = inbound ? sa.encap->local_port : sa.encap->remote_port;
                s.encap = e;
            }
            if (proto == IPPROTO_ESP && sa.tfc && !inbound && mode == XFRM_MODE_TUNNEL) {
                // The kernel pads each packet to min(tfcpad, path MTU).
                s.tfcpad = 0xffff;
            }
            out.push_back(std::move(s));
        }
    }
    return out;
}

Result<std::vector<PolicySpec>> policies_for(const Plan& p) {
    std::vector<PolicySpec> out;
    auto lay = layers(p);
    int outer_family = p.local.family();
    size_t per_dir = 0;
    for (const auto& pair : selector_pairs(p.ts_local, p.ts_remote)) {
        if (p.mode == Mode::Transport && pair.family != outer_family) {
            continue;
        }
        uint32_t prio = kPriorityBase + 0x400 - std::min<uint32_t>(specificity(pair), 0x3ff);
        auto lp = range_to_prefixes(pair.local.addrs);
        auto rp = range_to_prefixes(pair.remote.addrs);
        auto lports = ports_to_masks(pair.local.port_from, pair.local.port_to);
        auto rports = ports_to_masks(pair.remote.port_from, pair.remote.port_to);
        size_t n = lp.size() * rp.size() * lports.size() * rports.size();
        per_dir += n;
        if (per_dir > kMaxPolicies) {
            return fail("XFR0008", p.conn, per_dir, kMaxPolicies);
        }
        for (const auto& l : lp) {
            for (const auto& r : rp) {
                for (const auto& lport : lports) {
                    for (const auto& rport : rports) {
                        for (uint8_t dir : {uint8_t(XFRM_POLICY_OUT), uint8_t(XFRM_POLICY_IN),
                                            uint8_t(XFRM_POLICY_FWD)}) {
                            if (dir == XFRM_POLICY_FWD && p.mode != Mode::Tunnel) {
                                continue;
                            }
                            bool out_dir = dir == XFRM_POLICY_OUT;
                            PolicySpec ps;
                            ps.dir = dir;
                            ps.priority = prio;
                            ps.sel.family = pair.family;
                            ps.sel.proto = pair.proto;
                            ps.sel.src = out_dir ? l : r;
                            ps.sel.dst = out_dir ? r : l;
                            ps.sel.sport = out_dir ? lport : rport;
                            ps.sel.dport = out_dir ? rport : lport;
                            for (auto [proto, mode] : lay) {
                                TemplateSpec t;
                                t.proto = proto;
                                t.mode = mode;
                                t.reqid = p.reqid;
                                if (mode == XFRM_MODE_TUNNEL) {
                                    t.src = out_dir ? p.local : p.remote;
                                    t.dst = out_dir ? p.remote : p.local;
                                } else {
                                    t.src = t.dst = zero_of(outer_family);
                                }
                                t.optional = proto == IPPROTO_COMP && !out_dir;
                                ps.tmpls.push_back(t);
                            }
                            out.push_back(std::move(ps));
                        }
                    }
                }
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------- states

Result<NlMsg> state_msg(const StateSpec& s, bool update) {
    NlMsg m(nlmsg_alloc_simple(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0));
    if (!m) {
        return fail(msg("XFR0101", "out of memory").with_errno(ENOMEM));
    }
    int af = s.dst.af();
    xfrm_usersa_info info;
    std::memset(&info, 0, sizeof info);
    to_xfrm_addr(s.dst, info.id.daddr);
    info.id.spi = htonl(s.spi);
    info.id.proto = s.proto;
    to_xfrm_addr(s.src, info.saddr);
    info.family = uint16_t(af);
    info.mode = s.mode;
    info.reqid = s.reqid;
    if (s.mode == XFRM_MODE_TUNNEL) {
        // Tunnel mode carries either inner family: no selector family.
        info.flags |= XFRM_STATE_AF_UNSPEC;
    } else {
        info.sel.family = uint16_t(af);
    }
    // A limit of 0 would mean "expire at once" to the kernel.
    info.lft.soft_byte_limit = inf_if_zero(s.lifetime.soft_bytes);
    info.lft.hard_byte_limit = inf_if_zero(s.lifetime.hard_bytes);
    info.lft.soft_packet_limit = XFRM_INF;
    info.lft.hard_packet_limit = XFRM_INF;
    info.lft.soft_add_expires_seconds = s.lifetime.soft_seconds;
    info.lft.hard_add_expires_seconds = s.lifetime.hard_seconds;
    // Up to 32 packets the classic replay state does; wider windows and ESN
    // need the bitmap attribute (and a 0 here).
    bool bitmap = s.proto != IPPROTO_COMP && (s.esn || s.replay_window > 32);
    if (s.proto != IPPROTO_COMP && !bitmap) {
        info.replay_window = uint8_t(s.replay_window);
    }
    if (s.esn && s.proto != IPPROTO_COMP) {
        info.flags |= XFRM_STATE_ESN;
    }
    if (s.proto == IPPROTO_AH && af == AF_INET) {
        // RFC 4302 2.2: an IPv4 AH header is a multiple of 32 bits. Without
        // this flag Linux pads to 64 bits and refuses anything else, so
        // HMAC-SHA-256-128 (28 bytes) and HMAC-SHA-512-256 (44 bytes) would
        // not interoperate with peers that follow the RFC (strongSwan,
        // Libreswan set the same flag).
        info.flags |= XFRM_STATE_ALIGN4;
    }
    if (nlmsg_append(m.get(), &info, sizeof info, NLMSG_ALIGNTO) < 0) {
        return fail(msg("XFR0101", "message too large").with_errno(EMSGSIZE));
    }

    auto put_algo = [&](int type, const std::string& name, const SecretBytes& key,
                        unsigned key_bits, const unsigned* extra) -> bool {
        size_t fixed = extra ? sizeof(xfrm_algo_auth) : sizeof(xfrm_algo);
        std::vector<uint8_t> a(fixed + key.size(), 0);
        std::memcpy(a.data(), name.c_str(), std::min<size_t>(name.size(), 63));
        std::memcpy(a.data() + 64, &key_bits, sizeof key_bits);
        if (extra) {
            std::memcpy(a.data() + 68, extra, sizeof *extra);  // trunc or ICV bits
        }
        if (!key.empty()) {
            std::memcpy(a.data() + fixed, key.data(), key.size());
        }
        bool good = nla_put(m.get(), type, int(a.size()), a.data()) == 0;
        OPENSSL_cleanse(a.data(), a.size());
        return good;
    };
    bool good = true;
    if (!s.aead.empty()) {
        good = put_algo(XFRMA_ALG_AEAD, s.aead, s.enc_key, s.enc_key_bits, &s.aead_icv_bits);
    }
    if (good && !s.enc.empty()) {
        good = put_algo(XFRMA_ALG_CRYPT, s.enc, s.enc_key, s.enc_key_bits, nullptr);
    }
    if (good && !s.auth.empty()) {
        // AUTH_TRUNC states the ICV length (RFC 4868: half the hash for
        // SHA-2); plain XFRMA_ALG_AUTH would give the kernel's default.
        good = put_algo(XFRMA_ALG_AUTH_TRUNC, s.auth, s.auth_key,
                        unsigned(s.auth_key.size() * 8), &s.auth_trunc_bits);
    }
    if (good && !s.comp.empty()) {
        good = put_algo(XFRMA_ALG_COMP, s.comp, SecretBytes(), 0, nullptr);
    }
    if (good && bitmap) {
        uint32_t window = s.replay_window ? s.replay_window : 1;
        uint32_t words = (window + 31) / 32;
        std::vector<uint8_t> r(sizeof(xfrm_replay_state_esn) + words * 4, 0);
        xfrm_replay_state_esn esn;
        std::memset(&esn, 0, sizeof esn);
        esn.bmp_len = words;
        esn.replay_window = window;
        std::memcpy(r.data(), &esn, sizeof esn);
        good = nla_put(m.get(), XFRMA_REPLAY_ESN_VAL, int(r.size()), r.data()) == 0;
    }
    if (good && s.encap) {
        xfrm_encap_tmpl e;
        std::memset(&e, 0, sizeof e);
        e.encap_type = UDP_ENCAP_ESPINUDP;
        e.encap_sport = htons(s.encap->local_port);
        e.encap_dport = htons(s.encap->remote_port);
        good = nla_put(m.get(), XFRMA_ENCAP, sizeof e, &e) == 0;
    }
    if (good && s.tfcpad) {
        good = nla_put_u32(m.get(), XFRMA_TFCPAD, s.tfcpad) == 0;
    }
    if (!good) {
        return fail(msg("XFR0101", "message too large").with_errno(EMSGSIZE));
    }
    return m;
}

NlMsg state_delete_msg(uint8_t proto, uint32_t spi, const IpAddress& dst) {
    NlMsg m(nlmsg_alloc_simple(XFRM_MSG_DELSA, 0));
    xfrm_usersa_id id;
    std::memset(&id, 0, sizeof id);
    to_xfrm_addr(dst, id.daddr);
    id.spi = htonl(spi);
    id.family = uint16_t(dst.af());
    id.proto = proto;
    if (m) {
        nlmsg_append(m.get(), &id, sizeof id, NLMSG_ALIGNTO);
    }
    return m;
}

NlMsg state_get_msg(uint8_t proto, uint32_t spi, const IpAddress& dst) {
    NlMsg m = state_delete_msg(proto, spi, dst);
    if (m) {
        nlmsg_hdr(m.get())->nlmsg_type = XFRM_MSG_GETSA;
    }
    return m;
}

NlMsg state_dump_msg() {
    NlMsg m(nlmsg_alloc_simple(XFRM_MSG_GETSA, NLM_F_DUMP));
    xfrm_usersa_info info;
    std::memset(&info, 0, sizeof info);
    if (m) {
        nlmsg_append(m.get(), &info, sizeof info, NLMSG_ALIGNTO);
    }
    return m;
}

// ---------------------------------------------------------------- policies

namespace {

struct SpPut {
    void operator()(xfrmnl_sp* p) const { xfrmnl_sp_put(p); }
};
struct SelPut {
    void operator()(xfrmnl_sel* s) const { xfrmnl_sel_put(s); }
};
struct LtPut {
    void operator()(xfrmnl_ltime_cfg* l) const { xfrmnl_ltime_cfg_put(l); }
};

std::unique_ptr<xfrmnl_sel, SelPut> make_sel(const PolicySel& s) {
    std::unique_ptr<xfrmnl_sel, SelPut> sel(xfrmnl_sel_alloc());
    if (!sel) {
        return sel;
    }
    // libnl copies the bytes of both addresses unconditionally: set both.
    NlAddr src = nl_address(s.src.addr, s.src.len);
    NlAddr dst = nl_address(s.dst.addr, s.dst.len);
    xfrmnl_sel_set_saddr(sel.get(), src.get());
    xfrmnl_sel_set_daddr(sel.get(), dst.get());
    xfrmnl_sel_set_prefixlen_s(sel.get(), unsigned(s.src.len));
    xfrmnl_sel_set_prefixlen_d(sel.get(), unsigned(s.dst.len));
    xfrmnl_sel_set_sport(sel.get(), s.sport.port);
    xfrmnl_sel_set_sportmask(sel.get(), s.sport.mask);
    xfrmnl_sel_set_dport(sel.get(), s.dport.port);
    xfrmnl_sel_set_dportmask(sel.get(), s.dport.mask);
    xfrmnl_sel_set_family(sel.get(), s.family == 6 ? AF_INET6 : AF_INET);
    xfrmnl_sel_set_proto(sel.get(), s.proto);
    return sel;
}

}  // namespace

Result<NlMsg> policy_msg(const PolicySpec& p, bool update) {
    std::unique_ptr<xfrmnl_sp, SpPut> sp(xfrmnl_sp_alloc());
    auto sel = make_sel(p.sel);
    std::unique_ptr<xfrmnl_ltime_cfg, LtPut> lt(xfrmnl_ltime_cfg_alloc());
    if (!sp || !sel || !lt) {
        return fail(msg("XFR0101", "out of memory").with_errno(ENOMEM));
    }
    xfrmnl_ltime_cfg_set_soft_bytelimit(lt.get(), XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_bytelimit(lt.get(), XFRM_INF);
    xfrmnl_ltime_cfg_set_soft_packetlimit(lt.get(), XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_packetlimit(lt.get(), XFRM_INF);
    xfrmnl_sp_set_sel(sp.get(), sel.get());
    xfrmnl_sp_set_lifetime_cfg(sp.get(), lt.get());
    xfrmnl_sp_set_dir(sp.get(), p.dir);
    xfrmnl_sp_set_priority(sp.get(), p.priority);
    xfrmnl_sp_set_action(sp.get(), XFRM_POLICY_ALLOW);
    for (const auto& t : p.tmpls) {
        xfrmnl_user_tmpl* ut = xfrmnl_user_tmpl_alloc();
        if (!ut) {
            return fail(msg("XFR0101", "out of memory").with_errno(ENOMEM));
        }
        NlAddr src = nl_address(t.src);
        NlAddr dst = nl_address(t.dst);
        xfrmnl_user_tmpl_set_daddr(ut, dst.get());
        xfrmnl_user_tmpl_set_saddr(ut, src.get());
        xfrmnl_user_tmpl_set_spi(ut, 0);
        xfrmnl_user_tmpl_set_proto(ut, t.proto);
        xfrmnl_user_tmpl_set_family(ut, t.dst.af());
        xfrmnl_user_tmpl_set_reqid(ut, t.reqid);
        xfrmnl_user_tmpl_set_mode(ut, t.mode);
        xfrmnl_user_tmpl_set_share(ut, XFRM_SHARE_ANY);
        xfrmnl_user_tmpl_set_optional(ut, t.optional ? 1 : 0);
        // Any algorithm: the state with the reqid decides.
        xfrmnl_user_tmpl_set_aalgos(ut, ~0u);
        xfrmnl_user_tmpl_set_ealgos(ut, ~0u);
        xfrmnl_user_tmpl_set_calgos(ut, ~0u);
        xfrmnl_sp_add_usertemplate(sp.get(), ut);  // the policy owns it now
    }
    nl_msg* raw = nullptr;
    int err = update ? xfrmnl_sp_build_update_request(sp.get(), 0, &raw)
                     : xfrmnl_sp_build_add_request(sp.get(), 0, &raw);
    if (err < 0 || !raw) {
        return fail(msg("XFR0101", std::string("building the policy: ") + nl_geterror(err)));
    }
    return NlMsg(raw);
}

Result<NlMsg> policy_delete_msg(const PolicySel& s, uint8_t dir) {
    std::unique_ptr<xfrmnl_sp, SpPut> sp(xfrmnl_sp_alloc());
    auto sel = make_sel(s);
    if (!sp || !sel) {
        return fail(msg("XFR0101", "out of memory").with_errno(ENOMEM));
    }
    xfrmnl_sp_set_sel(sp.get(), sel.get());
    xfrmnl_sp_set_dir(sp.get(), dir);
    nl_msg* raw = nullptr;
    int err = xfrmnl_sp_build_delete_request(sp.get(), 0, &raw);
    if (err < 0 || !raw) {
        return fail(msg("XFR0101", std::string("building the policy: ") + nl_geterror(err)));
    }
    return NlMsg(raw);
}

NlMsg policy_delete_by_index_msg(uint32_t index, uint8_t dir) {
    NlMsg m(nlmsg_alloc_simple(XFRM_MSG_DELPOLICY, 0));
    xfrm_userpolicy_id id;
    std::memset(&id, 0, sizeof id);
    id.index = index;
    id.dir = dir;
    if (m) {
        nlmsg_append(m.get(), &id, sizeof id, NLMSG_ALIGNTO);
    }
    return m;
}

NlMsg policy_dump_msg() {
    NlMsg m(nlmsg_alloc_simple(XFRM_MSG_GETPOLICY, NLM_F_DUMP));
    xfrm_userpolicy_id id;
    std::memset(&id, 0, sizeof id);
    if (m) {
        nlmsg_append(m.get(), &id, sizeof id, NLMSG_ALIGNTO);
    }
    return m;
}

// ---------------------------------------------------------------- parsing

bool parse_state(const nlmsghdr* h, StateInfo& out, bool* hard) {
    size_t need = h->nlmsg_type == XFRM_MSG_EXPIRE ? sizeof(xfrm_user_expire)
                                                   : sizeof(xfrm_usersa_info);
    if (h->nlmsg_len < NLMSG_HDRLEN + need) {
        return false;
    }
    xfrm_usersa_info info;
    std::memcpy(&info, NLMSG_DATA(h), sizeof info);
    if (info.family != AF_INET && info.family != AF_INET6) {
        return false;
    }
    if (hard) {
        *hard = false;
        if (h->nlmsg_type == XFRM_MSG_EXPIRE) {
            xfrm_user_expire e;
            std::memcpy(&e, NLMSG_DATA(h), sizeof e);
            *hard = e.hard != 0;
        }
    }
    out.proto = info.id.proto;
    out.spi = ntohl(info.id.spi);
    out.dst = from_xfrm_addr(info.id.daddr, info.family);
    out.src = from_xfrm_addr(info.saddr, info.family);
    out.reqid = info.reqid;
    out.counters.bytes = info.curlft.bytes;
    out.counters.packets = info.curlft.packets;
    out.counters.add_time = info.curlft.add_time;
    out.counters.use_time = info.curlft.use_time;
    out.counters.replay_drops = info.stats.replay;
    out.counters.integrity_failures = info.stats.integrity_failed;
    return true;
}

bool parse_policy(const nlmsghdr* h, PolicyInfo& out) {
    if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(xfrm_userpolicy_info)) {
        return false;
    }
    xfrm_userpolicy_info info;
    std::memcpy(&info, NLMSG_DATA(h), sizeof info);
    out.index = info.index;
    out.dir = info.dir;
    out.priority = info.priority;
    out.tmpl_reqids.clear();
    return for_each_attr(h, sizeof info, [&](int type, const uint8_t* data, size_t len) {
        if (type == XFRMA_TMPL) {
            out.tmpl_reqids = tmpl_reqids(data, len);
        }
    });
}

bool parse_acquire(const nlmsghdr* h, AcquireInfo& out) {
    if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(xfrm_user_acquire)) {
        return false;
    }
    xfrm_user_acquire a;
    std::memcpy(&a, NLMSG_DATA(h), sizeof a);
    int af = a.sel.family;
    if (af != AF_INET && af != AF_INET6) {
        return false;
    }
    out.flow.src = from_xfrm_addr(a.sel.saddr, af);
    out.flow.dst = from_xfrm_addr(a.sel.daddr, af);
    out.flow.proto = a.sel.proto;
    out.flow.src_port = ntohs(a.sel.sport);
    out.flow.dst_port = ntohs(a.sel.dport);
    out.flow.ports_known = true;
    out.reqid = 0;
    bool ok = for_each_attr(h, sizeof a, [&](int type, const uint8_t* data, size_t len) {
        if (type == XFRMA_TMPL) {
            auto ids = tmpl_reqids(data, len);
            if (!ids.empty()) {
                out.reqid = ids.front();
            }
        }
    });
    return ok;
}

}  // namespace qvpn::sa::xfrm
