// Code point names for printouts: one table per registry, IANA spellings.
#include <algorithm>
#include <array>
#include <utility>

#include "daemon/trace/decoder.hpp"

namespace qvpn::trace {

namespace {

template <class K, size_t N>
std::string_view lookup(const std::array<std::pair<K, std::string_view>, N>& table, K key) {
    auto it =
        std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == key; });
    return it == table.end() ? std::string_view() : it->second;
}

constexpr auto kEtherTypes = std::to_array<std::pair<uint16_t, std::string_view>>({
    {0x0800, "IPv4"},
    {0x0806, "ARP"},
    {0x8100, "802.1Q"},
    {0x86dd, "IPv6"},
    {0x88a8, "802.1ad"},
});

constexpr auto kIpProtocols = std::to_array<std::pair<uint8_t, std::string_view>>({
    {0, "HOPOPT"},
    {1, "ICMP"},
    {4, "IPv4"},
    {6, "TCP"},
    {17, "UDP"},
    {41, "IPv6"},
    {43, "IPv6-Route"},
    {44, "IPv6-Frag"},
    {47, "GRE"},
    {50, "ESP"},
    {51, "AH"},
    {58, "IPv6-ICMP"},
    {60, "IPv6-Opts"},
});

constexpr auto kIcmpTypes = std::to_array<std::pair<uint8_t, std::string_view>>({
    {0, "echo-reply"},
    {3, "destination-unreachable"},
    {4, "source-quench"},
    {5, "redirect"},
    {8, "echo-request"},
    {9, "router-advertisement"},
    {10, "router-solicitation"},
    {11, "time-exceeded"},
    {12, "parameter-problem"},
    {13, "timestamp"},
    {14, "timestamp-reply"},
});

constexpr auto kIcmpv6Types = std::to_array<std::pair<uint8_t, std::string_view>>({
    {1, "destination-unreachable"},
    {2, "packet-too-big"},
    {3, "time-exceeded"},
    {4, "parameter-problem"},
    {128, "echo-request"},
    {129, "echo-reply"},
    {130, "multicast-listener-query"},
    {131, "multicast-listener-report"},
    {132, "multicast-listener-done"},
    {133, "router-solicitation"},
    {134, "router-advertisement"},
    {135, "neighbor-solicitation"},
    {136, "neighbor-advertisement"},
    {137, "redirect"},
    {143, "multicast-listener-report-v2"},
});

// RFC 7296 3.1 and the IANA "IKEv2 Exchange Types" registry.
constexpr auto kIkev2Exchanges = std::to_array<std::pair<uint8_t, std::string_view>>({
    {34, "IKE_SA_INIT"},
    {35, "IKE_AUTH"},
    {36, "CREATE_CHILD_SA"},
    {37, "INFORMATIONAL"},
    {38, "IKE_SESSION_RESUME"},
    {43, "IKE_INTERMEDIATE"},
});

// RFC 2408 3.1 and RFC 2409 (Quick Mode, New Group Mode).
constexpr auto kIkev1Exchanges = std::to_array<std::pair<uint8_t, std::string_view>>({
    {1, "Base"},
    {2, "Identity Protection"},
    {3, "Authentication Only"},
    {4, "Aggressive"},
    {5, "Informational"},
    {32, "Quick Mode"},
    {33, "New Group Mode"},
});

// RFC 7296 3.2 and the IANA "IKEv2 Payload Types" registry.
constexpr auto kIkev2Payloads = std::to_array<std::pair<uint8_t, std::string_view>>({
    {33, "SA"},   {34, "KE"},    {35, "IDi"}, {36, "IDr"}, {37, "CERT"}, {38, "CERTREQ"},
    {39, "AUTH"}, {40, "Nonce"}, {41, "N"},   {42, "D"},   {43, "V"},    {44, "TSi"},
    {45, "TSr"},  {46, "SK"},    {47, "CP"},  {48, "EAP"}, {49, "GSPM"}, {50, "IDg"},
    {51, "GSA"},  {52, "KD"},    {53, "SKF"}, {54, "PS"},
});

