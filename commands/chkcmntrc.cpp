// CHKCMNTRC: Check Communications Trace. Shows which traces exist, their
// state (active, stopped, stopped because full, wrapped), their sizes, and
// the system-wide trace storage limit QCMNTRCMAX.
#include <cstdio>

#include "core/cl/command.hpp"
#include "daemon/trace/config_lookup.hpp"
#include "daemon/trace/trace_control.hpp"

using namespace qvpn;
using namespace qvpn::trace;

namespace {

const cl::CommandDef kDef{
    .name = "CHKCMNTRC",
    .title = "Check Communications Trace",
    .authority = cl::Authority::Service,
    .params =
        {
            {.kwd = "CFGOBJ",
             .prompt = "Configuration object",
             .type = cl::Type::Name,
             .max_len = 15,
             .specials = {"*ALL"},
             .dft = "*ALL",
             .positional = 1},
            {.kwd = "CFGTYPE",
             .prompt = "Type",
             .type = cl::Type::Special,
             .specials = {"*ALL", "*LIN", "*NWI", "*NWS"},
             .dft = "*ALL",
             .positional = 2},
        },
    .display = true,
};

std::string yes_no(bool b) {
    return b ? "*YES" : "*NO";
}

void print_table(const std::vector<TraceStatus>& traces) {
    std::printf("%-15s %-5s %-15s %-30s %10s %10s %9s %9s %-7s %s\n", "Object", "Type", "Interface",
                "State", "Buffer", "Used", "Frames", "Traced", "Wrapped", "Text");
    for (const auto& s : traces) {
        const TraceInfo& i = s.info;
        uint64_t used = s.header ? s.header->ring.used : 0;
        uint64_t frames = s.header ? s.header->ring.count : 0;
        uint64_t seen = s.header ? s.header->counters.seen : 0;
        bool wrapped = s.header && s.header->wrapped();
        std::printf("%-15s %-5s %-15s %-30s %10llu %10llu %9llu %9llu %-7s %s\n", i.cfgobj.c_str(),
                    std::string(to_cl(i.type)).c_str(), i.interface.c_str(),
                    std::string(state_name(i.state)).c_str(),
                    static_cast<unsigned long long>(i.buffer_bytes),
                    static_cast<unsigned long long>(used), static_cast<unsigned long long>(frames),
                    static_cast<unsigned long long>(seen), yes_no(wrapped).c_str(), i.text.c_str());
    }
}

Status run(cl::Invocation& inv) {
    TraceStore store;
    std::vector<TraceStatus> traces;
    bool all_objects = inv.is("CFGOBJ", "*ALL");
    std::optional<CfgType> type = cfgtype_from_cl(inv.str("CFGTYPE"));
    if (!all_objects) {
        if (!type) {
            // One object of any type: the line first, as IBM i looks it up.
            auto lin = trace_status(CfgType::Line, inv.str("CFGOBJ"), store);
            auto nwi =
                lin.ok() ? lin : trace_status(CfgType::NetworkInterface, inv.str("CFGOBJ"), store);
            if (!nwi.ok()) {
                return lin.failure();
            }
            traces.push_back(std::move(*nwi));
        } else {
            QVPN_ASSIGN(TraceStatus st, trace_status(*type, inv.str("CFGOBJ"), store));
            traces.push_back(std::move(st));
        }
    } else {
        for (auto& s : all_status(store)) {
            if (!type || s.key.type == *type) {
                traces.push_back(std::move(s));
            }
        }
    }
    size_t active = 0;
    for (const auto& s : traces) {
        active += s.info.state == TraceState::Active ? 1 : 0;
    }
    uint64_t in_use = storage_in_use(store);
    QVPN_ASSIGN(uint64_t limit, storage_limit());
    if (inv.json()) {
        nlohmann::json j = {{"storage_in_use", in_use},
                            {"storage_limit", limit},
                            {"traces", nlohmann::json::array()}};
        for (const auto& s : traces) {
            j["traces"].push_back(status_json(s));
        }
        std::printf("%s\n", j.dump(2).c_str());
        return {};
    }
    if (!traces.empty()) {
        print_table(traces);
    }
    inv.complete(msg("TRC0005", traces.size(), active, in_use, limit));
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    return cl::run_main(kDef, run, argc, argv);
}
