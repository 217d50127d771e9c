// DSPVPNA: Display VPN Attributes (see CHGVPNA).
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPVPNA",
    .title = "Display VPN Attributes",
    .authority = cl::Authority::IoSysCfg,
    .params = {},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_ASSIGN(VpnAttributes a, db.attributes());
    print_panel(attributes_panel(a), inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
