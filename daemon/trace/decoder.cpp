#include "daemon/trace/decoder.hpp"

#include <algorithm>
#include <cstdio>

namespace qvpn::trace {

namespace {

// Bounds on the work one frame can cause, whatever its bytes say.
constexpr size_t kMaxLayers = 16;
constexpr size_t kMaxVlanTags = 2;
constexpr size_t kMaxIpv6Extensions = 8;
constexpr size_t kMaxIkePayloads = 64;
constexpr size_t kMaxIdText = 64;

constexpr size_t kEthernetBytes = 14;
constexpr size_t kArpBytes = 8;  // fixed part before the addresses
constexpr size_t kIpv4MinBytes = 20;
constexpr size_t kIpv6Bytes = 40;
constexpr size_t kIcmpBytes = 8;
constexpr size_t kTcpMinBytes = 20;
constexpr size_t kUdpBytes = 8;
constexpr size_t kEspBytes = 8;
constexpr size_t kAhMinBytes = 12;
constexpr size_t kIkeHeaderBytes = 28;
constexpr size_t kIkePayloadHeaderBytes = 4;
constexpr size_t kNonEspMarkerBytes = 4;

// IKEv2 payload types with details (RFC 7296 3.2).
constexpr uint8_t kV2PayloadKe = 34;
constexpr uint8_t kV2PayloadIdi = 35;
constexpr uint8_t kV2PayloadIdr = 36;
constexpr uint8_t kV2PayloadNotify = 41;
constexpr uint8_t kV2PayloadSk = 46;
constexpr uint8_t kV2PayloadSkf = 53;
// IKEv1 payload types with details (RFC 2408 3.1).
constexpr uint8_t kV1PayloadId = 5;
constexpr uint8_t kV1PayloadNotify = 11;
constexpr uint8_t kV1FlagEncryption = 0x01;

class Decoder {
public:
    Decoder(ByteView frame, const DecodeOptions& options, DecodedFrame& out)
        : f_(frame), opt_(options), out_(out) {}

    void run(LinkType link) {
        if (link == LinkType::Ethernet) {
            ethernet();
        } else {
            ip(0, f_.size());
        }
    }

private:
    // Room for a header of n bytes at off, before end? Records the truncation
    // when there is not.
    bool need(const char* layer, size_t off, size_t n, size_t end) {
        if (off <= end && end - off >= n) {
            return true;
        }
        out_.truncated = Truncated{layer, off <= end ? end - off : 0, n};
        return false;
    }

    bool room_for_layer() {
        if (out_.layers.size() < kMaxLayers) {
            return true;
        }
        out_.malformed = "more than " + std::to_string(kMaxLayers) + " nested headers";
        return false;
    }

    void header_ends_at(size_t off) { out_.user_data_offset = off; }

    ByteReader reader(size_t off, size_t n) const { return ByteReader(f_.subspan(off, n)); }

    static MacAddress mac(ByteReader& r) {
        MacAddress m;
        ByteView b = r.bytes(6);
        if (b.size() == 6) {
            std::copy(b.begin(), b.end(), m.bytes.begin());
        }
        return m;
    }

    static IpAddress address(ByteReader& r, size_t len) {
        ByteView b = r.bytes(len);
        auto a = b.size() == len ? IpAddress::from_bytes(b.data(), len) : std::nullopt;
        return a.value_or(IpAddress());
    }

    void ethernet() {
        if (!need("Ethernet", 0, kEthernetBytes, f_.size())) {
            return;
        }
        ByteReader r = reader(0, kEthernetBytes);
        EthernetHeader e;
        e.dst = mac(r);
        e.src = mac(r);
        e.ethertype = r.u16();
        size_t off = kEthernetBytes;
        while ((e.ethertype == static_cast<uint16_t>(EtherType::VLAN_8021Q) ||
                e.ethertype == static_cast<uint16_t>(EtherType::QINQ_8021AD)) &&
               e.vlan_ids.size() < kMaxVlanTags) {
            if (!need("802.1Q tag", off, 4, f_.size())) {
                out_.layers.emplace_back(std::move(e));
                header_ends_at(off);
                return;
            }
            ByteReader t = reader(off, 4);
            e.vlan_ids.push_back(t.u16() & 0x0fff);
            e.ethertype = t.u16();
            off += 4;
        }
        uint16_t type = e.ethertype;
        out_.layers.emplace_back(std::move(e));
        header_ends_at(off);
        switch (static_cast<EtherType>(type)) {
            case EtherType::IPV4:
            case EtherType::IPV6: ip(off, f_.size()); break;
            case EtherType::ARP: arp(off); break;
            default: break;  // 802.3 length field or a protocol we leave as data
        }
    }

