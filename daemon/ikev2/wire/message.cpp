#include "daemon/ikev2/wire/message.hpp"

#include <string>

namespace qvpn::ikev2 {

namespace {

using ike::notify_code;

Failure malformed(PayloadType t, std::string detail) {
    return Failure{msg("IKE0801", name(t), std::move(detail))
                       .with_notify(notify_code(NotifyType::INVALID_SYNTAX))};
}

std::string got_need(size_t got, size_t need) {
    return "got " + std::to_string(got) + " bytes, need " + std::to_string(need);
}

// --- SA: RFC 7296 3.3 -------------------------------------------------------

constexpr uint8_t kLastSubstruc = 0;
constexpr uint8_t kMoreProposals = 2;
constexpr uint8_t kMoreTransforms = 3;
constexpr size_t kProposalHeaderLen = 8;
constexpr size_t kTransformHeaderLen = 8;

Result<Transform> parse_transform(ByteView data) {
    ByteReader r(data);
    Transform t;
    t.type = static_cast<TransformType>(r.u8());
    r.skip(1);
    t.id = r.u16();
    while (!r.failed() && r.remaining() > 0) {
        uint16_t af_type = r.u16();
        uint16_t type = af_type & 0x7fff;
        if (af_type & 0x8000) {
            // TV format: a 2-byte value.
            uint16_t value = r.u16();
            if (type == kAttrKeyLength) {
                if (t.key_length) {
                    return malformed(PayloadType::SA, "duplicate key length attribute");
                }
                t.key_length = value;
            } else {
                t.unknown_attribute = true;
            }
        } else {
            // TLV format: no TLV attribute is defined for IKEv2.
            uint16_t len = r.u16();
            r.skip(len);
            t.unknown_attribute = true;
        }
    }
    if (r.failed()) {
        return malformed(PayloadType::SA, "truncated transform attribute");
    }
    return t;
}

Result<Proposal> parse_proposal(ByteView data, size_t& ntransforms) {
    ByteReader r(data);
    Proposal p;
    p.number = r.u8();
    p.protocol = static_cast<ProtocolId>(r.u8());
    uint8_t spi_size = r.u8();
    ntransforms = r.u8();
    p.spi = r.copy(spi_size);
    if (r.failed()) {
        return malformed(PayloadType::SA, "proposal SPI exceeds the proposal");
    }
    if (ntransforms > kMaxTransforms) {
        return malformed(PayloadType::SA, "too many transforms");
    }
    uint8_t last = kMoreTransforms;
    while (last == kMoreTransforms) {
        if (r.remaining() < kTransformHeaderLen) {
            return malformed(PayloadType::SA, "transform header " +
                                                  got_need(r.remaining(), kTransformHeaderLen));
        }
        last = r.u8();
        r.skip(1);
        uint16_t len = r.u16();
        if (last != kLastSubstruc && last != kMoreTransforms) {
            return malformed(PayloadType::SA, "bad last-substructure value");
        }
        if (len < kTransformHeaderLen || len - 4u > r.remaining()) {
            return malformed(PayloadType::SA, "transform length " + std::to_string(len));
        }
        QVPN_ASSIGN(Transform t, parse_transform(r.bytes(len - 4u)));
        if (p.transforms.size() >= kMaxTransforms) {
            return malformed(PayloadType::SA, "too many transforms");
        }
        p.transforms.push_back(t);
    }
    if (!r.at_end()) {
        return malformed(PayloadType::SA, "bytes after the last transform");
    }
    if (p.transforms.size() != ntransforms) {
        return malformed(PayloadType::SA, "transform count " + std::to_string(ntransforms) +
                                              " but " + std::to_string(p.transforms.size()) +
                                              " present");
    }
    return p;
}

Result<SaPayload> parse_sa(ByteView data) {
    ByteReader r(data);
    SaPayload sa;
    uint8_t last = kMoreProposals;
    while (last == kMoreProposals) {
        if (r.remaining() < kProposalHeaderLen) {
            return malformed(PayloadType::SA,
                             "proposal header " + got_need(r.remaining(), kProposalHeaderLen));
        }
        last = r.u8();
        r.skip(1);
        uint16_t len = r.u16();
        if (last != kLastSubstruc && last != kMoreProposals) {
            return malformed(PayloadType::SA, "bad last-substructure value");
        }
        if (len < kProposalHeaderLen || len - 4u > r.remaining()) {
            return malformed(PayloadType::SA, "proposal length " + std::to_string(len));
        }
        size_t ntransforms = 0;
        QVPN_ASSIGN(Proposal p, parse_proposal(r.bytes(len - 4u), ntransforms));
        // RFC 7296 3.3.1 numbers proposals 1, 2, ... in a request, but a reply
        // carries the one accepted proposal with its original number, so the
        // number is not checked here.
        if (sa.proposals.size() >= kMaxProposals) {
            return malformed(PayloadType::SA, "too many proposals");
        }
        sa.proposals.push_back(std::move(p));
    }
    if (!r.at_end()) {
        return malformed(PayloadType::SA, "bytes after the last proposal");
    }
    return sa;
}

void write_sa(ByteWriter& w, const SaPayload& sa) {
    for (size_t i = 0; i < sa.proposals.size(); ++i) {
        const Proposal& p = sa.proposals[i];
        size_t start = w.size();
        w.u8(i + 1 == sa.proposals.size() ? kLastSubstruc : kMoreProposals).u8(0).u16(0);
        w.u8(p.number).u8(static_cast<uint8_t>(p.protocol));
        w.u8(static_cast<uint8_t>(p.spi.size())).u8(static_cast<uint8_t>(p.transforms.size()));
        w.bytes(p.spi);
        for (size_t j = 0; j < p.transforms.size(); ++j) {
            const Transform& t = p.transforms[j];
            size_t tstart = w.size();
            w.u8(j + 1 == p.transforms.size() ? kLastSubstruc : kMoreTransforms).u8(0).u16(0);
            w.u8(static_cast<uint8_t>(t.type)).u8(0).u16(t.id);
            if (t.key_length) {
                w.u16(0x8000 | kAttrKeyLength).u16(*t.key_length);
            }
            w.patch_u16(tstart + 2, static_cast<uint16_t>(w.size() - tstart));
        }
        w.patch_u16(start + 2, static_cast<uint16_t>(w.size() - start));
    }
}

// --- the small payloads ------------------------------------------------------

Result<KePayload> parse_ke(ByteView data) {
    ByteReader r(data);
    KePayload ke;
    ke.group = r.u16();
    r.skip(2);
    if (r.failed()) {
        return malformed(PayloadType::KE, got_need(data.size(), 4));
    }
    ke.data = r.copy(r.remaining());
    if (ke.data.empty()) {
        return malformed(PayloadType::KE, "no key exchange data");
    }
    return ke;
}

Result<IdPayload> parse_id(PayloadType t, ByteView data) {
    ByteReader r(data);
    IdPayload id;
    id.type = static_cast<IdType>(r.u8());
    r.skip(3);
    if (r.failed()) {
        return malformed(t, got_need(data.size(), 4));
    }
    id.data = r.copy(r.remaining());
    if (id.data.empty()) {
        return malformed(t, "empty identification data");
    }
    return id;
}

template <class T>
Result<T> parse_cert_like(PayloadType t, ByteView data) {
    ByteReader r(data);
    T c;
    c.encoding = static_cast<CertEncoding>(r.u8());
    if (r.failed()) {
        return malformed(t, got_need(data.size(), 1));
    }
    c.data = r.copy(r.remaining());
    return c;
}

Result<AuthPayload> parse_auth(ByteView data) {
    ByteReader r(data);
    AuthPayload a;
    a.method = static_cast<AuthMethod>(r.u8());
    r.skip(3);
    if (r.failed()) {
        return malformed(PayloadType::AUTH, got_need(data.size(), 4));
    }
    a.data = r.copy(r.remaining());
    if (a.data.empty()) {
        return malformed(PayloadType::AUTH, "empty authentication data");
    }
    return a;
}

Result<NoncePayload> parse_nonce(ByteView data) {
    // RFC 7296 2.10: at least 16 and at most 256 octets.
    if (data.size() < kMinNonceLen || data.size() > kMaxNonceLen) {
        return malformed(PayloadType::NONCE,
                         "nonce of " + std::to_string(data.size()) + " bytes, need 16-256");
    }
    return NoncePayload{Bytes(data.begin(), data.end())};
}

Result<NotifyPayload> parse_notify(ByteView data) {
    ByteReader r(data);
    NotifyPayload n;
    n.protocol = static_cast<ProtocolId>(r.u8());
    uint8_t spi_size = r.u8();
    n.type = static_cast<NotifyType>(r.u16());
    if (r.failed()) {
        return malformed(PayloadType::NOTIFY, got_need(data.size(), 4));
    }
    n.spi = r.copy(spi_size);
    if (r.failed()) {
        return malformed(PayloadType::NOTIFY, "SPI size " + std::to_string(spi_size) +
                                                  " exceeds the payload");
    }
    n.data = r.copy(r.remaining());
    return n;
}

Result<DeletePayload> parse_delete(ByteView data) {
    ByteReader r(data);
    DeletePayload d;
    d.protocol = static_cast<ProtocolId>(r.u8());
    uint8_t spi_size = r.u8();
    uint16_t count = r.u16();
    if (r.failed()) {
        return malformed(PayloadType::DELETE, got_need(data.size(), 4));
    }
    // RFC 7296 3.11: IKE SA deletes carry no SPI; AH/ESP SPIs are 4 octets.
    if (d.protocol == ProtocolId::IKE) {
        if (spi_size != 0 || count != 0 || !r.at_end()) {
            return malformed(PayloadType::DELETE, "IKE SA delete with SPIs");
        }
        return d;
    }
    if (d.protocol != ProtocolId::AH && d.protocol != ProtocolId::ESP) {
        return malformed(PayloadType::DELETE,
                         "protocol " + std::to_string(static_cast<int>(d.protocol)));
    }
    if (spi_size != 4) {
        return malformed(PayloadType::DELETE, "SPI size " + std::to_string(spi_size));
    }
    if (r.remaining() != size_t(count) * 4) {
        return malformed(PayloadType::DELETE, "SPI count " + std::to_string(count) + " but " +
                                                  std::to_string(r.remaining()) + " bytes");
    }
    for (uint16_t i = 0; i < count; ++i) {
        d.spis.push_back(r.u32());
    }
    return d;
}

void write_delete(ByteWriter& w, const DeletePayload& d) {
    w.u8(static_cast<uint8_t>(d.protocol));
    if (d.protocol == ProtocolId::IKE) {
        w.u8(0).u16(0);
        return;
    }
    w.u8(4).u16(static_cast<uint16_t>(d.spis.size()));
    for (uint32_t spi : d.spis) {
        w.u32(spi);
    }
}

// --- TS: RFC 7296 3.13 --------------------------------------------------------

Result<TsPayload> parse_ts(PayloadType t, ByteView data) {
    ByteReader r(data);
    TsPayload ts;
    uint8_t count = r.u8();
    r.skip(3);
    if (r.failed()) {
        return malformed(t, got_need(data.size(), 4));
    }
    if (count == 0) {
        return malformed(t, "no traffic selectors");
    }
    for (unsigned i = 0; i < count; ++i) {
        if (r.remaining() < 4) {
            return malformed(t, "selector header " + got_need(r.remaining(), 4));
        }
        uint8_t type = r.u8();
        uint8_t proto = r.u8();
        uint16_t len = r.u16();
        if (len < 8 || len - 4u > r.remaining()) {
            return malformed(t, "selector length " + std::to_string(len));
        }
        ByteReader s(r.bytes(len - 4u));
        sa::TrafficSelector sel;
        sel.ip_proto = proto;
        sel.port_from = s.u16();
        sel.port_to = s.u16();
        size_t alen = 0;
        if (type == static_cast<uint8_t>(TsType::TS_IPV4_ADDR_RANGE)) {
            alen = 4;
        } else if (type == static_cast<uint8_t>(TsType::TS_IPV6_ADDR_RANGE)) {
            alen = 16;
        } else {
            ++ts.unknown_types;
            continue;
        }
        if (s.remaining() != 2 * alen) {
            return malformed(t, "selector of type " + std::to_string(type) + " has " +
                                    std::to_string(len) + " bytes");
        }
        ByteView from = s.bytes(alen);
        ByteView to = s.bytes(alen);
        sel.addrs.from = *IpAddress::from_bytes(from.data(), alen);
        sel.addrs.to = *IpAddress::from_bytes(to.data(), alen);
        if (ts.selectors.size() >= kMaxSelectors) {
            return malformed(t, "too many traffic selectors");
        }
        ts.selectors.push_back(sel);
    }
    if (!r.at_end()) {
        return malformed(t, "bytes after the last selector");
    }
    return ts;
}

void write_ts(ByteWriter& w, const TsPayload& ts) {
    w.u8(static_cast<uint8_t>(ts.selectors.size())).u8(0).u16(0);
    for (const auto& s : ts.selectors) {
        bool v4 = s.addrs.from.is_v4();
        w.u8(static_cast<uint8_t>(v4 ? TsType::TS_IPV4_ADDR_RANGE : TsType::TS_IPV6_ADDR_RANGE));
        w.u8(s.ip_proto);
        w.u16(v4 ? 16 : 40);
        w.u16(s.port_from).u16(s.port_to);
        w.bytes(ByteView(s.addrs.from.data(), s.addrs.from.size()));
        w.bytes(ByteView(s.addrs.to.data(), s.addrs.to.size()));
    }
}

// --- SKF: RFC 7383 2.5 ---------------------------------------------------------

Result<SkfPayload> parse_skf(PayloadType inner, ByteView data) {
    ByteReader r(data);
    SkfPayload f;
    f.inner = inner;
    f.number = r.u16();
    f.total = r.u16();
    if (r.failed()) {
        return malformed(PayloadType::SKF, got_need(data.size(), 4));
    }
    // RFC 7383 2.6: number 0, or a number above the total, makes it invalid.
    if (f.number == 0 || f.total == 0 || f.number > f.total) {
        return malformed(PayloadType::SKF, "fragment " + std::to_string(f.number) + " of " +
                                               std::to_string(f.total));
    }
    f.body = r.copy(r.remaining());
    return f;
}

Result<CpPayload> parse_cp(ByteView data) {
    ByteReader r(data);
    CpPayload cp;
    cp.type = static_cast<CfgType>(r.u8());
    r.skip(3);
    if (r.failed()) {
        return malformed(PayloadType::CP, got_need(data.size(), 4));
    }
    cp.attributes = r.copy(r.remaining());
    // Each attribute: 2-byte type, 2-byte length, value.
    ByteReader a(cp.attributes);
    while (a.remaining() > 0) {
        a.u16();
        uint16_t len = a.u16();
        a.skip(len);
        if (a.failed()) {
            return malformed(PayloadType::CP, "truncated attribute");
        }
    }
    return cp;
}

// --- one payload ------------------------------------------------------------------

Result<PayloadBody> parse_body(PayloadType t, PayloadType next, ByteView data) {
    switch (t) {
    case PayloadType::SA: {
        QVPN_ASSIGN(auto v, parse_sa(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::KE: {
        QVPN_ASSIGN(auto v, parse_ke(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::IDi:
    case PayloadType::IDr: {
        QVPN_ASSIGN(auto v, parse_id(t, data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::CERT: {
        QVPN_ASSIGN(auto v, parse_cert_like<CertPayload>(t, data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::CERTREQ: {
        QVPN_ASSIGN(auto v, parse_cert_like<CertReqPayload>(t, data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::AUTH: {
        QVPN_ASSIGN(auto v, parse_auth(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::NONCE: {
        QVPN_ASSIGN(auto v, parse_nonce(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::NOTIFY: {
        QVPN_ASSIGN(auto v, parse_notify(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::DELETE: {
        QVPN_ASSIGN(auto v, parse_delete(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::VENDOR_ID:
        return PayloadBody(VendorPayload{Bytes(data.begin(), data.end())});
    case PayloadType::TSi:
    case PayloadType::TSr: {
        QVPN_ASSIGN(auto v, parse_ts(t, data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::SK:
        return PayloadBody(SkPayload{next, Bytes(data.begin(), data.end())});
    case PayloadType::SKF: {
        QVPN_ASSIGN(auto v, parse_skf(next, data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::CP: {
        QVPN_ASSIGN(auto v, parse_cp(data));
        return PayloadBody(std::move(v));
    }
    case PayloadType::EAP:
        return PayloadBody(EapPayload{Bytes(data.begin(), data.end())});
    case PayloadType::NO_NEXT_PAYLOAD:
        break;
    }
    return PayloadBody(UnknownPayload{static_cast<uint8_t>(t), Bytes(data.begin(), data.end())});
}

// The chain walker shared by clear and decrypted content. `allow_encrypted`:
// SK/SKF may appear (clear chain only), and then end the chain.
Result<std::vector<Payload>> parse_chain(PayloadType first, ByteView data, bool allow_encrypted,
                                         size_t base_offset, std::optional<size_t>* enc_off) {
    std::vector<Payload> out;
    ByteReader r(data);
    PayloadType type = first;
    while (type != PayloadType::NO_NEXT_PAYLOAD) {
        size_t offset = r.position();
        if (r.remaining() < kGenericPayloadHeaderLen) {
            return Failure{msg("IKE0800", name(type) + " payload header " +
                                              got_need(r.remaining(), kGenericPayloadHeaderLen))
                               .with_notify(notify_code(NotifyType::INVALID_SYNTAX))};
        }
        auto next = static_cast<PayloadType>(r.u8());
        bool critical = (r.u8() & 0x80) != 0;
        uint16_t len = r.u16();
        if (len < kGenericPayloadHeaderLen || len - kGenericPayloadHeaderLen > r.remaining()) {
            return Failure{msg("IKE0800", name(type) + " payload length " + std::to_string(len) +
                                              " exceeds the message")
                               .with_notify(notify_code(NotifyType::INVALID_SYNTAX))};
        }
        ByteView body = r.bytes(len - kGenericPayloadHeaderLen);
        bool encrypted = type == PayloadType::SK || type == PayloadType::SKF;
        if (encrypted && !allow_encrypted) {
            return malformed(type, "encrypted payload inside encrypted payload");
        }
        // RFC 7296 2.5: an unknown payload with the critical bit set rejects
        // the whole message; without it the payload is skipped.
        if (!is_known(type) && critical) {
            return Failure{msg("IKE0803", static_cast<int>(type))
                               .with_notify(notify_code(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD))};
        }
        QVPN_ASSIGN(PayloadBody b, parse_body(type, next, body));
        if (out.size() >= kMaxPayloads) {
            return Failure{msg("IKE0800", "more than " + std::to_string(kMaxPayloads) +
                                              " payloads")
                               .with_notify(notify_code(NotifyType::INVALID_SYNTAX))};
        }
        out.push_back(Payload{type, critical, std::move(b)});
        if (encrypted) {
            // RFC 7296 3.14: the Encrypted payload is the last in the message;
            // its Next Payload field names the first payload inside.
            if (!r.at_end()) {
                return malformed(type, "encrypted payload is not the last payload");
            }
            if (enc_off) {
                *enc_off = base_offset + offset;
            }
            break;
        }
        type = next;
    }
    if (!r.at_end()) {
        return Failure{msg("IKE0800", std::to_string(r.remaining()) +
                                          " bytes after the last payload")
                           .with_notify(notify_code(NotifyType::INVALID_SYNTAX))};
    }
    return out;
}

void write_body(ByteWriter& w, const Payload& p) {
    std::visit(
        [&](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, SaPayload>) {
                write_sa(w, b);
            } else if constexpr (std::is_same_v<T, KePayload>) {
                w.u16(b.group).u16(0).bytes(b.data);
            } else if constexpr (std::is_same_v<T, IdPayload>) {
                w.u8(static_cast<uint8_t>(b.type)).u8(0).u16(0).bytes(b.data);
            } else if constexpr (std::is_same_v<T, CertPayload> ||
                                 std::is_same_v<T, CertReqPayload>) {
                w.u8(static_cast<uint8_t>(b.encoding)).bytes(b.data);
            } else if constexpr (std::is_same_v<T, AuthPayload>) {
                w.u8(static_cast<uint8_t>(b.method)).u8(0).u16(0).bytes(b.data);
            } else if constexpr (std::is_same_v<T, NoncePayload>) {
                w.bytes(b.data);
            } else if constexpr (std::is_same_v<T, NotifyPayload>) {
                w.u8(static_cast<uint8_t>(b.protocol)).u8(static_cast<uint8_t>(b.spi.size()));
                w.u16(static_cast<uint16_t>(b.type)).bytes(b.spi).bytes(b.data);
            } else if constexpr (std::is_same_v<T, DeletePayload>) {
                write_delete(w, b);
            } else if constexpr (std::is_same_v<T, VendorPayload>) {
                w.bytes(b.id);
            } else if constexpr (std::is_same_v<T, TsPayload>) {
                write_ts(w, b);
            } else if constexpr (std::is_same_v<T, SkPayload>) {
                w.bytes(b.body);
            } else if constexpr (std::is_same_v<T, SkfPayload>) {
                w.u16(b.number).u16(b.total).bytes(b.body);
            } else if constexpr (std::is_same_v<T, CpPayload>) {
                w.u8(static_cast<uint8_t>(b.type)).u8(0).u16(0).bytes(b.attributes);
            } else if constexpr (std::is_same_v<T, EapPayload>) {
                w.bytes(b.data);
            } else if constexpr (std::is_same_v<T, UnknownPayload>) {
                w.bytes(b.data);
            }
        },
        p.body);
}

// The Next Payload field of a payload: the following payload's type, except
// for SK/SKF, whose field names the first inner payload.
PayloadType next_field(const std::vector<Payload>& ps, size_t i) {
    if (const auto* sk = std::get_if<SkPayload>(&ps[i].body)) {
        return sk->inner;
    }
    if (const auto* skf = std::get_if<SkfPayload>(&ps[i].body)) {
        return skf->inner;
    }
    return i + 1 < ps.size() ? ps[i + 1].type : PayloadType::NO_NEXT_PAYLOAD;
}

}  // namespace

Payload make_payload(PayloadType type, PayloadBody body) {
    return Payload{type, false, std::move(body)};
}

Payload make_notify(NotifyType type, Bytes data, ProtocolId proto, Bytes spi) {
    return make_payload(PayloadType::NOTIFY,
                        NotifyPayload{proto, std::move(spi), type, std::move(data)});
}

Result<Header> parse_header(ByteView datagram) {
    ByteReader r(datagram);
    Header h;
    h.spi_i = r.u64();
    h.spi_r = r.u64();
    h.next = static_cast<PayloadType>(r.u8());
    uint8_t version = r.u8();
    h.major = version >> 4;
    h.minor = version & 0x0f;
    h.exchange = static_cast<ExchangeType>(r.u8());
    h.flags = r.u8();
    h.message_id = r.u32();
    h.length = r.u32();
    if (r.failed()) {
        return Failure{msg("IKE0800", "header " + got_need(datagram.size(), kIkeHeaderLen))};
    }
    // RFC 7296 2.5: a higher major version is answered with
    // INVALID_MAJOR_VERSION; a higher minor version is accepted.
    if (h.major != kIkeMajorVersion) {
        return Failure{msg("IKE0802", static_cast<int>(h.major))
                           .with_notify(notify_code(NotifyType::INVALID_MAJOR_VERSION))};
    }
    if (h.length != datagram.size()) {
        return Failure{msg("IKE0804", h.length, datagram.size())};
    }
    return h;
}

Result<Message> parse_message(ByteView datagram) {
    QVPN_ASSIGN(Header h, parse_header(datagram));
    Message m;
    m.header = h;
    QVPN_ASSIGN(m.payloads, parse_chain(h.next, datagram.subspan(kIkeHeaderLen), true,
                                        kIkeHeaderLen, &m.encrypted_offset));
    return m;
}

Result<std::vector<Payload>> parse_payloads(PayloadType first, ByteView data) {
    return parse_chain(first, data, false, 0, nullptr);
}

void write_header(ByteWriter& w, const Header& h) {
    w.u64(h.spi_i).u64(h.spi_r).u8(static_cast<uint8_t>(h.next));
    w.u8(static_cast<uint8_t>(h.major << 4 | (h.minor & 0x0f)));
    w.u8(static_cast<uint8_t>(h.exchange)).u8(h.flags).u32(h.message_id).u32(h.length);
}

Bytes serialize_payloads(const std::vector<Payload>& payloads) {
    ByteWriter w;
    for (size_t i = 0; i < payloads.size(); ++i) {
        size_t start = w.size();
        w.u8(static_cast<uint8_t>(next_field(payloads, i)));
        w.u8(payloads[i].critical ? 0x80 : 0).u16(0);
        write_body(w, payloads[i]);
        w.patch_u16(start + 2, static_cast<uint16_t>(w.size() - start));
    }
    return w.take();
}

Bytes serialize_message(Header header, const std::vector<Payload>& payloads) {
    Bytes body = serialize_payloads(payloads);
    header.next = payloads.empty() ? PayloadType::NO_NEXT_PAYLOAD : payloads.front().type;
    header.length = static_cast<uint32_t>(kIkeHeaderLen + body.size());
    ByteWriter w;
    write_header(w, header);
    w.bytes(body);
    return w.take();
}

const Payload* find(const std::vector<Payload>& p, PayloadType t) {
    for (const auto& x : p) {
        if (x.type == t) {
            return &x;
        }
    }
    return nullptr;
}

const NotifyPayload* find_notify(const std::vector<Payload>& p, NotifyType t) {
    for (const auto& x : p) {
        if (const auto* n = std::get_if<NotifyPayload>(&x.body); n && n->type == t) {
            return n;
        }
    }
    return nullptr;
}

const NotifyPayload* find_error_notify(const std::vector<Payload>& p) {
    for (const auto& x : p) {
        if (const auto* n = std::get_if<NotifyPayload>(&x.body); n && is_error(n->type)) {
            return n;
        }
    }
    return nullptr;
}

}  // namespace qvpn::ikev2
