// CRTVPNDTAP: Create Data Policy. Stores a data policy: the transforms proposed
// for the IPsec SAs (CHILD_SAs), perfect forward secrecy, encapsulation mode
// and lifetimes.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTVPNDTAP",
    .title = "Create Data Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = data_policy_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    DataPolicy p;
    p.name = inv.str("DTAPCY");
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_TRY(apply_data_policy(inv, db, Form::Create, p));
        return db.create_data_policy(p);
    }));
    inv.complete(msg("CFG0020", "*DTAPCY", p.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
