// STRVPNCNN: Start VPN Connection. Asks QTOVMAN to start a dynamic-key or
// manual connection (a dynamic-key group name starts its connection) and,
// unless WAIT(*NOWAIT), waits until it is enabled or has failed.
#include "commands/vpn_client.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "STRVPNCNN",
    .title = "Start VPN Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "CNN",
                .prompt = "Connection",
                .type = cl::Type::Name,
                .max_len = 40,
                .required = true,
                .positional = 1,
                .help = "Dynamic-key connection, dynamic-key group or manual connection name"},
               {.kwd = "WAIT",
                .prompt = "Time to wait",
                .type = cl::Type::Int,
                .min = 1,
                .max = 3600,
                .specials = {"*NOWAIT"},
                .dft = "60",
                .positional = 2,
                .help = "Seconds to wait for the connection to be enabled, or *NOWAIT"}},
};

Status run(cl::Invocation& inv) {
    int wait = inv.is("WAIT", "*NOWAIT") ? 0 : static_cast<int>(inv.integer("WAIT", 60));
    nlohmann::json req = {{"op", "start"}, {"conn", inv.str("CNN")}, {"wait", wait}};
    // The server answers by `wait` seconds at the latest; allow for the trip.
    auto r = cmd::ask_vman(req, std::chrono::seconds(wait + 15));
    if (!r.ok()) {
        return r.failure();
    }
    return cmd::finish(inv, *r);
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
