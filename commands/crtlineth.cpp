// CRTLINETH: Create Line Description (Ethernet). Maps an IBM i line name, as
// filter rules and groups use it (LIND, FILTER_INTERFACE LINE=), to a Linux
// network interface (RSRCNAME).
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTLINETH",
    .title = "Create Line Description (Ethernet)",
    .authority = cl::Authority::IoSysCfg,
    .params = line_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    Line l;
    l.name = inv.str("LIND");
    QVPN_TRY(apply_line(inv, Form::Create, l));
    QVPN_TRY(db.create_line(l));
    inv.complete(msg("CFG0020", "*LIND", l.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
