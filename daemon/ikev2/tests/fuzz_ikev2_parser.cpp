// Fuzz target: the IKEv2 codec and, with fixed keys, the SK/SKF layer.
//
// The first input byte picks a mode; the rest is the data:
//   0  a datagram: header, clear chain, then the serializer on the result
//   1  a datagram whose SK/SKF payload is opened with fixed keys (AES-CBC +
//      HMAC-SHA2-256 and AES-GCM-16), fragments fed to a reassembler
//   2  a decrypted inner chain (second byte: the first payload type), which
//      is then protected and opened again with the fixed keys
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/base/clock.hpp"
#include "daemon/ikev2/wire/fragment.hpp"
#include "daemon/ikev2/wire/sk.hpp"

using namespace qvpn;
using namespace qvpn::ikev2;

namespace {

SkCrypto fixed(ike::EncrId encr, ike::IntegId integ) {
    auto c = ike::crypto::Cipher::create(encr, 128);
    if (!c.ok()) {
        std::abort();
    }
    std::optional<ike::crypto::Integrity> i;
    size_t ik = 0;
    if (integ != ike::IntegId::NONE) {
        auto r = ike::crypto::Integrity::create(integ);
        if (!r.ok()) {
            std::abort();
        }
        i = *r;
        ik = i->key_size();
    }
    SkDirection d{SecretBytes(Bytes(c->key_size(), 0x42)), SecretBytes(Bytes(ik, 0x24))};
    return SkCrypto{*c, i, d, d};
}

const SkCrypto& cbc() {
    static const SkCrypto c = fixed(ike::EncrId::ENCR_AES_CBC, ike::IntegId::AUTH_HMAC_SHA2_256_128);
    return c;
}

const SkCrypto& gcm() {
    static const SkCrypto c = fixed(ike::EncrId::ENCR_AES_GCM_16, ike::IntegId::NONE);
    return c;
}

void open_with(ByteView data, const Message& m, const SkCrypto& c, FragmentAssembler& fa) {
    if (m.payloads.empty()) {
        return;
    }
    if (m.payloads.back().type == PayloadType::SK) {
        (void)open_sk(data, m, c);
        return;
    }
    auto plain = unprotect(data, m, c);
    if (plain.ok()) {
        (void)fa.add(m.header.message_id, std::get<SkfPayload>(m.payloads.back().body), *plain);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    ByteView in(data + 1, size - 1);
    switch (data[0] % 3) {
    case 0: {
        auto h = parse_header(in);
        auto m = parse_message(in);
        if (m.ok()) {
            Bytes again = serialize_message(m->header, m->payloads);
            (void)parse_message(again);
            (void)find_error_notify(m->payloads);
        }
        (void)h;
        break;
    }
    case 1: {
        auto m = parse_message(in);
        if (m.ok() && m->encrypted_offset) {
            static FragmentAssembler fa;
            open_with(in, *m, cbc(), fa);
            open_with(in, *m, gcm(), fa);
        }
        break;
    }
    case 2: {
        if (in.empty()) {
            break;
        }
        auto first = static_cast<PayloadType>(in[0]);
        auto chain = parse_payloads(first, in.subspan(1));
        if (!chain.ok()) {
            break;
        }
        SeededRandom rng(size);
        Header h;
        h.spi_i = 1;
        h.spi_r = 2;
        h.exchange = ExchangeType::INFORMATIONAL;
        h.message_id = 3;
        for (const SkCrypto* c : {&cbc(), &gcm()}) {
            auto wire = protect(h, *chain, *c, rng);
            if (!wire.ok()) {
                std::abort();  // protecting a parsed chain with good keys cannot fail
            }
            auto m = parse_message(*wire);
            if (!m.ok() || !open_sk(*wire, *m, *c).ok()) {
                // Payloads that serialize into something the parser refuses
                // (a TS payload left without known selectors) are the only
                // legitimate way here; anything else is a codec bug.
                if (m.ok()) {
                    break;
                }
                std::abort();
            }
            auto frags = protect_fragments(h, *chain, *c, rng, 256);
            if (frags.ok()) {
                FragmentAssembler fa;
                for (const auto& f : *frags) {
                    auto fm = parse_message(f);
                    if (!fm.ok()) {
                        std::abort();
                    }
                    open_with(f, *fm, *c, fa);
                }
            }
        }
        break;
    }
    }
    return 0;
}
