#include "daemon/ike/auth/auth.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>

#include "daemon/ike/crypto/ossl.hpp"

namespace qvpn::ike::auth {

namespace {

constexpr std::string_view kKeyPad = "Key Pad for IKEv2";

Failure auth_failed(AuthMethod m) {
    return fail(msg("IKE0102", static_cast<int>(m))
                    .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
}

Failure mismatch(AuthMethod m, KeyType k, const char* why) {
    return fail(msg("IKE0103", static_cast<int>(m), key_type_name(k), why)
                    .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
}

Failure malformed(const char* why) {
    return fail(msg("IKE0104", why).with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
}

const EVP_MD* md_for(HashAlgorithm h) {
    switch (h) {
    case HashAlgorithm::SHA1: return ossl::md(ossl::MdName::Sha1);
    case HashAlgorithm::SHA2_256: return ossl::md(ossl::MdName::Sha256);
    case HashAlgorithm::SHA2_384: return ossl::md(ossl::MdName::Sha384);
    case HashAlgorithm::SHA2_512: return ossl::md(ossl::MdName::Sha512);
    case HashAlgorithm::IDENTITY: break;
    }
    return nullptr;
}

// RFC 7427 Appendix A: the DER AlgorithmIdentifiers we sign and accept.
struct AlgId {
    bool rsa;
    HashAlgorithm hash;
    std::array<uint8_t, 15> der;
    size_t len;
};

constexpr AlgId kAlgIds[] = {
    // sha1/256/384/512WithRSAEncryption (1.2.840.113549.1.1.5/11/12/13), NULL parameters.
    {true, HashAlgorithm::SHA1,
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00},
     15},
    {true, HashAlgorithm::SHA2_256,
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00},
     15},
    {true, HashAlgorithm::SHA2_384,
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00},
     15},
    {true, HashAlgorithm::SHA2_512,
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00},
     15},
    // ecdsa-with-SHA1 (1.2.840.10045.4.1), -SHA256/384/512 (1.2.840.10045.4.3.2/3/4).
    {false, HashAlgorithm::SHA1, {0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01},
     11},
    {false, HashAlgorithm::SHA2_256,
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 12},
    {false, HashAlgorithm::SHA2_384,
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 12},
    {false, HashAlgorithm::SHA2_512,
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 12},
};

constexpr HashAlgorithm kSupported[] = {HashAlgorithm::SHA2_256, HashAlgorithm::SHA2_384,
                                        HashAlgorithm::SHA2_512};

// RFC 4754: method, curve, hash and the size of r and s.
struct EcdsaMethod {
    AuthMethod method;
    KeyType key;
    HashAlgorithm hash;
    size_t half;
};

constexpr EcdsaMethod kEcdsa[] = {
    {AuthMethod::ECDSA_SHA256_P256, KeyType::EcP256, HashAlgorithm::SHA2_256, 32},
    {AuthMethod::ECDSA_SHA384_P384, KeyType::EcP384, HashAlgorithm::SHA2_384, 48},
    {AuthMethod::ECDSA_SHA512_P521, KeyType::EcP521, HashAlgorithm::SHA2_512, 66},
};

const EcdsaMethod* ecdsa_method(AuthMethod m) {
    for (const auto& e : kEcdsa) {
        if (e.method == m) {
            return &e;
        }
    }
    return nullptr;
}

Result<Bytes> digest_sign(EVP_PKEY* key, const EVP_MD* md, ByteView data) {
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, EVP_MD_get0_name(md), nullptr,
                                      nullptr, key, nullptr) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
        return ossl::fail_ossl("sign");
    }
    Bytes sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
        return ossl::fail_ossl("sign");
    }
    sig.resize(len);
    return sig;
}

bool digest_verify(EVP_PKEY* key, const EVP_MD* md, ByteView data, ByteView sig) {
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    bool ok = ctx &&
              EVP_DigestVerifyInit_ex(ctx.get(), nullptr, EVP_MD_get0_name(md), nullptr, nullptr,
                                      key, nullptr) == 1 &&
              EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
    ERR_clear_error();
    return ok;
}

// DER ECDSA-Sig-Value <-> RFC 4754 r || s (each left-padded to `half`).
Result<Bytes> der_to_raw(ByteView der, size_t half) {
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    if (sig == nullptr) {
        return ossl::fail_ossl("ECDSA signature encoding");
    }
    Bytes raw(2 * half);
    bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), static_cast<int>(half)) > 0 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + half, static_cast<int>(half)) > 0;
    ECDSA_SIG_free(sig);
    if (!ok) {
        return ossl::fail_ossl("ECDSA signature encoding");
    }
    return raw;
}

