// CHGVPNDKC: Change Dynamic-Key Connection. Parameters left at *SAME keep their stored
// values. Refused (PDB0111) while a connection using the object is active.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNDKC",
    .title = "Change Dynamic-Key Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = connection_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(DynamicConnection p, db.load_connection(inv.str("CNN")));
        QVPN_TRY(apply_connection(inv, db, Form::Change, p));
        name = p.name;
        return db.update_connection(p);
    }));
    inv.complete(msg("CFG0021", "*DKC", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
