// validate(): the checks every ChildSa passes before a backend sees it.
#include <cstdio>

#include "daemon/sa/algorithms.hpp"
#include "daemon/sa/backend.hpp"
#include "daemon/sa/sa_json.hpp"

namespace qvpn::sa {

using ike::EncrId;
using ike::IntegId;

namespace {

std::string hex_spi(uint32_t spi) {
    char buf[12];
    std::snprintf(buf, sizeof buf, "%08x", spi);
    return buf;
}

Status check_reqid(uint32_t reqid, const std::string& conn) {
    if (!is_qvpn_reqid(reqid)) {
        return fail("XFR0004", reqid, conn, kReqidFirst, kReqidLast);
    }
    return ok();
}

Status check_outer(const std::string& conn, const IpAddress& local, const IpAddress& remote) {
    if (local.family() != remote.family()) {
        return fail("XFR0007", conn, "the outer addresses are of different families");
    }
    if (local.is_unspecified() || remote.is_unspecified()) {
        return fail("XFR0007", conn, "an outer address is unspecified");
    }
    return ok();
}

// Selectors: non-empty on both sides, and at least one local/remote pair of
// one family (pairs of mixed families are skipped by the backends). In
// transport mode that family must be the outer one.
Status check_selectors(const std::string& conn, Mode mode, int outer_family,
                       const std::vector<TrafficSelector>& local,
                       const std::vector<TrafficSelector>& remote) {
    if (local.empty() || remote.empty()) {
        return fail("XFR0007", conn, "a traffic selector list is empty");
    }
    bool usable = false;
    for (const auto& l : local) {
        for (const auto& r : remote) {
            int fam = l.addrs.from.family();
            if (fam != r.addrs.from.family()) {
                continue;
            }
            if (mode == Mode::Transport && fam != outer_family) {
                continue;
            }
            usable = true;
        }
    }
    if (!usable) {
        return fail("XFR0007", conn,
                    mode == Mode::Transport
                        ? "no selector pair has the outer addresses' family (transport mode)"
                        : "no local and remote selector have the same family");
    }
    for (const auto* list : {&local, &remote}) {
        for (const auto& ts : *list) {
            if (ts.port_from > ts.port_to || ts.addrs.to < ts.addrs.from ||
                ts.addrs.from.family() != ts.addrs.to.family()) {
                return fail("XFR0007", conn, "selector " + ts.addrs.to_string() + " is empty");
            }
        }
    }
    return ok();
}

Status check_integ(const std::string& what, IntegId integ, const SecretBytes& key) {
    const IntegInfo* ii = integ_info(integ);
    if (!ii) {
        return fail("XFR0002", std::string(integ_name(integ)), what);
    }
    if (key.size() != ii->key_bits / 8u) {
        return fail("XFR0003", std::string(integ_name(integ)), key.size(), ii->key_bits / 8u);
    }
    return ok();
}

Status check_esp(const std::string& conn, const char* dir, const SaKeys& k) {
    std::string what = std::string("ESP ") + dir;
    if (k.spi < 256) {
        return fail("XFR0001", "sa.esp." + std::string(dir) + ".spi",
                    "SPI " + hex_spi(k.spi) + " is reserved (RFC 4303: 1-255)");
    }
    const EncrInfo* ei = encr_info(k.encr);
    if (!ei) {
        return fail("XFR0002", std::string(encr_name(k.encr)), what);
    }
    if (!encr_key_bits_ok(*ei, k.encr_key_bits)) {
        return fail("XFR0001", "sa.esp." + std::string(dir) + ".encr_key_bits",
                    std::to_string(k.encr_key_bits) + " bits is not a key length of " +
                        std::string(encr_name(k.encr)));
    }
    size_t need = encr_key_bytes(*ei, k.encr_key_bits);
    if (k.encr_key.size() != need) {
        return fail("XFR0003", std::string(encr_name(k.encr)), k.encr_key.size(), need);
    }
    if (ei->aead) {
        if (k.integ != IntegId::NONE) {
            return fail("XFR0007", conn,
                        std::string(encr_name(k.encr)) + " is combined mode; integrity must be NONE");
        }
        return ok();
    }
    if (k.integ == IntegId::NONE) {
        // RFC 8221 2.1: ESP encryption without integrity is not to be used.
        return fail("XFR0002", std::string(encr_name(k.encr)) + " without integrity", what);
    }
    return check_integ(what, k.integ, k.integ_key);
}

Status check_ah(const char* dir, const SaKeys& k) {
    std::string what = std::string("AH ") + dir;
    if (k.spi < 256) {
        return fail("XFR0001", "sa.ah." + std::string(dir) + ".spi",
                    "SPI " + hex_spi(k.spi) + " is reserved (RFC 4302: 1-255)");
    }
    if (k.encr != EncrId::ENCR_NULL || !k.encr_key.empty()) {
        return fail("XFR0002", std::string(encr_name(k.encr)), what);
    }
    if (k.integ == IntegId::NONE) {
        return fail("XFR0002", "NONE", what);
    }
    return check_integ(what, k.integ, k.integ_key);
}

}  // namespace

Status validate(const ChildSa& sa) {
    QVPN_TRY(check_reqid(sa.reqid, sa.conn));
    QVPN_TRY(check_outer(sa.conn, sa.local, sa.remote));
    if (!sa.esp && !sa.ah) {
        return fail("XFR0007", sa.conn, "neither ESP nor AH");
    }
    if (sa.esp) {
        QVPN_TRY(check_esp(sa.conn, "in", sa.esp->in));
        QVPN_TRY(check_esp(sa.conn, "out", sa.esp->out));
    }
    if (sa.ah) {
        QVPN_TRY(check_ah("in", sa.ah->in));
        QVPN_TRY(check_ah("out", sa.ah->out));
        if (sa.encap) {
            // RFC 3948 encapsulates ESP only; AH covers the outer addresses a
            // NAT rewrites.
            return fail("XFR0007", sa.conn, "AH cannot be UDP-encapsulated");
        }
    }
    if (sa.ipcomp && (sa.ipcomp->cpi_in == 0 || sa.ipcomp->cpi_out == 0)) {
        return fail("XFR0001", "sa.ipcomp", "a CPI is 0");
    }
    if (sa.encap && (sa.encap->local_port == 0 || sa.encap->remote_port == 0)) {
        return fail("XFR0001", "sa.encap", "a port is 0");
    }
    if (sa.replay_window > 4096) {
        return fail("XFR0001", "sa.replay_window", "larger than 4096");
    }
    if (sa.esn && sa.replay_window == 0) {
        // RFC 4303 2.2.1: ESN needs the receiver's window to infer the high bits.
        return fail("XFR0007", sa.conn, "ESN needs an anti-replay window");
    }
    const Lifetime& l = sa.lifetime;
    if ((l.hard_seconds && l.soft_seconds > l.hard_seconds) ||
        (l.hard_bytes && l.soft_bytes > l.hard_bytes)) {
        return fail("XFR0007", sa.conn, "a soft lifetime is beyond the hard lifetime");
    }
    return check_selectors(sa.conn, sa.mode, sa.local.family(), sa.ts_local, sa.ts_remote);
}

Status validate(const Trap& t) {
    QVPN_TRY(check_reqid(t.reqid, t.conn));
    QVPN_TRY(check_outer(t.conn, t.local, t.remote));
    if (!t.esp && !t.ah) {
        return fail("XFR0007", t.conn, "neither ESP nor AH");
    }
    return check_selectors(t.conn, t.mode, t.local.family(), t.ts_local, t.ts_remote);
}

}  // namespace qvpn::sa