// RFC 2408 3.1, RFC 3947 (NAT-D, NAT-OA) and the draft numbers still sent.
constexpr auto kIkev1Payloads = std::to_array<std::pair<uint8_t, std::string_view>>({
    {1, "SA"},
    {2, "P"},
    {3, "T"},
    {4, "KE"},
    {5, "ID"},
    {6, "CERT"},
    {7, "CR"},
    {8, "HASH"},
    {9, "SIG"},
    {10, "NONCE"},
    {11, "N"},
    {12, "D"},
    {13, "VID"},
    {14, "ATTR"},
    {20, "NAT-D"},
    {21, "NAT-OA"},
    {130, "NAT-D"},
});

// RFC 7296 3.10.1 and the IANA "IKEv2 Notify Message Types" registries.
constexpr auto kIkev2Notifies = std::to_array<std::pair<uint16_t, std::string_view>>({
    {1, "UNSUPPORTED_CRITICAL_PAYLOAD"},
    {4, "INVALID_IKE_SPI"},
    {5, "INVALID_MAJOR_VERSION"},
    {7, "INVALID_SYNTAX"},
    {9, "INVALID_MESSAGE_ID"},
    {11, "INVALID_SPI"},
    {14, "NO_PROPOSAL_CHOSEN"},
    {17, "INVALID_KE_PAYLOAD"},
    {24, "AUTHENTICATION_FAILED"},
    {34, "SINGLE_PAIR_REQUIRED"},
    {35, "NO_ADDITIONAL_SAS"},
    {36, "INTERNAL_ADDRESS_FAILURE"},
    {37, "FAILED_CP_REQUIRED"},
    {38, "TS_UNACCEPTABLE"},
    {39, "INVALID_SELECTORS"},
    {40, "UNACCEPTABLE_ADDRESSES"},
    {41, "UNEXPECTED_NAT_DETECTED"},
    {42, "USE_ASSIGNED_HoA"},
    {43, "TEMPORARY_FAILURE"},
    {44, "CHILD_SA_NOT_FOUND"},
    {45, "INVALID_GROUP_ID"},
    {46, "AUTHORIZATION_FAILED"},
    {47, "STATE_NOT_FOUND"},
    {16384, "INITIAL_CONTACT"},
    {16385, "SET_WINDOW_SIZE"},
    {16386, "ADDITIONAL_TS_POSSIBLE"},
    {16387, "IPCOMP_SUPPORTED"},
    {16388, "NAT_DETECTION_SOURCE_IP"},
    {16389, "NAT_DETECTION_DESTINATION_IP"},
    {16390, "COOKIE"},
    {16391, "USE_TRANSPORT_MODE"},
    {16392, "HTTP_CERT_LOOKUP_SUPPORTED"},
    {16393, "REKEY_SA"},
    {16394, "ESP_TFC_PADDING_NOT_SUPPORTED"},
    {16395, "NON_FIRST_FRAGMENTS_ALSO"},
    {16396, "MOBIKE_SUPPORTED"},
    {16397, "ADDITIONAL_IP4_ADDRESS"},
    {16398, "ADDITIONAL_IP6_ADDRESS"},
    {16399, "NO_ADDITIONAL_ADDRESSES"},
    {16400, "UPDATE_SA_ADDRESSES"},
    {16401, "COOKIE2"},
    {16402, "NO_NATS_ALLOWED"},
    {16403, "AUTH_LIFETIME"},
    {16404, "MULTIPLE_AUTH_SUPPORTED"},
    {16405, "ANOTHER_AUTH_FOLLOWS"},
    {16406, "REDIRECT_SUPPORTED"},
    {16407, "REDIRECT"},
    {16408, "REDIRECTED_FROM"},
    {16409, "TICKET_LT_OPAQUE"},
    {16410, "TICKET_REQUEST"},
    {16411, "TICKET_ACK"},
    {16412, "TICKET_NACK"},
    {16413, "TICKET_OPAQUE"},
    {16414, "LINK_ID"},
    {16415, "USE_WESP_MODE"},
    {16416, "ROHC_SUPPORTED"},
    {16417, "EAP_ONLY_AUTHENTICATION"},
    {16418, "CHILDLESS_IKEV2_SUPPORTED"},
    {16419, "QUICK_CRASH_DETECTION"},
    {16420, "IKEV2_MESSAGE_ID_SYNC_SUPPORTED"},
    {16421, "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED"},
    {16422, "IKEV2_MESSAGE_ID_SYNC"},
    {16423, "IPSEC_REPLAY_COUNTER_SYNC"},
    {16424, "SECURE_PASSWORD_METHODS"},
    {16425, "PSK_PERSIST"},
    {16426, "PSK_CONFIRM"},
    {16427, "ERX_SUPPORTED"},
    {16428, "IFOM_CAPABILITY"},
    {16429, "SENDER_REQUEST_ID"},
    {16430, "IKEV2_FRAGMENTATION_SUPPORTED"},
    {16431, "SIGNATURE_HASH_ALGORITHMS"},
    {16432, "CLONE_IKE_SA_SUPPORTED"},
    {16433, "CLONE_IKE_SA"},
    {16434, "PUZZLE"},
    {16435, "USE_PPK"},
    {16436, "PPK_IDENTITY"},
    {16437, "NO_PPK_AUTH"},
    {16438, "INTERMEDIATE_EXCHANGE_SUPPORTED"},
    {16439, "IP4_ALLOWED"},
    {16440, "IP6_ALLOWED"},
});

