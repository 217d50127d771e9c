#include "daemon/trace/printer.hpp"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace qvpn::trace {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string fmt(const char* f, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

std::string hex64(uint64_t v) {
    return fmt("%016" PRIx64, v);
}
std::string hex32(uint32_t v) {
    return fmt("%08" PRIx32, v);
}

std::string named(std::string_view name, unsigned value) {
    if (name.empty()) {
        return std::to_string(value);
    }
    return std::string(name) + " (" + std::to_string(value) + ")";
}

std::string ike_payload_text(uint8_t major, const IkePayload& p) {
    std::string_view name = ike_payload_name(major, p.type);
    std::string s = name.empty() ? "#" + std::to_string(p.type) : std::string(name);
    if (p.notify_type) {
        std::string_view n = ike_notify_name(major, *p.notify_type);
        s += "(" + (n.empty() ? std::to_string(*p.notify_type) : std::string(n)) + ")";
    } else if (p.dh_group) {
        s += "(group " + std::to_string(*p.dh_group) + ")";
    } else if (p.id_type) {
        std::string_view n = ike_id_type_name(major, *p.id_type);
        s += "(" + (n.empty() ? std::to_string(*p.id_type) : std::string(n));
        s += p.id_value.empty() ? ")" : " " + p.id_value + ")";
    } else if (p.inner_first) {
        std::string_view n = ike_payload_name(major, *p.inner_first);
        s += "(first " + (n.empty() ? std::to_string(*p.inner_first) : std::string(n)) + ")";
    }
    return s;
}

std::string ike_payload_chain(const IkeHeader& h) {
    if (h.encrypted) {
        std::string_view n = ike_payload_name(h.major_version, h.next_payload);
        return "encrypted (first " + (n.empty() ? std::to_string(h.next_payload) : std::string(n)) +
               ")";
    }
    std::string s;
    for (const auto& p : h.payloads) {
        s += (s.empty() ? "" : " ") + ike_payload_text(h.major_version, p);
    }
    if (h.payloads_truncated) {
        s += s.empty() ? "(not captured)" : " ...";
    }
    return s.empty() ? "none" : s;
}

std::string ike_kind(const IkeHeader& h) {
    bool response = h.major_version == 2 ? (h.flags & 0x20) != 0 : false;
    std::string_view x = ike_exchange_name(h.major_version, h.exchange_type);
    std::string s = "IKEv" + std::to_string(h.major_version) + " " +
                    (x.empty() ? "exchange " + std::to_string(h.exchange_type) : std::string(x));
    if (h.major_version == 2) {
        s += response ? " response" : " request";
    }
    return s;
}

std::string arp_text(const ArpPacket& a) {
    if (!a.ethernet_ipv4) {
        return "ARP operation " + std::to_string(a.operation) + " hardware " +
               std::to_string(a.hardware_type) + " protocol " + fmt("%04x", a.protocol_type);
    }
    if (a.operation == 1) {
        return "ARP request who-has " + a.target_ip.to_string() + " tell " +
               a.sender_ip.to_string();
    }
    if (a.operation == 2) {
        return "ARP reply " + a.sender_ip.to_string() + " is-at " + a.sender_mac.to_string();
    }
    return "ARP operation " + std::to_string(a.operation);
}

std::string icmp_text(const IcmpMessage& m) {
    std::string_view n = m.v6 ? icmpv6_type_name(m.type) : icmp_type_name(m.type);
    std::string s = std::string(m.v6 ? "ICMPv6 " : "ICMP ") +
                    (n.empty() ? "type " + std::to_string(m.type) : std::string(n));
    if (m.echo) {
        s += " id " + std::to_string(m.echo_id) + " seq " + std::to_string(m.echo_sequence);
    } else if (m.code != 0) {
        s += " code " + std::to_string(m.code);
    }
    return s;
}

}  // namespace

