// DLTVPNDTAP: Delete Data Policy. Refused while another object refers to it
// (PDB0110) or a connection using it is active (PDB0111).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTVPNDTAP",
    .title = "Delete Data Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("DTAPCY", "Data Policy")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(auto p, db.load_data_policy(inv.str("DTAPCY")));
        name = p.name;
        return db.delete_data_policy(name);
    }));
    inv.complete(msg("CFG0022", "*DTAPCY", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
