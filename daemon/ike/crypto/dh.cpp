#include "daemon/ike/crypto/dh.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <cstring>
#include <mutex>

#include "daemon/ike/crypto/ossl.hpp"
#include "daemon/ike/crypto/suite.hpp"

// MODP groups use BIGNUM arithmetic directly and the ECP groups EC_POINT
// arithmetic: EVP_PKEY derivation cannot take a private value from an
// injected generator, and needs a parameter round trip per exchange that
// costs more than the arithmetic itself for the 1000-handshake target. The
// BIGNUM and EC_POINT functions used here are not deprecated in OpenSSL 3.

namespace qvpn::ike::crypto {

namespace detail {

struct DhParams {
    DhId id;
    bool ecp = false;
    size_t pub_len = 0;
    size_t secret_len = 0;
    // MODP
    BIGNUM* p = nullptr;
    BIGNUM* p_minus_1 = nullptr;
    BIGNUM* g = nullptr;
    BIGNUM* q = nullptr;          // subgroup order (group 24), else null
    BN_MONT_CTX* mont = nullptr;  // Montgomery form of p, shared read-only
    size_t exp_bytes = 0;         // private exponent length for groups without q
    // ECP
    EC_GROUP* curve = nullptr;
    BIGNUM* order = nullptr;
    BIGNUM* field = nullptr;
};

struct DhPrivate {
    ossl::Bn x;  // exponent or scalar, BN_FLG_CONSTTIME
};

}  // namespace detail

namespace {

using detail::DhParams;

// RFC 5114 2.3: the 2048-bit MODP group with a 256-bit prime order subgroup.
constexpr const char* kG24P =
    "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4"
    "FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED"
    "91F9E6725B4758C022E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C"
    "4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
    "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026C0B857F689962856"
    "DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F"
    "693877FAD7EF09CADB094AE91E1A1597";
constexpr const char* kG24G =
    "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463F"
    "FF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A65"
    "0196F931C77A57F2DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC83"
    "1D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
    "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC37"
    "7FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D4795451"
    "5E2327CFEF98C582664B4C0F6CC41659";
constexpr const char* kG24Q = "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3";

// Built once per group and kept for the life of the process (read-only).
const DhParams* build_modp(DhId id) {
    auto* d = new DhParams{};
    d->id = id;
    BIGNUM* p = nullptr;
    switch (id) {
    case DhId::MODP_768: p = BN_get_rfc2409_prime_768(nullptr); break;   // RFC 2409 6.1
    case DhId::MODP_1024: p = BN_get_rfc2409_prime_1024(nullptr); break; // RFC 2409 6.2
    case DhId::MODP_2048: p = BN_get_rfc3526_prime_2048(nullptr); break; // RFC 3526 3
    case DhId::MODP_2048_256:
        BN_hex2bn(&p, kG24P);
        BN_hex2bn(&d->g, kG24G);
        BN_hex2bn(&d->q, kG24Q);
        break;
    default: break;
    }
    if (p == nullptr) {
        delete d;
        return nullptr;
    }
    d->p = p;
    if (d->g == nullptr) {
        d->g = BN_new();
        BN_set_word(d->g, 2);
    }
    d->p_minus_1 = BN_dup(p);
    BN_sub_word(d->p_minus_1, 1);
    d->pub_len = d->secret_len = static_cast<size_t>(BN_num_bytes(p));
    // Groups without a known subgroup: a 256-bit exponent is more than twice
    // the strength of the largest of them (2048-bit MODP, ~112 bits).
    d->exp_bytes = 32;
    ossl::BnCtx ctx(BN_CTX_new());
    d->mont = BN_MONT_CTX_new();
    if (!ctx || d->mont == nullptr || BN_MONT_CTX_set(d->mont, p, ctx.get()) != 1) {
        return nullptr;
    }
    return d;
}

const DhParams* build_ecp(DhId id, int nid, size_t coord_len) {
    auto* d = new DhParams{};
    d->id = id;
    d->ecp = true;
    d->curve = EC_GROUP_new_by_curve_name(nid);
    if (d->curve == nullptr) {
        delete d;
        return nullptr;
    }
    d->order = BN_dup(EC_GROUP_get0_order(d->curve));
    d->field = BN_new();
    EC_GROUP_get_curve(d->curve, d->field, nullptr, nullptr, nullptr);
    d->pub_len = 2 * coord_len;   // RFC 5903 7: x | y
    d->secret_len = coord_len;    // RFC 5903 7: x of the shared point
    return d;
}

const DhParams* params_for(DhId id) {
    static std::once_flag once[7];
    static const DhParams* table[7] = {};
    int slot = -1;
    switch (id) {
    case DhId::MODP_768: slot = 0; break;
    case DhId::MODP_1024: slot = 1; break;
    case DhId::MODP_2048: slot = 2; break;
    case DhId::ECP_256: slot = 3; break;
    case DhId::ECP_384: slot = 4; break;
    case DhId::MODP_2048_256: slot = 5; break;
    default: return nullptr;
    }
    std::call_once(once[slot], [&] {
        switch (id) {
        case DhId::ECP_256: table[slot] = build_ecp(id, NID_X9_62_prime256v1, 32); break;
        case DhId::ECP_384: table[slot] = build_ecp(id, NID_secp384r1, 48); break;
        default: table[slot] = build_modp(id); break;
        }
    });
    return table[slot];
}

Failure bad_value(DhId id, const char* why) {
    return fail(msg("IKE0011", dh_name(id), why)
                    .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
}

// Left-pads a non-negative number into exactly `len` bytes.
bool to_fixed(const BIGNUM* n, uint8_t* out, size_t len) {
    return BN_bn2binpad(n, out, static_cast<int>(len)) == static_cast<int>(len);
}

ossl::Bn new_secret_bn() {
    ossl::Bn b(BN_secure_new());
    if (b) {
        BN_set_flags(b.get(), BN_FLG_CONSTTIME);
    }
    return b;
}

// An EC point from RFC 5903 x | y, with the range and curve checks.
Result<EC_POINT*> decode_point(const DhParams& d, ByteView pub, BN_CTX* ctx) {
    size_t half = d.pub_len / 2;
    ossl::Bn x(BN_bin2bn(pub.data(), static_cast<int>(half), nullptr));
    ossl::Bn y(BN_bin2bn(pub.data() + half, static_cast<int>(half), nullptr));
    if (!x || !y) {
        return ossl::fail_ossl("DH");
    }
    // RFC 5903 / SP 800-56A 5.6.2.3: coordinates must be field elements.
    if (BN_cmp(x.get(), d.field) >= 0 || BN_cmp(y.get(), d.field) >= 0) {
        return bad_value(d.id, "coordinate not below the field prime");
    }
    EC_POINT* pt = EC_POINT_new(d.curve);
    if (pt == nullptr) {
        return ossl::fail_ossl("DH");
    }
    // set_affine_coordinates refuses points that are not on the curve; the
    // explicit check keeps that rule visible here. (0, 0) is not on these
    // curves, and the affine form cannot express infinity.
    if (EC_POINT_set_affine_coordinates(d.curve, pt, x.get(), y.get(), ctx) != 1 ||
        EC_POINT_is_on_curve(d.curve, pt, ctx) != 1) {
        EC_POINT_free(pt);
        ERR_clear_error();
        return bad_value(d.id, "point not on the curve");
    }
    if (EC_POINT_is_at_infinity(d.curve, pt)) {
        EC_POINT_free(pt);
        return bad_value(d.id, "point at infinity");
    }
    return pt;
}

}  // namespace

// --- DhGroup ------------------------------------------------------------------------

bool DhGroup::supported(DhId id) { return params_for(id) != nullptr; }

Result<DhGroup> DhGroup::create(DhId id) {
    const DhParams* p = params_for(id);
    if (p == nullptr) {
        return fail(msg("IKE0001", "DH", static_cast<int>(id))
                        .with_notify(notify_code(NotifyType::INVALID_KE_PAYLOAD)));
    }
    // The parameters live for the whole process: a non-owning shared_ptr.
    return DhGroup(id, std::shared_ptr<const DhParams>(p, [](const DhParams*) {}));
}

std::string_view DhGroup::name() const { return dh_name(id_); }
size_t DhGroup::public_size() const { return params_->pub_len; }
size_t DhGroup::secret_size() const { return params_->secret_len; }
bool DhGroup::is_ecp() const { return params_->ecp; }
bool DhGroup::deemphasized() const { return id_ == DhId::MODP_768 || id_ == DhId::MODP_1024; }

Result<DhKeyPair> DhGroup::generate(Random& rng) const {
    const DhParams& d = *params_;
    // The private value: uniform in [1, n-1] for ECP (n = curve order) and
    // group 24 (n = q); 8 extra random bytes make the reduction bias
    // negligible. Other MODP groups use a 256-bit exponent above 1.
    const BIGNUM* n = d.ecp ? d.order : d.q;
    size_t len = n ? static_cast<size_t>(BN_num_bytes(n)) + 8 : d.exp_bytes;
    SecretBytes raw(len);
    ossl::BnCtx ctx(BN_CTX_secure_new());
    ossl::Bn x = new_secret_bn();
    if (!ctx || !x) {
        return ossl::fail_ossl("DH");
    }
    for (int attempt = 0; attempt < 16; ++attempt) {
        rng.fill(std::span<uint8_t>(raw.data(), raw.size()));
        if (BN_bin2bn(raw.data(), static_cast<int>(raw.size()), x.get()) == nullptr) {
            return ossl::fail_ossl("DH");
        }
        if (n != nullptr) {
            ossl::Bn n_minus_1(BN_dup(n));
            if (!n_minus_1 || BN_sub_word(n_minus_1.get(), 1) != 1 ||
                BN_mod(x.get(), x.get(), n_minus_1.get(), ctx.get()) != 1 ||
                BN_add_word(x.get(), 1) != 1) {
                return ossl::fail_ossl("DH");
            }
        }
        if (!BN_is_zero(x.get()) && !BN_is_one(x.get())) {
            raw.wipe();
            auto priv = std::make_unique<detail::DhPrivate>();
            priv->x = std::move(x);
            return make_pair(std::move(priv));
        }
    }
    return fail("IKE0003", "DH key generation", "the random generator repeats zero values");
}

Result<DhKeyPair> DhGroup::from_private(ByteView private_value) const {
    ossl::Bn x = new_secret_bn();
    if (!x || BN_bin2bn(private_value.data(), static_cast<int>(private_value.size()),
                        x.get()) == nullptr) {
        return ossl::fail_ossl("DH");
    }
    const DhParams& d = *params_;
    const BIGNUM* limit = d.ecp ? d.order : (d.q ? d.q : d.p_minus_1);
    if (BN_is_zero(x.get()) || BN_cmp(x.get(), limit) >= 0) {
        return fail("IKE0011", name(), "private value out of range");
    }
    auto priv = std::make_unique<detail::DhPrivate>();
    priv->x = std::move(x);
    return make_pair(std::move(priv));
}

Result<DhKeyPair> DhGroup::make_pair(std::unique_ptr<detail::DhPrivate> priv) const {
    const BIGNUM* x = priv->x.get();
    const DhParams& d = *params_;
    ossl::BnCtx ctx(BN_CTX_new());
    if (!ctx) {
        return ossl::fail_ossl("DH");
    }
    Bytes pub(d.pub_len);
    if (d.ecp) {
        EC_POINT* q = EC_POINT_new(d.curve);
        ossl::Bn qx(BN_new()), qy(BN_new());
        bool ok = q != nullptr && qx && qy &&
                  EC_POINT_mul(d.curve, q, x, nullptr, nullptr, ctx.get()) == 1 &&
                  EC_POINT_get_affine_coordinates(d.curve, q, qx.get(), qy.get(), ctx.get()) == 1 &&
                  to_fixed(qx.get(), pub.data(), d.pub_len / 2) &&
                  to_fixed(qy.get(), pub.data() + d.pub_len / 2, d.pub_len / 2);
        EC_POINT_free(q);
        if (!ok) {
            return ossl::fail_ossl("DH public value");
        }
    } else {
        ossl::Bn y(BN_new());
        if (!y ||
            BN_mod_exp_mont_consttime(y.get(), d.g, x, d.p, ctx.get(), d.mont) != 1 ||
            !to_fixed(y.get(), pub.data(), d.pub_len)) {
            return ossl::fail_ossl("DH public value");
        }
    }
    return DhKeyPair(*this, std::move(priv), std::move(pub));
}

Status DhGroup::check_public(ByteView peer) const {
    const DhParams& d = *params_;
    if (peer.size() != d.pub_len) {
        return fail(msg("IKE0010", peer.size(), name(), d.pub_len)
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    }
    ossl::BnCtx ctx(BN_CTX_new());
    if (!ctx) {
        return ossl::fail_ossl("DH");
    }
    if (d.ecp) {
        QVPN_ASSIGN(EC_POINT * pt, decode_point(d, peer, ctx.get()));
        EC_POINT_free(pt);
        return {};
    }
    // RFC 6989 2.1: 1 < y < p-1 for every MODP group.
    ossl::Bn y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
    if (!y) {
        return ossl::fail_ossl("DH");
    }
    if (BN_is_zero(y.get()) || BN_is_one(y.get()) || BN_cmp(y.get(), d.p_minus_1) >= 0) {
        return bad_value(id_, "value not in the range 2 to p-2");
    }
    // RFC 6989 2.2: for a group with a small subgroup, y^q mod p must be 1.
    if (d.q != nullptr) {
        ossl::Bn r(BN_new());
        if (!r || BN_mod_exp_mont(r.get(), y.get(), d.q, d.p, ctx.get(), d.mont) != 1) {
            return ossl::fail_ossl("DH");
        }
        if (!BN_is_one(r.get())) {
            return bad_value(id_, "value not in the prime order subgroup");
        }
    }
    return {};
}

// --- DhKeyPair ------------------------------------------------------------------------

DhKeyPair::DhKeyPair(DhGroup g, std::unique_ptr<detail::DhPrivate> priv, Bytes pub)
    : group_(std::move(g)), priv_(std::move(priv)), public_(std::move(pub)) {}
DhKeyPair::DhKeyPair(DhKeyPair&&) noexcept = default;
DhKeyPair& DhKeyPair::operator=(DhKeyPair&&) noexcept = default;
DhKeyPair::~DhKeyPair() = default;  // BN_clear_free wipes the private value

Result<SecretBytes> DhKeyPair::compute(ByteView peer) const {
    QVPN_TRY(group_.check_public(peer));
    const DhParams& d = *group_.params_;
    ossl::BnCtx ctx(BN_CTX_secure_new());
    if (!ctx) {
        return ossl::fail_ossl("DH");
    }
    SecretBytes secret(d.secret_len);
    if (d.ecp) {
        QVPN_ASSIGN(EC_POINT * peer_pt, decode_point(d, peer, ctx.get()));
        EC_POINT* z = EC_POINT_new(d.curve);
        ossl::Bn zx(BN_secure_new());
        bool ok = z != nullptr && zx &&
                  EC_POINT_mul(d.curve, z, nullptr, peer_pt, priv_->x.get(), ctx.get()) == 1 &&
                  !EC_POINT_is_at_infinity(d.curve, z) &&
                  EC_POINT_get_affine_coordinates(d.curve, z, zx.get(), nullptr, ctx.get()) == 1 &&
                  to_fixed(zx.get(), secret.data(), d.secret_len);
        EC_POINT_clear_free(z);
        EC_POINT_free(peer_pt);
        if (!ok) {
            return ossl::fail_ossl("DH shared secret");
        }
        return secret;
    }
    ossl::Bn y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
    ossl::Bn z(BN_secure_new());
    if (!y || !z ||
        BN_mod_exp_mont_consttime(z.get(), y.get(), priv_->x.get(), d.p, ctx.get(), d.mont) != 1 ||
        !to_fixed(z.get(), secret.data(), d.secret_len)) {
        return ossl::fail_ossl("DH shared secret");
    }
    return secret;
}

}  // namespace qvpn::ike::crypto
