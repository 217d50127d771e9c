#include "daemon/ike/crypto/prf.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "daemon/ike/crypto/mac.hpp"
#include "daemon/ike/crypto/suite.hpp"

namespace qvpn::ike::crypto {

namespace detail {
struct PrfImpl {
    Mac mac;
};
}  // namespace detail

namespace {

std::optional<ossl::MdName> prf_md(PrfId id) {
    switch (id) {
    case PrfId::PRF_HMAC_MD5: return ossl::MdName::Md5;
    case PrfId::PRF_HMAC_SHA1: return ossl::MdName::Sha1;
    case PrfId::PRF_HMAC_SHA2_256: return ossl::MdName::Sha256;
    case PrfId::PRF_HMAC_SHA2_384: return ossl::MdName::Sha384;
    case PrfId::PRF_HMAC_SHA2_512: return ossl::MdName::Sha512;
    case PrfId::PRF_AES128_XCBC: break;
    }
    return std::nullopt;
}

// One shared implementation per PRF for the whole process: it is immutable.
Result<std::shared_ptr<const detail::PrfImpl>> make_impl(PrfId id) {
    if (id == PrfId::PRF_AES128_XCBC) {
        QVPN_ASSIGN(auto mac, detail::Mac::xcbc());
        return std::make_shared<const detail::PrfImpl>(detail::PrfImpl{std::move(mac)});
    }
    auto md = prf_md(id);
    if (!md) {
        return fail(msg("IKE0001", "PRF", static_cast<int>(id))
                        .with_notify(notify_code(NotifyType::NO_PROPOSAL_CHOSEN)));
    }
    QVPN_ASSIGN(auto mac, detail::Mac::hmac(*md));
    return std::make_shared<const detail::PrfImpl>(detail::PrfImpl{std::move(mac)});
}

}  // namespace

Result<Prf> Prf::create(PrfId id) {
    // Build each PRF's template once; a failed build is retried next time.
    static std::mutex lock;
    static std::map<PrfId, std::shared_ptr<const detail::PrfImpl>> cache;
    {
        std::lock_guard<std::mutex> g(lock);
        auto it = cache.find(id);
        if (it != cache.end()) {
            return Prf(id, it->second);
        }
    }
    QVPN_ASSIGN(auto impl, make_impl(id));
    std::lock_guard<std::mutex> g(lock);
    cache.emplace(id, impl);
    return Prf(id, std::move(impl));
}

std::string_view Prf::name() const { return prf_name(id_); }

size_t Prf::output_size() const { return impl_->mac.output_size(); }

size_t Prf::preferred_key_size() const { return impl_->mac.output_size(); }

bool Prf::fixed_key_size() const { return impl_->mac.is_xcbc(); }

Result<SecretBytes> Prf::compute(ByteView key, ByteView data) const {
    return compute(key, {data});
}

Result<SecretBytes> Prf::compute(ByteView key, std::initializer_list<ByteView> parts) const {
    SecretBytes out(impl_->mac.output_size());
    if (impl_->mac.is_xcbc()) {
        // RFC 4434: keys of any length are first made 16 bytes long.
        uint8_t k[detail::kXcbcBlock];
        Status st = detail::xcbc_prf_key(key, k);
        if (st.ok()) {
            st = impl_->mac.compute(ByteView(k, sizeof k), parts, out.data());
        }
        OPENSSL_cleanse(k, sizeof k);
        QVPN_TRY(st);
        return out;
    }
    QVPN_TRY(impl_->mac.compute(key, parts, out.data()));
    return out;
}

Result<SecretBytes> prf_plus(const Prf& prf, ByteView key, ByteView seed, size_t length) {
    // RFC 7296 2.13: the block counter is a single octet (1..255).
    const size_t block = prf.output_size();
    const size_t limit = block * 255;
    if (length > limit) {
        return fail("IKE0004", length, limit);
    }
    SecretBytes out(length);
    SecretBytes t;
    size_t done = 0;
    for (uint8_t n = 1; done < length; ++n) {
        const uint8_t counter[1] = {n};
        QVPN_ASSIGN(t, prf.compute(key, {t.view(), seed, ByteView(counter, 1)}));
        size_t take = std::min(block, length - done);
        std::memcpy(out.data() + done, t.data(), take);
        done += take;
    }
    return out;
}

}  // namespace qvpn::ike::crypto
