#include "daemon/ikev2/engine/proposals.hpp"

#include <algorithm>

#include "daemon/ike/crypto/dh.hpp"

namespace qvpn::ikev2 {

namespace crypto = ike::crypto;
using ike::DhId;
using ike::EncrId;
using ike::EsnId;
using ike::IntegId;
using ike::PrfId;

namespace {

Transform encr_transform(const crypto::EncrAlg& a) {
    Transform t{TransformType::ENCR, static_cast<uint16_t>(a.id), std::nullopt, false};
    if (crypto::encr_has_key_length(a.id)) {
        t.key_length = a.key_bits;
    }
    return t;
}

Transform make_transform(TransformType type, uint16_t id) {
    return Transform{type, id, std::nullopt, false};
}

bool has_type(const Proposal& p, TransformType type) {
    return std::any_of(p.transforms.begin(), p.transforms.end(),
                       [&](const Transform& t) { return t.type == type; });
}

bool contains(const Proposal& p, TransformType type, uint16_t id) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
        return t.type == type && t.id == id && !t.unknown_attribute;
    });
}

bool contains_encr(const Proposal& p, const crypto::EncrAlg& a) {
    bool needs_len = crypto::encr_has_key_length(a.id);
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
        if (t.type != TransformType::ENCR || t.id != static_cast<uint16_t>(a.id) ||
            t.unknown_attribute) {
            return false;
        }
        return needs_len ? t.key_length == a.key_bits : !t.key_length.has_value();
    });
}

// RFC 7296 3.3.6: a proposal with a transform type we do not know (or one
// that does not belong to the protocol) is rejected as a whole.
bool types_allowed(const Proposal& p, std::initializer_list<TransformType> allowed) {
    return std::all_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
        return std::find(allowed.begin(), allowed.end(), t.type) != allowed.end();
    });
}

// An integrity requirement: `want` NONE accepts a proposal without INTEG or
// with INTEG NONE (RFC 5282 8: AEAD proposals carry no integrity).
bool integ_fits(const Proposal& p, IntegId want) {
    if (want == IntegId::NONE) {
        return !has_type(p, TransformType::INTEG) ||
               contains(p, TransformType::INTEG, static_cast<uint16_t>(IntegId::NONE));
    }
    return contains(p, TransformType::INTEG, static_cast<uint16_t>(want));
}

// The single transform of a type in an answer; nullopt when absent,
// `dup` set when there are several.
std::optional<Transform> only(const Proposal& p, TransformType type, bool& dup) {
    std::optional<Transform> r;
    for (const auto& t : p.transforms) {
        if (t.type == type) {
            if (r) {
                dup = true;
            }
            r = t;
        }
    }
    return r;
}

Failure bad_answer(std::string what, std::string detail) {
    return Failure{msg("IKE0901", std::move(what), std::move(detail))
                       .with_notify(ike::notify_code(NotifyType::NO_PROPOSAL_CHOSEN))};
}

Failure bad_child_answer(std::string detail) {
    return Failure{msg("IKE0903", std::move(detail))
                       .with_notify(ike::notify_code(NotifyType::NO_PROPOSAL_CHOSEN))};
}

std::string cl(std::optional<policy::Encr> e) {
    return e ? std::string(policy::to_cl(*e)) : "?";
}

}  // namespace

// --- IKE SA -----------------------------------------------------------------------

std::vector<crypto::IkeSuite> ike_suites(const policy::KeyPolicy& key,
                                         std::vector<std::string>* skipped) {
    std::vector<crypto::IkeSuite> out;
    for (const auto& t : key.transforms) {
        crypto::IkeSuite s = crypto::ike_suite_from_policy(t);
        bool usable = policy::ike_allowed(t.encryption) && crypto::check_ike_suite(s).ok() &&
                      crypto::DhGroup::supported(s.dh);
        if (!usable) {
            if (skipped) {
                skipped->push_back(std::string(policy::to_cl(t.encryption)) + " " +
                                   std::string(policy::to_cl(t.hash)) + " " +
                                   std::string(policy::to_cl(t.dh_group)));
            }
            continue;
        }
        if (std::find(out.begin(), out.end(), s) == out.end()) {
            out.push_back(s);
        }
    }
    return out;
}

