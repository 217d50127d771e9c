#include "daemon/ike/crypto/integrity.hpp"

#include <map>
#include <mutex>
#include <optional>

#include "daemon/ike/crypto/mac.hpp"
#include "daemon/ike/crypto/suite.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct IntegImpl {
    Mac mac;
    size_t key_size;
    size_t icv_size;
};
}  // namespace detail

namespace {

struct IntegFacts {
    IntegId id;
    bool xcbc;
    ossl::MdName md;
    size_t key_size;
    size_t icv_size;
};

// RFC 2403, 2404, 3566, 4868: key sizes are the hash length (16 for XCBC),
// ICVs are truncated to half of it (96 bits for the older ones).
constexpr IntegFacts kFacts[] = {
    {IntegId::AUTH_HMAC_MD5_96, false, ossl::MdName::Md5, 16, 12},
    {IntegId::AUTH_HMAC_SHA1_96, false, ossl::MdName::Sha1, 20, 12},
    {IntegId::AUTH_AES_XCBC_96, true, ossl::MdName::Sha256, 16, 12},
    {IntegId::AUTH_HMAC_SHA2_256_128, false, ossl::MdName::Sha256, 32, 16},
    {IntegId::AUTH_HMAC_SHA2_384_192, false, ossl::MdName::Sha384, 48, 24},
    {IntegId::AUTH_HMAC_SHA2_512_256, false, ossl::MdName::Sha512, 64, 32},
};

Result<std::shared_ptr<const detail::IntegImpl>> make_impl(IntegId id) {
    for (const auto& f : kFacts) {
        if (f.id != id) {
            continue;
        }
        auto mac = f.xcbc ? detail::Mac::xcbc() : detail::Mac::hmac(f.md);
        if (!mac.ok()) {
            return mac.failure();
        }
        return std::make_shared<const detail::IntegImpl>(
            detail::IntegImpl{std::move(*mac), f.key_size, f.icv_size});
    }
    return fail(msg("IKE0001", "INTEG", static_cast<int>(id))
                    .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
}

}  // namespace

Result<Integrity> Integrity::create(IntegId id) {
    static std::mutex lock;
    static std::map<IntegId, std::shared_ptr<const detail::IntegImpl>> cache;
    {
        std::lock_guard<std::mutex> g(lock);
        auto it = cache.find(id);
        if (it != cache.end()) {
            return Integrity(id, it->second);
        }
    }
    QVPN_ASSIGN(auto impl, make_impl(id));
    std::lock_guard<std::mutex> g(lock);
    cache.emplace(id, impl);
    return Integrity(id, std::move(impl));
}

std::string_view Integrity::name() const { return integ_name(id_); }
size_t Integrity::key_size() const { return impl_->key_size; }
size_t Integrity::icv_size() const { return impl_->icv_size; }

Result<Bytes> Integrity::sign(ByteView key, ByteView data) const {
    if (key.size() != impl_->key_size) {
        return fail("IKE0002", key.size(), name());
    }
    uint8_t full[EVP_MAX_MD_SIZE];
    QVPN_TRY(impl_->mac.compute(key, {data}, full));
    return Bytes(full, full + impl_->icv_size);
}

Status Integrity::verify(ByteView key, ByteView data, ByteView icv) const {
    if (icv.size() != impl_->icv_size) {
        return fail("IKE0005", name());
    }
    QVPN_ASSIGN(Bytes expected, sign(key, data));
    if (!equal_ct(expected, icv)) {
        return fail("IKE0005", name());
    }
    return {};
}

}  // namespace qvpn::ike::crypto
