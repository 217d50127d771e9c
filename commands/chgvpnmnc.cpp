// CHGVPNMNC: Change Manual Connection. Parameters left at *SAME keep their stored
// values. Refused (PDB0111) while a connection using the object is active.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNMNC",
    .title = "Change Manual Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = manual_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(ManualConnection p, db.load_manual_connection(inv.str("CNN")));
        QVPN_TRY(apply_manual(inv, Form::Change, p));
        name = p.name;
        return db.update_manual_connection(p);
    }));
    inv.complete(msg("CFG0021", "*MNC", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
