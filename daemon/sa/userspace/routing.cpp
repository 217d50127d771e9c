#include "daemon/sa/userspace/routing.hpp"

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <tuple>

#include <linux/fib_rules.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/socket.h>
#include <sys/socket.h>

namespace qvpn::sa::us {

namespace {

std::string nl_err(int err) { return nl_geterror(err); }

Failure route_fail(const std::string& what, const std::string& dev, int err) {
    return fail(msg("ESP0005", what, dev, nl_err(err)));
}

struct AddrPut {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;

AddrPtr to_nl(const IpAddress& a, int len) {
    AddrPtr p(nl_addr_build(a.af(), a.data(), a.size()));
    if (p) {
        nl_addr_set_prefixlen(p.get(), len);
    }
    return p;
}

std::optional<IpAddress> from_nl(nl_addr* a) {
    if (!a) {
        return std::nullopt;
    }
    return IpAddress::from_bytes(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)),
                                 nl_addr_get_len(a));
}

}  // namespace

Routing::Routing(Routing&& o) noexcept { *this = std::move(o); }

Routing& Routing::operator=(Routing&& o) noexcept {
    std::swap(sk_, o.sk_);
    ifindex_ = o.ifindex_;
    table_ = o.table_;
    prio_ = o.prio_;
    mark_ = o.mark_;
    mask_ = o.mask_;
    std::swap(rules_, o.rules_);
    stale_rules_ = o.stale_rules_;
    routes_ = std::move(o.routes_);
    return *this;
}

Routing::~Routing() {
    if (sk_) {
        (void)release_all();
        if (rules_) {
            (void)remove_rules();
        }
        nl_socket_free(sk_);
    }
}

Result<Routing> Routing::open(int ifindex, uint32_t table, uint32_t rule_priority, uint32_t mark,
                              uint32_t mask) {
    Routing r;
    r.sk_ = nl_socket_alloc();
    if (!r.sk_) {
        return fail("ESP0005", "routing", "netlink", "out of memory");
    }
    int err = nl_connect(r.sk_, NETLINK_ROUTE);
    if (err < 0) {
        return route_fail("routing", "netlink", err);
    }
    r.ifindex_ = ifindex;
    r.table_ = table;
    r.prio_ = rule_priority;
    r.mark_ = mark;
    r.mask_ = mask;
    return r;
}

Status Routing::link_up(int mtu) {
    rtnl_link* link = nullptr;
    int err = rtnl_link_get_kernel(sk_, ifindex_, nullptr, &link);
    if (err < 0) {
        return route_fail("the link", std::to_string(ifindex_), err);
    }
    rtnl_link* change = rtnl_link_alloc();
    rtnl_link_set_mtu(change, unsigned(mtu));
    rtnl_link_set_flags(change, IFF_UP);
    err = rtnl_link_change(sk_, link, change, 0);
    rtnl_link_put(change);
    rtnl_link_put(link);
    if (err < 0) {
        return route_fail("the link", std::to_string(ifindex_), err);
    }
    return ok();
}

Status Routing::rule_op(int family, bool add) {
    rtnl_rule* rule = rtnl_rule_alloc();
    rtnl_rule_set_family(rule, family);
    rtnl_rule_set_prio(rule, prio_);
    rtnl_rule_set_mark(rule, mark_);
    rtnl_rule_set_mask(rule, mask_);
    rtnl_rule_set_table(rule, table_);
    rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
    nl_msg* m = nullptr;
    int err = add ? rtnl_rule_build_add_request(rule, NLM_F_EXCL, &m)
                  : rtnl_rule_build_delete_request(rule, 0, &m);
    rtnl_rule_put(rule);
    if (err < 0) {
        return route_fail("the bypass rule", "table " + std::to_string(table_), err);
    }
    // libnl's rule object has no setter for the header's flags; the rule
    // must match packets WITHOUT the mark ("not fwmark"), so set
    // FIB_RULE_INVERT in the fib_rule_hdr of the built message.
    auto* frh = static_cast<fib_rule_hdr*>(nlmsg_data(nlmsg_hdr(m)));
    frh->flags |= FIB_RULE_INVERT;
    err = nl_send_auto_complete(sk_, m);
    nlmsg_free(m);
    if (err >= 0) {
        err = nl_wait_for_ack(sk_);
    }
    if (add && err == -NLE_EXIST) {
        // Ours cannot exist yet: an earlier run left it (the next cleanup
        // reports it; we keep using it and remove it at the end).
        ++stale_rules_;
        return ok();
    }
    if (err < 0 && !(!add && err == -NLE_OBJ_NOTFOUND)) {
        return route_fail("the bypass rule", "table " + std::to_string(table_), err);
    }
    return ok();
}

