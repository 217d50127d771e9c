// The connection manager's live view of a connection, as a section of
// DSPVPNCNN (connections.hpp's extension point): current attributes and the
// installed security associations, asked from QTOVMAN with the IPC "status"
// op. Linked into the display commands as an object of its own, so the
// registration below runs at program start.
#include <cstdio>

#include "commands/lib/connections.hpp"
#include "commands/lib/live_status.hpp"
#include "core/ipc/control.hpp"
#include "core/msg/catalog.hpp"

namespace qvpn::cmd {

namespace {

std::string str(const nlohmann::json& j, const char* k) {
    if (!j.contains(k)) {
        return "";
    }
    return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

// "ESP ENCR_AES_GCM_16/128" or "ESP ENCR_AES_CBC/128 AUTH_HMAC_SHA2_256_128",
// with AH's integrity in front for AH+ESP.
std::string algorithms(const nlohmann::json& sa) {
    std::string out;
    if (sa.contains("ah")) {
        out = "AH " + str(sa["ah"]["out"], "integ");
    }
    if (sa.contains("esp")) {
        const auto& o = sa["esp"]["out"];
        std::string integ = str(o, "integ");
        out += std::string(out.empty() ? "" : " ") + "ESP " + str(o, "encr") + "/" +
               str(o, "encr_key_bits") + (integ.empty() || integ == "NONE" ? "" : " " + integ);
    }
    if (sa.value("encap", false)) {
        out += " UDP " + str(sa, "encap_ports");
    }
    return out;
}

std::string spi(const nlohmann::json& sa, const char* dir) {
    std::string out;
    for (const char* proto : {"ah", "esp"}) {
        if (sa.contains(proto)) {
            out += (out.empty() ? "" : "/") + str(sa[proto][dir], "spi");
        }
    }
    return out;
}

std::string reqid_hex(const nlohmann::json& sa) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", sa.value("reqid", 0u));
    return b;
}

Table sa_table(const nlohmann::json& sas) {
    Table t;
    t.columns = {{"reqid", "Reqid"},         {"spi_in", "SPI in"},
                 {"spi_out", "SPI out"},     {"algorithms", "Algorithms"},
                 {"bytes_in", "Bytes in"},   {"bytes_out", "Bytes out"},
                 {"lifetime", "Lifetime s"}, {"next_refresh", "Next refresh"}};
    for (const auto& sa : sas) {
        Panel row;
        row.add("reqid", "Reqid", reqid_hex(sa))
            .add("spi_in", "SPI in", spi(sa, "in"))
            .add("spi_out", "SPI out", spi(sa, "out"))
            .add("protocols", "Protocols", str(sa, "protocols"))
            .add("algorithms", "Algorithms", algorithms(sa))
            .add("mode", "Mode", str(sa, "mode"))
            .add("bytes_in", "Bytes in", str(sa, "bytes_in"))
            .add("bytes_out", "Bytes out", str(sa, "bytes_out"))
            .add("packets_in", "Packets in", str(sa, "packets_in"))
            .add("packets_out", "Packets out", str(sa, "packets_out"))
            .add("lifetime", "Lifetime s", str(sa, "lifetime_hard_seconds"))
            .add("refresh", "Refresh after s", str(sa, "lifetime_soft_seconds"))
            .add("lifetime_kb", "Lifetime kilobytes",
                 sa.value("lifetime_hard_bytes", 0u) == 0
                     ? "*NOMAX"
                     : std::to_string(sa.value("lifetime_hard_bytes", 0ull) / 1024))
            .add("installed", "Installed", str(sa, "installed"))
            .add("next_refresh", "Next refresh", str(sa, "next_refresh"))
            .add("local_ts", "Local selectors", sa.contains("ts_local") ? sa["ts_local"].dump() : "")
            .add("remote_ts", "Remote selectors",
                 sa.contains("ts_remote") ? sa["ts_remote"].dump() : "");
        t.rows.push_back(std::move(row));
    }
    return t;
}

void live_section(const ConnectionEntry& e, Panel& out) {
    Panel live;
    auto r = ipc::request({{"op", "status"}, {"conn", e.name}}, std::chrono::seconds(3));
    if (!r.ok() || !r->ok) {
        Msg m = r.ok() ? (r->msgs.empty() ? msg("IPC0003", "QTOVMAN.sock", "no data")
                                          : r->msgs.back())
                       : r.error();
        live.add("message", "Message", msgcat::line(m));
        out.add_panel("live", "Connection manager", std::move(live));
        return;
    }
    const auto& conns = r->data.contains("connections") ? r->data["connections"]
                                                        : nlohmann::json::array();
    const nlohmann::json* c = nullptr;
    for (const auto& x : conns) {
        if (str(x, "name") == e.name) {
            c = &x;
        }
    }
    if (c == nullptr) {
        live.add("state", "Current state", "*IDLE");
        out.add_panel("live", "Connection manager", std::move(live));
        return;
    }
    live.add("state", "Current state", str(*c, "state"))
        .add("started", "Started", str(*c, "started"))
        .add("local_endpoint", "Local connection endpoint", str(*c, "local_endpoint"))
        .add("remote_endpoint", "Remote connection endpoint", str(*c, "remote_endpoint"))
        .add("local_data", "Local data endpoint", str(*c, "local_data"))
        .add("remote_data", "Remote data endpoint", str(*c, "remote_data"))
        .add("refreshes", "Times refreshed", str(*c, "refreshes"))
        .add("initiator", "Started by", c->value("initiator", true) ? "*LOCAL" : "*REMOTE")
        .add("data_path", "Data path", str(*c, "data_path"));
    if (c->contains("ike")) {
        const auto& ike = (*c)["ike"];
        live.add("ike_sa", "IKE SA", str(ike, "ike"))
            .add("ike_peer", "IKE peer", str(ike, "peer"))
            .add("ike_algorithms", "IKE algorithms",
                 str(ike, "encr") + " " + str(ike, "prf") + " " + str(ike, "dh") + " " +
                     str(ike, "auth"));
    }
    if (c->contains("error")) {
        auto m = ipc::msg_from_json((*c)["error"]);
        if (m.ok()) {
            live.add("error", "Error", msgcat::line(*m));
        }
    }
    live.add_table("sas", "Security associations",
                   sa_table(c->contains("sas") ? (*c)["sas"] : nlohmann::json::array()));
    out.add_panel("live", "Connection manager", std::move(live));
}

// Registered when the program starts.
const bool kRegistered = [] {
    connection_sections().push_back(live_section);
    return true;
}();

}  // namespace

void print_live_sas(const std::function<bool(const std::string&)>& wanted) {
    auto r = ipc::request({{"op", "status"}}, std::chrono::seconds(3));
    std::printf("\n Security associations (connection manager)\n\n");
    if (!r.ok() || !r->ok) {
        Msg m = r.ok() ? (r->msgs.empty() ? msg("IPC0003", "QTOVMAN.sock", "no data")
                                          : r->msgs.back())
                       : r.error();
        std::printf("   %s\n", msgcat::line(m).c_str());
        return;
    }
    Table t;
    t.columns = {{"name", "Connection"},       {"state", "Status"},
                 {"reqid", "Reqid"},           {"spi_in", "SPI in"},
                 {"spi_out", "SPI out"},       {"algorithms", "Algorithms"},
                 {"bytes_in", "Bytes in"},     {"bytes_out", "Bytes out"},
                 {"next_refresh", "Next refresh"}};
    const auto& conns = r->data.contains("connections") ? r->data["connections"]
                                                        : nlohmann::json::array();
    for (const auto& c : conns) {
        if (!wanted(str(c, "name")) || !c.contains("sas")) {
            continue;
        }
        for (const auto& sa : c["sas"]) {
            Panel row;
            row.add("name", "Connection", str(c, "name"))
                .add("state", "Status", str(c, "state"))
                .add("reqid", "Reqid", reqid_hex(sa))
                .add("spi_in", "SPI in", spi(sa, "in"))
                .add("spi_out", "SPI out", spi(sa, "out"))
                .add("algorithms", "Algorithms", algorithms(sa))
                .add("bytes_in", "Bytes in", str(sa, "bytes_in"))
                .add("bytes_out", "Bytes out", str(sa, "bytes_out"))
                .add("next_refresh", "Next refresh", str(sa, "next_refresh"));
            t.rows.push_back(std::move(row));
        }
    }
    if (t.rows.empty()) {
        std::printf("   (none)\n");
        return;
    }
    std::fputs(table_text(t, 1).c_str(), stdout);
}

}  // namespace qvpn::cmd
