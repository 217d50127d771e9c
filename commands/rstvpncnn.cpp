// RSTVPNCNN: Reset VPN Connection. Returns a connection in the error state
// to idle, as IBM Navigator's Reset does.
#include "commands/vpn_client.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "RSTVPNCNN",
    .title = "Reset VPN Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "CNN",
                .prompt = "Connection",
                .type = cl::Type::Name,
                .max_len = 40,
                .required = true,
                .positional = 1,
                .help = "Connection or dynamic-key group name"}},
};

Status run(cl::Invocation& inv) {
    auto r = cmd::ask_vman({{"op", "reset"}, {"conn", inv.str("CNN")}}, std::chrono::seconds(15));
    if (!r.ok()) {
        return r.failure();
    }
    return cmd::finish(inv, *r);
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