// RFC 2408 3.14.1, RFC 2407 4.6.3 and RFC 3706 (dead peer detection).
constexpr auto kIkev1Notifies = std::to_array<std::pair<uint16_t, std::string_view>>({
    {1, "INVALID-PAYLOAD-TYPE"},
    {2, "DOI-NOT-SUPPORTED"},
    {3, "SITUATION-NOT-SUPPORTED"},
    {4, "INVALID-COOKIE"},
    {5, "INVALID-MAJOR-VERSION"},
    {6, "INVALID-MINOR-VERSION"},
    {7, "INVALID-EXCHANGE-TYPE"},
    {8, "INVALID-FLAGS"},
    {9, "INVALID-MESSAGE-ID"},
    {10, "INVALID-PROTOCOL-ID"},
    {11, "INVALID-SPI"},
    {12, "INVALID-TRANSFORM-ID"},
    {13, "ATTRIBUTES-NOT-SUPPORTED"},
    {14, "NO-PROPOSAL-CHOSEN"},
    {15, "BAD-PROPOSAL-SYNTAX"},
    {16, "PAYLOAD-MALFORMED"},
    {17, "INVALID-KEY-INFORMATION"},
    {18, "INVALID-ID-INFORMATION"},
    {19, "INVALID-CERT-ENCODING"},
    {20, "INVALID-CERTIFICATE"},
    {21, "CERT-TYPE-UNSUPPORTED"},
    {22, "INVALID-CERT-AUTHORITY"},
    {23, "INVALID-HASH-INFORMATION"},
    {24, "AUTHENTICATION-FAILED"},
    {25, "INVALID-SIGNATURE"},
    {26, "ADDRESS-NOTIFICATION"},
    {27, "NOTIFY-SA-LIFETIME"},
    {28, "CERTIFICATE-UNAVAILABLE"},
    {29, "UNSUPPORTED-EXCHANGE-TYPE"},
    {30, "UNEQUAL-PAYLOAD-LENGTHS"},
    {16384, "CONNECTED"},
    {24576, "RESPONDER-LIFETIME"},
    {24577, "REPLAY-STATUS"},
    {24578, "INITIAL-CONTACT"},
    {36136, "R-U-THERE"},
    {36137, "R-U-THERE-ACK"},
});