std::optional<Bytes> raw_to_der(ByteView raw, size_t half) {
    if (raw.size() != 2 * half) {
        return std::nullopt;
    }
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(sig, &buf);
    ECDSA_SIG_free(sig);
    if (len <= 0) {
        return std::nullopt;
    }
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    return der;
}

}  // namespace

// --- shared key ---------------------------------------------------------------

Result<Bytes> psk_auth(const crypto::Prf& prf, ByteView psk, ByteView signed_octets) {
    QVPN_ASSIGN(SecretBytes inner, prf.compute(psk, as_view(kKeyPad)));
    QVPN_ASSIGN(SecretBytes outer, prf.compute(inner, signed_octets));
    return Bytes(outer.data(), outer.data() + outer.size());
}

Status psk_verify(const crypto::Prf& prf, ByteView psk, ByteView signed_octets,
                  ByteView auth_data) {
    QVPN_ASSIGN(Bytes expect, psk_auth(prf, psk, signed_octets));
    if (!equal_ct(expect, auth_data)) {
        return auth_failed(AuthMethod::SHARED_KEY_MIC);
    }
    return {};
}

// --- signatures -----------------------------------------------------------------

std::optional<AuthMethod> classic_method(KeyType t) {
    switch (t) {
    case KeyType::Rsa: return AuthMethod::RSA_DIGITAL_SIGNATURE;
    case KeyType::EcP256: return AuthMethod::ECDSA_SHA256_P256;
    case KeyType::EcP384: return AuthMethod::ECDSA_SHA384_P384;
    case KeyType::EcP521: return AuthMethod::ECDSA_SHA512_P521;
    case KeyType::Other: break;
    }
    return std::nullopt;
}

std::optional<Bytes> algorithm_identifier(KeyType type, HashAlgorithm hash) {
    if (type == KeyType::Other) {
        return std::nullopt;
    }
    for (const auto& a : kAlgIds) {
        if (a.rsa == (type == KeyType::Rsa) && a.hash == hash) {
            return Bytes(a.der.begin(), a.der.begin() + a.len);
        }
    }
    return std::nullopt;
}

