// CRTVPNDKC: Create Dynamic-Key Connection. Stores a dynamic-key connection:
// one pair of data endpoints within a dynamic-key group, with its local and
// remote key server identifiers.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTVPNDKC",
    .title = "Create Dynamic-Key Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = connection_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    DynamicConnection p;
    p.name = inv.str("CNN");
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_TRY(apply_connection(inv, db, Form::Create, p));
        return db.create_connection(p);
    }));
    inv.complete(msg("CFG0020", "*DKC", p.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