SaPayload ike_proposals(const std::vector<crypto::IkeSuite>& suites, const Bytes& spi) {
    SaPayload sa;
    uint8_t n = 1;
    for (const auto& s : suites) {
        Proposal p{n++, ProtocolId::IKE, spi, {}};
        p.transforms.push_back(encr_transform(s.encr));
        p.transforms.push_back(make_transform(TransformType::PRF, static_cast<uint16_t>(s.prf)));
        if (s.integ != IntegId::NONE) {
            p.transforms.push_back(
                make_transform(TransformType::INTEG, static_cast<uint16_t>(s.integ)));
        }
        p.transforms.push_back(make_transform(TransformType::DH, static_cast<uint16_t>(s.dh)));
        sa.proposals.push_back(std::move(p));
    }
    return sa;
}

Result<IkeChoice> select_ike(const SaPayload& offered, const std::vector<crypto::IkeSuite>& ours) {
    for (const auto& s : ours) {
        for (const auto& p : offered.proposals) {
            if (p.protocol != ProtocolId::IKE || (!p.spi.empty() && p.spi.size() != 8)) {
                continue;
            }
            if (!types_allowed(p, {TransformType::ENCR, TransformType::PRF, TransformType::INTEG,
                                   TransformType::DH})) {
                continue;
            }
            if (contains_encr(p, s.encr) &&
                contains(p, TransformType::PRF, static_cast<uint16_t>(s.prf)) &&
                integ_fits(p, s.integ) &&
                contains(p, TransformType::DH, static_cast<uint16_t>(s.dh))) {
                return IkeChoice{s, p.number, p.spi};
            }
        }
    }
    return Failure{msg("IKE0900", offered.proposals.size())
                       .with_notify(ike::notify_code(NotifyType::NO_PROPOSAL_CHOSEN))};
}

SaPayload ike_answer(const IkeChoice& c, const Bytes& our_spi) {
    SaPayload sa = ike_proposals({c.suite}, our_spi);
    sa.proposals[0].number = c.number;
    return sa;
}

Result<IkeChoice> accept_ike(const SaPayload& answer, const std::vector<crypto::IkeSuite>& ours,
                             bool rekey) {
    if (answer.proposals.size() != 1) {
        return bad_answer("IKE", std::to_string(answer.proposals.size()) + " proposals");
    }
    const Proposal& p = answer.proposals[0];
    if (p.protocol != ProtocolId::IKE) {
        return bad_answer("IKE", "protocol " + name(p.protocol));
    }
    if (p.spi.size() != (rekey ? 8u : 0u)) {
        return bad_answer("IKE", "SPI of " + std::to_string(p.spi.size()) + " bytes");
    }
    if (!types_allowed(p, {TransformType::ENCR, TransformType::PRF, TransformType::INTEG,
                           TransformType::DH})) {
        return bad_answer("IKE", "unexpected transform type");
    }
    bool dup = false;
    auto encr = only(p, TransformType::ENCR, dup);
    auto prf = only(p, TransformType::PRF, dup);
    auto integ = only(p, TransformType::INTEG, dup);
    auto dh = only(p, TransformType::DH, dup);
    if (dup || !encr || !prf || !dh) {
        return bad_answer("IKE", "not exactly one transform of each type");
    }
    crypto::IkeSuite s;
    s.encr = crypto::EncrAlg{static_cast<EncrId>(encr->id), encr->key_length.value_or(0)};
    s.prf = static_cast<PrfId>(prf->id);
    s.integ = integ ? static_cast<IntegId>(integ->id) : IntegId::NONE;
    s.dh = static_cast<DhId>(dh->id);
    if (std::find(ours.begin(), ours.end(), s) == ours.end()) {
        return bad_answer("IKE", "the chosen transforms were not offered");
    }
    return IkeChoice{s, p.number, p.spi};
}

// --- CHILD_SA -------------------------------------------------------------------------