Status Routing::add_rules() {
    QVPN_TRY(rule_op(AF_INET, true));
    Status s6 = rule_op(AF_INET6, true);
    rules_ = true;
    // IPv6 may be disabled in the namespace; IPv4 tunnels still work.
    (void)s6;
    return ok();
}

Status Routing::remove_rules() {
    Status s4 = rule_op(AF_INET, false);
    (void)rule_op(AF_INET6, false);
    rules_ = false;
    return s4;
}

Status Routing::route_op(const Prefix& dst, const NextHop& via, const IpAddress* src,
                         bool add) {
    rtnl_route* r = rtnl_route_alloc();
    AddrPtr d = to_nl(dst.addr, dst.len);
    rtnl_route_set_family(r, uint8_t(dst.addr.af()));
    rtnl_route_set_table(r, table_);
    rtnl_route_set_dst(r, d.get());
    rtnl_route_set_scope(r, RT_SCOPE_LINK);
    rtnl_route_set_type(r, RTN_UNICAST);
    rtnl_route_set_protocol(r, RTPROT_STATIC);
    if (src) {
        AddrPtr s = to_nl(*src, src->is_v4() ? 32 : 128);
        rtnl_route_set_pref_src(r, s.get());
    }
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, via.oif);
    if (via.gateway) {
        AddrPtr gw = to_nl(*via.gateway, via.gateway->is_v4() ? 32 : 128);
        rtnl_route_nh_set_gateway(nh, gw.get());
        rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
    }
    rtnl_route_add_nexthop(r, nh);  // the route owns it
    int err = add ? rtnl_route_add(sk_, r, NLM_F_CREATE | NLM_F_REPLACE)
                  : rtnl_route_delete(sk_, r, 0);
    rtnl_route_put(r);
    if (err < 0 && !(!add && err == -NLE_OBJ_NOTFOUND)) {
        return route_fail(dst.addr.to_string() + "/" + std::to_string(dst.len),
                          "ifindex " + std::to_string(via.oif), err);
    }
    return ok();
}

Status Routing::acquire_route(const Prefix& dst, const IpAddress* src) {
    return acquire_route_via(dst, NextHop{ifindex_, std::nullopt}, src);
}

Status Routing::acquire_route_via(const Prefix& dst, const NextHop& nh, const IpAddress* src) {
    auto it = routes_.find(Key{dst});
    if (it != routes_.end()) {
        ++it->second.refs;
        return ok();
    }
    QVPN_TRY(route_op(dst, nh, src, true));
    routes_[Key{dst}] = Held{1, nh};
    return ok();
}

void Routing::release_route(const Prefix& dst) {
    auto it = routes_.find(Key{dst});
    if (it == routes_.end()) {
        return;
    }
    if (--it->second.refs == 0) {
        (void)route_op(dst, it->second.nh, nullptr, false);
        routes_.erase(it);
    }
}

Result<Routing::NextHop> Routing::route_to(const IpAddress& dst) {
    // A socket of its own: this answer is read by hand, and nothing of it
    // may be left for the acknowledgements libnl waits for on sk_.
    std::unique_ptr<nl_sock, void (*)(nl_sock*)> q(nl_socket_alloc(), nl_socket_free);
    if (!q || nl_connect(q.get(), NETLINK_ROUTE) < 0) {
        return fail("ESP0005", dst.to_string(), "the main table", "netlink socket");
    }
    nl_sock* sk = q.get();
    nl_msg* m = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
    rtmsg rt;
    std::memset(&rt, 0, sizeof rt);
    rt.rtm_family = uint8_t(dst.af());
    rt.rtm_dst_len = uint8_t(dst.size() * 8);
    nlmsg_append(m, &rt, sizeof rt, NLMSG_ALIGNTO);
    nla_put(m, RTA_DST, int(dst.size()), dst.data());
    nla_put_u32(m, RTA_MARK, mark_);
    int err = nl_send_auto(sk, m);
    nlmsg_free(m);
    if (err < 0) {
        return route_fail("the route to " + dst.to_string(), "-", err);
    }
    std::optional<NextHop> found;
    int kernel_err = 0;
    for (;;) {
        sockaddr_nl peer;
        unsigned char* buf = nullptr;
        int n = nl_recv(sk, &peer, &buf, nullptr);
        if (n <= 0) {
            free(buf);
            return route_fail("the route to " + dst.to_string(), "-", n ? n : -NLE_NODEV);
        }
        bool done = false;
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
            // libnl asks for an acknowledgement on every request: the answer
            // ends with it (an error alone when there is no route).
            if (h->nlmsg_type == NLMSG_ERROR) {
                auto* e = static_cast<nlmsgerr*>(nlmsg_data(h));
                kernel_err = e->error;
                done = true;
            } else if (h->nlmsg_type == RTM_NEWROUTE) {
                nlattr* tb[RTA_MAX + 1];
                if (nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) == 0) {
                    NextHop hop;
                    if (tb[RTA_OIF]) {
                        hop.oif = int(nla_get_u32(tb[RTA_OIF]));
                    }
                    if (tb[RTA_GATEWAY]) {
                        hop.gateway = IpAddress::from_bytes(
                            static_cast<const uint8_t*>(nla_data(tb[RTA_GATEWAY])),
                            size_t(nla_len(tb[RTA_GATEWAY])));
                    }
                    found = hop;
                }
            }
        }
        free(buf);
        if (done) {
            break;
        }
    }
    if (!found || found->oif == 0) {
        return fail("ESP0005", dst.to_string(), "the main table",
                    kernel_err ? std::strerror(-kernel_err) : "no route");
    }
    return *found;
}

