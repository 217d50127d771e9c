// DLTVPNKEYP: Delete Key Exchange Policy. Refused while another object refers to it
// (PDB0110) or a connection using it is active (PDB0111).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTVPNKEYP",
    .title = "Delete Key Exchange Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("KEYPCY", "Key Exchange Policy")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(auto p, db.load_key_policy(inv.str("KEYPCY")));
        name = p.name;
        return db.delete_key_policy(name);
    }));
    inv.complete(msg("CFG0022", "*KEYPCY", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
