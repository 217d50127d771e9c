#include "core/policy/model.hpp"

#include <array>
#include <cctype>
#include <utility>

#include "core/base/text.hpp"

namespace qvpn::policy {

namespace {

// One table per enum: value and its CL spelling, in declaration order.
template <class T, size_t N>
using Table = std::array<std::pair<T, std::string_view>, N>;

constexpr Table<IdType, 7> kIdType{{{IdType::IPv4, "*IPV4"},
                                    {IdType::IPv6, "*IPV6"},
                                    {IdType::Fqdn, "*FQDN"},
                                    {IdType::UserFqdn, "*USERFQDN"},
                                    {IdType::KeyId, "*KEYID"},
                                    {IdType::Dn, "*DN"},
                                    {IdType::AnyIp, "*ANYIP"}}};

constexpr Table<Encr, 30> kEncr{{{Encr::None, "*NONE"},
                                 {Encr::Des, "*DES"},
                                 {Encr::TripleDes, "*3DES"},
                                 {Encr::AesCbc128, "*AESCBC128"},
                                 {Encr::AesCbc192, "*AESCBC192"},
                                 {Encr::AesCbc256, "*AESCBC256"},
                                 {Encr::AesCtr128, "*AESCTR128"},
                                 {Encr::AesCtr192, "*AESCTR192"},
                                 {Encr::AesCtr256, "*AESCTR256"},
                                 {Encr::AesGcm128, "*AESGCM128"},
                                 {Encr::AesGcm192, "*AESGCM192"},
                                 {Encr::AesGcm256, "*AESGCM256"},
                                 {Encr::AesGcm128_12, "*AESGCM128_12"},
                                 {Encr::AesGcm192_12, "*AESGCM192_12"},
                                 {Encr::AesGcm256_12, "*AESGCM256_12"},
                                 {Encr::AesGcm128_8, "*AESGCM128_8"},
                                 {Encr::AesGcm192_8, "*AESGCM192_8"},
                                 {Encr::AesGcm256_8, "*AESGCM256_8"},
                                 {Encr::AesCcm128, "*AESCCM128"},
                                 {Encr::AesCcm192, "*AESCCM192"},
                                 {Encr::AesCcm256, "*AESCCM256"},
                                 {Encr::AesCcm128_12, "*AESCCM128_12"},
                                 {Encr::AesCcm192_12, "*AESCCM192_12"},
                                 {Encr::AesCcm256_12, "*AESCCM256_12"},
                                 {Encr::AesCcm128_8, "*AESCCM128_8"},
                                 {Encr::AesCcm192_8, "*AESCCM192_8"},
                                 {Encr::AesCcm256_8, "*AESCCM256_8"},
                                 {Encr::AesGmac128, "*AESGMAC128"},
                                 {Encr::AesGmac192, "*AESGMAC192"},
                                 {Encr::AesGmac256, "*AESGMAC256"}}};


constexpr Table<Hash, 6> kHash{{{Hash::Md5, "*MD5"},
                                {Hash::Sha1, "*SHA1"},
                                {Hash::Sha256, "*SHA256"},
                                {Hash::Sha384, "*SHA384"},
                                {Hash::Sha512, "*SHA512"},
                                {Hash::AesXcbc, "*AESXCBC"}}};

constexpr Table<DataAuth, 7> kDataAuth{{{DataAuth::None, "*NONE"},
                                        {DataAuth::HmacMd5, "*HMACMD5"},
                                        {DataAuth::HmacSha1, "*HMACSHA1"},
                                        {DataAuth::HmacSha256, "*HMACSHA256"},
                                        {DataAuth::HmacSha384, "*HMACSHA384"},
                                        {DataAuth::HmacSha512, "*HMACSHA512"},
                                        {DataAuth::AesXcbc, "*AESXCBC"}}};

constexpr Table<DhGroup, 7> kDh{{{DhGroup::None, "*NONE"},
                                 {DhGroup::Grp1, "*GRP1"},
                                 {DhGroup::Grp2, "*GRP2"},
                                 {DhGroup::Grp14, "*GRP14"},
                                 {DhGroup::Grp19, "*GRP19"},
                                 {DhGroup::Grp20, "*GRP20"},
                                 {DhGroup::Grp24, "*GRP24"}}};

constexpr Table<Protocol, 3> kProtocol{
    {{Protocol::Esp, "*ESP"}, {Protocol::Ah, "*AH"}, {Protocol::AhEsp, "*AHESP"}}};
constexpr Table<Mode, 2> kMode{{{Mode::Tunnel, "*TUNNEL"}, {Mode::Transport, "*TRANSPORT"}}};
constexpr Table<AuthMethod, 3> kAuth{
    {{AuthMethod::Psk, "*PSK"}, {AuthMethod::Rsa, "*RSA"}, {AuthMethod::Ecdsa, "*ECDSA"}}};
constexpr Table<NegotiationMode, 2> kNegMode{
    {{NegotiationMode::Main, "*MAIN"}, {NegotiationMode::Aggressive, "*AGGRESSIVE"}}};
constexpr Table<SystemRole, 4> kRole{{{SystemRole::Gw2Gw, "*GW2GW"},
                                      {SystemRole::Gw2Host, "*GW2HOST"},
                                      {SystemRole::Host2Gw, "*HOST2GW"},
                                      {SystemRole::Host2Host, "*HOST2HOST"}}};
constexpr Table<Initiator, 3> kInitiator{
    {{Initiator::Both, "*BOTH"}, {Initiator::Local, "*LOCAL"}, {Initiator::Remote, "*REMOTE"}}};
constexpr Table<PolicyFilter, 3> kPolicyFilter{{{PolicyFilter::Generate, "*GENERATE"},
                                                {PolicyFilter::None, "*NONE"},
                                                {PolicyFilter::Rules, "*RULES"}}};
constexpr Table<Journaling, 4> kJournaling{{{Journaling::None, "*NONE"},
                                            {Journaling::All, "*ALL"},
                                            {Journaling::ConnectionActivity, "*CNNACT"},
                                            {Journaling::IpTraffic, "*IPTRAFFIC"}}};
constexpr Table<EndpointType, 7> kEndpoint{{{EndpointType::IPv4, "*IPV4"},
                                            {EndpointType::IPv4Subnet, "*IPV4SUBNET"},
                                            {EndpointType::IPv4Range, "*IPV4RANGE"},
                                            {EndpointType::IPv6, "*IPV6"},
                                            {EndpointType::IPv6Subnet, "*IPV6SUBNET"},
                                            {EndpointType::IPv6Range, "*IPV6RANGE"},
                                            {EndpointType::Any, "*ANY"}}};
constexpr Table<DataPath, 3> kDataPath{
    {{DataPath::Auto, "*AUTO"}, {DataPath::Kernel, "*KERNEL"}, {DataPath::Userspace, "*USERSPACE"}}};

constexpr Table<SecurityLevel, 3> kLevel{{{SecurityLevel::Highest, "*HIGHEST"},
                                          {SecurityLevel::Balanced, "*BALANCED"},
                                          {SecurityLevel::Minimum, "*MINIMUM"}}};
constexpr Table<ConnectionType, 2> kCnnType{
    {{ConnectionType::Dynamic, "*DYNAMIC"}, {ConnectionType::Manual, "*MANUAL"}}};
constexpr Table<ConnectionState, 6> kCnnState{{{ConnectionState::Idle, "*IDLE"},
                                               {ConnectionState::OnDemand, "*ONDEMAND"},
                                               {ConnectionState::Starting, "*STARTING"},
                                               {ConnectionState::Enabled, "*ENABLED"},
                                               {ConnectionState::Stopping, "*STOPPING"},
                                               {ConnectionState::Error, "*ERROR"}}};
constexpr Table<CertKind, 2> kCertKind{{{CertKind::System, "*SYSTEM"}, {CertKind::Ca, "*CA"}}};
constexpr Table<KeyType, 2> kKeyType{{{KeyType::Rsa, "*RSA"}, {KeyType::Ecdsa, "*ECDSA"}}};

template <class T, size_t N>
std::string_view name_of(const Table<T, N>& t, T v) {
    for (const auto& [val, name] : t) {
        if (val == v) {
            return name;
        }
    }
    return "*UNKNOWN";
}

template <class T, size_t N>
std::optional<T> value_of(const Table<T, N>& t, std::string_view s) {
    for (const auto& [val, name] : t) {
        if (iequals(name, s)) {
            return val;
        }
    }
    return std::nullopt;
}

template <class T, size_t N>
std::vector<std::string> names(const Table<T, N>& t) {
    std::vector<std::string> out;
    for (const auto& [val, name] : t) {
        std::string n(name);
        bool dup = false;
        for (const auto& o : out) {
            dup = dup || o == n;
        }
        if (!dup) {
            out.push_back(n);
        }
    }
    return out;
}

}  // namespace

#define QVPN_ENUM_CL(T, table)                                                    \
    std::string_view to_cl(T v) { return name_of(table, v); }                     \
    template <>                                                                   \
    std::optional<T> from_cl<T>(std::string_view s) { return value_of(table, s); } \
    template <>                                                                   \
    std::vector<std::string> cl_values<T>() { return names(table); }

QVPN_ENUM_CL(IdType, kIdType)
QVPN_ENUM_CL(Encr, kEncr)
QVPN_ENUM_CL(Hash, kHash)
QVPN_ENUM_CL(DataAuth, kDataAuth)
QVPN_ENUM_CL(DhGroup, kDh)
QVPN_ENUM_CL(Protocol, kProtocol)
QVPN_ENUM_CL(Mode, kMode)
QVPN_ENUM_CL(AuthMethod, kAuth)
QVPN_ENUM_CL(NegotiationMode, kNegMode)
QVPN_ENUM_CL(SystemRole, kRole)
QVPN_ENUM_CL(Initiator, kInitiator)
QVPN_ENUM_CL(PolicyFilter, kPolicyFilter)
QVPN_ENUM_CL(Journaling, kJournaling)
QVPN_ENUM_CL(EndpointType, kEndpoint)
QVPN_ENUM_CL(DataPath, kDataPath)
QVPN_ENUM_CL(SecurityLevel, kLevel)
QVPN_ENUM_CL(ConnectionType, kCnnType)
QVPN_ENUM_CL(ConnectionState, kCnnState)
QVPN_ENUM_CL(CertKind, kCertKind)
QVPN_ENUM_CL(KeyType, kKeyType)

#undef QVPN_ENUM_CL

bool is_aead(Encr e) {
    return (e >= Encr::AesGcm128 && e <= Encr::AesCcm256_8);
}

bool is_auth_only(Encr e) { return e >= Encr::AesGmac128 && e <= Encr::AesGmac256; }

bool is_deemphasized(Encr e) { return e == Encr::Des; }
bool is_deemphasized(Hash h) { return h == Hash::Md5; }
bool is_deemphasized(DhGroup g) { return g == DhGroup::Grp1 || g == DhGroup::Grp2; }

int key_bits(Encr e) {
    switch (e) {
    case Encr::None: return 0;
    case Encr::Des: return 64;
    case Encr::TripleDes: return 192;
    case Encr::AesCbc128: case Encr::AesCtr128: case Encr::AesGcm128: case Encr::AesGcm128_12:
    case Encr::AesGcm128_8: case Encr::AesCcm128: case Encr::AesCcm128_12: case Encr::AesCcm128_8:
    case Encr::AesGmac128:
        return 128;
    case Encr::AesCbc192: case Encr::AesCtr192: case Encr::AesGcm192: case Encr::AesGcm192_12:
    case Encr::AesGcm192_8: case Encr::AesCcm192: case Encr::AesCcm192_12: case Encr::AesCcm192_8:
    case Encr::AesGmac192:
        return 192;
    case Encr::AesCbc256: case Encr::AesCtr256: case Encr::AesGcm256: case Encr::AesGcm256_12:
    case Encr::AesGcm256_8: case Encr::AesCcm256: case Encr::AesCcm256_12: case Encr::AesCcm256_8:
    case Encr::AesGmac256:
        return 256;
    }
    return 0;
}

bool ike_allowed(Encr e) { return e != Encr::None && !is_auth_only(e); }

int key_bits(DataAuth a) {
    switch (a) {
    case DataAuth::None: return 0;
    case DataAuth::HmacMd5: return 128;
    case DataAuth::HmacSha1: return 160;
    case DataAuth::HmacSha256: return 256;
    case DataAuth::HmacSha384: return 384;
    case DataAuth::HmacSha512: return 512;
    case DataAuth::AesXcbc: return 128;
    }
    return 0;
}

int salt_bytes(Encr e) {
    if (e >= Encr::AesCtr128 && e <= Encr::AesGcm256_8) {
        return 4;
    }
    if (e >= Encr::AesCcm128 && e <= Encr::AesCcm256_8) {
        return 3;
    }
    return is_auth_only(e) ? 4 : 0;
}

bool valid_name_length(std::string_view name) {
    return !name.empty() && name.size() <= kMaxNameLen;
}

std::vector<KeyTransform> key_transforms(SecurityLevel level) {
    switch (level) {
    case SecurityLevel::Highest:
        return {{Encr::AesCbc256, Hash::Sha512, DhGroup::Grp20}};
    case SecurityLevel::Balanced:
        return {{Encr::AesCbc128, Hash::Sha256, DhGroup::Grp19},
                {Encr::AesCbc128, Hash::Sha256, DhGroup::Grp14}};
    case SecurityLevel::Minimum:
        return {{Encr::AesCbc128, Hash::Sha1, DhGroup::Grp14}};
    }
    return {};
}

std::vector<DataTransform> data_transforms(SecurityLevel level) {
    switch (level) {
    case SecurityLevel::Highest:
        return {{Protocol::Esp, Encr::AesGcm256, DataAuth::None},
                {Protocol::Esp, Encr::AesCbc256, DataAuth::HmacSha512}};
    case SecurityLevel::Balanced:
        return {{Protocol::Esp, Encr::AesGcm128, DataAuth::None},
                {Protocol::Esp, Encr::AesCbc128, DataAuth::HmacSha256}};
    case SecurityLevel::Minimum:
        return {{Protocol::Esp, Encr::AesCbc128, DataAuth::HmacSha1}};
    }
    return {};
}

DhGroup pfs_group(SecurityLevel level) {
    switch (level) {
    case SecurityLevel::Highest: return DhGroup::Grp20;
    case SecurityLevel::Balanced: return DhGroup::Grp19;
    case SecurityLevel::Minimum: return DhGroup::None;
    }
    return DhGroup::None;
}

bool is_active(ConnectionState s) {
    return s != ConnectionState::Idle && s != ConnectionState::Error;
}

const std::vector<SystemValueDef>& system_value_defs() {
    static const std::vector<SystemValueDef> kDefs{
        {kQRETSVRSEC, "Retain server security data ('1': keys are kept encrypted)", "1"},
        {kQVPNDTAPTH, "VPN data path for security associations", "*AUTO"},
        {kQVPNJRNRET, "VPN and filter journal retention (days)", "30"},
        {kQCMNTRCMAX, "Communications trace storage limit (bytes)", "268435456"},
    };
    return kDefs;
}

namespace {

constexpr long long kMinTraceBytes = 128LL * 1024;
constexpr long long kMaxTraceBytes = 4LL * 1024 * 1024 * 1024;

// "256M", "128K", "1G" or a plain byte count.
std::optional<long long> parse_size(std::string_view v) {
    long long mult = 1;
    if (!v.empty()) {
        char last = static_cast<char>(std::toupper(static_cast<unsigned char>(v.back())));
        if (last == 'K' || last == 'M' || last == 'G') {
            mult = last == 'K' ? 1024LL : last == 'M' ? 1024LL * 1024 : 1024LL * 1024 * 1024;
            v.remove_suffix(1);
        }
    }
    long long n = 0;
    if (!parse_int(v, n) || n < 0 || n > kMaxTraceBytes) {
        return std::nullopt;
    }
    return n * mult;
}

}  // namespace

Result<std::string> normalize_system_value(std::string_view name, std::string_view value) {
    std::string v(trim(value));
    if (iequals(name, kQRETSVRSEC)) {
        if (v != "0" && v != "1") {
            return fail("CPD0084", v, "VALUE", "'0', '1'");
        }
        return v;
    }
    if (iequals(name, kQVPNDTAPTH)) {
        auto dp = from_cl<DataPath>(v);
        if (!dp) {
            return fail("CPD0084", v, "VALUE", "*AUTO, *KERNEL, *USERSPACE");
        }
        return std::string(to_cl(*dp));
    }
    if (iequals(name, kQVPNJRNRET)) {
        long long n = 0;
        if (!parse_int(v, n)) {
            return fail("CPD0077", v, "VALUE");
        }
        if (n < 1 || n > 3650) {
            return fail("CPD0076", v, "VALUE", 1, 3650);
        }
        return std::to_string(n);
    }
    if (iequals(name, kQCMNTRCMAX)) {
        auto n = parse_size(v);
        if (!n) {
            return fail("CPD0077", v, "VALUE");
        }
        if (*n < kMinTraceBytes || *n > kMaxTraceBytes) {
            return fail("CPD0076", v, "VALUE", "128K", "4G");
        }
        return std::to_string(*n);
    }
    return fail("PDB0020", std::string(name));
}

}  // namespace qvpn::policy
