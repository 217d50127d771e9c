// CHGLINETH: Change Line Description (Ethernet): its Linux interface or text.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGLINETH",
    .title = "Change Line Description (Ethernet)",
    .authority = cl::Authority::IoSysCfg,
    .params = line_params(Form::Change),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(Line l, db.load_line(inv.str("LIND")));
        QVPN_TRY(apply_line(inv, Form::Change, l));
        name = l.name;
        return db.update_line(l);
    }));
    inv.complete(msg("CFG0021", "*LIND", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
