#include "daemon/vman/child_json.hpp"

#include <cstdio>

#include "daemon/ike/crypto/suite.hpp"
#include "journal/journal.hpp"

namespace qvpn::vman {

namespace {

std::string spi_hex(uint32_t spi) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", spi);
    return b;
}

nlohmann::json ts_json(const std::vector<sa::TrafficSelector>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& t : v) {
        a.push_back({{"addrs", t.addrs.to_string()},
                     {"proto", t.ip_proto},
                     {"ports", std::to_string(t.port_from) + "-" + std::to_string(t.port_to)}});
    }
    return a;
}

nlohmann::json pair_json(const sa::SaPair& p, const char* proto) {
    auto one = [&](const sa::SaKeys& k) {
        nlohmann::json j = {{"spi", spi_hex(k.spi)}, {"protocol", proto}};
        if (std::string_view(proto) == "ESP") {
            j["encr"] = std::string(ike::crypto::encr_name(k.encr));
            j["encr_key_bits"] = k.encr_key_bits;
        }
        j["integ"] = std::string(ike::crypto::integ_name(k.integ));
        return j;
    };
    return {{"in", one(p.in)}, {"out", one(p.out)}};
}

}  // namespace

nlohmann::json child_summary(const sa::ChildSa& c, int64_t since_us) {
    std::string protocols = c.ah && c.esp ? "AH+ESP" : c.ah ? "AH" : "ESP";
    if (c.ipcomp) {
        protocols += "+IPCOMP";
    }
    nlohmann::json j = {{"reqid", c.reqid},
                        {"protocols", protocols},
                        {"mode", c.mode == sa::Mode::Tunnel ? "*TUNNEL" : "*TRANSPORT"},
                        {"local", c.local.to_string()},
                        {"remote", c.remote.to_string()},
                        {"encap", c.encap.has_value()},
                        {"esn", c.esn},
                        {"ts_local", ts_json(c.ts_local)},
                        {"ts_remote", ts_json(c.ts_remote)},
                        {"lifetime_soft_seconds", c.lifetime.soft_seconds},
                        {"lifetime_hard_seconds", c.lifetime.hard_seconds},
                        {"lifetime_soft_bytes", c.lifetime.soft_bytes},
                        {"lifetime_hard_bytes", c.lifetime.hard_bytes}};
    if (c.encap) {
        j["encap_ports"] = std::to_string(c.encap->local_port) + "/" +
                           std::to_string(c.encap->remote_port);
    }
    if (since_us != 0) {
        j["installed"] = journal::saa_timestamp(since_us);
        if (c.lifetime.soft_seconds > 0) {
            j["next_refresh"] = journal::saa_timestamp(
                since_us + static_cast<int64_t>(c.lifetime.soft_seconds) * 1000000);
        }
    }
    if (c.esp) {
        j["esp"] = pair_json(*c.esp, "ESP");
    }
    if (c.ah) {
        j["ah"] = pair_json(*c.ah, "AH");
    }
    if (c.ipcomp) {
        j["ipcomp"] = {{"cpi_in", c.ipcomp->cpi_in}, {"cpi_out", c.ipcomp->cpi_out}};
    }
    return j;
}

}  // namespace qvpn::vman
