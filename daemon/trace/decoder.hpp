// The packet decoder: one captured frame in, the headers it carries out, as
// plain structs. Pure and bounds-checked (every field is read through
// ByteReader; packet bytes are never cast to structs), so any component can
// use it on bytes it did not produce: PRTCMNTRC formats its records, and
// the trace job uses user_data_offset() to apply USRDTA.
//
// Decoded: Ethernet (with 802.1Q/802.1ad tags), ARP, IPv4, IPv6 (extension
// headers), ICMP, ICMPv6, TCP, UDP, ESP (SPI, sequence), AH (then the
// protected header), IP in IP, UDP-encapsulated ESP and IKE on port 4500
// (RFC 3948: non-zero first word is ESP, four zero bytes are the non-ESP
// marker before IKE, one 0xff byte is a NAT-keepalive), and IKEv1/IKEv2
// headers on 500 and 4500 with their payload chain.
//
// A header that is cut short ends the decode with a Truncated record naming
// the layer and the byte counts; everything decoded before it stays.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

struct MacAddress {
    std::array<uint8_t, 6> bytes{};
    std::string to_string() const;  // 02:00:5e:10:00:01
    bool is_broadcast() const;
    bool is_multicast() const;  // group bit set (broadcast included)
    bool operator==(const MacAddress&) const = default;
};

// IEEE 802 EtherType values that the decoder follows.
enum class EtherType : uint16_t {
    IPV4 = 0x0800,
    ARP = 0x0806,
    VLAN_8021Q = 0x8100,
    IPV6 = 0x86dd,
    QINQ_8021AD = 0x88a8,
};

// IANA Assigned Internet Protocol Numbers the decoder follows.
enum class IpProto : uint8_t {
    HOPOPT = 0,
    ICMP = 1,
    IPV4 = 4,
    TCP = 6,
    UDP = 17,
    IPV6 = 41,
    IPV6_ROUTE = 43,
    IPV6_FRAG = 44,
    ESP = 50,
    AH = 51,
    IPV6_ICMP = 58,
    IPV6_NONXT = 59,
    IPV6_OPTS = 60,
};

inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kNattPort = 4500;

struct EthernetHeader {
    MacAddress dst, src;
    uint16_t ethertype = 0;  // after any VLAN tags
    std::vector<uint16_t> vlan_ids;
};

struct ArpPacket {
    uint16_t hardware_type = 0;
    uint16_t protocol_type = 0;
    uint16_t operation = 0;      // 1 request, 2 reply
    bool ethernet_ipv4 = false;  // addresses below are set only then
    MacAddress sender_mac, target_mac;
    IpAddress sender_ip, target_ip;
};

struct Ipv4Header {
    uint8_t header_length = 0;  // bytes
    uint8_t tos = 0;
    uint16_t total_length = 0;
    uint16_t id = 0;
    bool dont_fragment = false;
    bool more_fragments = false;
    uint16_t fragment_offset = 0;  // bytes
    uint8_t ttl = 0;
    uint8_t protocol = 0;
    uint16_t checksum = 0;
    IpAddress src, dst;
};

struct Ipv6Header {
    uint8_t traffic_class = 0;
    uint32_t flow_label = 0;
    uint16_t payload_length = 0;
    uint8_t next_header = 0;  // of the fixed header
    uint8_t hop_limit = 0;
    IpAddress src, dst;
    std::vector<uint8_t> extension_headers;  // types, in order
    uint8_t upper_protocol = 0;              // after the extension headers
    bool fragment = false;
    uint16_t fragment_offset = 0;  // bytes
    bool more_fragments = false;
};

struct IcmpMessage {
    bool v6 = false;
    uint8_t type = 0;
    uint8_t code = 0;
    uint16_t checksum = 0;
    bool echo = false;  // echo request/reply: id and sequence set
    uint16_t echo_id = 0;
    uint16_t echo_sequence = 0;
};

