#include "daemon/ikev2/wire/sk.hpp"

#include <algorithm>

namespace qvpn::ikev2 {

namespace {

constexpr size_t kSkfExtraLen = 4;  // Fragment Number, Total Fragments

size_t padded_len(size_t plain, size_t block) {
    // payloads | padding | pad length, a multiple of the block size.
    size_t n = plain + 1;
    return block > 1 ? (n + block - 1) / block * block : n;
}

// One protected datagram: `prefix` is the IKE header (length already right)
// plus the SK/SKF header; `plain` the payload bytes to encrypt.
Result<Bytes> seal(ByteView prefix, ByteView plain, const SkCrypto& c, Random& rng) {
    size_t block = c.cipher.block_size();
    size_t padded = padded_len(plain.size(), block);
    Bytes buf(plain.begin(), plain.end());
    buf.resize(padded, 0);
    buf.back() = static_cast<uint8_t>(padded - plain.size() - 1);

    Bytes iv(c.cipher.iv_size());
    rng.fill(iv);

    ByteWriter w;
    w.bytes(prefix).bytes(iv);
    // RFC 5282 5.1: the AAD runs from the IKE header to the end of the
    // Encrypted payload's header (the IV is not part of it).
    QVPN_ASSIGN(Bytes ct, c.cipher.encrypt(c.out.encr_key, iv, prefix, buf));
    w.bytes(ct);
    if (!c.cipher.is_aead()) {
        QVPN_ASSIGN(Bytes icv, c.integ->sign(c.out.integ_key, w.data()));
        w.bytes(icv);
    }
    return w.take();
}

Failure bad_body(std::string detail) {
    return Failure{msg("IKE0806", std::move(detail))};
}

}  // namespace

size_t SkCrypto::icv_size() const {
    return cipher.is_aead() ? cipher.icv_size() : (integ ? integ->icv_size() : 0);
}

size_t SkCrypto::overhead(bool fragment) const {
    return kIkeHeaderLen + kGenericPayloadHeaderLen + (fragment ? kSkfExtraLen : 0) +
           cipher.iv_size() + cipher.block_size() + icv_size();
}

Result<Bytes> protect(Header header, const std::vector<Payload>& inner, const SkCrypto& c,
                      Random& rng) {
    Bytes plain = serialize_payloads(inner);
    size_t body = c.cipher.iv_size() + padded_len(plain.size(), c.cipher.block_size()) +
                  c.icv_size();
    header.next = PayloadType::SK;
    header.length = static_cast<uint32_t>(kIkeHeaderLen + kGenericPayloadHeaderLen + body);
    ByteWriter prefix;
    write_header(prefix, header);
    PayloadType first = inner.empty() ? PayloadType::NO_NEXT_PAYLOAD : inner.front().type;
    prefix.u8(static_cast<uint8_t>(first)).u8(0);
    prefix.u16(static_cast<uint16_t>(kGenericPayloadHeaderLen + body));
    return seal(prefix.data(), plain, c, rng);
}

Result<std::vector<Bytes>> protect_fragments(Header header, const std::vector<Payload>& inner,
                                             const SkCrypto& c, Random& rng, size_t max_len) {
    Bytes plain = serialize_payloads(inner);
    size_t block = c.cipher.block_size();
    size_t fixed = kIkeHeaderLen + kGenericPayloadHeaderLen + kSkfExtraLen + c.cipher.iv_size() +
                   c.icv_size();
    // Largest chunk whose padded form (chunk | padding | pad length) fits.
    size_t room = max_len > fixed ? max_len - fixed : 0;
    size_t chunk = block > 1 ? room / block * block : room;
    if (chunk < 2) {
        return Failure{msg("IKE0807", 0, 0, "fragment size " + std::to_string(max_len) +
                                                " leaves no room for content")};
    }
    chunk -= 1;
    size_t total = std::max<size_t>(1, (plain.size() + chunk - 1) / chunk);
    if (total > kMaxFragments) {
        return Failure{msg("IKE0807", total, total, "more than " +
                                                        std::to_string(kMaxFragments) +
                                                        " fragments needed")};
    }

    std::vector<Bytes> out;
    header.next = PayloadType::SKF;
    PayloadType first = inner.empty() ? PayloadType::NO_NEXT_PAYLOAD : inner.front().type;
    for (size_t i = 0; i < total; ++i) {
        size_t off = i * chunk;
        size_t len = std::min(chunk, plain.size() - std::min(off, plain.size()));
        ByteView part = ByteView(plain).subspan(std::min(off, plain.size()), len);
        size_t body = kSkfExtraLen + c.cipher.iv_size() + padded_len(len, block) + c.icv_size();
        header.length = static_cast<uint32_t>(kIkeHeaderLen + kGenericPayloadHeaderLen + body);
        ByteWriter prefix;
        write_header(prefix, header);
        // RFC 7383 2.5: only the first fragment names the first inner payload.
        prefix.u8(static_cast<uint8_t>(i == 0 ? first : PayloadType::NO_NEXT_PAYLOAD)).u8(0);
        prefix.u16(static_cast<uint16_t>(kGenericPayloadHeaderLen + body));
        prefix.u16(static_cast<uint16_t>(i + 1)).u16(static_cast<uint16_t>(total));
        QVPN_ASSIGN(Bytes d, seal(prefix.data(), part, c, rng));
        out.push_back(std::move(d));
    }
    return out;
}

Result<Bytes> unprotect(ByteView datagram, const Message& m, const SkCrypto& c) {
    if (!m.encrypted_offset || m.payloads.empty()) {
        return bad_body("no encrypted payload");
    }
    const Payload& last = m.payloads.back();
    bool fragment = last.type == PayloadType::SKF;
    size_t hdr_end = *m.encrypted_offset + kGenericPayloadHeaderLen +
                     (fragment ? kSkfExtraLen : 0);
    if (hdr_end > datagram.size()) {
        return bad_body("encrypted payload header beyond the message");
    }
    size_t iv_len = c.cipher.iv_size();
    size_t icv_len = c.icv_size();
    size_t block = c.cipher.block_size();
    size_t body = datagram.size() - hdr_end;
    if (body < iv_len + icv_len + 1) {
        return bad_body("encrypted payload of " + std::to_string(body) + " bytes, need " +
                        std::to_string(iv_len + icv_len + 1));
    }
    size_t ct_len = body - iv_len - icv_len;
    if (block > 1 && ct_len % block != 0) {
        return bad_body("ciphertext of " + std::to_string(ct_len) +
                        " bytes is not a multiple of the block size");
    }
    ByteView prefix = datagram.first(hdr_end);
    ByteView iv = datagram.subspan(hdr_end, iv_len);
    ByteView icv = datagram.last(icv_len);

    // RFC 7296 2.21.1: check integrity before anything else is believed.
    Bytes plain;
    if (c.cipher.is_aead()) {
        auto r = c.cipher.decrypt(c.in.encr_key, iv, prefix,
                                  datagram.subspan(hdr_end + iv_len, ct_len + icv_len));
        if (!r) {
            return Failure{msg("IKE0805")};
        }
        plain = std::move(*r);
    } else {
        if (!c.integ->verify(c.in.integ_key, datagram.first(datagram.size() - icv_len), icv)) {
            return Failure{msg("IKE0805")};
        }
        auto r = c.cipher.decrypt(c.in.encr_key, iv, {},
                                  datagram.subspan(hdr_end + iv_len, ct_len));
        if (!r) {
            return bad_body("decryption failed");
        }
        plain = std::move(*r);
    }
    if (plain.empty()) {
        return bad_body("empty plaintext");
    }
    size_t pad = plain.back();
    if (pad + 1 > plain.size()) {
        return bad_body("pad length " + std::to_string(pad) + " exceeds the plaintext");
    }
    plain.resize(plain.size() - pad - 1);
    return plain;
}

Result<std::vector<Payload>> open_sk(ByteView datagram, const Message& m, const SkCrypto& c) {
    if (m.payloads.empty() || m.payloads.back().type != PayloadType::SK) {
        return bad_body("no SK payload");
    }
    QVPN_ASSIGN(Bytes plain, unprotect(datagram, m, c));
    const auto& sk = std::get<SkPayload>(m.payloads.back().body);
    return parse_payloads(sk.inner, plain);
}

}  // namespace qvpn::ikev2