    void arp(size_t off) {
        if (!need("ARP", off, kArpBytes, f_.size())) {
            return;
        }
        ByteReader r = reader(off, kArpBytes);
        ArpPacket a;
        a.hardware_type = r.u16();
        a.protocol_type = r.u16();
        uint8_t hlen = r.u8();
        uint8_t plen = r.u8();
        a.operation = r.u16();
        size_t body = 2u * hlen + 2u * plen;
        if (!need("ARP", off, kArpBytes + body, f_.size())) {
            return;
        }
        a.ethernet_ipv4 =
            a.hardware_type == 1 && a.protocol_type == 0x0800 && hlen == 6 && plen == 4;
        if (a.ethernet_ipv4) {
            ByteReader b = reader(off + kArpBytes, body);
            a.sender_mac = mac(b);
            a.sender_ip = address(b, 4);
            a.target_mac = mac(b);
            a.target_ip = address(b, 4);
        }
        out_.layers.emplace_back(std::move(a));
        header_ends_at(off + kArpBytes + body);
    }

    // An IP packet at off; the version nibble says which.
    void ip(size_t off, size_t end) {
        if (!need("IP", off, 1, end)) {
            return;
        }
        uint8_t version = f_[off] >> 4;
        if (version == 4) {
            ipv4(off, end);
        } else if (version == 6) {
            ipv6(off, end);
        } else {
            out_.malformed = "IP version " + std::to_string(version);
        }
    }

