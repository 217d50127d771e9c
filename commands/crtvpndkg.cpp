// CRTVPNDKG: Create Dynamic-Key Group. A group holds what its connections
// share: the system role, who may initiate, the data policy, the remote key
// servers it serves (as key exchange policies) and how policy filters are
// made. Groups are searched in order for a remote key server identifier:
// POSITION places the new group in that order.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTVPNDKG",
    .title = "Create Dynamic-Key Group",
    .authority = cl::Authority::IoSysCfg,
    .params = group_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    DynamicGroup g;
    g.name = inv.str("DKG");
    int position = 0;
    QVPN_TRY(apply_group(inv, Form::Create, g, position));
    QVPN_TRY(db.create_group(g, position));
    inv.complete(msg("CFG0020", "*DKG", g.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
