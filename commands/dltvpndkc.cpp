// DLTVPNDKC: Delete Dynamic-Key Connection. Refused while another object refers to it
// (PDB0110) or a connection using it is active (PDB0111).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTVPNDKC",
    .title = "Delete Dynamic-Key Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("CNN", "Dynamic-Key Connection")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(auto p, db.load_connection(inv.str("CNN")));
        name = p.name;
        return db.delete_connection(name);
    }));
    inv.complete(msg("CFG0022", "*DKC", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