struct TcpHeader {
    uint16_t src_port = 0, dst_port = 0;
    uint32_t sequence = 0, acknowledgment = 0;
    uint8_t header_length = 0;  // bytes
    uint16_t flags = 0;         // low 9 bits: NS CWR ECE URG ACK PSH RST SYN FIN
    uint16_t window = 0;
};

struct UdpHeader {
    uint16_t src_port = 0, dst_port = 0;
    uint16_t length = 0;
    uint16_t checksum = 0;
};

struct EspHeader {
    uint32_t spi = 0;
    uint32_t sequence = 0;
    bool udp_encapsulated = false;  // RFC 3948, on port 4500
};

struct AhHeader {
    uint8_t next_header = 0;
    uint16_t length = 0;  // bytes, from the payload length field
    uint32_t spi = 0;
    uint32_t sequence = 0;
};

struct NattKeepalive {};

struct IkePayload {
    uint8_t type = 0;
    bool critical = false;
    uint16_t length = 0;
    // Details of the payloads that carry them in clear:
    std::optional<uint16_t> notify_type;  // N (IKEv2 41, IKEv1 11)
    std::optional<uint16_t> dh_group;     // KE (IKEv2 34)
    std::optional<uint8_t> id_type;       // IDi/IDr (IKEv2 35/36), ID (IKEv1 5)
    std::string id_value;                 // for address and name IDs
    std::optional<uint8_t> inner_first;   // SK/SKF (46/53): first encrypted payload
};

struct IkeHeader {
    bool non_esp_marker = false;  // travelled on 4500 after four zero bytes
    uint64_t initiator_spi = 0;
    uint64_t responder_spi = 0;
    uint8_t next_payload = 0;
    uint8_t major_version = 0;
    uint8_t minor_version = 0;
    uint8_t exchange_type = 0;
    uint8_t flags = 0;
    uint32_t message_id = 0;
    uint32_t length = 0;
    std::vector<IkePayload> payloads;
    bool encrypted = false;           // IKEv1 E flag: the payloads after the header are ciphertext
    bool payloads_truncated = false;  // the chain runs past the captured bytes
};

struct Truncated {
    std::string layer;  // "IPv4", "UDP", "IKE", ...
    size_t have = 0;    // bytes there were
    size_t need = 0;    // bytes the header needs
};

using Layer = std::variant<EthernetHeader, ArpPacket, Ipv4Header, Ipv6Header, IcmpMessage,
                           TcpHeader, UdpHeader, EspHeader, AhHeader, NattKeepalive, IkeHeader>;

struct DecodedFrame {
    std::vector<Layer> layers;
    // Offset of the user data: the bytes after the last header decoded.
    size_t user_data_offset = 0;
    std::optional<Truncated> truncated;
    // Set when a header is well-formed but says something impossible
    // (IPv4 IHL below 5, a TCP data offset past the packet, ...).
    std::string malformed;

    template <class T>
    const T* find() const {
        for (const auto& l : layers) {
            if (const T* p = std::get_if<T>(&l)) {
                return p;
            }
        }
        return nullptr;
    }
};

struct DecodeOptions {
    bool ike_payloads = true;  // walk the IKE payload chain (PRTCMNTRC); off on the capture path
};

DecodedFrame decode(LinkType link, ByteView frame, const DecodeOptions& options = {});

// Where the user data of a frame begins: what the trace job keeps with
// USRDTA(n) is this many bytes plus n.
size_t user_data_offset(LinkType link, ByteView frame);

// Names for logs and printouts (one table per registry).
std::string_view ethertype_name(uint16_t type);
std::string_view ip_proto_name(uint8_t proto);
std::string_view icmp_type_name(uint8_t type);
std::string_view icmpv6_type_name(uint8_t type);
std::string_view ike_exchange_name(uint8_t major, uint8_t exchange);
std::string_view ike_payload_name(uint8_t major, uint8_t type);
std::string_view ike_notify_name(uint8_t major, uint16_t type);
std::string_view ike_id_type_name(uint8_t major, uint8_t type);
std::string tcp_flags_text(uint16_t flags);  // "SYN ACK"
std::string ike_flags_text(uint8_t major, uint8_t flags);

}  // namespace qvpn::trace