Status Routing::release_all() {
    Status first;
    for (const auto& [k, held] : routes_) {
        Status s = route_op(k.p, held.nh, nullptr, false);
        if (!s.ok() && first.ok()) {
            first = s;
        }
    }
    routes_.clear();
    return first;
}

Result<std::pair<unsigned, unsigned>> Routing::cleanup_stale() {
    unsigned routes = 0, rules = 0;
    for (int family : {AF_INET, AF_INET6}) {
        nl_cache* cache = nullptr;
        if (rtnl_route_alloc_cache(sk_, family, 0, &cache) < 0) {
            continue;
        }
        std::vector<rtnl_route*> stale;
        for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
            auto* r = reinterpret_cast<rtnl_route*>(o);
            if (rtnl_route_get_table(r) != table_ || rtnl_route_get_family(r) != family) {
                continue;
            }
            auto d = from_nl(rtnl_route_get_dst(r));
            Prefix p{d ? *d : IpAddress(), int(nl_addr_get_prefixlen(rtnl_route_get_dst(r)))};
            if (!routes_.count(Key{p})) {
                nl_object_get(o);
                stale.push_back(r);
            }
        }
        for (rtnl_route* r : stale) {
            if (rtnl_route_delete(sk_, r, 0) >= 0) {
                ++routes;
            }
            rtnl_route_put(r);
        }
        nl_cache_free(cache);

        nl_cache* rc = nullptr;
        if (rtnl_rule_alloc_cache(sk_, family, &rc) < 0) {
            continue;
        }
        unsigned ours = 0;
        for (nl_object* o = nl_cache_get_first(rc); o; o = nl_cache_get_next(o)) {
            auto* rule = reinterpret_cast<rtnl_rule*>(o);
            if (rtnl_rule_get_family(rule) == family && rtnl_rule_get_prio(rule) == prio_ &&
                rtnl_rule_get_table(rule) == table_) {
                ++ours;
            }
        }
        nl_cache_free(rc);
        // Delete every copy, then put ours back: what remains is exactly
        // the rule this object stands for.
        for (unsigned i = 0; i < ours; ++i) {
            (void)rule_op(family, false);
        }
        unsigned mine = 0;
        if (rules_ && ours > 0) {
            mine = rule_op(family, true).ok() ? 1 : 0;
        }
        rules += ours - std::min(ours, mine);
    }
    rules += stale_rules_;
    stale_rules_ = 0;
    return std::pair{routes, rules};
}

Result<std::optional<IpAddress>> Routing::local_address_in(const std::vector<IpRange>& ranges) {
    nl_cache* cache = nullptr;
    int err = rtnl_addr_alloc_cache(sk_, &cache);
    if (err < 0) {
        return route_fail("the address list", "-", err);
    }
    std::optional<IpAddress> found;
    for (nl_object* o = nl_cache_get_first(cache); o && !found; o = nl_cache_get_next(o)) {
        auto a = from_nl(rtnl_addr_get_local(reinterpret_cast<rtnl_addr*>(o)));
        if (!a) {
            continue;
        }
        for (const auto& r : ranges) {
            if (r.contains(*a)) {
                found = *a;
                break;
            }
        }
    }
    nl_cache_free(cache);
    return found;
}

}  // namespace qvpn::sa::us