std::string format_time(uint64_t ns, bool with_date) {
    std::time_t secs = static_cast<std::time_t>(ns / 1000000000u);
    unsigned us = static_cast<unsigned>((ns % 1000000000u) / 1000u);
    std::tm tm{};
    localtime_r(&secs, &tm);
    if (with_date) {
        return fmt("%04d-%02d-%02d %02d:%02d:%02d.%06u", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
    }
    return fmt("%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

std::string format_time_iso(uint64_t ns) {
    std::time_t secs = static_cast<std::time_t>(ns / 1000000000u);
    unsigned us = static_cast<unsigned>((ns % 1000000000u) / 1000u);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt("%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
               tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

std::string hex_dump(ByteView data, size_t indent) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve((data.size() / 16 + 1) * (indent + 74));
    for (size_t off = 0; off < data.size(); off += 16) {
        out.append(indent, ' ');
        out += fmt("%04zx  ", off);
        std::string text;
        for (size_t i = 0; i < 16; ++i) {
            if (off + i < data.size()) {
                uint8_t b = data[off + i];
                out += kDigits[b >> 4];
                out += kDigits[b & 0x0f];
                out += ' ';
                text += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
            } else {
                out.append(3, ' ');
            }
            if (i == 7) {
                out += ' ';
            }
        }
        out += ' ';
        out += text;
        out += '\n';
    }
    return out;
}

std::string layer_text(const Layer& layer) {
    return std::visit(
        Overloaded{
            [](const EthernetHeader& e) {
                std::string s = "Ethernet . . : " + e.src.to_string() + " -> " + e.dst.to_string() +
                                "  type " + fmt("%04x", e.ethertype);
                std::string_view n = ethertype_name(e.ethertype);
                s += n.empty() ? "" : " (" + std::string(n) + ")";
                for (uint16_t v : e.vlan_ids) {
                    s += "  vlan " + std::to_string(v);
                }
                return s;
            },
            [](const ArpPacket& a) {
                std::string s = "ARP  . . . . : " + arp_text(a);
                if (a.ethernet_ipv4) {
                    s += "\n               sender " + a.sender_mac.to_string() + " " +
                         a.sender_ip.to_string() + "  target " + a.target_mac.to_string() + " " +
                         a.target_ip.to_string();
                }
                return s;
            },
            [](const Ipv4Header& h) {
                std::string s = "IPv4 . . . . : " + h.src.to_string() + " -> " + h.dst.to_string() +
                                "  len " + std::to_string(h.total_length) + "  id " +
                                fmt("0x%04x", h.id) + "  ttl " + std::to_string(h.ttl);
                s += h.dont_fragment ? "  DF" : "";
                s += h.more_fragments ? "  MF" : "";
                if (h.fragment_offset != 0) {
                    s += "  offset " + std::to_string(h.fragment_offset);
                }
                s += "  proto " + named(ip_proto_name(h.protocol), h.protocol);
                return s;
            },
            [](const Ipv6Header& h) {
                std::string s = "IPv6 . . . . : " + h.src.to_string() + " -> " + h.dst.to_string() +
                                "  payload " + std::to_string(h.payload_length) + "  hop limit " +
                                std::to_string(h.hop_limit);
                if (h.flow_label != 0) {
                    s += "  flow " + fmt("0x%05x", h.flow_label);
                }
                for (uint8_t x : h.extension_headers) {
                    s += "  ext " + named(ip_proto_name(x), x);
                }
                if (h.fragment) {
                    s += "  fragment offset " + std::to_string(h.fragment_offset);
                    s += h.more_fragments ? " MF" : "";
                }
                s += "  next " + named(ip_proto_name(h.upper_protocol), h.upper_protocol);
                return s;
            },
            [](const IcmpMessage& m) {
                return std::string(m.v6 ? "ICMPv6 . . . : " : "ICMP . . . . : ") +
                       icmp_text(m).substr(m.v6 ? 7 : 5) + "  type " + std::to_string(m.type) +
                       " code " + std::to_string(m.code);
            },
            [](const TcpHeader& t) {
                return "TCP  . . . . : " + std::to_string(t.src_port) + " -> " +
                       std::to_string(t.dst_port) + "  " + tcp_flags_text(t.flags) + "  seq " +
                       std::to_string(t.sequence) + "  ack " + std::to_string(t.acknowledgment) +
                       "  win " + std::to_string(t.window) + "  hdr " +
                       std::to_string(t.header_length);
            },
            [](const UdpHeader& u) {
                return "UDP  . . . . : " + std::to_string(u.src_port) + " -> " +
                       std::to_string(u.dst_port) + "  len " + std::to_string(u.length);
            },
            [](const EspHeader& e) {
                return std::string(e.udp_encapsulated ? "ESP in UDP . : " : "ESP  . . . . : ") +
                       "spi 0x" + hex32(e.spi) + "  seq " + std::to_string(e.sequence);
            },
            [](const AhHeader& a) {
                return "AH . . . . . : spi 0x" + hex32(a.spi) + "  seq " +
                       std::to_string(a.sequence) + "  len " + std::to_string(a.length) +
                       "  next " + named(ip_proto_name(a.next_header), a.next_header);
            },
            [](const NattKeepalive&) { return std::string("NAT-T  . . . : keepalive (RFC 3948)"); },
            [](const IkeHeader& h) {
                std::string_view x = ike_exchange_name(h.major_version, h.exchange_type);
                std::string s = "IKE  . . . . : ";
                s += h.non_esp_marker ? "non-ESP marker  " : "";
                s += "version " + std::to_string(h.major_version) + "." +
                     std::to_string(h.minor_version) + "  " + named(x, h.exchange_type);
                s += "\n               ispi " + hex64(h.initiator_spi) + "  rspi " +
                     hex64(h.responder_spi);
                s += "\n               msgid " + std::to_string(h.message_id) + "  flags " +
                     ike_flags_text(h.major_version, h.flags) + "  length " +
                     std::to_string(h.length);
                s += "\n               payloads " + ike_payload_chain(h);
                return s;
            },
        },
        layer);
}

std::string frame_summary(const DecodedFrame& f) {
    std::string addr;
    std::string what;
    for (const auto& layer : f.layers) {
        std::visit(
            Overloaded{
                [&](const EthernetHeader& e) {
                    std::string_view n = ethertype_name(e.ethertype);
                    what = n.empty() ? "Ethernet type " + fmt("%04x", e.ethertype) : std::string(n);
                },
                [&](const ArpPacket& a) { what = arp_text(a); },
                [&](const Ipv4Header& h) {
                    addr = h.src.to_string() + " > " + h.dst.to_string();
                    what = "IPv4 " + named(ip_proto_name(h.protocol), h.protocol);
                    if (h.fragment_offset != 0 || h.more_fragments) {
                        what += " fragment offset " + std::to_string(h.fragment_offset);
                    }
                },
                [&](const Ipv6Header& h) {
                    addr = h.src.to_string() + " > " + h.dst.to_string();
                    what = "IPv6 " + named(ip_proto_name(h.upper_protocol), h.upper_protocol);
                },
                [&](const IcmpMessage& m) { what = icmp_text(m); },
                [&](const TcpHeader& t) {
                    what = "TCP " + std::to_string(t.src_port) + " > " +
                           std::to_string(t.dst_port) + " " + tcp_flags_text(t.flags);
                },
                [&](const UdpHeader& u) {
                    what = "UDP " + std::to_string(u.src_port) + " > " + std::to_string(u.dst_port);
                },
                [&](const EspHeader& e) {
                    what = std::string(e.udp_encapsulated ? "UDP-encapsulated ESP" : "ESP") +
                           " spi 0x" + hex32(e.spi) + " seq " + std::to_string(e.sequence);
                },
                [&](const AhHeader& a) {
                    what = "AH spi 0x" + hex32(a.spi) + " seq " + std::to_string(a.sequence);
                },
                [&](const NattKeepalive&) { what = "NAT-T keepalive"; },
                [&](const IkeHeader& h) {
                    what = ike_kind(h) + " msgid " + std::to_string(h.message_id) + " " +
                           hex64(h.initiator_spi) + "/" + hex64(h.responder_spi);
                },
            },
            layer);
    }
    if (what.empty()) {
        what = "frame";
    }
    if (f.truncated) {
        what += " [" + f.truncated->layer + " truncated]";
    } else if (!f.malformed.empty()) {
        what += " [malformed]";
    }
    return addr.empty() ? what : addr + " " + what;
}

std::string column_heading() {
    return "Record  S/R   Length    Kept  Time             Summary\n"
           "------  ---  -------  ------  ---------------  -------\n";
}

std::string frame_text(size_t number, const FrameRecord& rec, const DecodedFrame& frame,
                       const PrintOptions& o) {
    std::string s =
        fmt("%6zu   %c   %7u  %6zu  ", number, rec.direction == Direction::Send ? 'S' : 'R',
            rec.original_length, rec.data.size()) +
        format_time(rec.time_ns, false) + "  " + frame_summary(frame) + "\n";
    constexpr size_t kIndent = 8;
    const std::string pad(kIndent, ' ');
    if (!o.format_tcp) {
        return s + hex_dump(rec.data, kIndent + 2);
    }
    for (const auto& layer : frame.layers) {
        std::string t = layer_text(layer);
        size_t pos = 0;
        while ((pos = t.find('\n', pos)) != std::string::npos) {
            t.insert(pos + 1, pad);
            pos += 1 + pad.size();
        }
        s += pad + t + "\n";
    }
    if (frame.truncated) {
        s += pad + "Truncated  . : " + frame.truncated->layer + " header needs " +
             std::to_string(frame.truncated->need) + " bytes, " +
             std::to_string(frame.truncated->have) + " captured\n";
    }
    if (!frame.malformed.empty()) {
        s += pad + "Malformed  . : " + frame.malformed + "\n";
    }
    size_t off = std::min(frame.user_data_offset, rec.data.size());
    ByteView user = rec.data.subspan(off);
    if (!user.empty()) {
        s += pad + "Data . . . . : " + std::to_string(user.size()) + " bytes of user data" +
             (rec.sliced ? " (frame sliced by USRDTA)" : "") + "\n";
        s += hex_dump(user, kIndent + 2);
    }
    return s;
}

std::string header_text(const TraceInfo& info, const FileHeader& file, const PrintOptions& o) {
    auto line = [](const char* label, const std::string& value) {
        return fmt("  %-31s:   ", label) + value + "\n";
    };
    std::string s = "                         COMMUNICATIONS TRACE\n\n";
    s += line("Configuration object . . . . .", info.cfgobj);
    s += line("Type . . . . . . . . . . . . .", std::string(to_cl(info.type)));
    s += line("Interface  . . . . . . . . . .", info.interface);
    s += line("Object protocol  . . . . . . .", std::string(link_name(file.link)));
    s += line("Trace description  . . . . . .", info.text);
    s += line("Trace state  . . . . . . . . .", std::string(state_name(info.state)));
    s += line("Start date/time  . . . . . . .", format_time(info.start_ns, true));
    s += line("End date/time  . . . . . . . .",
              info.end_ns != 0 ? format_time(info.end_ns, true) : std::string("*NONE"));
    s += line("Buffer size  . . . . . . . . .", std::to_string(file.ring.capacity) + " bytes");
    s += line("Bytes in buffer  . . . . . . .", std::to_string(file.ring.used));
    s += line("Data direction . . . . . . . .", std::string(to_cl(file.dtadir)));
    s += line("Trace full . . . . . . . . . .",
              std::string(to_cl(file.trcfull)) + (file.wrapped() ? " (wrapped)"
                                                  : file.full    ? " (buffer filled)"
                                                                 : ""));
    s += line("User data bytes  . . . . . . .",
              file.usrdta == kUserDataAll ? std::string("*MAX") : std::to_string(file.usrdta));
    s += line("Frames traced  . . . . . . . .", std::to_string(file.counters.seen));
    s += line("Frames in buffer . . . . . . .", std::to_string(file.ring.count));
    s += line("Frames overwritten . . . . . .", std::to_string(file.counters.overwritten));
    s += line("Frames not traced (full) . . .", std::to_string(file.counters.refused));
    s += line("Frames dropped by the kernel .", std::to_string(file.counters.kernel_drops));
    s += line("Format TCP/IP data . . . . . .", o.format_tcp ? "*YES" : "*NO");
    s += line("Selections . . . . . . . . . .", o.selection.to_cl());
    return s + "\n";
}

nlohmann::json header_json(const TraceInfo& info, const FileHeader& file) {
    return {
        {"cfgobj", info.cfgobj},
        {"cfgtype", std::string(to_cl(info.type))},
        {"interface", info.interface},
        {"protocol", std::string(link_name(file.link))},
        {"linktype", static_cast<uint32_t>(file.link)},
        {"text", info.text},
        {"state", std::string(state_key(info.state))},
        {"start", format_time_iso(info.start_ns)},
        {"end", info.end_ns != 0 ? format_time_iso(info.end_ns) : std::string()},
        {"buffer_bytes", file.ring.capacity},
        {"bytes_used", file.ring.used},
        {"dtadir", std::string(to_cl(file.dtadir))},
        {"trcfull", std::string(to_cl(file.trcfull))},
        {"wrapped", file.wrapped()},
        {"full", file.full},
        {"usrdta",
         file.usrdta == kUserDataAll ? nlohmann::json("*MAX") : nlohmann::json(file.usrdta)},
        {"frames_traced", file.counters.seen},
        {"frames_in_buffer", file.ring.count},
        {"frames_overwritten", file.counters.overwritten},
        {"frames_refused", file.counters.refused},
        {"kernel_drops", file.counters.kernel_drops},
    };
}

nlohmann::json layer_json(const Layer& layer) {
    return std::visit(
        Overloaded{
            [](const EthernetHeader& e) {
                nlohmann::json j = {{"layer", "ethernet"},
                                    {"src", e.src.to_string()},
                                    {"dst", e.dst.to_string()},
                                    {"ethertype", e.ethertype}};
                if (!e.vlan_ids.empty()) {
                    j["vlan"] = e.vlan_ids;
                }
                return j;
            },
            [](const ArpPacket& a) {
                nlohmann::json j = {{"layer", "arp"}, {"operation", a.operation}};
                if (a.ethernet_ipv4) {
                    j["sender_mac"] = a.sender_mac.to_string();
                    j["sender_ip"] = a.sender_ip.to_string();
                    j["target_mac"] = a.target_mac.to_string();
                    j["target_ip"] = a.target_ip.to_string();
                }
                return j;
            },
            [](const Ipv4Header& h) {
                return nlohmann::json{{"layer", "ipv4"},
                                      {"src", h.src.to_string()},
                                      {"dst", h.dst.to_string()},
                                      {"protocol", h.protocol},
                                      {"total_length", h.total_length},
                                      {"id", h.id},
                                      {"ttl", h.ttl},
                                      {"df", h.dont_fragment},
                                      {"mf", h.more_fragments},
                                      {"fragment_offset", h.fragment_offset}};
            },
            [](const Ipv6Header& h) {
                return nlohmann::json{{"layer", "ipv6"},
                                      {"src", h.src.to_string()},
                                      {"dst", h.dst.to_string()},
                                      {"next_header", h.next_header},
                                      {"protocol", h.upper_protocol},
                                      {"payload_length", h.payload_length},
                                      {"hop_limit", h.hop_limit},
                                      {"extension_headers", h.extension_headers},
                                      {"fragment", h.fragment}};
            },
            [](const IcmpMessage& m) {
                nlohmann::json j = {
                    {"layer", m.v6 ? "icmpv6" : "icmp"}, {"type", m.type}, {"code", m.code}};
                if (m.echo) {
                    j["id"] = m.echo_id;
                    j["sequence"] = m.echo_sequence;
                }
                return j;
            },
            [](const TcpHeader& t) {
                return nlohmann::json{{"layer", "tcp"},          {"src_port", t.src_port},
                                      {"dst_port", t.dst_port},  {"sequence", t.sequence},
                                      {"ack", t.acknowledgment}, {"flags", tcp_flags_text(t.flags)},
                                      {"window", t.window}};
            },
            [](const UdpHeader& u) {
                return nlohmann::json{{"layer", "udp"},
                                      {"src_port", u.src_port},
                                      {"dst_port", u.dst_port},
                                      {"length", u.length}};
            },
            [](const EspHeader& e) {
                return nlohmann::json{{"layer", "esp"},
                                      {"spi", hex32(e.spi)},
                                      {"sequence", e.sequence},
                                      {"udp_encapsulated", e.udp_encapsulated}};
            },
            [](const AhHeader& a) {
                return nlohmann::json{{"layer", "ah"},
                                      {"spi", hex32(a.spi)},
                                      {"sequence", a.sequence},
                                      {"next_header", a.next_header},
                                      {"length", a.length}};
            },
            [](const NattKeepalive&) {
                return nlohmann::json{{"layer", "natt_keepalive"}};
            },
            [](const IkeHeader& h) {
                nlohmann::json payloads = nlohmann::json::array();
                for (const auto& p : h.payloads) {
                    nlohmann::json pj = {{"type", p.type},
                                         {"name", ike_payload_name(h.major_version, p.type)},
                                         {"length", p.length},
                                         {"critical", p.critical}};
                    if (p.notify_type) {
                        pj["notify"] = *p.notify_type;
                        pj["notify_name"] = ike_notify_name(h.major_version, *p.notify_type);
                    }
                    if (p.dh_group) {
                        pj["dh_group"] = *p.dh_group;
                    }
                    if (p.id_type) {
                        pj["id_type"] = *p.id_type;
                        pj["id"] = p.id_value;
                    }
                    if (p.inner_first) {
                        pj["inner_first"] = *p.inner_first;
                    }
                    payloads.push_back(std::move(pj));
                }
                return nlohmann::json{
                    {"layer", "ike"},
                    {"non_esp_marker", h.non_esp_marker},
                    {"ispi", hex64(h.initiator_spi)},
                    {"rspi", hex64(h.responder_spi)},
                    {"version",
                     std::to_string(h.major_version) + "." + std::to_string(h.minor_version)},
                    {"exchange", h.exchange_type},
                    {"exchange_name", ike_exchange_name(h.major_version, h.exchange_type)},
                    {"message_id", h.message_id},
                    {"flags", h.flags},
                    {"flags_text", ike_flags_text(h.major_version, h.flags)},
                    {"length", h.length},
                    {"next_payload", h.next_payload},
                    {"encrypted", h.encrypted},
                    {"payloads_truncated", h.payloads_truncated},
                    {"payloads", payloads}};
            },
        },
        layer);
}

nlohmann::json frame_json(size_t number, const FrameRecord& rec, const DecodedFrame& frame,
                          bool format_tcp) {
    nlohmann::json j = {{"record", number},
                        {"time", format_time_iso(rec.time_ns)},
                        {"time_ns", rec.time_ns},
                        {"direction", std::string(to_cl(rec.direction))},
                        {"length", rec.original_length},
                        {"captured", rec.data.size()},
                        {"sliced", rec.sliced},
                        {"summary", frame_summary(frame)}};
    size_t off = format_tcp ? std::min(frame.user_data_offset, rec.data.size()) : 0;
    if (format_tcp) {
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& l : frame.layers) {
            layers.push_back(layer_json(l));
        }
        j["layers"] = std::move(layers);
        if (frame.truncated) {
            j["truncated"] = {{"layer", frame.truncated->layer},
                              {"have", frame.truncated->have},
                              {"need", frame.truncated->need}};
        }
        if (!frame.malformed.empty()) {
            j["malformed"] = frame.malformed;
        }
    }
    j["data"] = to_hex(rec.data.subspan(off));
    return j;
}

}  // namespace qvpn::trace
