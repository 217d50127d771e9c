// RMVDCMCRT: Remove Certificate from the certificate store. Refused while a
// key exchange policy uses the certificate (PDB0110).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "RMVDCMCRT",
    .title = "Remove Certificate",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("LABEL", "Certificate label")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string label;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(CertificateInfo c, db.load_certificate(inv.str("LABEL")));
        label = c.label;
        return db.remove_certificate(label);
    }));
    inv.complete(msg("CFG0022", "*CERT", label));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
