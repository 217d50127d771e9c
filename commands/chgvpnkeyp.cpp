// CHGVPNKEYP: Change Key Exchange Policy. Parameters left at *SAME keep their stored
// values. Refused (PDB0111) while a connection using the object is active.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNKEYP",
    .title = "Change Key Exchange Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = key_policy_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(KeyPolicy p, db.load_key_policy(inv.str("KEYPCY")));
        QVPN_TRY(apply_key_policy(inv, db, Form::Change, p));
        name = p.name;
        return db.update_key_policy(p);
    }));
    inv.complete(msg("CFG0021", "*KEYPCY", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
