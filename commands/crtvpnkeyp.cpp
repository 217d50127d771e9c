// CRTVPNKEYP: Create Key Exchange Policy. Stores a key exchange (IKE) policy:
// the remote key server it serves, how the key servers authenticate (preshared
// key or certificate) and the transforms proposed for the IKE SA.
#include "commands/lib/forms.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CRTVPNKEYP",
    .title = "Create Key Exchange Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = key_policy_params(Form::Create),
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    KeyPolicy p;
    p.name = inv.str("KEYPCY");
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_TRY(apply_key_policy(inv, db, Form::Create, p));
        return db.create_key_policy(p);
    }));
    inv.complete(msg("CFG0020", "*KEYPCY", p.name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
