// DLTVPNDKG: Delete Dynamic-Key Group. Refused while the group still has
// dynamic-key connections (PDB0110) or one of them is active (PDB0111).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTVPNDKG",
    .title = "Delete Dynamic-Key Group",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("DKG", "Dynamic-key group")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(DynamicGroup g, db.load_group(inv.str("DKG")));
        name = g.name;
        return db.delete_group(name);
    }));
    inv.complete(msg("CFG0022", "*DKG", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
