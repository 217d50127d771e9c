// The connection manager's live view of a connection, as a section of
// DSPVPNCNN (connections.hpp's extension point): current attributes and the
// installed security associations, asked from QTOVMAN with the IPC "status"
// op. Linked into the display commands as an object of its own, so the
// registration below runs at program start.
#include <cstdio>

#include "commands/lib/connections.hpp"
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

std::string algorithms(const nlohmann::json& sa) {
    for (const char* proto : {"esp", "ah"}) {
        if (sa.contains(proto)) {
            const auto& out = sa[proto]["out"];
            return std::string(proto == std::string("esp") ? "ESP" : "AH") + " encr " +
                   str(out, "encr") + "/" + str(out, "encr_key_bits") + " integ " +
                   str(out, "integ");
        }
    }
    return "";
}

std::string spi(const nlohmann::json& sa, const char* dir) {
    for (const char* proto : {"esp", "ah"}) {
        if (sa.contains(proto)) {
            return str(sa[proto][dir], "spi");
        }
    }
    return "";
}

Table sa_table(const nlohmann::json& sas) {
    Table t;
    t.columns = {{"reqid", "Reqid"},         {"spi_in", "SPI in"},
                 {"spi_out", "SPI out"},     {"algorithms", "Algorithms"},
                 {"mode", "Mode"},           {"bytes_in", "Bytes in"},
                 {"bytes_out", "Bytes out"}, {"lifetime", "Lifetime s"}};
    for (const auto& sa : sas) {
        Panel row;
        row.add("reqid", "Reqid", str(sa, "reqid"))
            .add("spi_in", "SPI in", spi(sa, "in"))
            .add("spi_out", "SPI out", spi(sa, "out"))
            .add("algorithms", "Algorithms", algorithms(sa))
            .add("mode", "Mode", str(sa, "mode"))
            .add("bytes_in", "Bytes in", str(sa, "bytes_in"))
            .add("bytes_out", "Bytes out", str(sa, "bytes_out"))
            .add("lifetime", "Lifetime s", str(sa, "lifetime_hard_seconds"))
            .add("refresh", "Refresh after s", str(sa, "lifetime_soft_seconds"))
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
        .add("refreshes", "Times refreshed", str(*c, "refreshes"));
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

}  // namespace qvpn::cmd