    void ipv4(size_t off, size_t end) {
        if (!room_for_layer() || !need("IPv4", off, kIpv4MinBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kIpv4MinBytes);
        Ipv4Header h;
        uint8_t vihl = r.u8();
        h.header_length = static_cast<uint8_t>((vihl & 0x0f) * 4);
        h.tos = r.u8();
        h.total_length = r.u16();
        h.id = r.u16();
        uint16_t frag = r.u16();
        h.dont_fragment = (frag & 0x4000) != 0;
        h.more_fragments = (frag & 0x2000) != 0;
        h.fragment_offset = static_cast<uint16_t>((frag & 0x1fff) * 8);
        h.ttl = r.u8();
        h.protocol = r.u8();
        h.checksum = r.u16();
        h.src = address(r, 4);
        h.dst = address(r, 4);
        if (h.header_length < kIpv4MinBytes) {
            out_.malformed = "IPv4 header length " + std::to_string(h.header_length);
            out_.layers.emplace_back(h);
            header_ends_at(off + kIpv4MinBytes);
            return;
        }
        if (!need("IPv4 options", off, h.header_length, end)) {
            out_.layers.emplace_back(h);
            header_ends_at(off + kIpv4MinBytes);
            return;
        }
        // The packet ends where its total length says (Ethernet pads short frames).
        size_t packet_end = end;
        if (h.total_length >= h.header_length && h.total_length <= end - off) {
            packet_end = off + h.total_length;
        }
        bool first_fragment = h.fragment_offset == 0;
        uint8_t proto = h.protocol;
        out_.layers.emplace_back(h);
        header_ends_at(off + h.header_length);
        if (first_fragment) {
            transport(proto, off + h.header_length, packet_end);
        }
    }

    void ipv6(size_t off, size_t end) {
        if (!room_for_layer() || !need("IPv6", off, kIpv6Bytes, end)) {
            return;
        }
        ByteReader r = reader(off, kIpv6Bytes);
        Ipv6Header h;
        uint32_t first = r.u32();
        h.traffic_class = static_cast<uint8_t>(first >> 20);
        h.flow_label = first & 0xfffff;
        h.payload_length = r.u16();
        h.next_header = r.u8();
        h.hop_limit = r.u8();
        h.src = address(r, 16);
        h.dst = address(r, 16);
        size_t packet_end = end;
        if (h.payload_length != 0 && h.payload_length <= end - off - kIpv6Bytes) {
            packet_end = off + kIpv6Bytes + h.payload_length;
        }

        // RFC 8200 4: extension headers chain through their first byte.
        size_t pos = off + kIpv6Bytes;
        uint8_t next = h.next_header;
        while (h.extension_headers.size() < kMaxIpv6Extensions) {
            auto np = static_cast<IpProto>(next);
            if (np != IpProto::HOPOPT && np != IpProto::IPV6_ROUTE && np != IpProto::IPV6_OPTS &&
                np != IpProto::IPV6_FRAG) {
                break;
            }
            if (!need("IPv6 extension header", pos, 8, packet_end)) {
                out_.layers.emplace_back(std::move(h));
                header_ends_at(pos);
                return;
            }
            ByteReader e = reader(pos, 8);
            uint8_t following = e.u8();
            uint8_t len_field = e.u8();
            size_t len = 8;
            if (np == IpProto::IPV6_FRAG) {
                uint16_t fo = e.u16();
                h.fragment = true;
                h.fragment_offset = static_cast<uint16_t>(fo & 0xfff8);
                h.more_fragments = (fo & 1) != 0;
            } else {
                len = (static_cast<size_t>(len_field) + 1) * 8;
                if (!need("IPv6 extension header", pos, len, packet_end)) {
                    out_.layers.emplace_back(std::move(h));
                    header_ends_at(pos);
                    return;
                }
            }
            h.extension_headers.push_back(next);
            next = following;
            pos += len;
        }
        h.upper_protocol = next;
        bool first_fragment = h.fragment_offset == 0;
        out_.layers.emplace_back(std::move(h));
        header_ends_at(pos);
        if (first_fragment) {
            transport(next, pos, packet_end);
        }
    }

    void transport(uint8_t proto, size_t off, size_t end) {
        switch (static_cast<IpProto>(proto)) {
            case IpProto::ICMP: icmp(off, end, false); break;
            case IpProto::IPV6_ICMP: icmp(off, end, true); break;
            case IpProto::TCP: tcp(off, end); break;
            case IpProto::UDP: udp(off, end); break;
            case IpProto::ESP: esp(off, end, false); break;
            case IpProto::AH: ah(off, end); break;
            case IpProto::IPV4: ipv4(off, end); break;
            case IpProto::IPV6: ipv6(off, end); break;
            default: break;
        }
    }

    void icmp(size_t off, size_t end, bool v6) {
        if (!need(v6 ? "ICMPv6" : "ICMP", off, kIcmpBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kIcmpBytes);
        IcmpMessage m;
        m.v6 = v6;
        m.type = r.u8();
        m.code = r.u8();
        m.checksum = r.u16();
        m.echo = v6 ? (m.type == 128 || m.type == 129) : (m.type == 0 || m.type == 8);
        m.echo_id = r.u16();
        m.echo_sequence = r.u16();
        out_.layers.emplace_back(m);
        header_ends_at(off + kIcmpBytes);
    }

    void tcp(size_t off, size_t end) {
        if (!need("TCP", off, kTcpMinBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kTcpMinBytes);
        TcpHeader t;
        t.src_port = r.u16();
        t.dst_port = r.u16();
        t.sequence = r.u32();
        t.acknowledgment = r.u32();
        uint16_t off_flags = r.u16();
        t.header_length = static_cast<uint8_t>((off_flags >> 12) * 4);
        t.flags = off_flags & 0x01ff;
        t.window = r.u16();
        out_.layers.emplace_back(t);
        if (t.header_length < kTcpMinBytes) {
            out_.malformed = "TCP header length " + std::to_string(t.header_length);
            header_ends_at(off + kTcpMinBytes);
            return;
        }
        if (!need("TCP options", off, t.header_length, end)) {
            header_ends_at(off + kTcpMinBytes);
            return;
        }
        header_ends_at(off + t.header_length);
    }

    void udp(size_t off, size_t end) {
        if (!need("UDP", off, kUdpBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kUdpBytes);
        UdpHeader u;
        u.src_port = r.u16();
        u.dst_port = r.u16();
        u.length = r.u16();
        u.checksum = r.u16();
        out_.layers.emplace_back(u);
        header_ends_at(off + kUdpBytes);
        size_t payload = off + kUdpBytes;
        size_t payload_end = end;
        if (u.length >= kUdpBytes && u.length <= end - off) {
            payload_end = off + u.length;
        }
        if (u.src_port == kNattPort || u.dst_port == kNattPort) {
            nat_traversal(payload, payload_end);
        } else if (u.src_port == kIkePort || u.dst_port == kIkePort) {
            ike(payload, payload_end, false);
        }
    }

    // RFC 3948 2.2 and 2.3: what travels in UDP on port 4500.
    void nat_traversal(size_t off, size_t end) {
        if (off >= end) {
            return;
        }
        if (end - off == 1 && f_[off] == 0xff) {
            out_.layers.emplace_back(NattKeepalive{});
            header_ends_at(off + 1);
            return;
        }
        if (end - off >= kNonEspMarkerBytes) {
            ByteReader r = reader(off, kNonEspMarkerBytes);
            if (r.u32() == 0) {
                ike(off + kNonEspMarkerBytes, end, true);
                return;
            }
        }
        esp(off, end, true);
    }

    void esp(size_t off, size_t end, bool encapsulated) {
        if (!need(encapsulated ? "UDP-encapsulated ESP" : "ESP", off, kEspBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kEspBytes);
        EspHeader e;
        e.spi = r.u32();
        e.sequence = r.u32();
        e.udp_encapsulated = encapsulated;
        out_.layers.emplace_back(e);
        header_ends_at(off + kEspBytes);
    }

    // RFC 4302 2: AH authenticates, it does not hide; the header it protects
    // follows the ICV.
    void ah(size_t off, size_t end) {
        if (!room_for_layer() || !need("AH", off, kAhMinBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kAhMinBytes);
        AhHeader a;
        a.next_header = r.u8();
        a.length = static_cast<uint16_t>((r.u8() + 2) * 4);
        r.skip(2);
        a.spi = r.u32();
        a.sequence = r.u32();
        if (a.length < kAhMinBytes) {
            out_.malformed = "AH length " + std::to_string(a.length);
            out_.layers.emplace_back(a);
            header_ends_at(off + kAhMinBytes);
            return;
        }
        if (!need("AH integrity check value", off, a.length, end)) {
            out_.layers.emplace_back(a);
            header_ends_at(off + kAhMinBytes);
            return;
        }
        uint8_t next = a.next_header;
        out_.layers.emplace_back(a);
        header_ends_at(off + a.length);
        transport(next, off + a.length, end);
    }

    void ike(size_t off, size_t end, bool marker) {
        if (!need("IKE", off, kIkeHeaderBytes, end)) {
            return;
        }
        ByteReader r = reader(off, kIkeHeaderBytes);
        IkeHeader h;
        h.non_esp_marker = marker;
        h.initiator_spi = r.u64();
        h.responder_spi = r.u64();
        h.next_payload = r.u8();
        uint8_t version = r.u8();
        h.major_version = version >> 4;
        h.minor_version = version & 0x0f;
        h.exchange_type = r.u8();
        h.flags = r.u8();
        h.message_id = r.u32();
        h.length = r.u32();
        header_ends_at(off + kIkeHeaderBytes);
        if (opt_.ike_payloads) {
            ike_payloads(h, off, end);
        }
        out_.layers.emplace_back(std::move(h));
    }

    // RFC 7296 3.2 / RFC 2408 3.2: every payload begins with the type of the
    // next one, a flags byte and its own length.
    void ike_payloads(IkeHeader& h, size_t off, size_t end) {
        size_t msg_end = end;
        if (h.length >= kIkeHeaderBytes && h.length <= end - off) {
            msg_end = off + h.length;
        }
        bool declared_longer = h.length > end - off;
        if (h.major_version == 1 && (h.flags & kV1FlagEncryption) != 0) {
            h.encrypted = true;
            return;
        }
        size_t pos = off + kIkeHeaderBytes;
        uint8_t next = h.next_payload;
        while (next != 0 && h.payloads.size() < kMaxIkePayloads) {
            if (msg_end - pos < kIkePayloadHeaderBytes) {
                h.payloads_truncated = declared_longer;
                if (!declared_longer) {
                    out_.malformed = "IKE payload chain runs past the message";
                }
                return;
            }
            ByteReader g = reader(pos, kIkePayloadHeaderBytes);
            IkePayload p;
            p.type = next;
            uint8_t following = g.u8();
            p.critical = (g.u8() & 0x80) != 0;
            p.length = g.u16();
            if (p.length < kIkePayloadHeaderBytes) {
                out_.malformed = "IKE payload length " + std::to_string(p.length);
                return;
            }
            size_t body = pos + kIkePayloadHeaderBytes;
            size_t body_len = std::min<size_t>(p.length - kIkePayloadHeaderBytes, msg_end - body);
            payload_details(h.major_version, p, body, body_len, following);
            const uint16_t length = p.length;
            h.payloads.push_back(std::move(p));
            if (h.major_version == 2 && (next == kV2PayloadSk || next == kV2PayloadSkf)) {
                return;  // the rest of the chain is inside the ciphertext
            }
            if (length > msg_end - pos) {
                h.payloads_truncated = declared_longer;
                if (!declared_longer) {
                    out_.malformed = "IKE payload runs past the message";
                }
                return;
            }
            pos += length;
            next = following;
        }
    }

    void payload_details(uint8_t major, IkePayload& p, size_t body, size_t len, uint8_t next) {
        ByteReader r = reader(body, len);
        if (major == 2) {
            switch (p.type) {
                case kV2PayloadNotify:
                    r.skip(2);  // protocol ID, SPI size
                    if (auto t = r.u16(); !r.failed()) {
                        p.notify_type = t;
                    }
                    break;
                case kV2PayloadKe:
                    if (auto g = r.u16(); !r.failed()) {
                        p.dh_group = g;
                    }
                    break;
                case kV2PayloadIdi:
                case kV2PayloadIdr: identification(p, r, 3); break;
                case kV2PayloadSk:
                case kV2PayloadSkf: p.inner_first = next; break;
                default: break;
            }
            return;
        }
        if (major == 1) {
            if (p.type == kV1PayloadNotify) {
                r.skip(6);  // DOI, protocol ID, SPI size
                if (auto t = r.u16(); !r.failed()) {
                    p.notify_type = t;
                }
            } else if (p.type == kV1PayloadId) {
                identification(p, r, 3);  // protocol ID and port follow the type
            }
        }
    }

    // ID payloads: type, three more bytes, then the identity.
    static void identification(IkePayload& p, ByteReader& r, size_t skip) {
        uint8_t type = r.u8();
        r.skip(skip);
        if (r.failed()) {
            return;
        }
        p.id_type = type;
        ByteView v = r.rest();
        if ((type == 1 && v.size() == 4) || (type == 5 && v.size() == 16)) {
            auto a = IpAddress::from_bytes(v.data(), v.size());
            p.id_value = a ? a->to_string() : "";
            return;
        }
        if (type == 2 || type == 3) {  // FQDN, RFC822 / USER_FQDN
            for (size_t i = 0; i < v.size() && i < kMaxIdText; ++i) {
                char c = static_cast<char>(v[i]);
                p.id_value += (c >= 0x20 && c < 0x7f) ? c : '.';
            }
        }
    }

    ByteView f_;
    const DecodeOptions& opt_;
    DecodedFrame& out_;
};

}  // namespace

std::string MacAddress::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

bool MacAddress::is_broadcast() const {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0xff; });
}

bool MacAddress::is_multicast() const {
    return (bytes[0] & 1) != 0;
}

DecodedFrame decode(LinkType link, ByteView frame, const DecodeOptions& options) {
    DecodedFrame out;
    out.layers.reserve(6);
    Decoder(frame, options, out).run(link);
    return out;
}

size_t user_data_offset(LinkType link, ByteView frame) {
    return decode(link, frame, DecodeOptions{.ike_payloads = false}).user_data_offset;
}

}  // namespace qvpn::trace