std::vector<ChildOffer> child_offers(const policy::DataPolicy& data,
                                     std::vector<std::string>* skipped) {
    std::vector<ChildOffer> out;
    for (const auto& t : data.transforms) {
        crypto::DataSuites ds = crypto::child_suites_from_policy(t);
        std::optional<ChildOffer> o;
        if (t.protocol == policy::Protocol::AhEsp) {
            o.reset();  // RFC 7296 3.3: no combined AH and ESP proposals in IKEv2
        } else if (t.protocol == policy::Protocol::Esp && ds.esp &&
                   crypto::check_child_suite(*ds.esp).ok()) {
            o = ChildOffer{ProtocolId::ESP, *ds.esp};
        } else if (t.protocol == policy::Protocol::Ah && ds.ah &&
                   crypto::check_child_suite(*ds.ah).ok()) {
            o = ChildOffer{ProtocolId::AH, *ds.ah};
        }
        if (!o) {
            if (skipped) {
                skipped->push_back(std::string(policy::to_cl(t.protocol)) + " " +
                                   std::string(policy::to_cl(t.encryption)) + " " +
                                   std::string(policy::to_cl(t.authentication)));
            }
            continue;
        }
        bool dup = std::any_of(out.begin(), out.end(), [&](const ChildOffer& x) {
            return x.proto == o->proto && x.suite == o->suite;
        });
        if (!dup) {
            out.push_back(*o);
        }
    }
    return out;
}

SaPayload child_proposals(const std::vector<ChildOffer>& offers, uint32_t spi, bool esn,
                          DhId pfs) {
    SaPayload sa;
    uint8_t n = 1;
    ByteWriter w;
    w.u32(spi);
    for (const auto& o : offers) {
        Proposal p{n++, o.proto, w.data(), {}};
        if (o.proto == ProtocolId::ESP) {
            p.transforms.push_back(encr_transform(o.suite.encr));
        }
        if (o.suite.integ != IntegId::NONE) {
            p.transforms.push_back(
                make_transform(TransformType::INTEG, static_cast<uint16_t>(o.suite.integ)));
        }
        if (pfs != DhId::NONE) {
            p.transforms.push_back(make_transform(TransformType::DH, static_cast<uint16_t>(pfs)));
        }
        if (esn) {
            p.transforms.push_back(
                make_transform(TransformType::ESN, static_cast<uint16_t>(EsnId::ESN)));
        }
        p.transforms.push_back(
            make_transform(TransformType::ESN, static_cast<uint16_t>(EsnId::NO_ESN)));
        sa.proposals.push_back(std::move(p));
    }
    return sa;
}

