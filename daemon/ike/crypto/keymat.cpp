#include "daemon/ike/crypto/keymat.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

namespace qvpn::ike::crypto {

namespace {

constexpr size_t kXcbcNonceBytes = 8;  // RFC 7296 2.14: 64 bits of each nonce

// Cuts consecutive keys off the prf+ output.
class KeyCutter {
public:
    explicit KeyCutter(const SecretBytes& km) : km_(km) {}
    SecretBytes next(size_t n) {
        SecretBytes k = km_.slice(pos_, n);
        pos_ += n;
        return k;
    }

private:
    const SecretBytes& km_;
    size_t pos_ = 0;
};

void put_u64(uint8_t* p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

}  // namespace

Result<SecretBytes> skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir) {
    if (prf.fixed_key_size()) {
        // RFC 7296 2.14: AES-XCBC-PRF-128 keys SKEYSEED with the first 64 bits
        // of Ni and of Nr (16 bytes, its fixed key size).
        size_t shortest = std::min(ni.size(), nr.size());
        if (shortest < kXcbcNonceBytes) {
            return fail("IKE0009", shortest, kXcbcNonceBytes);
        }
        uint8_t key[2 * kXcbcNonceBytes];
        std::copy_n(ni.data(), kXcbcNonceBytes, key);
        std::copy_n(nr.data(), kXcbcNonceBytes, key + kXcbcNonceBytes);
        auto r = prf.compute(ByteView(key, sizeof key), g_ir);
        OPENSSL_cleanse(key, sizeof key);
        return r;
    }
    SecretBytes key(ni.size() + nr.size());
    std::copy(ni.begin(), ni.end(), key.data());
    std::copy(nr.begin(), nr.end(), key.data() + ni.size());
    return prf.compute(key, g_ir);
}

Result<SecretBytes> skeyseed_rekey(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir,
                                   ByteView ni, ByteView nr) {
    return old_prf.compute(old_sk_d, {g_ir, ni, nr});
}

Result<IkeKeys> derive_ike_keys(const IkeSuite& suite, const Prf& prf, ByteView seed_key,
                                ByteView ni, ByteView nr, uint64_t spi_i, uint64_t spi_r) {
    QVPN_TRY(check_ike_suite(suite));
    if (prf.id() != suite.prf) {
        return fail("QVP0003", "derive_ike_keys", "PRF object differs from the suite's PRF");
    }
    const size_t prf_key = prf.preferred_key_size();
    const size_t integ_key = *integ_key_size(suite.integ);
    const size_t encr_key = *encr_keymat_size(suite.encr);
    const size_t total = 3 * prf_key + 2 * integ_key + 2 * encr_key;

    Bytes seed(ni.size() + nr.size() + 16);
    std::copy(ni.begin(), ni.end(), seed.begin());
    std::copy(nr.begin(), nr.end(), seed.begin() + ni.size());
    put_u64(seed.data() + ni.size() + nr.size(), spi_i);
    put_u64(seed.data() + ni.size() + nr.size() + 8, spi_r);
    QVPN_ASSIGN(SecretBytes km, prf_plus(prf, seed_key, seed, total));

    KeyCutter cut(km);
    IkeKeys k;
    k.sk_d = cut.next(prf_key);
    k.sk_ai = cut.next(integ_key);
    k.sk_ar = cut.next(integ_key);
    k.sk_ei = cut.next(encr_key);
    k.sk_er = cut.next(encr_key);
    k.sk_pi = cut.next(prf_key);
    k.sk_pr = cut.next(prf_key);
    return k;
}

Result<ChildKeys> derive_child_keys(const Prf& prf, ByteView sk_d, ByteView g_ir, ByteView ni,
                                    ByteView nr, std::span<const ChildProto> protos,
                                    bool initiator) {
    // Headers appear as AH then ESP in a packet (RFC 4301), so AH's keys
    // come first within each direction.
    std::vector<const ChildProto*> order;
    for (const auto& p : protos) {
        QVPN_TRY(check_child_suite(p.suite));
        if (p.suite.use == SaUse::Ah) {
            order.insert(order.begin(), &p);
        } else {
            order.push_back(&p);
        }
    }
    if (order.empty() || order.size() > 2 ||
        (order.size() == 2 && order[0]->suite.use == order[1]->suite.use)) {
        return fail(msg("IKE0008", "CHILD_SA", "one ESP and/or one AH protocol expected")
                        .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
    }

    size_t per_direction = 0;
    for (const ChildProto* p : order) {
        per_direction += *encr_keymat_size(p->suite.encr) + *integ_key_size(p->suite.integ);
    }
    Bytes seed;
    seed.reserve(g_ir.size() + ni.size() + nr.size());
    seed.insert(seed.end(), g_ir.begin(), g_ir.end());
    seed.insert(seed.end(), ni.begin(), ni.end());
    seed.insert(seed.end(), nr.begin(), nr.end());
    QVPN_ASSIGN(SecretBytes km, prf_plus(prf, sk_d, seed, 2 * per_direction));
    OPENSSL_cleanse(seed.data(), seed.size());  // holds g^ir with PFS

    ChildKeys out;
    KeyCutter cut(km);
    // RFC 7296 2.17: initiator-to-responder keys first; each encryption key
    // before its integrity key.
    for (int dir = 0; dir < 2; ++dir) {
        bool outbound = (dir == 0) == initiator;
        for (const ChildProto* p : order) {
            auto& pair_slot = p->suite.use == SaUse::Ah ? out.ah : out.esp;
            if (!pair_slot) {
                pair_slot.emplace();
            }
            sa::SaKeys& k = outbound ? pair_slot->out : pair_slot->in;
            k.spi = outbound ? p->spi_out : p->spi_in;
            k.encr = p->suite.encr.id;
            k.encr_key_bits = p->suite.encr.key_bits;
            if (k.encr == EncrId::ENCR_DES) {
                k.encr_key_bits = 64;
            } else if (k.encr == EncrId::ENCR_3DES) {
                k.encr_key_bits = 192;
            }
            k.encr_key = cut.next(*encr_keymat_size(p->suite.encr));
            k.integ = p->suite.integ;
            k.integ_key = cut.next(*integ_key_size(p->suite.integ));
        }
    }
    return out;
}

}  // namespace qvpn::ike::crypto
