#include "daemon/vman/child_json.hpp"

#include <cstdio>

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
        return nlohmann::json{{"spi", spi_hex(k.spi)},
                              {"protocol", proto},
                              {"encr", static_cast<int>(k.encr)},
                              {"encr_key_bits", k.encr_key_bits},
                              {"integ", static_cast<int>(k.integ)}};
    };
    return {{"in", one(p.in)}, {"out", one(p.out)}};
}

}  // namespace

nlohmann::json child_summary(const sa::ChildSa& c) {
    nlohmann::json j = {{"reqid", c.reqid},
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
    if (c.esp) {
        j["esp"] = pair_json(*c.esp, "ESP");
    }
    if (c.ah) {
        j["ah"] = pair_json(*c.ah, "AH");
    }
    return j;
}

}  // namespace qvpn::vman
