// CHGVPNDTAP: Change Data Policy. Parameters left at *SAME keep their stored
// values. Refused (PDB0111) while a connection using the object is active.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNDTAP",
    .title = "Change Data Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = data_policy_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(DataPolicy p, db.load_data_policy(inv.str("DTAPCY")));
        QVPN_TRY(apply_data_policy(inv, db, Form::Change, p));
        name = p.name;
        return db.update_data_policy(p);
    }));
    inv.complete(msg("CFG0021", "*DTAPCY", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
