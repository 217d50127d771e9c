// RMVTCPTBL: Remove TCP/IP Table. The way out of a lock-out by packet
// rules: removes every qvpn filter, ending and restarting the VPN server
// around it. See man/rmvtcptbl.1.
#include "core/cl/command.hpp"
#include "rules/loader.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "RMVTCPTBL",
    .title = "Remove TCP/IP Table",
    .authority = cl::Authority::IoSysCfg,
    .params = {
        {.kwd = "TBL", .prompt = "Table", .type = cl::Type::Special,
         .specials = {"*ALL", "*IPFTR"}, .dft = "*ALL", .positional = 1,
         .help = "*ALL: filter rules, their state and the generated rules; *IPFTR: filter rules"},
    },
};

Status run(cl::Invocation& inv) {
    std::vector<Msg> diags;
    auto r = rules::rmvtcptbl(inv.is("TBL", "*IPFTR") ? rules::Table::IpFilter : rules::Table::All,
                              diags);
    for (const auto& d : diags) {
        inv.diagnostic(d);
    }
    if (!r.ok()) {
        return r.failure();
    }
    inv.complete(*r);
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
