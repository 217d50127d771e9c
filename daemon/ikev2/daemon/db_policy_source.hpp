// The engine's PolicySource over the policy database (read only): what a
// responder may accept from an address, the connection for an
// authenticated identity, the certificate material of a key policy, and
// Hash and URL certificate fetches.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/policy/policy_db.hpp"
#include "daemon/ikev2/engine/engine.hpp"

namespace qvpn::ikev2 {

class DbPolicySource final : public PolicySource {
public:
    // `db_path` is opened (read only) on first use and again after an error,
    // so the daemon starts before the first configuration exists.
    explicit DbPolicySource(std::string db_path);

    Result<InitPolicy> for_init(const IpAddress& peer) override;
    Result<ResolvedPeer> for_auth(const IpAddress& peer, const policy::Identity& id) override;
    Result<Bytes> fetch_certificate(const ike::auth::HashAndUrl& h) override;

    // For connections this system starts: our certificate, key and trusted
    // CAs when the key policy authenticates with *RSA or *ECDSA.
    Result<Credentials> credentials(const policy::KeyPolicy& key);
    Result<policy::ConnectionPolicy> resolve(const std::string& conn);
    Result<policy::VpnAttributes> attributes();

private:
    Result<policy::PolicyDb*> db();
    Result<std::shared_ptr<const ike::auth::TrustStore>> trust();

    std::string path_;
    std::optional<policy::PolicyDb> db_;
};

}  // namespace qvpn::ikev2
