// DSPVPNDFT: Display VPN Defaults (see CHGVPNDFT).
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPVPNDFT",
    .title = "Display VPN Defaults",
    .authority = cl::Authority::IoSysCfg,
    .params = {},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_ASSIGN(VpnDefaults d, db.defaults());
    print_panel(defaults_panel(d), inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