// RFC 7296 3.5 (IKEv2) and RFC 2407 4.6.2.1 (IKEv1) identification types.
constexpr auto kIkev2IdTypes = std::to_array<std::pair<uint8_t, std::string_view>>({
    {1, "ID_IPV4_ADDR"},
    {2, "ID_FQDN"},
    {3, "ID_RFC822_ADDR"},
    {5, "ID_IPV6_ADDR"},
    {9, "ID_DER_ASN1_DN"},
    {10, "ID_DER_ASN1_GN"},
    {11, "ID_KEY_ID"},
    {12, "ID_FC_NAME"},
    {13, "ID_NULL"},
});

constexpr auto kIkev1IdTypes = std::to_array<std::pair<uint8_t, std::string_view>>({
    {1, "ID_IPV4_ADDR"},
    {2, "ID_FQDN"},
    {3, "ID_USER_FQDN"},
    {4, "ID_IPV4_ADDR_SUBNET"},
    {5, "ID_IPV6_ADDR"},
    {6, "ID_IPV6_ADDR_SUBNET"},
    {7, "ID_IPV4_ADDR_RANGE"},
    {8, "ID_IPV6_ADDR_RANGE"},
    {9, "ID_DER_ASN1_DN"},
    {10, "ID_DER_ASN1_GN"},
    {11, "ID_KEY_ID"},
});

}  // namespace

std::string_view ethertype_name(uint16_t type) {
    return lookup(kEtherTypes, type);
}
std::string_view ip_proto_name(uint8_t proto) {
    return lookup(kIpProtocols, proto);
}
std::string_view icmp_type_name(uint8_t type) {
    return lookup(kIcmpTypes, type);
}
std::string_view icmpv6_type_name(uint8_t type) {
    return lookup(kIcmpv6Types, type);
}

std::string_view ike_exchange_name(uint8_t major, uint8_t exchange) {
    return major == 1 ? lookup(kIkev1Exchanges, exchange) : lookup(kIkev2Exchanges, exchange);
}

std::string_view ike_payload_name(uint8_t major, uint8_t type) {
    return major == 1 ? lookup(kIkev1Payloads, type) : lookup(kIkev2Payloads, type);
}

std::string_view ike_notify_name(uint8_t major, uint16_t type) {
    return major == 1 ? lookup(kIkev1Notifies, type) : lookup(kIkev2Notifies, type);
}

std::string_view ike_id_type_name(uint8_t major, uint8_t type) {
    return major == 1 ? lookup(kIkev1IdTypes, type) : lookup(kIkev2IdTypes, type);
}

std::string tcp_flags_text(uint16_t flags) {
    static constexpr auto kFlags = std::to_array<std::pair<uint16_t, std::string_view>>({
        {0x100, "NS"},
        {0x080, "CWR"},
        {0x040, "ECE"},
        {0x020, "URG"},
        {0x010, "ACK"},
        {0x008, "PSH"},
        {0x004, "RST"},
        {0x002, "SYN"},
        {0x001, "FIN"},
    });
    std::string s;
    for (const auto& [bit, name] : kFlags) {
        if ((flags & bit) != 0) {
            s += (s.empty() ? "" : " ") + std::string(name);
        }
    }
    return s.empty() ? "none" : s;
}

std::string ike_flags_text(uint8_t major, uint8_t flags) {
    // RFC 7296 3.1: Response, Version, Initiator. RFC 2408 3.1: Encryption,
    // Commit, Authentication only.
    static constexpr auto kV2 = std::to_array<std::pair<uint8_t, std::string_view>>({
        {0x08, "I"},
        {0x10, "V"},
        {0x20, "R"},
    });
    static constexpr auto kV1 = std::to_array<std::pair<uint8_t, std::string_view>>({
        {0x01, "E"},
        {0x02, "C"},
        {0x04, "A"},
    });
    std::string s;
    for (const auto& [bit, name] : (major == 1 ? kV1 : kV2)) {
        if ((flags & bit) != 0) {
            s += (s.empty() ? "" : " ") + std::string(name);
        }
    }
    return s.empty() ? "none" : s;
}

}  // namespace qvpn::trace
