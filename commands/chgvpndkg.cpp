// CHGVPNDKG: Change Dynamic-Key Group. POSITION moves the group in the
// search order (IBM i: drag the group to the top of the list). Refused
// (PDB0111) while a connection of the group is active.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNDKG",
    .title = "Change Dynamic-Key Group",
    .authority = cl::Authority::IoSysCfg,
    .params = group_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(DynamicGroup g, db.load_group(inv.str("DKG")));
        int position = 0;
        QVPN_TRY(apply_group(inv, Form::Change, g, position));
        name = g.name;
        QVPN_TRY(db.update_group(g));
        if (!keep(inv, "POSITION")) {
            QVPN_TRY(db.move_group(g.name, position));
        }
        return {};
    }));
    inv.complete(msg("CFG0021", "*DKG", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