namespace {

// ESN choice from what a proposal allows: ours if possible, else theirs.
std::optional<bool> pick_esn(const Proposal& p, bool want) {
    bool has_esn = contains(p, TransformType::ESN, static_cast<uint16_t>(EsnId::ESN));
    bool has_no = contains(p, TransformType::ESN, static_cast<uint16_t>(EsnId::NO_ESN));
    if (!has_type(p, TransformType::ESN)) {
        return false;  // a peer that leaves ESN out means none
    }
    if (want && has_esn) {
        return true;
    }
    if (has_no) {
        return false;
    }
    if (has_esn) {
        return true;
    }
    return std::nullopt;
}

// PFS choice: our group when we require one; otherwise none if the peer
// allows it, or the first group the peer insists on that we support.
std::optional<DhId> pick_dh(const Proposal& p, DhId pfs) {
    if (pfs != DhId::NONE) {
        if (contains(p, TransformType::DH, static_cast<uint16_t>(pfs))) {
            return pfs;
        }
        return std::nullopt;
    }
    if (!has_type(p, TransformType::DH) ||
        contains(p, TransformType::DH, static_cast<uint16_t>(DhId::NONE))) {
        return DhId::NONE;
    }
    for (const auto& t : p.transforms) {
        if (t.type == TransformType::DH && crypto::DhGroup::supported(static_cast<DhId>(t.id))) {
            return static_cast<DhId>(t.id);
        }
    }
    return std::nullopt;
}

uint32_t spi_of(const Bytes& b) {
    return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

}  // namespace

Result<ChildChoice> select_child(const SaPayload& offered, const std::vector<ChildOffer>& ours,
                                 bool want_esn, DhId pfs, bool in_ike_auth) {
    for (const auto& o : ours) {
        for (const auto& p : offered.proposals) {
            if (p.protocol != o.proto || p.spi.size() != 4) {
                continue;
            }
            bool esp = o.proto == ProtocolId::ESP;
            bool types_ok =
                esp ? types_allowed(p, {TransformType::ENCR, TransformType::INTEG,
                                        TransformType::DH, TransformType::ESN})
                    : types_allowed(p, {TransformType::INTEG, TransformType::DH,
                                        TransformType::ESN});
            if (!types_ok) {
                continue;
            }
            if (esp && !contains_encr(p, o.suite.encr)) {
                continue;
            }
            if (!integ_fits(p, o.suite.integ)) {
                continue;
            }
            auto esn = pick_esn(p, want_esn);
            if (!esn) {
                continue;
            }
            DhId dh = DhId::NONE;
            if (!in_ike_auth) {
                auto d = pick_dh(p, pfs);
                if (!d) {
                    continue;
                }
                dh = *d;
            }
            return ChildChoice{o.proto, o.suite, *esn, dh, p.number, spi_of(p.spi)};
        }
    }
    return Failure{msg("IKE0902", offered.proposals.size())
                       .with_notify(ike::notify_code(NotifyType::NO_PROPOSAL_CHOSEN))};
}

SaPayload child_answer(const ChildChoice& c, uint32_t our_spi, bool in_ike_auth) {
    SaPayload sa = child_proposals({ChildOffer{c.proto, c.suite}}, our_spi, false,
                                   in_ike_auth ? DhId::NONE : c.dh);
    Proposal& p = sa.proposals[0];
    p.number = c.number;
    // One ESN transform: the chosen one.
    p.transforms.back().id = static_cast<uint16_t>(c.esn ? EsnId::ESN : EsnId::NO_ESN);
    return sa;
}

Result<ChildChoice> accept_child(const SaPayload& answer, const std::vector<ChildOffer>& ours,
                                 DhId pfs, bool in_ike_auth) {
    if (answer.proposals.size() != 1) {
        return bad_child_answer(std::to_string(answer.proposals.size()) + " proposals");
    }
    const Proposal& p = answer.proposals[0];
    if (p.spi.size() != 4) {
        return bad_child_answer("SPI of " + std::to_string(p.spi.size()) + " bytes");
    }
    bool dup = false;
    auto encr = only(p, TransformType::ENCR, dup);
    auto integ = only(p, TransformType::INTEG, dup);
    auto dh = only(p, TransformType::DH, dup);
    auto esn = only(p, TransformType::ESN, dup);
    if (dup) {
        return bad_child_answer("more than one transform of a type");
    }
    crypto::ChildSuite s;
    s.use = p.protocol == ProtocolId::AH ? crypto::SaUse::Ah : crypto::SaUse::Esp;
    if (encr) {
        s.encr = crypto::EncrAlg{static_cast<EncrId>(encr->id), encr->key_length.value_or(0)};
    }
    s.integ = integ ? static_cast<IntegId>(integ->id) : IntegId::NONE;
    bool offered = std::any_of(ours.begin(), ours.end(), [&](const ChildOffer& o) {
        return o.proto == p.protocol && o.suite == s;
    });
    if (!offered) {
        return bad_child_answer("the chosen transforms were not offered");
    }
    DhId got_dh = dh ? static_cast<DhId>(dh->id) : DhId::NONE;
    if (!in_ike_auth && got_dh != pfs) {
        return bad_child_answer("PFS group " + std::to_string(static_cast<int>(got_dh)) +
                                " instead of " + std::to_string(static_cast<int>(pfs)));
    }
    bool use_esn = esn && esn->id == static_cast<uint16_t>(EsnId::ESN);
    return ChildChoice{p.protocol, s, use_esn, in_ike_auth ? DhId::NONE : got_dh, p.number,
                       spi_of(p.spi)};
}

std::string describe(const crypto::IkeSuite& s) {
    auto hash = crypto::hash_from_prf(s.prf);
    auto dh = crypto::dh_to_policy(s.dh);
    return cl(crypto::encr_to_policy(s.encr)) + " " +
           (hash ? std::string(policy::to_cl(*hash)) : "?") + " " +
           (dh ? std::string(policy::to_cl(*dh)) : "?");
}

std::string describe(const ChildChoice& c) {
    std::string out = c.proto == ProtocolId::AH ? "*AH" : "*ESP";
    if (c.proto == ProtocolId::ESP) {
        out += " " + cl(crypto::encr_to_policy(c.suite.encr));
    }
    if (auto a = crypto::data_auth_from_integ(c.suite.integ); a && *a != policy::DataAuth::None) {
        out += " " + std::string(policy::to_cl(*a));
    }
    if (c.dh != DhId::NONE) {
        if (auto g = crypto::dh_to_policy(c.dh)) {
            out += " PFS " + std::string(policy::to_cl(*g));
        }
    }
    if (c.esn) {
        out += " ESN";
    }
    return out;
}

}  // namespace qvpn::ikev2
