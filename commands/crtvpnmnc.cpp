// CRTVPNMNC: Create Manual Connection. Stores a manual connection: IPsec
// without IKE, with SPIs and keys entered by the operator that must match the
// other system exactly.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTVPNMNC",
    .title = "Create Manual Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = manual_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    ManualConnection p;
    p.name = inv.str("CNN");
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_TRY(apply_manual(inv, Form::Create, p));
        return db.create_manual_connection(p);
    }));
    inv.complete(msg("CFG0020", "*MNC", p.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
