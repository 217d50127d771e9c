// SA payload proposals (RFC 7296 2.7, 3.3): building ours from the key and
// data policies' ordered transforms, choosing one of the peer's as
// responder, and checking the responder's choice as initiator.
//
// The responder walks its own transforms in the policy's order and takes
// the first one any of the peer's proposals contains, so the operator's
// order of preference decides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "daemon/ike/crypto/suite.hpp"
#include "daemon/ikev2/wire/message.hpp"

namespace qvpn::ikev2 {

// --- IKE SA ------------------------------------------------------------------

struct IkeChoice {
    ike::crypto::IkeSuite suite;
    uint8_t number = 1;  // the proposal number to answer with
    Bytes peer_spi;      // the peer's SPI in a rekey proposal (8 bytes), else empty
};

// The IKE suites of a key policy, in its order, without duplicates and
// without transforms IKE cannot use (GMAC, *NONE). `skipped` gets the CL
// names of what was left out.
std::vector<ike::crypto::IkeSuite> ike_suites(const policy::KeyPolicy& key,
                                              std::vector<std::string>* skipped = nullptr);

// One proposal per suite, numbered from 1. `spi` is empty in IKE_SA_INIT and
// our new 8-byte SPI in an IKE SA rekey.
SaPayload ike_proposals(const std::vector<ike::crypto::IkeSuite>& suites, const Bytes& spi);

// Responder: the first of `ours` (in order) that one of the peer's IKE
// proposals contains. IKE0900 with NO_PROPOSAL_CHOSEN when none does.
Result<IkeChoice> select_ike(const SaPayload& offered,
                             const std::vector<ike::crypto::IkeSuite>& ours);

// The one-proposal answer for a choice, carrying `our_spi` (empty in
// IKE_SA_INIT, 8 bytes in a rekey).
SaPayload ike_answer(const IkeChoice& choice, const Bytes& our_spi);

// Initiator: the responder's answer must be one proposal with one transform
// of each type, all taken from one of ours. IKE0901 otherwise.
Result<IkeChoice> accept_ike(const SaPayload& answer,
                             const std::vector<ike::crypto::IkeSuite>& ours, bool rekey);

// --- CHILD_SA ----------------------------------------------------------------

struct ChildOffer {
    ProtocolId proto = ProtocolId::ESP;
    ike::crypto::ChildSuite suite;
};

struct ChildChoice {
    ProtocolId proto = ProtocolId::ESP;
    ike::crypto::ChildSuite suite;
    bool esn = false;
    ike::DhId dh = ike::DhId::NONE;  // PFS group (CREATE_CHILD_SA only)
    uint8_t number = 1;
    uint32_t peer_spi = 0;
};

// The data policy's transforms as single-protocol offers, in order. *AHESP
// cannot be expressed in IKEv2 (RFC 7296 removed combined proposals), so it
// is left out and named in `skipped`.
std::vector<ChildOffer> child_offers(const policy::DataPolicy& data,
                                     std::vector<std::string>* skipped = nullptr);

// Our CHILD_SA proposals: one per offer, with our inbound SPI, the ESN
// choices (ESN and NO_ESN when `esn` is wanted, NO_ESN otherwise), and the
// PFS group when `pfs` is not NONE (never in IKE_AUTH).
SaPayload child_proposals(const std::vector<ChildOffer>& offers, uint32_t spi, bool esn,
                          ike::DhId pfs);

// Responder. `pfs`: the group our data policy asks for (NONE: none); with
// `in_ike_auth` any DH transform is ignored (RFC 7296 1.2). IKE0902 with
// NO_PROPOSAL_CHOSEN when nothing fits.
Result<ChildChoice> select_child(const SaPayload& offered, const std::vector<ChildOffer>& ours,
                                 bool want_esn, ike::DhId pfs, bool in_ike_auth);

SaPayload child_answer(const ChildChoice& choice, uint32_t our_spi, bool in_ike_auth);

// Initiator: check the answer against what we offered. IKE0903 otherwise.
Result<ChildChoice> accept_child(const SaPayload& answer, const std::vector<ChildOffer>& ours,
                                 ike::DhId pfs, bool in_ike_auth);

// A suite in CL words for the job log: "*AESCBC128 *SHA256 *GRP19".
std::string describe(const ike::crypto::IkeSuite& s);
std::string describe(const ChildChoice& c);

}  // namespace qvpn::ikev2