Result<Bytes> sign(const SignScheme& scheme, const PrivateKey& key, ByteView signed_octets) {
    const KeyType kt = key.type();
    switch (scheme.method) {
    case AuthMethod::RSA_DIGITAL_SIGNATURE:
        if (kt != KeyType::Rsa) {
            return mismatch(scheme.method, kt, "method 1 needs an RSA key");
        }
        // RFC 7296 3.8: RSASSA-PKCS1-v1_5 with SHA-1.
        return digest_sign(key.native(), ossl::md(ossl::MdName::Sha1), signed_octets);
    case AuthMethod::ECDSA_SHA256_P256:
    case AuthMethod::ECDSA_SHA384_P384:
    case AuthMethod::ECDSA_SHA512_P521: {
        const EcdsaMethod* e = ecdsa_method(scheme.method);
        if (kt != e->key) {
            return mismatch(scheme.method, kt, "the curve does not match the method");
        }
        QVPN_ASSIGN(Bytes der, digest_sign(key.native(), md_for(e->hash), signed_octets));
        return der_to_raw(der, e->half);
    }
    case AuthMethod::DIGITAL_SIGNATURE: {
        if (std::find(std::begin(kSupported), std::end(kSupported), scheme.hash) ==
            std::end(kSupported)) {
            return mismatch(scheme.method, kt, "hash algorithm not supported for signing");
        }
        auto alg = algorithm_identifier(kt, scheme.hash);
        if (!alg) {
            return mismatch(scheme.method, kt, "key type not supported");
        }
        // RFC 7427 3: the signature value is PKCS#1 v1.5 for RSA and the DER
        // ECDSA-Sig-Value for ECDSA, which is what EVP produces for both.
        QVPN_ASSIGN(Bytes sig, digest_sign(key.native(), md_for(scheme.hash), signed_octets));
        Bytes out;
        out.reserve(1 + alg->size() + sig.size());
        out.push_back(static_cast<uint8_t>(alg->size()));
        out.insert(out.end(), alg->begin(), alg->end());
        out.insert(out.end(), sig.begin(), sig.end());
        return out;
    }
    default:
        return fail(msg("IKE0001", "AUTH", static_cast<int>(scheme.method))
                        .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
    }
}

Status verify(AuthMethod method, const PublicKey& key, ByteView signed_octets,
              ByteView auth_data, std::span<const HashAlgorithm> accepted) {
    const KeyType kt = key.type();
    switch (method) {
    case AuthMethod::RSA_DIGITAL_SIGNATURE:
        if (kt != KeyType::Rsa) {
            return mismatch(method, kt, "method 1 needs an RSA key");
        }
        if (!digest_verify(key.native(), ossl::md(ossl::MdName::Sha1), signed_octets,
                           auth_data)) {
            return auth_failed(method);
        }
        return {};
    case AuthMethod::ECDSA_SHA256_P256:
    case AuthMethod::ECDSA_SHA384_P384:
    case AuthMethod::ECDSA_SHA512_P521: {
        const EcdsaMethod* e = ecdsa_method(method);
        if (kt != e->key) {
            return mismatch(method, kt, "the curve does not match the method");
        }
        auto der = raw_to_der(auth_data, e->half);
        if (!der) {
            return malformed("ECDSA signature is not r | s of the curve's size");
        }
        if (!digest_verify(key.native(), md_for(e->hash), signed_octets, *der)) {
            return auth_failed(method);
        }
        return {};
    }
    case AuthMethod::DIGITAL_SIGNATURE: {
        // RFC 7427 3: length | AlgorithmIdentifier | signature value.
        if (auth_data.empty() || size_t(auth_data[0]) + 1 >= auth_data.size()) {
            return malformed("signature data shorter than its AlgorithmIdentifier");
        }
        ByteView alg = auth_data.subspan(1, auth_data[0]);
        ByteView sig = auth_data.subspan(1 + auth_data[0]);
        const AlgId* found = nullptr;
        for (const auto& a : kAlgIds) {
            if (alg.size() == a.len && std::equal(alg.begin(), alg.end(), a.der.begin())) {
                found = &a;
            }
        }
        if (found == nullptr) {
            return mismatch(method, kt, "unknown signature AlgorithmIdentifier");
        }
        if (found->rsa != (kt == KeyType::Rsa) || kt == KeyType::Other) {
            return mismatch(method, kt, "AlgorithmIdentifier does not fit the key");
        }
        std::span<const HashAlgorithm> ok_hashes =
            accepted.empty() ? std::span<const HashAlgorithm>(kSupported) : accepted;
        if (std::find(ok_hashes.begin(), ok_hashes.end(), found->hash) == ok_hashes.end()) {
            return mismatch(method, kt, "hash algorithm not accepted");
        }
        if (!digest_verify(key.native(), md_for(found->hash), signed_octets, sig)) {
            return auth_failed(method);
        }
        return {};
    }
    default:
        return fail(msg("IKE0001", "AUTH", static_cast<int>(method))
                        .with_notify(notify_code(NotifyType::AUTHENTICATION_FAILED)));
    }
}

// --- SIGNATURE_HASH_ALGORITHMS -------------------------------------------------------

std::span<const HashAlgorithm> supported_hashes() { return kSupported; }

Bytes encode_hash_algorithms(std::span<const HashAlgorithm> hashes) {
    ByteWriter w;
    for (HashAlgorithm h : hashes) {
        w.u16(static_cast<uint16_t>(h));
    }
    return w.take();
}

Result<std::vector<HashAlgorithm>> decode_hash_algorithms(ByteView data) {
    if (data.size() % 2 != 0) {
        return fail(msg("IKE0105", data.size())
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    }
    std::vector<HashAlgorithm> out;
    ByteReader r(data);
    while (r.remaining() > 0) {
        uint16_t v = r.u16();
        if (v >= 1 && v <= 5) {
            out.push_back(static_cast<HashAlgorithm>(v));
        }
    }
    return out;
}

std::optional<HashAlgorithm> choose_hash(std::span<const HashAlgorithm> peer, KeyType key) {
    if (key == KeyType::Other) {
        return std::nullopt;
    }
    // A hash as strong as the curve first (SHA-384 for P-384, SHA-512 for
    // P-521), then SHA-256 and the rest.
    std::vector<HashAlgorithm> order(std::begin(kSupported), std::end(kSupported));
    HashAlgorithm first = key == KeyType::EcP384   ? HashAlgorithm::SHA2_384
                          : key == KeyType::EcP521 ? HashAlgorithm::SHA2_512
                                                   : HashAlgorithm::SHA2_256;
    std::stable_partition(order.begin(), order.end(), [&](HashAlgorithm x) { return x == first; });
    for (HashAlgorithm ours : order) {
        if (std::find(peer.begin(), peer.end(), ours) != peer.end()) {
            return ours;
        }
    }
    return std::nullopt;
}

}  // namespace qvpn::ike::auth
